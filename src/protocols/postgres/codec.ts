/**
 * PostgreSQL frontend/backend protocol 3.0, the few messages a read-only probe needs.
 * Pure functions over bytes: no sockets, no clocks. Reference: PostgreSQL docs, "Message Formats"
 * (https://www.postgresql.org/docs/current/protocol-message-formats.html).
 *
 * Wire shape: the first client messages (SSLRequest, StartupMessage) are `int32 length, int32 code, …`
 * with no type byte; every later message in both directions is `byte type, int32 length, body` where the
 * length counts itself but not the type byte. Decoders return `undefined` when more bytes are needed and
 * throw `ProtocolError` on anything a PostgreSQL server would not send.
 */
import { ProtocolError } from '../../core/errors.js';

/** Protocol 3.0 as sent in StartupMessage: major 3 in the high 16 bits, minor 0 in the low. */
export const PROTOCOL_3_0 = 196608;
/** Magic "protocol versions" of the untyped request packets. */
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

/** No message this probe expects comes near this; the server's own limit for most messages is 1 GB. */
export const MAX_MESSAGE = 16 * 1024 * 1024;
/** A v2 error text longer than this is not one (the v2 format has no length, only a NUL terminator). */
const MAX_LEGACY_ERROR = 4096;

// ---------------------------------------------------------------------------------------------
// Frontend (client → server) encoders
// ---------------------------------------------------------------------------------------------

/** SSLRequest: `int32 8, int32 80877103`. The server answers one unframed byte, 'S' or 'N'. */
export function encodeSslRequest(): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(SSL_REQUEST_CODE, 4);
  return b;
}

/** StartupMessage: `int32 length, int32 196608, (name\0 value\0)*, \0`. Parameter order is kept. */
export function encodeStartupMessage(params: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(params)) parts.push(cstring(k, 'Startup parameter name'), cstring(v, 'Startup parameter value'));
  parts.push(Buffer.from([0]));
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([head, body]);
}

/** Simple Query: `'Q', int32 length, sql\0`. */
export function encodeQuery(sql: string): Buffer {
  return typed('Q', cstring(sql, 'Query text'));
}

/** Terminate: `'X', int32 4`. */
export function encodeTerminate(): Buffer {
  return typed('X', Buffer.alloc(0));
}

function typed(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

function cstring(s: string, what: string): Buffer {
  if (s.includes('\0')) throw new ProtocolError(`${what} contains a NUL byte`);
  return Buffer.from(s + '\0', 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Backend (server → client) messages
// ---------------------------------------------------------------------------------------------

/** Authentication request codes (the int32 after 'R'). */
export const AuthCode = {
  ok: 0,
  kerberosV5: 2,
  cleartextPassword: 3,
  md5Password: 5,
  scmCredential: 6,
  gss: 7,
  gssContinue: 8,
  sspi: 9,
  sasl: 10,
  saslContinue: 11,
  saslFinal: 12,
} as const;
export type AuthCode = (typeof AuthCode)[keyof typeof AuthCode];

const AUTH_NAMES: Record<number, string> = {
  0: 'AuthenticationOk',
  2: 'AuthenticationKerberosV5',
  3: 'AuthenticationCleartextPassword',
  5: 'AuthenticationMD5Password',
  6: 'AuthenticationSCMCredential',
  7: 'AuthenticationGSS',
  8: 'AuthenticationGSSContinue',
  9: 'AuthenticationSSPI',
  10: 'AuthenticationSASL',
  11: 'AuthenticationSASLContinue',
  12: 'AuthenticationSASLFinal',
};

/** ErrorResponse / NoticeResponse fields, by their one-letter codes. Unknown codes are ignored. */
export interface ErrorFields {
  /** S: severity, possibly localized (ERROR, FATAL, PANIC, WARNING, NOTICE …). */
  severity?: string;
  /** V: severity, never localized (9.6+). */
  severityV?: string;
  /** C: SQLSTATE code, e.g. 28000. */
  code?: string;
  /** M: primary message. */
  message?: string;
  /** D: detail. */
  detail?: string;
  /** H: hint. */
  hint?: string;
}

export interface RowField {
  name: string;
  tableOid: number;
  column: number;
  typeOid: number;
  typeSize: number;
  typeModifier: number;
  format: number;
}

export type BackendMessage =
  | { type: 'authentication'; code: number; name: string; mechanisms?: string[]; salt?: Buffer }
  | { type: 'error'; fields: ErrorFields }
  | { type: 'notice'; fields: ErrorFields }
  | { type: 'parameter-status'; name: string; value: string }
  | { type: 'backend-key-data'; processId: number; secretKeyLength: number }
  | { type: 'ready-for-query'; status: 'I' | 'T' | 'E' }
  | { type: 'row-description'; fields: RowField[] }
  | { type: 'data-row'; values: (string | null)[] }
  | { type: 'command-complete'; tag: string }
  | { type: 'empty-query-response' }
  | { type: 'negotiate-protocol-version'; newestMinor: number; unrecognized: string[] }
  /** A valid backend message type this probe has no use for (CopyData, NotificationResponse …). */
  | { type: 'other'; code: string; length: number };

export type BackendMessageType = BackendMessage['type'];

/** Every backend type byte the protocol defines; anything else is not PostgreSQL. */
const BACKEND_TYPES = new Set('RKE N S Z T D C I v 1 2 3 A c d G H W V n t s'.replace(/ /g, ''));

/**
 * Decode one backend message. `maxLength` caps the declared length (pass the read cap when it is smaller):
 * a frame longer than we will ever read is rejected at once instead of waiting for bytes that cannot come.
 */
export function decodeBackendMessage(buf: Buffer, maxLength = MAX_MESSAGE): { value: BackendMessage; consumed: number } | undefined {
  if (buf.length < 1) return undefined;
  const code = String.fromCharCode(buf[0]!);
  if (!BACKEND_TYPES.has(code)) throw new ProtocolError(`Unknown PostgreSQL message type ${describeByte(buf[0]!)}`);
  if (buf.length < 5) return undefined;
  const length = buf.readInt32BE(1);
  if (length < 4) throw new ProtocolError(`PostgreSQL message ${describeByte(buf[0]!)} declares an impossible length ${length}`);
  if (length > Math.min(maxLength, MAX_MESSAGE)) {
    throw new ProtocolError(`PostgreSQL message ${describeByte(buf[0]!)} declares ${length} bytes, more than the cap of ${Math.min(maxLength, MAX_MESSAGE)}`);
  }
  if (buf.length < 1 + length) return undefined;
  const body = buf.subarray(5, 1 + length);
  return { value: decodeBody(code, body), consumed: 1 + length };
}

function decodeBody(code: string, body: Buffer): BackendMessage {
  const r = new Reader(body, code);
  switch (code) {
    case 'R': {
      const auth = r.int32();
      const name = AUTH_NAMES[auth];
      if (name === undefined) throw new ProtocolError(`Unknown PostgreSQL authentication request ${auth}`);
      if (auth === AuthCode.sasl) {
        const mechanisms: string[] = [];
        for (;;) {
          const m = r.cstring();
          if (m === '') break;
          if (mechanisms.length >= 32) throw new ProtocolError('AuthenticationSASL lists too many mechanisms');
          mechanisms.push(m);
        }
        r.end();
        return { type: 'authentication', code: auth, name, mechanisms };
      }
      if (auth === AuthCode.md5Password) {
        const salt = Buffer.from(r.bytes(4));
        r.end();
        return { type: 'authentication', code: auth, name, salt };
      }
      // Continue/Final carry mechanism data; the others carry nothing.
      if (auth !== AuthCode.gssContinue && auth !== AuthCode.saslContinue && auth !== AuthCode.saslFinal) r.end();
      return { type: 'authentication', code: auth, name };
    }
    case 'E':
    case 'N': {
      const fields = decodeFields(r);
      return code === 'E' ? { type: 'error', fields } : { type: 'notice', fields };
    }
    case 'S': {
      const name = r.cstring();
      const value = r.cstring();
      r.end();
      return { type: 'parameter-status', name, value };
    }
    case 'K': {
      // Protocol 3.0 sends a 4-byte key; 3.2 (PostgreSQL 18) allows up to 256 bytes.
      const processId = r.int32();
      const secretKeyLength = r.remaining();
      if (secretKeyLength < 4 || secretKeyLength > 256) throw new ProtocolError(`BackendKeyData has a ${secretKeyLength}-byte key`);
      return { type: 'backend-key-data', processId, secretKeyLength };
    }
    case 'Z': {
      const s = String.fromCharCode(r.byte());
      r.end();
      if (s !== 'I' && s !== 'T' && s !== 'E') throw new ProtocolError(`ReadyForQuery has an unknown status ${JSON.stringify(s)}`);
      return { type: 'ready-for-query', status: s };
    }
    case 'T': {
      const count = r.int16();
      // Each field takes at least 19 bytes: a hostile count cannot make us allocate or loop beyond the message.
      if (count < 0 || count * 19 > r.remaining()) throw new ProtocolError(`RowDescription declares ${count} fields in ${r.remaining()} bytes`);
      const fields: RowField[] = [];
      for (let i = 0; i < count; i++) {
        fields.push({
          name: r.cstring(),
          tableOid: r.uint32(),
          column: r.int16(),
          typeOid: r.uint32(),
          typeSize: r.int16(),
          typeModifier: r.int32(),
          format: r.int16(),
        });
      }
      r.end();
      return { type: 'row-description', fields };
    }
    case 'D': {
      const count = r.int16();
      if (count < 0 || count * 4 > r.remaining()) throw new ProtocolError(`DataRow declares ${count} columns in ${r.remaining()} bytes`);
      const values: (string | null)[] = [];
      for (let i = 0; i < count; i++) {
        const len = r.int32();
        if (len === -1) values.push(null);
        else if (len < 0) throw new ProtocolError(`DataRow column ${i} has a negative length ${len}`);
        else values.push(r.bytes(len).toString('utf8'));
      }
      r.end();
      return { type: 'data-row', values };
    }
    case 'C': {
      const tag = r.cstring();
      r.end();
      return { type: 'command-complete', tag };
    }
    case 'I':
      r.end();
      return { type: 'empty-query-response' };
    case 'v': {
      const newestMinor = r.int32();
      const n = r.int32();
      if (n < 0 || n > r.remaining()) throw new ProtocolError(`NegotiateProtocolVersion declares ${n} options in ${r.remaining()} bytes`);
      const unrecognized: string[] = [];
      for (let i = 0; i < n; i++) unrecognized.push(r.cstring());
      r.end();
      return { type: 'negotiate-protocol-version', newestMinor, unrecognized };
    }
    default:
      return { type: 'other', code, length: body.length + 4 };
  }
}

function decodeFields(r: Reader): ErrorFields {
  const f: ErrorFields = {};
  for (;;) {
    const c = r.byte();
    if (c === 0) break;
    const v = r.cstring();
    switch (String.fromCharCode(c)) {
      case 'S':
        f.severity = v;
        break;
      case 'V':
        f.severityV = v;
        break;
      case 'C':
        f.code = v;
        break;
      case 'M':
        f.message = v;
        break;
      case 'D':
        f.detail = v;
        break;
      case 'H':
        f.hint = v;
        break;
      default:
        break; // P, p, q, W, s, t, c, d, n, F, L, R: positions and source locations, not needed
    }
  }
  r.end();
  return f;
}

/** Message types a server may send between StartupMessage and the first ReadyForQuery. */
const STARTUP_TYPES: ReadonlySet<BackendMessageType> = new Set<BackendMessageType>([
  'authentication',
  'error',
  'notice',
  'parameter-status',
  'backend-key-data',
  'ready-for-query',
  'negotiate-protocol-version',
]);

/** A pre-3.0 server's answer to a 3.0 StartupMessage: `'E'` + NUL-terminated text, no length. */
export interface LegacyError {
  type: 'legacy-error';
  text: string;
}

/**
 * Decode one message of the startup phase. Besides the 3.0 messages, recognizes the protocol 2.0 error a
 * pre-7.4 server sends when it does not speak 3.0 ("FATAL: unsupported frontend protocol"): that is
 * PostgreSQL answering, not garbage. Other message types at this point mean the peer is not PostgreSQL.
 */
export function decodeStartupReply(
  buf: Buffer,
  maxLength = MAX_MESSAGE,
): { value: BackendMessage | LegacyError; consumed: number } | undefined {
  if (buf.length < 1) return undefined;
  if (buf[0] === 0x45 /* E */) {
    const legacy = decodeLegacyError(buf);
    if (legacy !== null) return legacy;
  }
  const r = decodeBackendMessage(buf, maxLength);
  if (r && !STARTUP_TYPES.has(r.value.type)) {
    throw new ProtocolError(`Unexpected PostgreSQL message ${describeByte(buf[0]!)} during startup`);
  }
  return r;
}

/**
 * `null` when the bytes are not a v2 error (a v3 message follows), `undefined` when more bytes are needed.
 * A v3 ErrorResponse starts `'E', int32 length` with a small length whose top byte is 0; v2 text starts
 * with a printable character ("FATAL", "ERROR"), which as a length would be far beyond any cap.
 */
function decodeLegacyError(buf: Buffer): { value: LegacyError; consumed: number } | undefined | null {
  if (buf.length < 2) return undefined;
  if (!isTextByte(buf[1]!)) return null;
  const limit = Math.min(buf.length, 1 + MAX_LEGACY_ERROR);
  for (let i = 1; i < limit; i++) {
    const b = buf[i]!;
    if (b === 0) {
      if (i === 1) return null;
      return { value: { type: 'legacy-error', text: buf.subarray(1, i).toString('latin1') }, consumed: i + 1 };
    }
    if (!isTextByte(b)) throw new ProtocolError('Reply is neither PostgreSQL 3.0 nor a pre-3.0 error message');
  }
  if (buf.length > MAX_LEGACY_ERROR) throw new ProtocolError('Reply is neither PostgreSQL 3.0 nor a pre-3.0 error message');
  return undefined;
}

function isTextByte(b: number): boolean {
  return (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x09 || b === 0x0d;
}

/** The one unframed byte that answers SSLRequest: 'S' (go TLS), 'N' (plaintext), 'E' (pre-7.1 server error). */
export type SslResponse = 'S' | 'N' | 'E';

export function decodeSslResponse(buf: Buffer): { value: SslResponse; consumed: number } | undefined {
  if (buf.length < 1) return undefined;
  const c = String.fromCharCode(buf[0]!);
  if (c === 'S' || c === 'N' || c === 'E') return { value: c, consumed: 1 };
  throw new ProtocolError(`Answer to SSLRequest is ${describeByte(buf[0]!)}, not 'S' or 'N'`);
}

// ---------------------------------------------------------------------------------------------
// Frontend decoding (to audit what a client sent: the allow-list tests decode the recorded stream)
// ---------------------------------------------------------------------------------------------

export type FrontendMessage =
  | { type: 'ssl-request' }
  | { type: 'gssenc-request' }
  | { type: 'cancel-request' }
  | { type: 'startup'; protocol: number; params: Record<string, string> }
  | { type: 'query'; sql: string }
  | { type: 'terminate' }
  | { type: 'other'; code: string; length: number };

/**
 * Decode one client message. `untyped` is true for the packets that come before the StartupMessage
 * completes (SSLRequest, GSSENCRequest, CancelRequest, StartupMessage), which have no type byte.
 */
export function decodeFrontendMessage(buf: Buffer, untyped: boolean): { value: FrontendMessage; consumed: number } | undefined {
  if (untyped) {
    if (buf.length < 8) return undefined;
    const length = buf.readInt32BE(0);
    if (length < 8 || length > 10_000) throw new ProtocolError(`Client packet declares an impossible length ${length}`);
    if (buf.length < length) return undefined;
    const code = buf.readInt32BE(4);
    if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
      if (length !== 8) throw new ProtocolError('SSLRequest/GSSENCRequest must be 8 bytes');
      return { value: { type: code === SSL_REQUEST_CODE ? 'ssl-request' : 'gssenc-request' }, consumed: 8 };
    }
    if (code === CANCEL_REQUEST_CODE) return { value: { type: 'cancel-request' }, consumed: length };
    const r = new Reader(buf.subarray(8, length), 'StartupMessage');
    const params: Record<string, string> = {};
    for (;;) {
      const k = r.cstring();
      if (k === '') break;
      params[k] = r.cstring();
    }
    r.end();
    return { value: { type: 'startup', protocol: code, params }, consumed: length };
  }
  if (buf.length < 5) return undefined;
  const code = String.fromCharCode(buf[0]!);
  const length = buf.readInt32BE(1);
  if (length < 4 || length > MAX_MESSAGE) throw new ProtocolError(`Client message ${describeByte(buf[0]!)} declares an impossible length ${length}`);
  if (buf.length < 1 + length) return undefined;
  const r = new Reader(buf.subarray(5, 1 + length), code);
  if (code === 'Q') {
    const sql = r.cstring();
    r.end();
    return { value: { type: 'query', sql }, consumed: 1 + length };
  }
  if (code === 'X') {
    r.end();
    return { value: { type: 'terminate' }, consumed: 1 + length };
  }
  return { value: { type: 'other', code, length }, consumed: 1 + length };
}

// ---------------------------------------------------------------------------------------------
// Human-readable renderings for evidence
// ---------------------------------------------------------------------------------------------

/** e.g. `AuthenticationSASL [SCRAM-SHA-256]`, `AuthenticationMD5Password`. The MD5 salt is not shown. */
export function describeAuth(msg: Extract<BackendMessage, { type: 'authentication' }>): string {
  return msg.mechanisms ? `${msg.name} [${msg.mechanisms.join(', ')}]` : msg.name;
}

/** e.g. `FATAL 28000: no pg_hba.conf entry for host "10.0.0.1", user "postgres", database "postgres", no encryption`. */
export function describeError(f: ErrorFields): string {
  const sev = f.severityV ?? f.severity ?? 'ERROR';
  let s = `${sev}${f.code ? ' ' + f.code : ''}: ${f.message ?? '(no message)'}`;
  if (f.detail) s += ` (detail: ${f.detail})`;
  if (f.hint) s += ` (hint: ${f.hint})`;
  return s;
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `0x${b.toString(16).padStart(2, '0')}`;
}

/** Bounds-checked cursor over one message body; every overrun is a `ProtocolError`. */
class Reader {
  private pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtocolError(`PostgreSQL message '${this.what}' is truncated`);
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new ProtocolError(`PostgreSQL message '${this.what}' has an unterminated string`);
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  /** The message must be fully consumed: trailing bytes mean we misread it. */
  end(): void {
    if (this.pos !== this.buf.length) throw new ProtocolError(`PostgreSQL message '${this.what}' has ${this.buf.length - this.pos} unexpected trailing bytes`);
  }
}
