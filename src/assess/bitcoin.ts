/**
 * Bitcoin address validation for ransom-note rules: base58check P2PKH (`1…`) and P2SH (`3…`), and
 * segwit bech32 (BIP 173, witness v0) / bech32m (BIP 350, v1+) with the `bc` prefix. Only mainnet:
 * a ransom note asks for real money. Encoders are here for tests and the synthetic corpus.
 */
import { createHash } from 'node:crypto';

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_INDEX = new Map([...B58].map((c, i) => [c, i] as const));

function sha256d(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest();
}

function base58Decode(s: string): Uint8Array | undefined {
  let n = 0n;
  for (const c of s) {
    const v = B58_INDEX.get(c);
    if (v === undefined) return undefined;
    n = n * 58n + BigInt(v);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for (const c of s) {
    if (c !== '1') break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

export function base58Encode(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

/** base58check with version 0x00 (P2PKH) or 0x05 (P2SH) and a 20-byte hash. */
export function isBase58Address(s: string): boolean {
  if (!/^[13][1-9A-HJ-NP-Za-km-z]{24,33}$/.test(s)) return false;
  const bytes = base58Decode(s);
  if (!bytes || bytes.length !== 25) return false;
  if (bytes[0] !== 0x00 && bytes[0] !== 0x05) return false;
  const sum = sha256d(bytes.subarray(0, 21));
  return sum.subarray(0, 4).equals(Buffer.from(bytes.subarray(21)));
}

export function base58CheckEncode(version: number, hash20: Uint8Array): string {
  const payload = Buffer.concat([Buffer.from([version]), Buffer.from(hash20)]);
  return base58Encode(Buffer.concat([payload, sha256d(payload).subarray(0, 4)]));
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const;
const BECH32_CONST = 1;
const BECH32M_CONST = 0x2bc830a3;

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= BECH32_GEN[i]!;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

function convertBits(data: readonly number[], from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (const v of data) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & max);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & max);
  } else if (bits >= from || ((acc << (to - bits)) & max) !== 0) {
    return undefined;
  }
  return out;
}

/** Segwit address with the `bc` prefix: checksum (bech32 for v0, bech32m for v1–16), program length. */
export function isBech32Address(s: string): boolean {
  if (s.length < 14 || s.length > 90) return false;
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) return false;
  const lower = s.toLowerCase();
  if (!lower.startsWith('bc1')) return false;
  const data: number[] = [];
  for (const c of lower.slice(3)) {
    const v = BECH32_CHARSET.indexOf(c);
    if (v < 0) return false;
    data.push(v);
  }
  if (data.length < 7) return false;
  const check = polymod([...hrpExpand('bc'), ...data]);
  const version = data[0]!;
  if (version > 16) return false;
  if (check !== (version === 0 ? BECH32_CONST : BECH32M_CONST)) return false;
  const program = convertBits(data.slice(1, -6), 5, 8, false);
  if (!program || program.length < 2 || program.length > 40) return false;
  if (version === 0 && program.length !== 20 && program.length !== 32) return false;
  return true;
}

export function bech32Encode(version: number, program: Uint8Array): string {
  const data = [version, ...convertBits([...program], 8, 5, true)!];
  const mod = polymod([...hrpExpand('bc'), ...data, 0, 0, 0, 0, 0, 0]) ^ (version === 0 ? BECH32_CONST : BECH32M_CONST);
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (mod >>> (5 * (5 - i))) & 31);
  return 'bc1' + [...data, ...checksum].map((v) => BECH32_CHARSET[v]).join('');
}

export function isBitcoinAddress(s: string): boolean {
  return isBase58Address(s) || isBech32Address(s);
}

/** Candidate Bitcoin addresses in free text, validated. */
export function findBitcoinAddresses(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?<![0-9A-Za-z])(?:[13][1-9A-HJ-NP-Za-km-z]{24,33}|bc1[0-9a-z]{8,87}|BC1[0-9A-Z]{8,87})(?![0-9A-Za-z])/g)) {
    if (isBitcoinAddress(m[0])) out.push(m[0]);
    if (out.length >= 20) break;
  }
  return out;
}
