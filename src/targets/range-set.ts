/**
 * Inclusive address ranges: merging (so overlapping or duplicate specs never produce duplicate work),
 * membership by binary search, and random access by address index through prefix sums.
 * Everything here is O(number of ranges); no address is ever materialised.
 */
import { formatIp, type IpAddress, type IpFamily } from './address.js';

export interface AddressRange {
  family: IpFamily;
  start: bigint;
  /** Inclusive. */
  end: bigint;
}

export function rangeSize(r: AddressRange): bigint {
  return r.end - r.start + 1n;
}

/** IPv4 before IPv6, then by start address. */
export function compareRanges(a: AddressRange, b: AddressRange): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.start !== b.start) return a.start < b.start ? -1 : 1;
  if (a.end !== b.end) return a.end < b.end ? -1 : 1;
  return 0;
}

/** Sorted (IPv4 first) and coalesced: overlapping and adjacent ranges of a family become one. */
export function mergeRanges(ranges: Iterable<AddressRange>): AddressRange[] {
  const sorted = [...ranges].sort(compareRanges);
  const merged: AddressRange[] = [];
  for (const r of sorted) {
    const last = merged.at(-1);
    if (last && last.family === r.family && r.start <= last.end + 1n) {
      if (r.end > last.end) last.end = r.end;
    } else {
      merged.push({ family: r.family, start: r.start, end: r.end });
    }
  }
  return merged;
}

export function totalSize(ranges: readonly AddressRange[]): bigint {
  let total = 0n;
  for (const r of ranges) total += rangeSize(r);
  return total;
}

/** Binary search over ranges as returned by `mergeRanges`. */
export function containsAddress(merged: readonly AddressRange[], addr: IpAddress): boolean {
  let lo = 0;
  let hi = merged.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = merged[mid]!;
    if (r.family < addr.family || (r.family === addr.family && r.end < addr.value)) lo = mid + 1;
    else if (r.family > addr.family || r.start > addr.value) hi = mid - 1;
    else return true;
  }
  return false;
}

/** Number of addresses in both merged lists (two-pointer sweep). */
export function intersectionSize(a: readonly AddressRange[], b: readonly AddressRange[]): bigint {
  let total = 0n;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x.family !== y.family) {
      if (x.family < y.family) i++;
      else j++;
      continue;
    }
    const start = x.start > y.start ? x.start : y.start;
    const end = x.end < y.end ? x.end : y.end;
    if (start <= end) total += end - start + 1n;
    if (x.end < y.end) i++;
    else j++;
  }
  return total;
}

/** `a` for a single address, `a-b` otherwise; both ends canonical. Parses back with `parseSpec`. */
export function formatRange(r: AddressRange): string {
  const start = formatIp({ family: r.family, value: r.start });
  if (r.start === r.end) return start;
  return `${start}-${formatIp({ family: r.family, value: r.end })}`;
}

/**
 * Random access into merged ranges: address index i (0 ≤ i < count) → address.
 * `offsets[k]` is the number of addresses before range k, so lookup is a binary search.
 */
export class IndexedRanges {
  readonly ranges: readonly AddressRange[];
  readonly count: number;
  private readonly offsets: number[];

  constructor(merged: readonly AddressRange[]) {
    const total = totalSize(merged);
    if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`${total} addresses exceed Number.MAX_SAFE_INTEGER`);
    }
    this.ranges = merged;
    this.offsets = [];
    let offset = 0;
    for (const r of merged) {
      this.offsets.push(offset);
      offset += Number(rangeSize(r));
    }
    this.count = offset;
  }

  at(index: number): IpAddress {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`Address index ${index} is outside 0..${this.count - 1}`);
    }
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.offsets[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    const r = this.ranges[lo]!;
    return { family: r.family, value: r.start + BigInt(index - this.offsets[lo]!) };
  }
}
