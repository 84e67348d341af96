/**
 * Field paths reported by the sample scanner (`users.addresses[].phone`, `session:{n}:token`).
 * Paths come from keys, and keys can be data (`{"13812345678": {...}}`, Redis `user:alice@x.org`),
 * so every segment is sanitised: numbers, long digit runs, hex ids, UUIDs, e-mail-like and overlong
 * segments are replaced by placeholders. A `FieldPath` is only produced here.
 */
declare const fieldPathBrand: unique symbol;
export type FieldPath = string & { readonly [fieldPathBrand]: true };

const MAX_SEGMENT = 48;
const MAX_PATH = 256;

/** Placeholder for one path segment, or the segment itself when it looks like a name. */
export function sanitizeSegment(segment: string, looksSensitive?: (s: string) => boolean): string {
  if (segment === '') return '';
  if (/^\d+$/.test(segment)) return '{n}';
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(segment)) return '{uuid}';
  if (/^[0-9a-f]{16,}$/i.test(segment)) return '{hex}';
  if (segment.includes('@')) return '{email}';
  if (segment.length > MAX_SEGMENT) return '{long}';
  if (looksSensitive?.(segment)) return '{value}';
  return segment.replace(/\d{5,}/g, '{n}');
}

/** A key name (Redis key, record path) sanitised segment by segment, keeping `.`, `:` and `/`. */
export function sanitizeName(name: string, looksSensitive?: (s: string) => boolean): string {
  return name
    .split(/([.:/])/)
    .map((part, i) => (i % 2 === 1 ? part : sanitizeSegment(part, looksSensitive)))
    .join('');
}

export function toFieldPath(parts: readonly string[]): FieldPath {
  const s = parts.filter((p) => p !== '').join('.');
  return (s.length > MAX_PATH ? `${s.slice(0, MAX_PATH)}…` : s) as FieldPath;
}
