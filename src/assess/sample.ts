/**
 * The sample scanner: walks a bounded sample of documents/rows/records (already read, already
 * local), runs the value detectors on every field, and returns counts per detector and category,
 * counts per field path and ONE redacted example each.
 *
 * Nothing in the result can carry a clear value: examples are `Redacted` (a detector's mask or a
 * keyed hash), paths are `FieldPath` (sanitised keys), everything else is a number or an id.
 *
 * Bounds (per call = per target): at most `maxDocuments` documents per collection (and per records
 * input), `maxBytes` of strings/binaries/keys, `maxDepth` of nesting, and a fixed number of values
 * per document. Options may lower the defaults, never raise them past `SAMPLE_HARD_CAPS`.
 */
import { ConfigError } from '../core/errors.js';
import { defaultDetectors, type DetectorSet } from './detectors/registry.js';
import { coordinatesFromObject, coordinates, maskCoordinates } from './detectors/gps.js';
import { imageLabel, sniffImageBytes } from './detectors/image.js';
import { type DetectContext, type DetectorId } from './detectors/types.js';
import { sanitizeName, sanitizeSegment, toFieldPath, type FieldPath } from './field-path.js';
import { assertRedacted, keyedHash, type Redacted } from './mask.js';

export const SAMPLE_HARD_CAPS = Object.freeze({
  /** Documents/rows per collection/table (and records per records input). */
  maxDocuments: 100,
  /** Bytes of strings, binaries and keys per call (one target). */
  maxBytes: 1_048_576,
  /** Nesting depth of objects/arrays. */
  maxDepth: 32,
  /** Leaf values per document. */
  maxValuesPerDocument: 10_000,
  /** Distinct field paths kept per detector; the rest are counted under `{other}`. */
  maxFieldPaths: 100,
  /** Embedded values taken from one free-text value. */
  maxEmbeddedPerValue: 20,
  /** Strings up to this size that look like JSON are parsed and walked. */
  maxJsonText: 262_144,
});

export const SAMPLE_DEFAULTS = Object.freeze({
  maxDocuments: SAMPLE_HARD_CAPS.maxDocuments,
  maxBytes: SAMPLE_HARD_CAPS.maxBytes,
  maxDepth: SAMPLE_HARD_CAPS.maxDepth,
});

export interface SampleOptions {
  /** ≤ SAMPLE_HARD_CAPS.maxDocuments. */
  maxDocuments?: number;
  /** ≤ SAMPLE_HARD_CAPS.maxBytes. */
  maxBytes?: number;
  /** ≤ SAMPLE_HARD_CAPS.maxDepth. */
  maxDepth?: number;
  /** `mask` (default): a detector's masked example; `hmac`: a keyed hash (needs `hmacKey`). */
  example?: 'mask' | 'hmac';
  /** Per-install secret for `example: 'hmac'`. */
  hmacKey?: Uint8Array | string;
  detectors?: DetectorSet;
}

/** One collection/table/index and the documents/rows sampled from it. */
export interface SampleCollection {
  name: string;
  documents: Iterable<unknown>;
}
/** One value under a name (a Redis key, a ZooKeeper node, a flattened column). */
export interface SampleRecord {
  path: string;
  value: unknown;
}
export type SampleInput = { collections: Iterable<SampleCollection> } | { records: Iterable<SampleRecord> };

export interface FieldCount {
  path: FieldPath;
  count: number;
}
export interface DetectorFinding {
  detector: DetectorId;
  category: string;
  count: number;
  fields: FieldCount[];
  example: Redacted;
}
export interface CategoryFinding {
  category: string;
  count: number;
  detectors: DetectorId[];
  fields: FieldCount[];
  example: Redacted;
}
export type SampleLimit = 'documents' | 'bytes' | 'depth' | 'values' | 'fields';

export interface SampleAssessment {
  documents: number;
  bytes: number;
  values: number;
  /** Limits that cut the scan short (empty when everything in the input was scanned). */
  truncated: SampleLimit[];
  limits: { maxDocuments: number; maxBytes: number; maxDepth: number };
  byDetector: DetectorFinding[];
  byCategory: CategoryFinding[];
}

function limit(name: keyof typeof SAMPLE_DEFAULTS, v: number | undefined): number {
  if (v === undefined) return SAMPLE_DEFAULTS[name];
  const cap = SAMPLE_HARD_CAPS[name];
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`Sample option ${name} must be a positive integer, got ${v}`);
  if (v > cap) throw new ConfigError(`Sample option ${name} is ${v}, above the hard cap of ${cap}; it can only be lowered`);
  return v;
}

interface Acc {
  detector: DetectorId;
  category: string;
  count: number;
  fields: Map<string, number>;
  example?: Redacted;
}

class StopScan extends Error {}

export function assessSample(input: SampleInput, opts: SampleOptions = {}): SampleAssessment {
  const limits = { maxDocuments: limit('maxDocuments', opts.maxDocuments), maxBytes: limit('maxBytes', opts.maxBytes), maxDepth: limit('maxDepth', opts.maxDepth) };
  if (opts.example === 'hmac' && (opts.hmacKey === undefined || opts.hmacKey.length < 16)) {
    throw new ConfigError('Sample option example "hmac" needs an hmacKey of at least 16 bytes');
  }
  const detectors = opts.detectors ?? defaultDetectors();
  const truncated = new Set<SampleLimit>();
  const acc = new Map<DetectorId, Acc>();
  let bytes = 0;
  let values = 0;
  let documents = 0;
  let docValues = 0;
  const segCache = new Map<string, string>();
  const coordinateArrays = new WeakSet<object>();

  const looksSensitive = (s: string) => s.length >= 6 && detectors.classify(s) !== undefined;
  function seg(key: string): string {
    let v = segCache.get(key);
    if (v === undefined) {
      v = sanitizeSegment(key, looksSensitive);
      if (segCache.size < 10_000) segCache.set(key, v);
    }
    return v;
  }

  function spend(n: number): void {
    if (bytes + n > limits.maxBytes) {
      truncated.add('bytes');
      throw new StopScan();
    }
    bytes += n;
  }

  function record(id: DetectorId, category: string, path: FieldPath, example: () => Redacted, clear: string): void {
    let a = acc.get(id);
    if (!a) {
      a = { detector: id, category, count: 0, fields: new Map() };
      acc.set(id, a);
    }
    a.count++;
    let key: string = path;
    if (!a.fields.has(key) && a.fields.size >= SAMPLE_HARD_CAPS.maxFieldPaths) {
      truncated.add('fields');
      key = '{other}';
    }
    a.fields.set(key, (a.fields.get(key) ?? 0) + 1);
    if (a.example === undefined) {
      a.example = opts.example === 'hmac' ? keyedHash(clear, opts.hmacKey as Uint8Array | string) : assertRedacted(example(), clear);
    }
  }

  function context(raw: RawPath): DetectContext {
    return raw.field === undefined ? {} : { fieldName: raw.field, fieldPath: raw.parents };
  }

  function scanString(s: string, parts: string[], raw: RawPath, depth: number): void {
    if (s.length >= 2 && s.length <= SAMPLE_HARD_CAPS.maxJsonText && /^\s*[[{]/.test(s)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(s);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed === 'object' && parsed !== null) {
        walk(parsed, parts, raw, depth + 1, false);
        return;
      }
    }
    const ctx = context(raw);
    const path = toFieldPath(parts);
    const d = detectors.classify(s, ctx);
    if (d) record(d.id, d.category, path, () => d.mask(s), s);
    if ((!d || d.id === 'chat_text') && s.length >= 12 && /\s/.test(s)) {
      for (const e of detectors.findEmbedded(s, ctx, SAMPLE_HARD_CAPS.maxEmbeddedPerValue)) {
        record(e.detector.id, e.detector.category, path, () => e.detector.mask(e.value), e.value);
      }
    }
  }

  function leaf(): void {
    values++;
    if (++docValues > SAMPLE_HARD_CAPS.maxValuesPerDocument) {
      truncated.add('values');
      throw new StopDocument();
    }
  }

  function bytesOf(v: unknown): Uint8Array | undefined {
    if (v instanceof Uint8Array) return v;
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    const b = v as { _bsontype?: unknown; buffer?: unknown };
    if (b._bsontype === 'Binary' && b.buffer instanceof Uint8Array) return b.buffer;
    return undefined;
  }

  function walk(value: unknown, parts: string[], raw: RawPath, depth: number, countBytes = true): void {
    if (value === null || value === undefined || typeof value === 'boolean' || typeof value === 'function' || typeof value === 'symbol') return;
    if (typeof value === 'string') {
      leaf();
      if (countBytes) spend(Buffer.byteLength(value, 'utf8'));
      scanString(value, parts, raw, depth);
      return;
    }
    if (typeof value === 'number') {
      leaf();
      spend(8);
      // Phone numbers, IDs and cards are sometimes stored as numbers.
      if (Number.isSafeInteger(value) && Math.abs(value) >= 1_000_000) scanString(String(value), parts, raw, depth);
      return;
    }
    if (typeof value === 'bigint') {
      leaf();
      spend(16);
      scanString(value.toString(), parts, raw, depth);
      return;
    }
    if (value instanceof Date) return;
    const bin = bytesOf(value);
    if (bin) {
      leaf();
      spend(bin.length);
      const info = sniffImageBytes(bin.subarray(0, 16), bin.length);
      if (info) record('image', detectors.get('image').category, toFieldPath(parts), () => imageLabel(info), Buffer.from(bin.subarray(0, 64)).toString('base64'));
      return;
    }
    if (typeof value !== 'object') return;
    if ((value as { _bsontype?: unknown })._bsontype !== undefined) {
      // Other BSON scalars (Long, Decimal128, Int32 …); ObjectId and Timestamp are not personal data.
      const t = String((value as { _bsontype: unknown })._bsontype);
      if (t !== 'ObjectId' && t !== 'ObjectID' && t !== 'Timestamp') walk(String(value), parts, raw, depth);
      return;
    }
    if (depth >= limits.maxDepth) {
      truncated.add('depth');
      return;
    }
    if (Array.isArray(value)) {
      const last = parts.length > 0 ? parts[parts.length - 1] : '';
      const arrParts = parts.length > 0 ? [...parts.slice(0, -1), `${last}[]`] : ['[]'];
      // A [lng, lat] pair in a location field (GeoJSON/legacy MongoDB order).
      if (!coordinateArrays.has(value) && value.length === 2 && value.every((x) => typeof x === 'number') && detectors.hints(context(raw)).categories.has('location')) {
        const c = coordinates(String(value[1]), String(value[0]));
        if (c) record('gps', detectors.get('gps').category, toFieldPath(parts), () => maskCoordinates(c), `${c.lat},${c.lng}`);
      }
      for (const item of value) walk(item, arrParts, raw, depth + 1, countBytes);
      return;
    }
    const obj = value as Record<string, unknown>;
    const c = coordinatesFromObject(obj);
    if (c) {
      record('gps', detectors.get('gps').category, toFieldPath(parts), () => maskCoordinates(c), `${c.lat},${c.lng}`);
      if (Array.isArray(obj.coordinates)) coordinateArrays.add(obj.coordinates); // a GeoJSON Point counts once
    }
    for (const [k, v] of Object.entries(obj)) {
      if (countBytes) spend(Buffer.byteLength(k, 'utf8'));
      const childRaw: RawPath = { field: k, parents: raw.field === undefined ? raw.parents : [...raw.parents, raw.field] };
      walk(v, [...parts, seg(k)], childRaw, depth + 1, countBytes);
    }
  }

  function document(doc: unknown, parts: string[], raw: RawPath): void {
    documents++;
    docValues = 0;
    try {
      walk(doc, parts, raw, 0);
    } catch (err) {
      if (!(err instanceof StopDocument)) throw err;
    }
  }

  /** Iterates at most `max` items; flags `documents` when more were available. */
  function* bounded<T>(items: Iterable<T>, max: number): Generator<T> {
    const it = items[Symbol.iterator]();
    try {
      for (let i = 0; i < max; i++) {
        const r = it.next();
        if (r.done) return;
        yield r.value;
      }
      if (!it.next().done) truncated.add('documents');
    } finally {
      it.return?.();
    }
  }

  try {
    if ('collections' in input) {
      for (const col of input.collections) {
        const name = sanitizeName(col.name, looksSensitive);
        for (const doc of bounded(col.documents, limits.maxDocuments)) document(doc, [name], { field: undefined, parents: [col.name] });
      }
    } else {
      for (const rec of bounded(input.records, limits.maxDocuments)) {
        spend(Buffer.byteLength(rec.path, 'utf8'));
        const segs = rec.path.split(/[.:/]/).filter((s) => s !== '');
        const field = segs.length > 0 ? segs[segs.length - 1] : undefined;
        document(rec.value, [sanitizeName(rec.path, looksSensitive)], { field, parents: segs.slice(0, -1) });
      }
    }
  } catch (err) {
    if (!(err instanceof StopScan)) throw err;
  }

  const byDetector: DetectorFinding[] = [...acc.values()]
    .map((a) => ({ detector: a.detector, category: a.category, count: a.count, fields: sortedFields(a.fields), example: a.example as Redacted }))
    .sort((x, y) => y.count - x.count || x.detector.localeCompare(y.detector));
  const cats = new Map<string, CategoryFinding & { fieldMap: Map<string, number> }>();
  for (const f of byDetector) {
    let c = cats.get(f.category);
    if (!c) {
      c = { category: f.category, count: 0, detectors: [], fields: [], example: f.example, fieldMap: new Map() };
      cats.set(f.category, c);
    }
    c.count += f.count;
    c.detectors.push(f.detector);
    for (const fc of f.fields) c.fieldMap.set(fc.path, (c.fieldMap.get(fc.path) ?? 0) + fc.count);
  }
  const byCategory: CategoryFinding[] = [...cats.values()]
    .map(({ fieldMap, ...c }) => ({ ...c, fields: sortedFields(fieldMap) }))
    .sort((x, y) => y.count - x.count || x.category.localeCompare(y.category));

  return { documents, bytes, values, truncated: [...truncated].sort(), limits, byDetector, byCategory };
}

class StopDocument extends Error {}

interface RawPath {
  /** The raw key of the current value (for field-name hints), undefined at a document's root. */
  field: string | undefined;
  /** Raw names above it: collection, parent keys. */
  parents: readonly string[];
}

function sortedFields(m: Map<string, number>): FieldCount[] {
  return [...m.entries()]
    .map(([path, count]) => ({ path: path as FieldPath, count }))
    .sort((a, b) => b.count - a.count || a.path.localeCompare(b.path));
}
