/**
 * The detector set: every value detector built from one rules object, in precedence order, with
 * `classify` (one category per value) and `findEmbedded` (values inside free text).
 */
import type { CountryCode } from 'libphonenumber-js/max';
import { builtinRules, type Rules } from '../../rules/load.js';
import { createAadhaarDetector } from './aadhaar.js';
import { createChatTextDetector } from './chat-text.js';
import { createCleartextPasswordDetector } from './cleartext-password.js';
import { createCnResidentIdDetector } from './cn-resident-id.js';
import { createEmailDetector, EMAIL_IN_TEXT_RE } from './email.js';
import { createGpsDetector } from './gps.js';
import { createHintProvider } from './hints.js';
import { createImageDetector } from './image.js';
import { createImeiDetector } from './imei.js';
import { createIpAddressDetector } from './ip-address.js';
import { createPasswordHashDetector } from './password-hash.js';
import { createPaymentCardDetector } from './payment-card.js';
import { createPhoneDetector, DEFAULT_PHONE_REGIONS } from './phone.js';
import { DETECTOR_IDS, type DetectContext, type Detector, type DetectorId, type HintProvider } from './types.js';
import { createUsSsnDetector } from './us-ssn.js';

export interface DetectorSet {
  /** All detectors, in precedence order (DETECTOR_IDS). */
  readonly detectors: readonly Detector[];
  get(id: DetectorId): Detector;
  readonly hints: HintProvider;
  /**
   * The one detector a value belongs to: of the detectors that accept it, the first (in precedence
   * order) whose category the field name names, else the first. `undefined` when none accepts it.
   */
  classify(value: string, context?: DetectContext): Detector | undefined;
  /** Sensitive values inside free text (e-mails, IDs, cards, phones), at most `limit`. */
  findEmbedded(text: string, context?: DetectContext, limit?: number): Array<{ detector: Detector; value: string }>;
}

export interface DetectorOptions {
  rules?: Rules;
  /** Regions for national-format phone numbers (default CN, US, IN, GB, DE). */
  phoneRegions?: readonly CountryCode[];
  /** Clock for birth-date checks (tests). */
  now?: () => Date;
}

export function createDetectors(opts: DetectorOptions = {}): DetectorSet {
  const rules = opts.rules ?? builtinRules();
  const hints = createHintProvider(rules);
  const hash = createPasswordHashDetector(hints);
  const built: Record<DetectorId, Detector> = {
    image: createImageDetector(),
    password_hash: hash,
    cn_resident_id: createCnResidentIdDetector(rules.cnRegions, opts.now),
    payment_card: createPaymentCardDetector(hints),
    imei: createImeiDetector(hints),
    in_aadhaar: createAadhaarDetector(hints),
    us_ssn: createUsSsnDetector(hints),
    email: createEmailDetector(),
    ip_address: createIpAddressDetector(hints),
    gps: createGpsDetector(),
    phone: createPhoneDetector(hints, opts.phoneRegions ?? DEFAULT_PHONE_REGIONS),
    cleartext_password: createCleartextPasswordDetector(hints, (v) => hash.kind(v, { fieldName: 'password' }) !== undefined),
    chat_text: createChatTextDetector(hints),
  };
  const detectors = DETECTOR_IDS.map((id) => built[id]);

  function classify(value: string, context?: DetectContext): Detector | undefined {
    const h = hints(context);
    let first: Detector | undefined;
    for (const d of detectors) {
      if (!d.detect(value, context)) continue;
      if (h.categories.has(d.category)) return d;
      first ??= d;
      if (h.categories.size === 0) return first;
    }
    return first;
  }

  // Candidates in free text; each is re-checked by its detector.
  const DIGIT_RUN = /(?<![\dA-Za-z])(?:\d{17}[\dXx]|\d{13,19}|1[3-9]\d{9})(?![\dA-Za-z])/g;
  const INTL_PHONE = /(?<![\dA-Za-z+])\+\d{1,3}[ -]?\d[\d -]{5,16}\d(?!\d)/g;

  function findEmbedded(text: string, context?: DetectContext, limit = 20): Array<{ detector: Detector; value: string }> {
    const out: Array<{ detector: Detector; value: string }> = [];
    const push = (d: Detector, v: string) => {
      if (out.length < limit) out.push({ detector: d, value: v });
    };
    for (const m of text.matchAll(EMAIL_IN_TEXT_RE)) {
      if (built.email.detect(m[0])) push(built.email, m[0]);
    }
    for (const m of text.matchAll(DIGIT_RUN)) {
      const v = m[0];
      if (built.cn_resident_id.detect(v)) push(built.cn_resident_id, v);
      else if (built.payment_card.detect(v)) push(built.payment_card, v);
      else if (built.phone.detect(v)) push(built.phone, v);
    }
    for (const m of text.matchAll(INTL_PHONE)) {
      if (built.phone.detect(m[0].trim(), context)) push(built.phone, m[0].trim());
    }
    return out;
  }

  return { detectors, get: (id) => built[id], hints, classify, findEmbedded };
}

let defaults: DetectorSet | undefined;
/** Detectors over the built-in rules and default phone regions (created once). */
export function defaultDetectors(): DetectorSet {
  defaults ??= createDetectors();
  return defaults;
}
