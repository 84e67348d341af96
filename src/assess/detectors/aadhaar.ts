/**
 * Indian Aadhaar number: 12 digits, first digit 2–9, Verhoeff check digit, not one digit repeated.
 * Written in groups (`2345 6789 0123`) it counts anywhere except identifier fields; as 12 bare
 * digits only in a field whose name says Aadhaar/national ID, or when no field name is known
 * (Verhoeff alone passes 1 random 12-digit number in 10, too many for arbitrary numeric columns).
 */
import { verhoeffValid } from '../checksums.js';
import { maskMiddle } from '../mask.js';
import { allSameDigit, fieldSaysOtherwise, type Detector, type HintProvider } from './types.js';

export function aadhaarValid(digits: string): boolean {
  return /^[2-9]\d{11}$/.test(digits) && !allSameDigit(digits) && verhoeffValid(digits);
}

export function createAadhaarDetector(hints: HintProvider): Detector {
  return {
    id: 'in_aadhaar',
    category: 'national_id',
    description: 'Indian Aadhaar: 12 digits, first 2–9, Verhoeff check digit; bare digits only in national-ID fields',
    checksumBacked: true,
    detect(value, context) {
      const s = value.trim();
      const h = hints(context);
      if (/^\d{4}([ -])\d{4}\1\d{4}$/.test(s)) return !fieldSaysOtherwise(h, 'national_id') && aadhaarValid(s.replace(/\D/g, ''));
      if (/^\d{12}$/.test(s)) return (!h.known || h.categories.has('national_id')) && aadhaarValid(s);
      return false;
    },
    mask: (value) => maskMiddle(value.trim()),
  };
}
