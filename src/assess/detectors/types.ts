/** The value-detector contract: one detector per kind of sensitive value. */
import { type Redacted } from '../mask.js';

export const DETECTOR_IDS = [
  'image',
  'password_hash',
  'cn_resident_id',
  'payment_card',
  'imei',
  'in_aadhaar',
  'us_ssn',
  'email',
  'ip_address',
  'gps',
  'phone',
  'cleartext_password',
  'chat_text',
] as const;
/** Also the precedence order when several detectors accept one value and no field name decides. */
export type DetectorId = (typeof DETECTOR_IDS)[number];

export interface DetectContext {
  /** The field/column/key the value sits in (its last path segment). */
  fieldName?: string;
  /** The other segments of its path (database, collection, parent fields) for name context. */
  fieldPath?: readonly string[];
}

export interface Detector {
  readonly id: DetectorId;
  /** Category shared with schema signals and severity weights (`national_id`, `phone` …). */
  readonly category: string;
  readonly description: string;
  /** True when a check digit (or equivalent) backs a match: precision is asserted ≥ 0.99. */
  readonly checksumBacked: boolean;
  detect(value: string, context?: DetectContext): boolean;
  /** A masked example: never the clear value (see mask.ts for the rules). */
  mask(value: string): Redacted;
}

/** What a field's name says about its values. */
export interface FieldHints {
  /** Categories the field name matches (via the sensitive-name rules). */
  categories: ReadonlySet<string>;
  /** The name looks like a technical identifier (`order_id`, `trace`, `version`). */
  identifier: boolean;
  /** Lowercase tokens of the field name. */
  tokens: readonly string[];
  /** False when no field name was given. */
  known: boolean;
}

export type HintProvider = (context?: DetectContext) => FieldHints;

/** Categories of identifiers and numbers: a field named for one of them does not hold another's values. */
export const NUMBER_CATEGORIES: ReadonlySet<string> = new Set(['national_id', 'passport', 'payment_card', 'bank_account', 'device_id', 'phone']);

/**
 * True when the field name rules a numeric detector out: the field is a technical identifier
 * (`order_id`, `trace`) or is named for another kind of number (`sfzh`, `imei` for a card
 * detector), and its name does not also name the detector's own category.
 */
export function fieldSaysOtherwise(hints: FieldHints, category: string): boolean {
  if (hints.categories.has(category)) return false;
  if (hints.identifier) return true;
  for (const c of hints.categories) if (NUMBER_CATEGORIES.has(c)) return true;
  return false;
}

export function allSameDigit(digits: string): boolean {
  return /^(\d)\1*$/.test(digits);
}
