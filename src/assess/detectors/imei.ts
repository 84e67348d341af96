/**
 * IMEI: 15 digits (optionally written `AA-BBBBBB-CCCCCC-D`), Luhn check digit, and a plausible type
 * allocation code: its first two digits must be a GSMA reporting-body identifier (01 PTCRB, 35/44/98
 * BABT, 86 TAF, 91 MSAI, 49–54 German bodies, 99 GHA …). Test IMEIs (00…) and repeated digits are refused,
 * and so are identifier fields unless the name says device ID.
 */
import { luhnValid } from '../checksums.js';
import { maskMiddle } from '../mask.js';
import { allSameDigit, fieldSaysOtherwise, type Detector, type HintProvider } from './types.js';

export const IMEI_REPORTING_BODIES: ReadonlySet<string> = new Set([
  '01', '10', '30', '33', '35', '44', '45', '49', '50', '51', '52', '53', '54', '86', '91', '98', '99',
]);

export function imeiValid(digits: string): boolean {
  return /^\d{15}$/.test(digits) && !allSameDigit(digits) && IMEI_REPORTING_BODIES.has(digits.slice(0, 2)) && luhnValid(digits);
}

export function createImeiDetector(hints: HintProvider): Detector {
  return {
    id: 'imei',
    category: 'device_id',
    description: 'IMEI: 15 digits, Luhn check digit, type allocation code from a GSMA reporting body',
    checksumBacked: true,
    detect(value, context) {
      const s = value.trim();
      const digits = /^\d{15}$/.test(s) ? s : /^\d{2}-\d{6}-\d{6}-\d$/.test(s) ? s.replace(/-/g, '') : undefined;
      if (!digits || !imeiValid(digits)) return false;
      return !fieldSaysOtherwise(hints(context), 'device_id');
    },
    mask: (value) => maskMiddle(value.trim()),
  };
}
