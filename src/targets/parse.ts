/**
 * Target specification syntax: one token → an address range or a hostname to resolve.
 *
 *   10.0.0.1                 single IPv4 address
 *   2001:db8::1              single IPv6 address
 *   10.0.0.5/24              CIDR block; host bits are allowed and cleared (→ 10.0.0.0/24), like nmap
 *   10.0.0.1-10.0.0.9        range, both ends inclusive (IPv6 too: 2001:db8::1-2001:db8::ff)
 *   10.0.0.1-20              nmap-style shorthand: the end replaces the last octet
 *   db.example.org           hostname, resolved later (see target-space.ts)
 *
 * Tokens are separated by whitespace or commas. Errors are `TargetParseError`s naming the token
 * and where it came from (`argument 2`, `targets.txt:17`).
 */
import { TargetParseError } from '../core/errors.js';
import { familyBits, parseIp, parseIpv6, type IpAddress, type ParseResult } from './address.js';
import { type AddressRange } from './range-set.js';

/** One specification as the user wrote it and where: `argument 1`, `targets.txt:3`, `stdin:2`. */
export interface TargetSpecInput {
  text: string;
  source: string;
}

export type ParsedSpec =
  | { kind: 'range'; range: AddressRange; input: TargetSpecInput }
  | { kind: 'hostname'; hostname: string; input: TargetSpecInput };

const SEPARATORS = /[\s,]+/;

/** Splits a spec text into its tokens, each keeping the source. Empty text yields no tokens. */
export function splitSpecs(input: TargetSpecInput): TargetSpecInput[] {
  return input.text
    .split(SEPARATORS)
    .filter((t) => t !== '')
    .map((text) => ({ text, source: input.source }));
}

/** Every token of every input; an input with no token at all (`''`, `' , '`) is an error. */
export function parseSpecs(inputs: readonly TargetSpecInput[]): ParsedSpec[] {
  const parsed: ParsedSpec[] = [];
  for (const input of inputs) {
    const tokens = splitSpecs(input);
    if (tokens.length === 0) throw new TargetParseError(input.text, input.source, 'empty target');
    for (const token of tokens) parsed.push(parseSpec(token));
  }
  return parsed;
}

/** Parses one token (no separators inside). */
export function parseSpec(input: TargetSpecInput): ParsedSpec {
  const text = input.text;
  const fail = (reason: string): never => {
    throw new TargetParseError(text, input.source, reason);
  };
  if (text.trim() === '') return fail('empty target');
  if (SEPARATORS.test(text)) return fail('contains a separator; pass one target per token');

  if (text.includes('/')) return { kind: 'range', range: parseCidr(text, fail), input };
  if (looksLikeRange(text)) return { kind: 'range', range: parseDashRange(text, fail), input };
  if (text.includes(':') || looksNumeric(text)) {
    const r = parseIp(text);
    if (!r.ok) return fail(r.reason);
    return { kind: 'range', range: { family: r.value.family, start: r.value.value, end: r.value.value }, input };
  }
  if (isHostname(text)) return { kind: 'hostname', hostname: text.replace(/\.$/, ''), input };
  return fail('not an IP address, CIDR block, address range or hostname');
}

type Fail = (reason: string) => never;

function parseCidr(text: string, fail: Fail): AddressRange {
  const slash = text.lastIndexOf('/');
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const addr = parseIp(addrText);
  if (!addr.ok) return fail(`address before "/": ${addr.reason}`);
  const bits = familyBits(addr.value.family);
  if (!/^\d{1,3}$/.test(prefixText)) return fail(`prefix length "${prefixText}" is not a number`);
  const prefix = Number(prefixText);
  if (prefix > bits) return fail(`prefix length ${prefix} is out of range for IPv${addr.value.family} (0-${bits})`);
  return cidrRange(addr.value, prefix);
}

/** The block of `prefix` bits around `addr`; host bits are cleared rather than refused. */
export function cidrRange(addr: IpAddress, prefix: number): AddressRange {
  const hostBits = BigInt(familyBits(addr.family) - prefix);
  const hostMask = (1n << hostBits) - 1n;
  const start = addr.value & ~hostMask;
  return { family: addr.family, start, end: start | hostMask };
}

/** An address-looking left side and a dash: IPv6 never contains `-`, IPv4 `a.b.c.d-…`. */
function looksLikeRange(text: string): boolean {
  const dash = text.indexOf('-');
  if (dash < 0) return false;
  const left = text.slice(0, dash);
  return left.includes(':') || /^\d+(\.\d+){3}$/.test(left);
}

/** Digits and dots only, or a last label that is all digits: meant as an IPv4 address, never a hostname. */
function looksNumeric(text: string): boolean {
  if (/^[\d.]+$/.test(text)) return true;
  const labels = text.replace(/\.$/, '').split('.');
  return labels.length > 1 && /^\d+$/.test(labels.at(-1) ?? '');
}

function parseDashRange(text: string, fail: Fail): AddressRange {
  const parts = text.split('-');
  if (parts.length !== 2) return fail('a range has exactly one "-"');
  const [leftText, rightText] = parts as [string, string];
  const left = parseIp(leftText);
  if (!left.ok) return fail(`range start: ${left.reason}`);
  const start = left.value;

  let end: IpAddress;
  if (start.family === 4 && /^\d+$/.test(rightText)) {
    // nmap shorthand: 10.0.0.1-20 means 10.0.0.1 to 10.0.0.20.
    if (rightText.length > 1 && rightText.startsWith('0')) return fail(`range end ${rightText} has a leading zero`);
    const octet = Number(rightText);
    if (octet > 255) return fail(`range end ${rightText} is out of range for the last octet (0-255)`);
    end = { family: 4, value: (start.value & ~0xffn) | BigInt(octet) };
  } else {
    // After an IPv6 start the end is read as IPv6, so `2001:db8::1-ff` says "not a valid IPv6 address".
    const right = start.family === 6 ? asIpv6(parseIpv6(rightText)) : parseIp(rightText);
    if (!right.ok) return fail(`range end: ${right.reason}`);
    end = right.value;
  }
  if (end.family !== start.family) return fail('range start and end are different address families');
  if (end.value < start.value) return fail('range end is before range start');
  return { family: start.family, start: start.value, end: end.value };
}

function asIpv6(r: ParseResult<bigint>): ParseResult<IpAddress> {
  return r.ok ? { ok: true, value: { family: 6, value: r.value } } : r;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/** RFC 1123 host names (underscore tolerated, as resolvers do); the last label is not all digits. */
export function isHostname(text: string): boolean {
  const name = text.replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return false;
  return !/^\d+$/.test(labels.at(-1)!);
}
