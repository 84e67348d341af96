/**
 * Redaction. A `Redacted` string is the only kind of text about a sampled value that may leave the
 * assessment layer: it is produced here (or by a detector's `mask`) and never holds the clear value.
 * The brand is a compile-time guard: passing a plain `string` where `Redacted` is expected fails.
 */
import { createHmac } from 'node:crypto';

declare const redactedBrand: unique symbol;
export type Redacted = string & { readonly [redactedBrand]: true };

/**
 * Brands text a detector built itself (`[bcrypt hash]`, `[image/png 3 KB]`, rounded coordinates).
 * Never call it on sampled data.
 */
export function redactedLabel(text: string): Redacted {
  return text as Redacted;
}

/** Largest share of significant characters a mask may reveal. */
export const MASK_MAX_FRACTION = 0.4;
export const MASK_MAX_LEAD = 4;
export const MASK_MAX_TRAIL = 4;

/**
 * Keeps at most 4 leading and 4 trailing significant characters (letters and digits), never more
 * than 40% of them, and replaces the others with `*`; separators (spaces, `-`, `+`, `(`…) stay so
 * the shape is visible: `110105199003071234` → `1101***********234`, `+86 138 1234 5678` → `+86 1** **** **78`.
 */
export function maskMiddle(value: string, significant: RegExp = /[\p{L}\p{N}]/u): Redacted {
  const chars = Array.from(value);
  const sig = chars.map((c) => significant.test(c));
  const n = sig.filter(Boolean).length;
  const keep = Math.floor(n * MASK_MAX_FRACTION);
  const lead = Math.min(MASK_MAX_LEAD, Math.ceil(keep / 2));
  const trail = Math.min(MASK_MAX_TRAIL, keep - lead);
  let seen = 0;
  const out = chars.map((c, i) => {
    if (!sig[i]) return c;
    const idx = seen++;
    return idx < lead || idx >= n - trail ? c : '*';
  });
  return out.join('') as Redacted;
}

/** `alice.smith@example.org` → `a***@example.org`. */
export function maskEmail(value: string): Redacted {
  const at = value.lastIndexOf('@');
  if (at <= 0) return maskMiddle(value);
  return `${Array.from(value)[0]}***@${value.slice(at + 1)}` as Redacted;
}

/** A keyed hash of the value instead of a masked example (HMAC-SHA256, first 16 hex digits). */
export function keyedHash(value: string, key: Uint8Array | string): Redacted {
  return `hmac-sha256:${createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, 16)}` as Redacted;
}

/** Throws away an example that still contains the clear value (belt and braces for every mask). */
export function assertRedacted(example: Redacted, clear: string): Redacted {
  const c = clear.trim();
  if (c.length >= 4 && example.includes(c)) return redactedLabel('[redacted]');
  return example;
}
