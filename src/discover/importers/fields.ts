import { formatIpv6, parseIpv4, parseIpv6 } from '../../targets/address.js';

/** Checks shared by every format: an address, a port, a transport, as the sources write them. */

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** An IP literal in canonical text (IPv4 as given when strict dotted-quad; IPv6 per RFC 5952). */
export function ipOf(text: unknown): Checked<string> {
  if (typeof text !== 'string' || text === '') return { ok: false, reason: 'no IP address' };
  if (text.includes(':')) {
    const r = parseIpv6(text);
    return r.ok ? { ok: true, value: formatIpv6(r.value) } : { ok: false, reason: `${JSON.stringify(text)}: ${r.reason}` };
  }
  const r = parseIpv4(text);
  return r.ok ? { ok: true, value: text } : { ok: false, reason: `${JSON.stringify(text)}: ${r.reason}` };
}

/** Shodan's numeric `ip` (IPv4 as a 32-bit integer). */
export function ipFromNumber(n: unknown): Checked<string> {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) return { ok: false, reason: 'no IP address' };
  return { ok: true, value: `${Math.floor(n / 0x1000000) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}` };
}

/** A TCP/UDP port 1-65535, given as a number or decimal text. */
export function portOf(v: unknown): Checked<number> {
  const n = typeof v === 'string' && /^\d{1,5}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) return { ok: false, reason: 'no port' };
  if (n < 1 || n > 65535) return { ok: false, reason: `port ${n} is out of range (1-65535)` };
  return { ok: true, value: n };
}

export function transportOf(v: unknown, fallback = 'tcp'): string {
  return typeof v === 'string' && v !== '' ? v.toLowerCase() : fallback;
}
