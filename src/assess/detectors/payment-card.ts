/**
 * Payment card numbers (PAN): Luhn check digit plus an issuer range (IIN) with the length that
 * brand issues. Brands: Visa (4; 13, 16, 19), Mastercard (51–55 and 2221–2720; 16), American
 * Express (34, 37; 15), Discover (6011, 622126–622925, 644–649, 65; 16–19), JCB (3528–3589; 16–19),
 * UnionPay (62; 16–19). Digits may be grouped by spaces or dashes. Refused in identifier fields
 * (`order_no`, `trace_id`) unless the name also says card, and when one digit is repeated.
 */
import { luhnValid } from '../checksums.js';
import { maskMiddle } from '../mask.js';
import { allSameDigit, fieldSaysOtherwise, type Detector, type HintProvider } from './types.js';

interface Range {
  brand: string;
  lo: number;
  hi: number;
  /** How many leading digits `lo`/`hi` cover. */
  digits: number;
  lengths: readonly number[];
}

const L16_19 = [16, 17, 18, 19] as const;
export const CARD_RANGES: readonly Range[] = [
  { brand: 'visa', lo: 4, hi: 4, digits: 1, lengths: [13, 16, 19] },
  { brand: 'mastercard', lo: 51, hi: 55, digits: 2, lengths: [16] },
  { brand: 'mastercard', lo: 2221, hi: 2720, digits: 4, lengths: [16] },
  { brand: 'amex', lo: 34, hi: 34, digits: 2, lengths: [15] },
  { brand: 'amex', lo: 37, hi: 37, digits: 2, lengths: [15] },
  { brand: 'discover', lo: 6011, hi: 6011, digits: 4, lengths: L16_19 },
  { brand: 'discover', lo: 622126, hi: 622925, digits: 6, lengths: L16_19 },
  { brand: 'discover', lo: 644, hi: 649, digits: 3, lengths: L16_19 },
  { brand: 'discover', lo: 65, hi: 65, digits: 2, lengths: L16_19 },
  { brand: 'jcb', lo: 3528, hi: 3589, digits: 4, lengths: L16_19 },
  { brand: 'unionpay', lo: 62, hi: 62, digits: 2, lengths: L16_19 },
];

export function cardBrand(digits: string): string | undefined {
  for (const r of CARD_RANGES) {
    const prefix = Number(digits.slice(0, r.digits));
    if (prefix >= r.lo && prefix <= r.hi && r.lengths.includes(digits.length)) return r.brand;
  }
  return undefined;
}

/** Digits of a PAN written bare or in groups of digits separated by single spaces or dashes. */
export function cardDigits(value: string): string | undefined {
  const s = value.trim();
  if (!/^\d+(?:[ -]\d+)*$/.test(s)) return undefined;
  const digits = s.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 ? digits : undefined;
}

export function cardValid(digits: string): boolean {
  return !allSameDigit(digits) && cardBrand(digits) !== undefined && luhnValid(digits);
}

export function createPaymentCardDetector(hints: HintProvider): Detector {
  return {
    id: 'payment_card',
    category: 'payment_card',
    description: 'Payment card number: Luhn check digit and a Visa/Mastercard/Amex/Discover/JCB/UnionPay range with its length',
    checksumBacked: true,
    detect(value, context) {
      const digits = cardDigits(value);
      if (!digits || !cardValid(digits)) return false;
      return !fieldSaysOtherwise(hints(context), 'payment_card');
    },
    mask: (value) => maskMiddle(value.trim()),
  };
}
