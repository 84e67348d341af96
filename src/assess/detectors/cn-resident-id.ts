/**
 * Chinese resident identity number (GB 11643-1999): 6-digit region code, 8-digit birth date,
 * 3-digit sequence, ISO 7064 MOD 11-2 check character (`0`–`9` or `X`).
 * Accepted only when all three hold: a known province prefix (src/rules/cn-region-prefixes.json,
 * and a known county code when the file lists counties for that province), a real calendar date
 * between 1900-01-01 and today, and the check character. Legacy 15-digit IDs (no check digit) are
 * not detected: nothing separates them from any other 15-digit number.
 */
import { gb11643CheckChar } from '../checksums.js';
import { maskMiddle } from '../mask.js';
import { type CnRegionsFile } from '../../rules/schema.js';
import { type Detector } from './types.js';

export function validBirthDate(yyyymmdd: string, now: Date = new Date()): boolean {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return false;
  return date.getTime() <= now.getTime();
}

export function createCnResidentIdDetector(regions: CnRegionsFile, now: () => Date = () => new Date()): Detector {
  const provinces = new Set(Object.keys(regions.provinces));
  const counties = new Set(Object.keys(regions.counties ?? {}));
  const provincesWithCounties = new Set([...counties].map((c) => c.slice(0, 2)));

  function valid(value: string): boolean {
    const s = value.trim().toUpperCase();
    if (!/^\d{17}[\dX]$/.test(s)) return false;
    const province = s.slice(0, 2);
    if (!provinces.has(province)) return false;
    if (provincesWithCounties.has(province) && !counties.has(s.slice(0, 6))) return false;
    if (!validBirthDate(s.slice(6, 14), now())) return false;
    return gb11643CheckChar(s.slice(0, 17)) === s[17];
  }

  return {
    id: 'cn_resident_id',
    category: 'national_id',
    description: 'Chinese resident ID: 18 characters, province prefix, birth date, GB 11643 MOD 11-2 check character',
    checksumBacked: true,
    detect: (value) => valid(value),
    mask: (value) => maskMiddle(value.trim()),
  };
}
