/**
 * US Social Security number, shape rules only (SSNs carry no check digit): area not 000, 666 or
 * 900–999; group not 00; serial not 0000; not one digit repeated; not a number published in
 * advertising or examples (078-05-1120, 219-09-9999, 123-45-6789). Written `AAA-GG-SSSS` (or with
 * spaces) it counts anywhere; as 9 bare digits only in a field whose name says SSN/national ID.
 */
import { maskMiddle } from '../mask.js';
import { allSameDigit, fieldSaysOtherwise, type Detector, type HintProvider } from './types.js';

const PUBLISHED = new Set(['078051120', '219099999', '123456789']);

export function ssnShapeValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits) || allSameDigit(digits) || PUBLISHED.has(digits)) return false;
  const area = Number(digits.slice(0, 3));
  if (area === 0 || area === 666 || area >= 900) return false;
  if (digits.slice(3, 5) === '00' || digits.slice(5) === '0000') return false;
  return true;
}

export function createUsSsnDetector(hints: HintProvider): Detector {
  return {
    id: 'us_ssn',
    category: 'national_id',
    description: 'US Social Security number: area/group/serial rules, published numbers rejected; bare digits only in SSN fields',
    checksumBacked: false,
    detect(value, context) {
      const s = value.trim();
      const h = hints(context);
      const formatted = /^(\d{3})([- ])(\d{2})\2(\d{4})$/.exec(s);
      if (formatted) return !fieldSaysOtherwise(h, 'national_id') && ssnShapeValid(s.replace(/\D/g, ''));
      if (/^\d{9}$/.test(s)) return h.categories.has('national_id') && ssnShapeValid(s);
      return false;
    },
    mask: (value) => maskMiddle(value.trim()),
  };
}
