/**
 * JSON reply bodies of the HTTP-speaking modules (CouchDB, etcd, InfluxDB, ClickHouse, Elasticsearch,
 * Kibana): strict UTF-8, a nesting bound checked before `JSON.parse`, and a `ProtocolError` naming the
 * reply for anything that is not JSON.
 */
import { ProtocolError } from '../core/errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Body bytes as UTF-8 text; invalid UTF-8 is a `ProtocolError` naming `what`. */
export function utf8Text(body: Uint8Array, what: string): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new ProtocolError(`${what} is not UTF-8 text`);
  }
}

/**
 * The deepest nesting of arrays/objects in `text`, scanning outside string literals; throws a
 * `ProtocolError` as soon as it passes `max`. Linear time, constant memory: it runs before `JSON.parse`
 * so a 16 MiB `[[[[…` costs a scan, not a parser stack and hundreds of megabytes.
 */
export function jsonDepth(text: string, max: number, what = 'JSON reply'): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > max) throw new ProtocolError(`${what} nests deeper than ${max} levels`);
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return deepest;
}

/** `JSON.parse` of a reply's text, after the nesting check when `maxDepth` is given. */
export function parseJsonText(text: string, what: string, maxDepth?: number): unknown {
  if (maxDepth !== undefined) jsonDepth(text, maxDepth, what);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // JSON.parse also throws (RangeError) on absurd nesting; either way it is not the reply expected.
    throw new ProtocolError(`${what} is not JSON: ${JSON.stringify(text.slice(0, 60))}`);
  }
}

/** `parseJsonText` of a body that must be UTF-8. */
export function parseJsonBody(body: Uint8Array, what: string, maxDepth?: number): unknown {
  return parseJsonText(utf8Text(body, what), what, maxDepth);
}

export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
