/**
 * The CQL native protocol (Apache Cassandra's doc/native_protocol_v4.spec, with the v1–v3 and v5 differences
 * that matter to a probe) as pure functions over bytes: request encoders for OPTIONS, STARTUP and QUERY, a
 * bounded frame decoder, and parsers for every response a probe can meet (ERROR, READY, AUTHENTICATE,
 * SUPPORTED, RESULT with its Void/Rows/Set_keyspace/Schema_change kinds, EVENT, AUTH_CHALLENGE/AUTH_SUCCESS)
 * and for the column values the probe reads. No sockets here.
 *
 * Version notes: v1/v2 frame headers are 8 bytes (one-byte stream id), v3+ are 9 (two-byte stream id);
 * v1/v2 collections count and size their elements with [short], v3+ with [int]. v5 only changes framing
 * after STARTUP (segments with CRCs) and a few message fields we never send, so a probe that talks v4 or
 * lower never sees a segment; a v5 reply to OPTIONS still decodes here because it precedes STARTUP.
 */
import ipaddr from 'ipaddr.js';
import { ProtocolError } from '../../core/errors.js';
import { type Decoder } from '../../net/session.js';

export const Opcode = {
  error: 0x00,
  startup: 0x01,
  ready: 0x02,
  authenticate: 0x03,
  options: 0x05,
  supported: 0x06,
  query: 0x07,
  result: 0x08,
  prepare: 0x09,
  execute: 0x0a,
  register: 0x0b,
  event: 0x0c,
  batch: 0x0d,
  authChallenge: 0x0e,
  authResponse: 0x0f,
  authSuccess: 0x10,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Opcodes a server may send (anything else in a response frame is not CQL). */
const RESPONSE_OPCODES: ReadonlySet<number> = new Set([
  Opcode.error,
  Opcode.ready,
  Opcode.authenticate,
  Opcode.supported,
  Opcode.result,
  Opcode.event,
  Opcode.authChallenge,
  Opcode.authSuccess,
]);

export const FrameFlag = {
  compression: 0x01,
  tracing: 0x02,
  customPayload: 0x04,
  warning: 0x08,
  beta: 0x10,
} as const;

/** Consistency levels ([consistency] notation); the probe reads with ONE, which every version knows. */
export const Consistency = { one: 0x0001, localOne: 0x000a } as const;

/** Error codes of section 9, named as the spec names them. */
export const ErrorCodes: Readonly<Record<number, string>> = {
  0x0000: 'Server error',
  0x000a: 'Protocol error',
  0x0100: 'Bad credentials',
  0x1000: 'Unavailable',
  0x1001: 'Overloaded',
  0x1002: 'Is bootstrapping',
  0x1003: 'Truncate error',
  0x1100: 'Write timeout',
  0x1200: 'Read timeout',
  0x1300: 'Read failure',
  0x1400: 'Function failure',
  0x1500: 'Write failure',
  0x1600: 'CDC write failure',
  0x1700: 'CAS write unknown',
  0x2000: 'Syntax error',
  0x2100: 'Unauthorized',
  0x2200: 'Invalid',
  0x2300: 'Config error',
  0x2400: 'Already exists',
  0x2500: 'Unprepared',
};
export const ErrorCode = {
  serverError: 0x0000,
  protocolError: 0x000a,
  badCredentials: 0x0100,
  unauthorized: 0x2100,
  invalid: 0x2200,
} as const;

/**
 * Bounds that turn hostile replies into a `ProtocolError` instead of a hang or a huge allocation.
 * The protocol itself caps a frame at 256 MB (section 2.5); the probe passes its read cap as a lower bound.
 */
export const CQL_LIMITS = {
  maxFrameBody: 256 * 1024 * 1024,
  /** Nesting of type options (list<map<text, frozen<list<…>>>>); real schemas stay far below. */
  maxTypeDepth: 16,
  /** Columns in one Rows result; Cassandra itself allows far fewer per table in practice. */
  maxColumns: 4096,
  /** Rows in one page; the probe asks for at most a few thousand (this also bounds zero-column pages). */
  maxRows: 100_000,
  /** Bytes of an unknown or blob value rendered as hex in metadata. */
  maxHexBytes: 256,
} as const;

/** Protocol versions this codec frames and the probe may negotiate down to. */
export const MIN_VERSION = 1;
export const MAX_VERSION = 5;

export interface CqlFrame {
  /** Protocol version (without the response bit). */
  version: number;
  flags: number;
  stream: number;
  opcode: number;
  body: Buffer;
}

// ---------------------------------------------------------------------------------------------------------
// Encoding (requests)

export function headerSize(version: number): number {
  return version >= 3 ? 9 : 8;
}

/** A request frame: version byte without the response bit, no flags. */
export function encodeFrame(version: number, stream: number, opcode: number, body: Uint8Array = Buffer.alloc(0)): Buffer {
  if (!Number.isInteger(version) || version < MIN_VERSION || version > MAX_VERSION) throw new RangeError(`Unsupported CQL protocol version ${version}`);
  const size = headerSize(version);
  const out = Buffer.alloc(size + body.length);
  out[0] = version;
  out[1] = 0;
  if (version >= 3) {
    out.writeInt16BE(stream, 2);
    out[4] = opcode;
    out.writeInt32BE(body.length, 5);
  } else {
    out.writeInt8(stream, 2);
    out[3] = opcode;
    out.writeInt32BE(body.length, 4);
  }
  out.set(body, size);
  return out;
}

function encodeString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length > 0xffff) throw new RangeError('CQL [string] longer than 65535 bytes');
  const head = Buffer.alloc(2);
  head.writeUInt16BE(bytes.length);
  return Buffer.concat([head, bytes]);
}

function encodeLongString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const head = Buffer.alloc(4);
  head.writeInt32BE(bytes.length);
  return Buffer.concat([head, bytes]);
}

export function encodeStringMap(map: Readonly<Record<string, string>>): Buffer {
  const entries = Object.entries(map);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(entries.length);
  return Buffer.concat([head, ...entries.flatMap(([k, v]) => [encodeString(k), encodeString(v)])]);
}

/** OPTIONS: an empty body; the server answers SUPPORTED (or an ERROR naming the versions it speaks). */
export function encodeOptions(version: number, stream = 0): Buffer {
  return encodeFrame(version, stream, Opcode.options);
}

/** STARTUP with a [string map] of options (CQL_VERSION is mandatory). */
export function encodeStartup(version: number, options: Readonly<Record<string, string>>, stream = 0): Buffer {
  return encodeFrame(version, stream, Opcode.startup, encodeStringMap(options));
}

/**
 * QUERY without bound values: <query><consistency><flags>[<result_page_size>] (v2–v4 layout; v1 has no flags
 * and so no paging, v5 widens flags to an [int] — neither is ever sent by the probe).
 */
export function encodeQuery(version: number, query: string, opts: { pageSize: number; consistency?: number; stream?: number }): Buffer {
  if (version < 2 || version > 4) throw new RangeError(`QUERY encoding for protocol v${version} is not supported`);
  const params = Buffer.alloc(2 + 1 + 4);
  params.writeUInt16BE(opts.consistency ?? Consistency.one, 0);
  params[2] = 0x04; // Page_size
  params.writeInt32BE(opts.pageSize, 3);
  return encodeFrame(version, opts.stream ?? 0, Opcode.query, Buffer.concat([encodeLongString(query), params]));
}

// ---------------------------------------------------------------------------------------------------------
// Frame decoding

/**
 * A decoder for one response frame. `maxBody` (the probe's read cap) bounds the body length a header may
 * announce, on top of the protocol's own 256 MB. The first byte alone is checked at once, so a non-CQL
 * peer (HTTP, TLS, a flood) fails before any more of it is buffered.
 */
export function frameDecoder(maxBody: number = CQL_LIMITS.maxFrameBody): Decoder<CqlFrame> {
  const limit = Math.min(maxBody, CQL_LIMITS.maxFrameBody);
  return (buf) => {
    if (buf.length < 1) return undefined;
    const first = buf[0]!;
    if ((first & 0x80) === 0) throw new ProtocolError(`Not a CQL response frame: first byte 0x${hex2(first)} lacks the response bit`);
    const version = first & 0x7f;
    if (version < MIN_VERSION || version > MAX_VERSION) throw new ProtocolError(`Not a CQL response frame: unknown protocol version byte 0x${hex2(first)}`);
    const size = headerSize(version);
    if (buf.length < size) return undefined;
    const flags = buf[1]!;
    const stream = version >= 3 ? buf.readInt16BE(2) : buf.readInt8(2);
    const opcode = version >= 3 ? buf[4]! : buf[3]!;
    const length = buf.readInt32BE(size - 4);
    if (!RESPONSE_OPCODES.has(opcode)) throw new ProtocolError(`CQL frame with opcode 0x${hex2(opcode)}, which no server sends`);
    if (length < 0) throw new ProtocolError(`CQL frame with a negative body length (${length})`);
    if (length > limit) throw new ProtocolError(`CQL frame body of ${length} bytes exceeds the limit of ${limit} bytes`);
    if (flags & FrameFlag.compression) {
      throw new ProtocolError('CQL frame is compressed although no compression was negotiated');
    }
    if (buf.length < size + length) return undefined;
    // Copy the body out: the session buffer it came from is reused for the next frame.
    return { value: { version, flags, stream, opcode, body: Buffer.from(buf.subarray(size, size + length)) }, consumed: size + length };
  };
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

// ---------------------------------------------------------------------------------------------------------
// Body reader ([notations] of section 3, each bounds-checked)

export class BodyReader {
  private pos = 0;
  constructor(
    private readonly buf: Buffer,
    /** Protocol version: decides [short] vs [int] collection sizes inside values. */
    readonly version: number = 4,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) throw new ProtocolError(`CQL body truncated reading ${what}: need ${n} bytes, have ${this.remaining}`);
  }

  byte(what = '[byte]'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  short(what = '[short]'): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int(what = '[int]'): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  raw(n: number, what: string): Buffer {
    if (n < 0) throw new ProtocolError(`CQL ${what} with negative length ${n}`);
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  string(what = '[string]'): string {
    return utf8(this.raw(this.short(what), what), what);
  }

  longString(what = '[long string]'): string {
    return utf8(this.raw(this.int(what), what), what);
  }

  /** [bytes]: null for a negative length. */
  bytes(what = '[bytes]'): Buffer | null {
    const n = this.int(what);
    return n < 0 ? null : this.raw(n, what);
  }

  shortBytes(what = '[short bytes]'): Buffer {
    return this.raw(this.short(what), what);
  }

  uuid(what = '[uuid]'): string {
    return formatUuid(this.raw(16, what));
  }

  /** A count of items at least `minItemSize` bytes each, checked against what is left of the body. */
  count(n: number, minItemSize: number, what: string): number {
    if (n < 0) throw new ProtocolError(`CQL ${what} with negative count ${n}`);
    if (n * minItemSize > this.remaining) throw new ProtocolError(`CQL ${what} claims ${n} items, more than the body can hold`);
    return n;
  }

  stringList(what = '[string list]'): string[] {
    const n = this.count(this.short(what), 2, what);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string(what));
    return out;
  }

  stringMap(what = '[string map]'): Record<string, string> {
    const n = this.count(this.short(what), 4, what);
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (let i = 0; i < n; i++) {
      const k = this.string(what);
      out[k] = this.string(what);
    }
    return { ...out };
  }

  stringMultimap(what = '[string multimap]'): Record<string, string[]> {
    const n = this.count(this.short(what), 4, what);
    const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
    for (let i = 0; i < n; i++) {
      const k = this.string(what);
      out[k] = this.stringList(what);
    }
    return { ...out };
  }

  bytesMap(what = '[bytes map]'): Record<string, Buffer | null> {
    const n = this.count(this.short(what), 6, what);
    const out: Record<string, Buffer | null> = Object.create(null) as Record<string, Buffer | null>;
    for (let i = 0; i < n; i++) {
      const k = this.string(what);
      out[k] = this.bytes(what);
    }
    return { ...out };
  }

  /** [inet]: one size byte (4 or 16), the address, an [int] port. */
  inet(what = '[inet]'): { address: string; port: number } {
    const size = this.byte(what);
    if (size !== 4 && size !== 16) throw new ProtocolError(`CQL ${what} with address size ${size}`);
    const address = formatInet(this.raw(size, what));
    return { address, port: this.int(what) };
  }

  rest(): Buffer {
    return this.raw(this.remaining, 'rest');
  }
}

function utf8(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ProtocolError(`CQL ${what} is not valid UTF-8`);
  }
}

export function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** An IPv4 (dotted) or IPv6 (RFC 5952) literal from 4 or 16 raw bytes. */
export function formatInet(b: Buffer): string {
  const addr = ipaddr.fromByteArray([...b]);
  return addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
}

// ---------------------------------------------------------------------------------------------------------
// Column types ([option] of section 4.2.5.2)

export type CqlType =
  | { kind: 'native'; id: number; name: string }
  | { kind: 'custom'; className: string }
  | { kind: 'list' | 'set'; element: CqlType }
  | { kind: 'map'; key: CqlType; value: CqlType }
  | { kind: 'udt'; keyspace: string; name: string; fields: { name: string; type: CqlType }[] }
  | { kind: 'tuple'; elements: CqlType[] };

export const NATIVE_TYPES: Readonly<Record<number, string>> = {
  0x0001: 'ascii',
  0x0002: 'bigint',
  0x0003: 'blob',
  0x0004: 'boolean',
  0x0005: 'counter',
  0x0006: 'decimal',
  0x0007: 'double',
  0x0008: 'float',
  0x0009: 'int',
  0x000a: 'text', // v1 only; later versions send varchar (0x000D) for text
  0x000b: 'timestamp',
  0x000c: 'uuid',
  0x000d: 'varchar',
  0x000e: 'varint',
  0x000f: 'timeuuid',
  0x0010: 'inet',
  0x0011: 'date',
  0x0012: 'time',
  0x0013: 'smallint',
  0x0014: 'tinyint',
  0x0015: 'duration',
};

export function readType(r: BodyReader, depth = 0): CqlType {
  if (depth > CQL_LIMITS.maxTypeDepth) throw new ProtocolError(`CQL column type nested deeper than ${CQL_LIMITS.maxTypeDepth}`);
  const id = r.short('type id');
  const name = NATIVE_TYPES[id];
  if (name !== undefined) return { kind: 'native', id, name };
  switch (id) {
    case 0x0000:
      return { kind: 'custom', className: r.string('custom type') };
    case 0x0020:
      return { kind: 'list', element: readType(r, depth + 1) };
    case 0x0022:
      return { kind: 'set', element: readType(r, depth + 1) };
    case 0x0021:
      return { kind: 'map', key: readType(r, depth + 1), value: readType(r, depth + 1) };
    case 0x0030: {
      const keyspace = r.string('UDT keyspace');
      const udtName = r.string('UDT name');
      const n = r.count(r.short('UDT field count'), 4, 'UDT fields');
      const fields: { name: string; type: CqlType }[] = [];
      for (let i = 0; i < n; i++) fields.push({ name: r.string('UDT field name'), type: readType(r, depth + 1) });
      return { kind: 'udt', keyspace, name: udtName, fields };
    }
    case 0x0031: {
      const n = r.count(r.short('tuple size'), 2, 'tuple types');
      const elements: CqlType[] = [];
      for (let i = 0; i < n; i++) elements.push(readType(r, depth + 1));
      return { kind: 'tuple', elements };
    }
    default:
      throw new ProtocolError(`Unknown CQL type id 0x${id.toString(16).padStart(4, '0')}`);
  }
}

/** CQL spelling of a type, e.g. `map<varchar, varchar>`. */
export function typeName(t: CqlType): string {
  switch (t.kind) {
    case 'native':
      return t.name;
    case 'custom':
      return `'${t.className}'`;
    case 'list':
    case 'set':
      return `${t.kind}<${typeName(t.element)}>`;
    case 'map':
      return `map<${typeName(t.key)}, ${typeName(t.value)}>`;
    case 'udt':
      return `${t.keyspace}.${t.name}`;
    case 'tuple':
      return `tuple<${t.elements.map(typeName).join(', ')}>`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Values (section 6), as plain JSON

export type CqlValue = null | string | number | boolean | CqlValue[] | { [key: string]: CqlValue };

/**
 * Decode one column value. Text, numbers (bigint/counter/varint as decimal strings, to stay exact), uuid,
 * inet and boolean become their natural JSON form; lists/sets become arrays; maps become objects (keys
 * rendered as strings); tuples and UDTs arrays/objects. Other types (blob, decimal, duration, custom …) are
 * kept as `0x…` hex, capped. A value whose bytes do not fit its type is a `ProtocolError`.
 */
export function decodeValue(type: CqlType, bytes: Buffer | null, version = 4, depth = 0): CqlValue {
  if (bytes === null) return null;
  if (depth > CQL_LIMITS.maxTypeDepth) throw new ProtocolError('CQL value nested too deeply');
  switch (type.kind) {
    case 'native':
      return decodeNative(type.name, bytes);
    case 'custom':
      return toHex(bytes);
    case 'list':
    case 'set':
      return readCollection(bytes, version, 1, (r) => [decodeValue(type.element, readElement(r, version), version, depth + 1)]).map((x) => x[0]!);
    case 'map': {
      const entries = readCollection(bytes, version, 2, (r) => [
        decodeValue(type.key, readElement(r, version), version, depth + 1),
        decodeValue(type.value, readElement(r, version), version, depth + 1),
      ]);
      // fromEntries defines own properties, so a key like `__proto__` stays data.
      return Object.fromEntries(entries.map(([k, v]) => [typeof k === 'string' ? k : JSON.stringify(k), v ?? null]));
    }
    case 'tuple': {
      const r = new BodyReader(bytes, version);
      // A tuple may be sent with fewer values than types; missing trailing ones are null.
      return type.elements.map((t) => (r.remaining > 0 ? decodeValue(t, r.bytes('tuple element'), version, depth + 1) : null));
    }
    case 'udt': {
      const r = new BodyReader(bytes, version);
      return Object.fromEntries(
        type.fields.map((f) => [f.name, r.remaining > 0 ? decodeValue(f.type, r.bytes('UDT field'), version, depth + 1) : null]),
      );
    }
  }
}

/** Collection elements: [int] lengths from v3 on, [short] lengths before. */
function readElement(r: BodyReader, version: number): Buffer | null {
  if (version >= 3) return r.bytes('collection element');
  return r.raw(r.short('collection element'), 'collection element');
}

function readCollection(bytes: Buffer, version: number, perItem: number, item: (r: BodyReader) => CqlValue[]): CqlValue[][] {
  const r = new BodyReader(bytes, version);
  const sizeBytes = version >= 3 ? 4 : 2;
  const n = r.count(version >= 3 ? r.int('collection size') : r.short('collection size'), perItem * sizeBytes, 'collection');
  const out: CqlValue[][] = [];
  for (let i = 0; i < n; i++) out.push(item(r));
  return out;
}

function decodeNative(name: string, b: Buffer): CqlValue {
  // Most non-text types accept an empty value (distinct from null) for legacy reasons.
  if (b.length === 0 && !['ascii', 'text', 'varchar', 'blob'].includes(name)) return null;
  switch (name) {
    case 'ascii':
    case 'text':
    case 'varchar':
      return utf8(b, `${name} value`);
    case 'int':
      return fixed(b, 4, name).readInt32BE(0);
    case 'smallint':
      return fixed(b, 2, name).readInt16BE(0);
    case 'tinyint':
      return fixed(b, 1, name).readInt8(0);
    case 'bigint':
    case 'counter':
      return fixed(b, 8, name).readBigInt64BE(0).toString();
    case 'timestamp': {
      const ms = fixed(b, 8, name).readBigInt64BE(0);
      const d = new Date(Number(ms));
      // Beyond ±8.64e15 ms a Date is invalid: keep the raw millisecond count.
      return Number.isNaN(d.getTime()) ? ms.toString() : d.toISOString();
    }
    case 'boolean':
      return fixed(b, 1, name)[0] !== 0;
    case 'double':
      return jsonNumber(fixed(b, 8, name).readDoubleBE(0));
    case 'float':
      return jsonNumber(fixed(b, 4, name).readFloatBE(0));
    case 'uuid':
    case 'timeuuid':
      return formatUuid(fixed(b, 16, name));
    case 'inet':
      if (b.length !== 4 && b.length !== 16) throw new ProtocolError(`CQL inet value of ${b.length} bytes`);
      return formatInet(b);
    case 'varint':
      return varint(b).toString();
    default:
      return toHex(b);
  }
}

function fixed(b: Buffer, n: number, name: string): Buffer {
  if (b.length !== n) throw new ProtocolError(`CQL ${name} value of ${b.length} bytes, expected ${n}`);
  return b;
}

function jsonNumber(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

function varint(b: Buffer): bigint {
  if (b.length > 1024) throw new ProtocolError('CQL varint longer than 1024 bytes');
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  if (b[0]! & 0x80) v -= 1n << BigInt(b.length * 8);
  return v;
}

function toHex(b: Buffer): string {
  const cut = b.subarray(0, CQL_LIMITS.maxHexBytes);
  return `0x${cut.toString('hex')}${b.length > cut.length ? '…' : ''}`;
}

// ---------------------------------------------------------------------------------------------------------
// Messages

export interface ColumnSpec {
  keyspace: string;
  table: string;
  name: string;
  type: CqlType;
}

export interface RowsResult {
  kind: 'rows';
  columns: ColumnSpec[];
  /** The server has more rows than this page (Has_more_pages); the probe never asks for them. */
  hasMorePages: boolean;
  pagingState: Buffer | null;
  rows: CqlValue[][];
}

export type CqlResult =
  | { kind: 'void' }
  | RowsResult
  | { kind: 'set_keyspace'; keyspace: string }
  | { kind: 'prepared' }
  | { kind: 'schema_change'; change: string; target: string; keyspace: string; name?: string };

export type CqlMessage =
  | { type: 'error'; code: number; message: string }
  | { type: 'ready' }
  | { type: 'authenticate'; authenticator: string }
  | { type: 'supported'; options: Record<string, string[]> }
  | { type: 'result'; result: CqlResult }
  | { type: 'event'; event: string }
  | { type: 'auth_challenge' | 'auth_success'; token: Buffer | null };

export interface CqlResponse {
  version: number;
  stream: number;
  message: CqlMessage;
  /** Server warnings (Warning flag), e.g. about a query that reads too much. */
  warnings: string[];
  tracingId?: string;
}

/** Parse a frame's body by its opcode (tracing id, warnings and custom payload first, when flagged). */
export function parseResponse(frame: CqlFrame): CqlResponse {
  const r = new BodyReader(frame.body, frame.version);
  const out: CqlResponse = { version: frame.version, stream: frame.stream, message: { type: 'ready' }, warnings: [] };
  if (frame.flags & FrameFlag.tracing) out.tracingId = r.uuid('tracing id');
  if (frame.flags & FrameFlag.warning) out.warnings = r.stringList('warnings');
  if (frame.flags & FrameFlag.customPayload) r.bytesMap('custom payload');
  out.message = parseMessage(frame.opcode, r);
  return out;
}

function parseMessage(opcode: number, r: BodyReader): CqlMessage {
  switch (opcode) {
    case Opcode.error:
      // Extra fields some codes carry (consistency, replica counts …) follow; a probe needs only code and text.
      return { type: 'error', code: r.int('error code'), message: r.string('error message') };
    case Opcode.ready:
      return { type: 'ready' };
    case Opcode.authenticate:
      return { type: 'authenticate', authenticator: r.string('authenticator') };
    case Opcode.supported:
      return { type: 'supported', options: r.stringMultimap('SUPPORTED options') };
    case Opcode.result:
      return { type: 'result', result: parseResult(r) };
    case Opcode.event:
      return { type: 'event', event: r.string('event type') };
    case Opcode.authChallenge:
      return { type: 'auth_challenge', token: r.bytes('auth token') };
    case Opcode.authSuccess:
      return { type: 'auth_success', token: r.bytes('auth token') };
    default:
      throw new ProtocolError(`CQL frame with opcode 0x${hex2(opcode)}, which no server sends`);
  }
}

const RowsFlag = { globalTablesSpec: 0x0001, hasMorePages: 0x0002, noMetadata: 0x0004, metadataChanged: 0x0008 } as const;

function parseResult(r: BodyReader): CqlResult {
  const kind = r.int('result kind');
  switch (kind) {
    case 0x0001:
      return { kind: 'void' };
    case 0x0002:
      return parseRows(r);
    case 0x0003:
      return { kind: 'set_keyspace', keyspace: r.string('keyspace') };
    case 0x0004:
      return { kind: 'prepared' };
    case 0x0005: {
      const change = r.string('schema change type');
      if (r.version < 3) {
        // v1/v2: <change><keyspace><table>, table empty for a keyspace change.
        const keyspace = r.string('keyspace');
        const table = r.string('table');
        return table ? { kind: 'schema_change', change, target: 'TABLE', keyspace, name: table } : { kind: 'schema_change', change, target: 'KEYSPACE', keyspace };
      }
      const target = r.string('schema change target');
      const keyspace = r.string('keyspace');
      if (target === 'KEYSPACE') return { kind: 'schema_change', change, target, keyspace };
      const name = r.string('schema object name');
      if (target === 'FUNCTION' || target === 'AGGREGATE') r.stringList('argument types');
      return { kind: 'schema_change', change, target, keyspace, name };
    }
    default:
      throw new ProtocolError(`Unknown CQL result kind ${kind}`);
  }
}

function parseRows(r: BodyReader): RowsResult {
  const flags = r.int('rows flags');
  const columnCount = r.int('columns count');
  if (columnCount < 0 || columnCount > CQL_LIMITS.maxColumns) throw new ProtocolError(`CQL rows result with ${columnCount} columns`);
  const pagingState = flags & RowsFlag.hasMorePages ? r.bytes('paging state') : null;
  // v5 only: a new result metadata id when the server's view of the columns changed.
  if (r.version >= 5 && flags & RowsFlag.metadataChanged) r.shortBytes('new metadata id');
  const columns: ColumnSpec[] = [];
  if (flags & RowsFlag.noMetadata) {
    // Only when Skip_metadata was asked for, which the probe never does: keep values as raw hex.
    for (let i = 0; i < columnCount; i++) columns.push({ keyspace: '', table: '', name: `column${i}`, type: { kind: 'custom', className: 'unknown' } });
  } else {
    r.count(columnCount, 4, 'column specs');
    let global: { keyspace: string; table: string } | undefined;
    if (flags & RowsFlag.globalTablesSpec) global = { keyspace: r.string('keyspace'), table: r.string('table') };
    for (let i = 0; i < columnCount; i++) {
      const keyspace = global ? global.keyspace : r.string('keyspace');
      const table = global ? global.table : r.string('table');
      columns.push({ keyspace, table, name: r.string('column name'), type: readType(r) });
    }
  }
  const rowCount = r.int('rows count');
  if (rowCount < 0 || rowCount > CQL_LIMITS.maxRows) throw new ProtocolError(`CQL rows result with ${rowCount} rows`);
  // Every value is at least its 4-byte length, so the body must hold rows × columns × 4 bytes.
  r.count(rowCount * columnCount, 4, 'row values');
  const rows: CqlValue[][] = [];
  for (let i = 0; i < rowCount; i++) {
    const row: CqlValue[] = [];
    for (const c of columns) row.push(decodeValue(c.type, r.bytes('row value'), r.version));
    rows.push(row);
  }
  return { kind: 'rows', columns, hasMorePages: (flags & RowsFlag.hasMorePages) !== 0, pagingState, rows };
}

/** Rows as objects keyed by column name. */
export function rowObjects(result: RowsResult): Record<string, CqlValue>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i] ?? null])));
}

/** A decoder that yields parsed responses; body parse errors surface as `ProtocolError` too. */
export function responseDecoder(maxBody?: number): Decoder<CqlResponse> {
  const frames = frameDecoder(maxBody);
  return (buf) => {
    const f = frames(buf);
    return f && { value: parseResponse(f.value), consumed: f.consumed };
  };
}

// ---------------------------------------------------------------------------------------------------------
// Errors and protocol versions

export function errorName(code: number): string {
  return ErrorCodes[code] ?? 'Unknown error';
}

/** `ERROR 0x2100 Unauthorized: <server text>`, the form evidence and errors use. */
export function describeError(code: number, message: string): string {
  return `ERROR 0x${code.toString(16).padStart(4, '0')} ${errorName(code)}: ${message}`;
}

/**
 * The protocol versions a server says it speaks, from its "unsupported protocol version" error, or
 * `undefined` when the text is not that error. Known wordings:
 * - Cassandra 4.0+: `Invalid or unsupported protocol version (5); supported versions are (3/v3, 4/v4, 5/v5-beta)`
 * - Cassandra 2.2–3.x: `Invalid or unsupported protocol version (5); the lowest supported version is 3 and the greatest is 4`
 * - Cassandra 2.0/2.1: `Invalid or unsupported protocol version: 4` (no list: the reply frame's own version
 *   byte, passed as `replyVersion`, is the server's highest).
 */
export function supportedVersionsFromError(message: string, replyVersion?: number): number[] | undefined {
  if (!/protocol version/i.test(message)) return undefined;
  const list = /supported versions are \(([^)]*)\)/i.exec(message);
  if (list) {
    const versions = [...list[1]!.matchAll(/(\d+)\/v\d+(-beta)?/g)].filter((m) => m[2] === undefined).map((m) => Number(m[1]));
    return [...new Set(versions)].sort((a, b) => a - b);
  }
  const range = /lowest supported version is (\d+) and the greatest is (\d+)/i.exec(message);
  if (range) {
    const out: number[] = [];
    for (let v = Number(range[1]); v <= Number(range[2]) && out.length < 16; v++) out.push(v);
    return out;
  }
  if (replyVersion !== undefined && replyVersion >= MIN_VERSION && replyVersion <= MAX_VERSION) return [replyVersion];
  return [];
}
