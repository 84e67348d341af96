/**
 * IP addresses as (family, bigint) pairs: parsing from text and formatting back to canonical text.
 * Canonical text is what every later stage stores and compares: IPv4 as a dotted quad, IPv6 in
 * RFC 5952 form (lowercase, longest zero run compressed), matching ipaddr.js `toRFC5952String()`.
 */
import ipaddr from 'ipaddr.js';

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  value: bigint;
}

export const IPV4_BITS = 32;
export const IPV6_BITS = 128;
export const IPV4_MAX = (1n << 32n) - 1n;
export const IPV6_MAX = (1n << 128n) - 1n;

/** ::ffff:0:0/96 — IPv4-mapped IPv6 addresses reach the IPv4 host they embed. */
export const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

export function familyBits(family: IpFamily): number {
  return family === 4 ? IPV4_BITS : IPV6_BITS;
}

/** Result of parsing: the address, or a reason (sentence case) the caller puts into its own error. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const IPV4_SHAPE = /^\d+(\.\d+){3}$/;

/**
 * Strict dotted-quad IPv4: exactly four decimal octets. Shorter forms (`10.1`), hex and octal
 * (`0x0a.0.0.1`, `010.0.0.1`) are refused, because tools disagree on what they mean.
 */
export function parseIpv4(text: string): ParseResult<bigint> {
  if (!IPV4_SHAPE.test(text)) return { ok: false, reason: 'not a valid IPv4 address (expected four decimal octets)' };
  let value = 0;
  const octets = text.split('.');
  for (const [i, octet] of octets.entries()) {
    if (octet.length > 1 && octet.startsWith('0')) {
      return { ok: false, reason: `octet ${i + 1} (${octet}) has a leading zero, which is ambiguous (octal or decimal)` };
    }
    const n = Number(octet);
    if (n > 255) return { ok: false, reason: `octet ${i + 1} (${octet}) is out of range (0-255)` };
    value = value * 256 + n;
  }
  return { ok: true, value: BigInt(value) };
}

export function parseIpv6(text: string): ParseResult<bigint> {
  if (text.includes('%')) return { ok: false, reason: 'IPv6 zone identifiers (%…) are not supported' };
  if (!ipaddr.IPv6.isValid(text)) return { ok: false, reason: 'not a valid IPv6 address' };
  let value = 0n;
  for (const part of ipaddr.IPv6.parse(text).parts) value = (value << 16n) | BigInt(part);
  return { ok: true, value };
}

/** Either family: text with a colon is IPv6, anything else IPv4. */
export function parseIp(text: string): ParseResult<IpAddress> {
  if (text.includes(':')) {
    const r = parseIpv6(text);
    return r.ok ? { ok: true, value: { family: 6, value: r.value } } : r;
  }
  const r = parseIpv4(text);
  return r.ok ? { ok: true, value: { family: 4, value: r.value } } : r;
}

export function formatIpv4(value: bigint): string {
  const n = Number(value);
  return `${Math.floor(n / 0x1000000) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** RFC 5952: lowercase hex, no leading zeros, the longest run (≥ 2) of zero groups as `::`, leftmost on ties. */
export function formatIpv6(value: bigint): string {
  const groups: number[] = new Array<number>(8);
  // Two 64-bit halves keep the bigint work to a handful of operations per address.
  const hi = Number(value >> 96n) >>> 0;
  const mh = Number((value >> 64n) & 0xffffffffn) >>> 0;
  const ml = Number((value >> 32n) & 0xffffffffn) >>> 0;
  const lo = Number(value & 0xffffffffn) >>> 0;
  for (const [i, word] of [hi, mh, ml, lo].entries()) {
    groups[i * 2] = word >>> 16;
    groups[i * 2 + 1] = word & 0xffff;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestLen < 2) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

export function formatIp(addr: IpAddress): string {
  return addr.family === 4 ? formatIpv4(addr.value) : formatIpv6(addr.value);
}
