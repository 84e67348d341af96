/**
 * RESP2, the Redis wire format (https://redis.io/docs/latest/develop/reference/protocol-spec/), as pure
 * functions over bytes: an encoder for commands and a bounded decoder for replies, plus a parser for the
 * text INFO returns. No sockets here.
 */
import { ProtocolError } from '../../core/errors.js';
import { type Decoder } from '../../net/session.js';

/** One decoded RESP2 reply. `null` bulk strings and arrays are RESP's "nil". */
export type RespValue =
  | { type: 'simple'; value: string }
  | { type: 'error'; value: string }
  /** RESP integers are 64-bit; beyond 2^53 the JS number loses precision (no command we send returns one). */
  | { type: 'integer'; value: number }
  | { type: 'bulk'; value: Buffer | null }
  | { type: 'array'; value: RespValue[] | null };

/**
 * Bounds that turn hostile replies into a `ProtocolError` instead of a hang or a huge allocation.
 * Redis itself caps bulk strings at 512 MB (proto-max-bulk-len) and inline lines at 64 KiB.
 */
export const RESP_LIMITS = {
  maxBulkLength: 512 * 1024 * 1024,
  maxLineLength: 64 * 1024,
  maxDepth: 16,
  /** No reply to PING/INFO/CLIENT SETNAME has more elements than this; a header claiming more is hostile. */
  maxElements: 1024 * 1024,
} as const;

/** Encode a command as RESP's array of bulk strings, e.g. `['CLIENT', 'SETNAME', 'x']`. */
export function encodeCommand(args: readonly (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : Buffer.from(arg);
    parts.push(Buffer.from(`$${bytes.length}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

/** Decode one RESP2 reply from the start of `buf`; `undefined` when more bytes are needed. */
export const decodeResp: Decoder<RespValue> = (buf) => {
  const r = parseValue(buf, 0, 0);
  return r ? { value: r.value, consumed: r.next } : undefined;
};

interface Parsed<T> {
  value: T;
  next: number;
}

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n', 'latin1');

/** The text of the line starting at `pos` (without CRLF), or undefined when its CRLF has not arrived yet. */
function readLine(buf: Buffer, pos: number, encoding: BufferEncoding = 'latin1'): Parsed<string> | undefined {
  const limit = Math.min(buf.length, pos + RESP_LIMITS.maxLineLength + 2);
  const at = pos < limit ? buf.indexOf(CRLF, pos) : -1;
  if (at !== -1 && at + 2 <= limit) return { value: buf.toString(encoding, pos, at), next: at + 2 };
  if (buf.length - pos >= RESP_LIMITS.maxLineLength + 2) {
    throw new ProtocolError(`RESP line longer than ${RESP_LIMITS.maxLineLength} bytes without CRLF`);
  }
  return undefined;
}

/** A length or count header: -1 (nil) or a non-negative decimal no larger than `max`. */
function parseLength(text: string, what: string, max: number): number {
  if (!/^(-1|0|[1-9][0-9]{0,11})$/.test(text)) throw new ProtocolError(`Invalid RESP ${what} ${JSON.stringify(text.slice(0, 32))}`);
  const n = Number(text);
  if (n > max) throw new ProtocolError(`RESP ${what} ${n} exceeds the limit of ${max}`);
  return n;
}

function parseValue(buf: Buffer, pos: number, depth: number): Parsed<RespValue> | undefined {
  if (pos >= buf.length) return undefined;
  const marker = buf[pos]!;
  switch (marker) {
    case 0x2b /* + */: {
      const line = readLine(buf, pos + 1, 'utf8');
      return line && { value: { type: 'simple', value: line.value }, next: line.next };
    }
    case 0x2d /* - */: {
      // Error texts may quote what the client sent (e.g. unknown command 'é'), so UTF-8.
      const line = readLine(buf, pos + 1, 'utf8');
      return line && { value: { type: 'error', value: line.value }, next: line.next };
    }
    case 0x3a /* : */: {
      const line = readLine(buf, pos + 1);
      if (!line) return undefined;
      if (!/^-?[0-9]{1,20}$/.test(line.value)) throw new ProtocolError(`Invalid RESP integer ${JSON.stringify(line.value.slice(0, 32))}`);
      return { value: { type: 'integer', value: Number(line.value) }, next: line.next };
    }
    case 0x24 /* $ */: {
      const line = readLine(buf, pos + 1);
      if (!line) return undefined;
      const len = parseLength(line.value, 'bulk length', RESP_LIMITS.maxBulkLength);
      if (len === -1) return { value: { type: 'bulk', value: null }, next: line.next };
      const end = line.next + len;
      if (buf.length < end + 2) return undefined;
      if (buf[end] !== CR || buf[end + 1] !== LF) throw new ProtocolError('RESP bulk string not followed by CRLF');
      // A small value is copied so it does not pin a much larger receive buffer; one that is most of the
      // buffer (INFO's reply, typically) is used in place: a copy would only double it.
      const bytes = buf.subarray(line.next, end);
      return { value: { type: 'bulk', value: bytes.length * 2 >= buf.length ? bytes : Buffer.from(bytes) }, next: end + 2 };
    }
    case 0x2a /* * */: {
      if (depth >= RESP_LIMITS.maxDepth) throw new ProtocolError(`RESP arrays nested deeper than ${RESP_LIMITS.maxDepth}`);
      const line = readLine(buf, pos + 1);
      if (!line) return undefined;
      const count = parseLength(line.value, 'array length', RESP_LIMITS.maxElements);
      if (count === -1) return { value: { type: 'array', value: null }, next: line.next };
      // Grown element by element (never preallocated from the header), so memory follows the bytes received.
      const items: RespValue[] = [];
      let next = line.next;
      for (let i = 0; i < count; i++) {
        const item = parseValue(buf, next, depth + 1);
        if (!item) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: { type: 'array', value: items }, next };
    }
    default:
      throw new ProtocolError(`Not a RESP reply: first byte 0x${marker.toString(16).padStart(2, '0')}`);
  }
}

/**
 * An INFO reply: `# Section` headers, then `field:value` lines (CRLF or LF). Fields before any header
 * are in section `''`; unparseable lines are skipped (INFO is informational).
 *
 * Lazy on purpose: a probe reads about a dozen of INFO's ~150 fields, at thousands of probes a second, so
 * a field is found by searching the text and a section is split into a map only when asked for.
 */
export class InfoSections {
  readonly text: string;
  /** Section name (lower-cased) → [start, end) of its lines in `text`, in text order. */
  private readonly bounds = new Map<string, Array<[number, number]>>();
  private readonly parsed = new Map<string, Map<string, string>>();

  constructor(text: string) {
    this.text = text;
    let name = '';
    let start = 0;
    for (let at = text.startsWith('#') ? 0 : text.indexOf('\n#'); at !== -1; at = text.indexOf('\n#', at + 1)) {
      const header = text[at] === '#' ? at : at + 1;
      this.addBounds(name, start, header);
      name = text.slice(header + 1, lineEnd(text, header)).trim().toLowerCase();
      start = nextLine(text, header);
    }
    this.addBounds(name, start, text.length);
  }

  /** The section's fields (empty sections included; undefined when there is no such header). */
  get(section: string): Map<string, string> | undefined {
    const known = this.parsed.get(section);
    if (known) return known;
    const ranges = this.bounds.get(section);
    if (!ranges) return undefined;
    const fields = new Map<string, string>();
    for (const [from, to] of ranges) {
      for (let pos = from; pos < to; pos = nextLine(this.text, pos)) {
        const line = this.text.slice(pos, Math.min(lineEnd(this.text, pos), to));
        const colon = line.indexOf(':');
        if (colon > 0 && !line.startsWith('#')) fields.set(detached(line.slice(0, colon)), detached(line.slice(colon + 1)));
      }
    }
    this.parsed.set(section, fields);
    return fields;
  }

  /** A field from any section, the first in text order (INFO field names are unique across sections). */
  field(name: string): string | undefined {
    if (name === '' || name.includes(':') || name.includes('\n') || name.startsWith('#')) return undefined;
    const needle = `${name}:`;
    const at = this.text.startsWith(needle) ? 0 : this.text.indexOf(`\n${needle}`);
    if (at === -1) return undefined;
    const from = (at === 0 && this.text.startsWith(needle) ? 0 : at + 1) + needle.length;
    return detached(this.text.slice(from, lineEnd(this.text, from)));
  }

  private addBounds(name: string, start: number, end: number): void {
    // A repeated header continues the same section, as the eager parser did.
    const ranges = this.bounds.get(name);
    if (ranges) ranges.push([start, end]);
    else this.bounds.set(name, [[start, end]]);
  }
}

/**
 * A copy of a substring that does not keep the whole INFO text alive. V8 makes a substring of 13 or more
 * characters a view into its parent, so one `os` value kept in a result would pin INFO's ~5 KB for as
 * long as the result lives (thousands of results are in flight or waiting to be stored during a scan).
 */
function detached(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

/** Start of the line after the one at `pos` (the text's length after the last line). */
function nextLine(text: string, pos: number): number {
  const lf = text.indexOf('\n', pos);
  return lf === -1 ? text.length : lf + 1;
}

/** End of the line starting at `pos`: the index of its CR (of a CRLF) or LF, or the text's length. */
function lineEnd(text: string, pos: number): number {
  const lf = text.indexOf('\n', pos);
  const end = lf === -1 ? text.length : lf;
  return end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
}

export function parseInfo(text: string): InfoSections {
  return new InfoSections(text);
}

/** A field from any section (INFO field names are unique across sections). */
export function infoField(info: InfoSections, field: string): string | undefined {
  return info.field(field);
}

/** Split INFO's `k=v,k=v` values (keyspace, slaveN). */
export function parseKvList(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

/** A decimal integer from INFO, or undefined when absent or not a safe integer. */
export function infoInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?[0-9]{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

export interface KeyspaceEntry {
  keys: number;
  expires: number;
}

/** `# Keyspace` lines such as `db0:keys=3,expires=0,avg_ttl=0` → `{ db0: { keys: 3, expires: 0 } }`. */
export function parseKeyspace(info: InfoSections): Record<string, KeyspaceEntry> {
  const out: Record<string, KeyspaceEntry> = {};
  for (const [field, value] of info.get('keyspace') ?? []) {
    if (!/^db[0-9]{1,6}$/.test(field)) continue;
    const kv = parseKvList(value);
    const keys = infoInt(kv.get('keys'));
    if (keys === undefined) continue;
    out[field] = { keys, expires: infoInt(kv.get('expires')) ?? 0 };
  }
  return out;
}

export interface ReplicaEntry {
  /** `slaveN` as the field was named. */
  field: string;
  ip: string;
  port: number | undefined;
  state: string | undefined;
  offset: number | undefined;
  lag: number | undefined;
}

export interface ReplicationInfo {
  /** `master` or `slave` as INFO reports it. */
  role: string | undefined;
  /** Set on a replica: the master it follows (`master_host`, `master_port`). */
  master: { host: string; port: number | undefined } | undefined;
  /** Set on a master: its connected replicas (`slaveN:ip=…,port=…,state=…,offset=…,lag=…`). */
  replicas: ReplicaEntry[];
}

export function parseReplication(info: InfoSections): ReplicationInfo {
  const section = info.get('replication') ?? new Map<string, string>();
  const masterHost = section.get('master_host');
  const replicas: ReplicaEntry[] = [];
  for (const [field, value] of section) {
    if (!/^slave[0-9]{1,6}$/.test(field)) continue;
    const kv = parseKvList(value);
    const ip = kv.get('ip');
    if (!ip) continue;
    replicas.push({
      field,
      ip,
      port: infoInt(kv.get('port')),
      state: kv.get('state'),
      offset: infoInt(kv.get('offset')),
      lag: infoInt(kv.get('lag')),
    });
  }
  return {
    role: section.get('role'),
    master: masterHost ? { host: masterHost, port: infoInt(section.get('master_port')) } : undefined,
    replicas,
  };
}
