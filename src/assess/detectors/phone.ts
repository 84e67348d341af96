/**
 * Phone numbers, validated with libphonenumber-js (full metadata): the number must be valid for its
 * country, not merely possible.
 * - International form (`+86 138 1234 5678`, `0049 30 …`): valid anywhere.
 * - National form with separators (`(415) 555-0134`, `020 7946 0958`): valid for one of the
 *   configured regions (default CN, US, IN, GB, DE) and at least 10 digits, or fewer in a phone field.
 * - Bare digits: in a phone field, valid for a configured region; elsewhere only when they form a
 *   mobile number of at least 11 digits (e.g. Chinese mobiles `1[3-9]…`), because most 10-digit
 *   numbers (timestamps, order numbers) are valid US or Indian numbers.
 * Dates, times, decimals and dotted quads are refused before parsing, and so are identifier fields.
 */
import { createRequire } from 'node:module';
import type { CountryCode, parsePhoneNumberFromString as ParsePhoneNumber } from 'libphonenumber-js/max';
import { maskMiddle } from '../mask.js';
import { fieldSaysOtherwise, type Detector, type HintProvider } from './types.js';

export const DEFAULT_PHONE_REGIONS: readonly CountryCode[] = ['CN', 'US', 'IN', 'GB', 'DE'];

const SHAPE = /^\+?[\d\s().\-/]+$/;
const NOT_PHONE = [
  /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$/, // 2024-01-15
  /^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$/, // 15.01.2024
  /^\d{1,3}(\.\d{1,3}){3}$/, // 192.168.1.10
  /^\d+\.\d+$/, // 1234.56
];

export function createPhoneDetector(hints: HintProvider, regions: readonly CountryCode[] = DEFAULT_PHONE_REGIONS): Detector {
  function validIn(s: string, region: CountryCode | undefined) {
    try {
      const p = parsePhone()(s, region);
      return p?.isValid() ? p : undefined;
    } catch {
      return undefined;
    }
  }

  return {
    id: 'phone',
    category: 'phone',
    description: `Phone number valid per libphonenumber (international, or national for ${regions.join('/')})`,
    checksumBacked: false,
    detect(value, context) {
      let s = value.trim();
      if (/^tel:/i.test(s)) s = s.slice(4);
      if (s.length > 32 || !SHAPE.test(s) || NOT_PHONE.some((re) => re.test(s))) return false;
      const digits = s.replace(/\D/g, '');
      if (digits.length < 7 || digits.length > 15) return false;
      const h = hints(context);
      if (fieldSaysOtherwise(h, 'phone')) return false;
      const hinted = h.categories.has('phone');
      if (s.startsWith('+') || /^00[1-9]/.test(s)) {
        return validIn(s.startsWith('+') ? s : `+${s.slice(2)}`, undefined) !== undefined;
      }
      const formatted = /[\s().\-/]/.test(s);
      if (!hinted && formatted && digits.length < 10) return false;
      for (const region of regions) {
        const p = validIn(s, region);
        if (!p) continue;
        if (hinted || formatted) return true;
        if (digits.length >= 11 && p.getType() === 'MOBILE') return true;
      }
      return false;
    },
    mask: (value) => maskMiddle(value.trim(), /\d/),
  };
}

// Loaded on first use: the full metadata costs about 10 MB, and only value sampling (inside
// scope.authorized) ever looks for phone numbers.
let parser: typeof ParsePhoneNumber | undefined;
function parsePhone(): typeof ParsePhoneNumber {
  parser ??= (createRequire(import.meta.url)('libphonenumber-js/max') as { parsePhoneNumberFromString: typeof ParsePhoneNumber }).parsePhoneNumberFromString;
  return parser;
}
