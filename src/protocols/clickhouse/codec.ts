/**
 * ClickHouse wire formats as pure functions over bytes (no sockets here):
 * - the HTTP interface's replies: a `FORMAT JSONCompact` result, and the plain-text exception a refused or
 *   failed query answers (`Code: 194, e.displayText() = DB::Exception: …` up to 20.x,
 *   `Code: 516. DB::Exception: …. (AUTHENTICATION_FAILED) (version 23.3.2.37 (official build))` since 21.x);
 * - the native TCP protocol's first exchange: the client's Hello packet and the server's Hello or Exception
 *   packet (ClickHouse's src/Core/Protocol.h, TCPHandler::receiveHello/sendHello, writeException).
 *
 * Hostile input: bodies are at most the read cap (HTTP layer), nesting is checked before `JSON.parse`, result
 * rows are capped, native strings and varints are bounded, nested exceptions are followed only so deep, and
 * any reply of the wrong shape is a `ProtocolError`.
 */
import { ProtocolError } from '../../core/errors.js';
import { type Decoder } from '../../net/session.js';
import { isJsonObject, parseJsonBody } from '../json-body.js';

export const CLICKHOUSE_LIMITS = {
  /** Rows read from one JSONCompact result; the queries ask for at most `maxRows + 1` (LIMIT) to see truncation. */
  maxRows: 1000,
  /** JSONCompact nests 4 levels (object → data → row → Array/Tuple cell); anything much deeper is not ours. */
  maxJsonDepth: 16,
  /** Strings copied from a reply into a result. */
  maxString: 256,
  /** A native string (server name, timezone, exception text, stack trace) longer than this is hostile. */
  maxNativeString: 1024 * 1024,
  /** Nested exceptions followed in a native Exception packet. */
  maxNestedExceptions: 8,
} as const;

// ---------------------------------------------------------------- HTTP: JSONCompact results

/** A `FORMAT JSONCompact` result: column names/types from `meta`, rows from `data`. */
export interface CompactResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  /** The `rows` field (rows in the result), or the number of data rows when absent. */
  rowCount: number;
  /** True when the result had more rows than `CLICKHOUSE_LIMITS.maxRows` (only that many are kept). */
  truncated: boolean;
}

/** Parse `FORMAT JSONCompact` output. Anything else (HTML, an exception text, another JSON shape) is a `ProtocolError`. */
export function parseJsonCompact(body: Uint8Array, what: string): CompactResult {
  const value = parseJsonBody(body, what, CLICKHOUSE_LIMITS.maxJsonDepth);
  if (!isJsonObject(value) || !Array.isArray(value.meta) || !Array.isArray(value.data)) {
    throw new ProtocolError(`${what} is not a JSONCompact result (no meta/data arrays)`);
  }
  const columns = value.meta.map((m, i) => {
    if (!isJsonObject(m) || typeof m.name !== 'string' || typeof m.type !== 'string') {
      throw new ProtocolError(`${what}: meta[${i}] is not {name, type}`);
    }
    return { name: m.name.slice(0, CLICKHOUSE_LIMITS.maxString), type: m.type.slice(0, CLICKHOUSE_LIMITS.maxString) };
  });
  const rows: unknown[][] = [];
  for (const row of value.data) {
    if (!Array.isArray(row) || row.length !== columns.length) {
      throw new ProtocolError(`${what}: a data row does not have ${columns.length} cells`);
    }
    if (rows.length < CLICKHOUSE_LIMITS.maxRows) rows.push(row);
  }
  const declared = value.rows;
  const rowCount = typeof declared === 'number' && Number.isSafeInteger(declared) && declared >= 0 ? declared : value.data.length;
  return { columns, rows, rowCount, truncated: value.data.length > CLICKHOUSE_LIMITS.maxRows };
}

/** A cell as a string (capped), or undefined when it is not a string. */
export function cellString(v: unknown): string | undefined {
  return typeof v === 'string' ? v.slice(0, CLICKHOUSE_LIMITS.maxString) : undefined;
}

/**
 * A cell as a count. JSONCompact quotes 64-bit integers (`output_format_json_quote_64bit_integers`, on by
 * default) and not narrower ones, so both forms are accepted; beyond 2^53 the number is approximate.
 */
export function cellCount(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string' && /^[0-9]{1,20}$/.test(v)) return Number(v);
  return undefined;
}


// ---------------------------------------------------------------- HTTP: exception texts

/** A ClickHouse exception as its HTTP interface (or a native Exception packet) reports it. */
export interface ClickHouseException {
  /** The error code (ClickHouse's src/Common/ErrorCodes.cpp), e.g. 194 REQUIRED_PASSWORD. */
  code: number;
  /** The error name when the text carries it (21.x+: `(AUTHENTICATION_FAILED)`; native: `DB::Exception`). */
  name?: string;
  /** The message without the `Code: N` prefix and the 18.x/20.x `, e.what() = …` suffix, capped. */
  message: string;
  /** The server version the 21.x+ text ends with: `(version 23.3.2.37 (official build))`. */
  version?: string;
}

const OLD_EXCEPTION = /^Code: (\d{1,6}), e\.displayText\(\) = ([\s\S]*?)(?:, e\.what\(\) = [\w:]+)?\s*$/;
const NEW_EXCEPTION = /^Code: (\d{1,6})\. ([\s\S]*?)\s*$/;
const NEW_NAME = /\(([A-Z][A-Z0-9_]{2,64})\)(?:\s*\(version [^()]*(?:\([^()]*\))?[^()]*\))?\s*$/;
const NEW_VERSION = /\(version ([0-9][0-9A-Za-z.+-]{0,40})(?: \([^()]*\))?\)\s*$/;

/**
 * Parse the text an HTTP query answers when it fails. Only the first 64 KiB are looked at (a stack trace may
 * follow). Returns undefined when the text is not a ClickHouse exception.
 */
export function parseHttpException(text: string): ClickHouseException | undefined {
  const head = text.slice(0, 64 * 1024).trimStart();
  const old = OLD_EXCEPTION.exec(head);
  if (old) return { code: Number(old[1]), message: capText(old[2]!) };
  const m = NEW_EXCEPTION.exec(head);
  if (!m) return undefined;
  const out: ClickHouseException = { code: Number(m[1]), message: capText(m[2]!) };
  const name = NEW_NAME.exec(head);
  if (name) out.name = name[1]!;
  const version = NEW_VERSION.exec(head);
  if (version) out.version = version[1]!;
  return out;
}

function capText(s: string): string {
  return s.length > CLICKHOUSE_LIMITS.maxString * 4 ? `${s.slice(0, CLICKHOUSE_LIMITS.maxString * 4 - 1)}…` : s;
}

/**
 * Error codes that mean "this client may not log in" (src/Common/ErrorCodes.cpp): 192 UNKNOWN_USER,
 * 193 WRONG_PASSWORD, 194 REQUIRED_PASSWORD, 195 IP_ADDRESS_NOT_ALLOWED, 516 AUTHENTICATION_FAILED (21.x+
 * answers every failed login with it, whatever the cause).
 */
export const AUTH_ERROR_CODES: ReadonlySet<number> = new Set([192, 193, 194, 195, 516]);
/** 497 ACCESS_DENIED (`Not enough privileges`, 20.x+): logged in, but this query was refused. */
export const ACCESS_DENIED_CODE = 497;

// ---------------------------------------------------------------- native protocol

/** Packet types (ClickHouse's src/Core/Protocol.h). */
export const NativePacket = {
  clientHello: 0,
  serverHello: 0,
  serverException: 2,
} as const;

/** What the native Hello packet says about the client. */
export interface ClientHello {
  /** Sent as `ClickHouse <clientName>`, as clickhouse-client sends `ClickHouse client`. */
  clientName: string;
  versionMajor: number;
  versionMinor: number;
  /** The protocol revision the client speaks; the server's reply depends on it. */
  revision: number;
  database: string;
  user: string;
  password: string;
}

/**
 * The protocol revision the probe announces: 54401 (ClickHouse 18.x), the first with `version_patch` in the
 * server's Hello. Anything the server adds for later revisions (password rules 54461, nonce 54462, …) is
 * gated on the client's revision, so every server version answers this one with the same Hello shape, and
 * no addendum is expected from the client after it (54458+).
 */
export const PROBE_REVISION = 54401;
/** Revisions that change the server's Hello (src/Core/ProtocolDefines.h). */
const REVISION_WITH_SERVER_TIMEZONE = 54058;
const REVISION_WITH_SERVER_DISPLAY_NAME = 54372;
const REVISION_WITH_VERSION_PATCH = 54401;

export type ServerPacket =
  | {
      type: 'hello';
      /** `DBMS_NAME`: `ClickHouse` (forks may name themselves). */
      name: string;
      versionMajor: number;
      versionMinor: number;
      /** The server's protocol revision (its `ClickHouseRevision`), e.g. 54412 for 18.16.1. */
      revision: number;
      timezone?: string;
      displayName?: string;
      versionPatch?: number;
    }
  | { type: 'exception'; exception: ClickHouseException & { stackTrace: string; nested: ClickHouseException[] } };

/** Unsigned LEB128, as ClickHouse's writeVarUInt. */
export function encodeVarUInt(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`VarUInt out of range: ${n}`);
  const out: number[] = [];
  let v = n;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return Buffer.from(out);
}

/** A length-prefixed string (writeStringBinary). */
export function encodeString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([encodeVarUInt(bytes.length), bytes]);
}

/** The native Hello packet (Connection::sendHello). */
export function encodeClientHello(h: ClientHello): Buffer {
  return Buffer.concat([
    encodeVarUInt(NativePacket.clientHello),
    encodeString(`ClickHouse ${h.clientName}`),
    encodeVarUInt(h.versionMajor),
    encodeVarUInt(h.versionMinor),
    encodeVarUInt(h.revision),
    encodeString(h.database),
    encodeString(h.user),
    encodeString(h.password),
  ]);
}

/** A cursor over a buffer that reports "need more bytes" by returning undefined from its readers. */
class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  /** ClickHouse reads at most 9 bytes of a VarUInt (readVarUInt); more is not a ClickHouse frame. */
  varUInt(what: string): number | undefined {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 9; i++) {
      if (this.pos >= this.buf.length) return undefined;
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new ProtocolError(`Native ${what} does not fit a safe integer`);
        return result;
      }
      scale *= 128;
    }
    throw new ProtocolError(`Native ${what} is a VarUInt longer than 9 bytes`);
  }

  string(what: string): string | undefined {
    const len = this.varUInt(`${what} length`);
    if (len === undefined) return undefined;
    if (len > CLICKHOUSE_LIMITS.maxNativeString) {
      throw new ProtocolError(`Native ${what} claims ${len} bytes, more than the limit of ${CLICKHOUSE_LIMITS.maxNativeString}`);
    }
    if (this.pos + len > this.buf.length) return undefined;
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  int32(): number | undefined {
    if (this.pos + 4 > this.buf.length) return undefined;
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  uint8(): number | undefined {
    if (this.pos >= this.buf.length) return undefined;
    return this.buf[this.pos++]!;
  }
}

/**
 * The server's answer to the Hello: packet 0 (Hello) or 2 (Exception). Anything else at this point is not a
 * ClickHouse server; an HTTP reply (a web server, or ClickHouse's HTTP port) is named as such.
 * The Hello's optional fields follow `PROBE_REVISION` (the server answers for the client's revision).
 */
export const decodeServerHello: Decoder<ServerPacket> = (buf) => {
  if (buf.length === 0) return undefined;
  if (buf.length >= 5 && buf.subarray(0, 5).toString('latin1') === 'HTTP/') {
    throw new ProtocolError('Not a ClickHouse native reply: the port answered HTTP');
  }
  const r = new Reader(buf);
  const type = r.varUInt('packet type');
  if (type === undefined) return undefined;
  if (type === NativePacket.serverHello) {
    const name = r.string('server name');
    const versionMajor = name === undefined ? undefined : r.varUInt('version major');
    const versionMinor = versionMajor === undefined ? undefined : r.varUInt('version minor');
    const revision = versionMinor === undefined ? undefined : r.varUInt('revision');
    if (revision === undefined) return undefined;
    const hello: Extract<ServerPacket, { type: 'hello' }> = { type: 'hello', name: name!, versionMajor: versionMajor!, versionMinor: versionMinor!, revision };
    if (PROBE_REVISION >= REVISION_WITH_SERVER_TIMEZONE) {
      const tz = r.string('timezone');
      if (tz === undefined) return undefined;
      hello.timezone = tz.slice(0, CLICKHOUSE_LIMITS.maxString);
    }
    if (PROBE_REVISION >= REVISION_WITH_SERVER_DISPLAY_NAME) {
      const display = r.string('display name');
      if (display === undefined) return undefined;
      hello.displayName = display.slice(0, CLICKHOUSE_LIMITS.maxString);
    }
    if (PROBE_REVISION >= REVISION_WITH_VERSION_PATCH) {
      const patch = r.varUInt('version patch');
      if (patch === undefined) return undefined;
      hello.versionPatch = patch;
    }
    hello.name = hello.name.slice(0, CLICKHOUSE_LIMITS.maxString);
    return { value: hello, consumed: r.pos };
  }
  if (type === NativePacket.serverException) {
    const chain: (ClickHouseException & { stackTrace: string })[] = [];
    for (;;) {
      const code = r.int32();
      const name = code === undefined ? undefined : r.string('exception name');
      const message = name === undefined ? undefined : r.string('exception message');
      const stackTrace = message === undefined ? undefined : r.string('stack trace');
      const hasNested = stackTrace === undefined ? undefined : r.uint8();
      if (hasNested === undefined) return undefined;
      chain.push({ code: code!, name: name!.slice(0, CLICKHOUSE_LIMITS.maxString), message: capText(message!), stackTrace: stackTrace!.slice(0, 4096) });
      if (hasNested === 0) break;
      if (hasNested !== 1) throw new ProtocolError(`Native exception has_nested is ${hasNested}, not a boolean`);
      if (chain.length > CLICKHOUSE_LIMITS.maxNestedExceptions) {
        throw new ProtocolError(`Native exception nests more than ${CLICKHOUSE_LIMITS.maxNestedExceptions} levels`);
      }
    }
    const [top, ...nested] = chain;
    return { value: { type: 'exception', exception: { ...top!, nested: nested.map(({ code, name, message }) => ({ code, name, message })) } }, consumed: r.pos };
  }
  throw new ProtocolError(`Not a ClickHouse native reply: packet type ${type} before the Hello`);
};

/** Decode a client Hello (what the probe sent): tests use it to check the bytes that went on the wire. */
export const decodeClientHello: Decoder<ClientHello> = (buf) => {
  const r = new Reader(buf);
  const type = r.varUInt('packet type');
  if (type === undefined) return undefined;
  if (type !== NativePacket.clientHello) throw new ProtocolError(`Not a client Hello: packet type ${type}`);
  const name = r.string('client name');
  const versionMajor = name === undefined ? undefined : r.varUInt('version major');
  const versionMinor = versionMajor === undefined ? undefined : r.varUInt('version minor');
  const revision = versionMinor === undefined ? undefined : r.varUInt('revision');
  const database = revision === undefined ? undefined : r.string('database');
  const user = database === undefined ? undefined : r.string('user');
  const password = user === undefined ? undefined : r.string('password');
  if (password === undefined) return undefined;
  if (!name!.startsWith('ClickHouse ')) throw new ProtocolError(`Client name ${JSON.stringify(name)} does not start with "ClickHouse "`);
  return {
    value: { clientName: name!.slice('ClickHouse '.length), versionMajor: versionMajor!, versionMinor: versionMinor!, revision: revision!, database: database!, user: user!, password },
    consumed: r.pos,
  };
};
