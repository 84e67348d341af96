/**
 * The bit of prefix arithmetic attribution needs: canonical addresses, CIDR parsing and containment,
 * summarising an RDAP start–end range into CIDRs, and the prefixes an address can be cached under.
 */
import {
  IPV4_MAPPED_PREFIX,
  familyBits,
  formatIp,
  parseIp,
  type IpAddress,
  type ParseResult,
} from '../../targets/address.js';

export interface Cidr {
  /** The network address (host bits zero). */
  base: IpAddress;
  length: number;
}

/** An address as given, with IPv4-mapped IPv6 (`::ffff:192.0.2.1`) turned into the IPv4 it embeds. */
export function parseAddress(text: string): ParseResult<IpAddress> {
  const r = parseIp(text.trim());
  if (!r.ok) return r;
  const a = r.value;
  if (a.family === 6 && a.value >> 32n === IPV4_MAPPED_PREFIX >> 32n) return { ok: true, value: { family: 4, value: a.value & 0xffffffffn } };
  return r;
}

function mask(family: 4 | 6, length: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(length))) & all;
}

export function prefixOf(addr: IpAddress, length: number): Cidr {
  return { base: { family: addr.family, value: addr.value & mask(addr.family, length) }, length };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.length}`;
}

/** `192.0.2.0/24`, `2001:db8::/32`; a bare address is a host prefix. Host bits are cleared. */
export function parseCidr(text: string): ParseResult<Cidr> {
  const [addrText = '', lenText, extra] = text.trim().split('/');
  if (extra !== undefined) return { ok: false, reason: 'more than one "/"' };
  const a = parseAddress(addrText);
  if (!a.ok) return a;
  const bits = familyBits(a.value.family);
  if (lenText === undefined) return { ok: true, value: { base: a.value, length: bits } };
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > bits) return { ok: false, reason: `prefix length ${JSON.stringify(lenText)} is not 0-${bits}` };
  return { ok: true, value: prefixOf(a.value, Number(lenText)) };
}

export function cidrContains(c: Cidr, addr: IpAddress): boolean {
  return c.base.family === addr.family && (addr.value & mask(addr.family, c.length)) === c.base.value;
}

/**
 * The fewest CIDRs that exactly cover `start`–`end` (inclusive), at most `2 × bits` of them.
 * Empty when the range is inverted or mixes families.
 */
export function rangeToCidrs(start: IpAddress, end: IpAddress): Cidr[] {
  if (start.family !== end.family || start.value > end.value) return [];
  const bits = familyBits(start.family);
  const out: Cidr[] = [];
  let cur = start.value;
  while (cur <= end.value) {
    // Largest block aligned at `cur` that does not pass `end`.
    let size = 0;
    while (size < bits && (cur & ((1n << BigInt(size + 1)) - 1n)) === 0n && cur + (1n << BigInt(size + 1)) - 1n <= end.value) size++;
    out.push({ base: { family: start.family, value: cur }, length: bits - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

/**
 * Every prefix an answer about `addr` may have been cached under, most specific first: the host
 * itself down to /8 (IPv4) or /12 (IPv6) — no registry delegates anything larger.
 */
export function coveringPrefixes(addr: IpAddress): string[] {
  const bits = familyBits(addr.family);
  const shortest = addr.family === 4 ? 8 : 12;
  const out: string[] = [];
  for (let len = bits; len >= shortest; len--) out.push(formatCidr(prefixOf(addr, len)));
  return out;
}
