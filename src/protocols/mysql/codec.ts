/**
 * MySQL / MariaDB client/server protocol, the parts a read-only probe needs. Pure functions over bytes.
 *
 * Framing: every packet is a 3-byte little-endian payload length, a 1-byte sequence id and the payload.
 * A payload of exactly 0xffffff bytes continues in the next packet. Decoders return `undefined` when
 * more bytes are needed and throw `ProtocolError` on anything malformed; nothing here allocates more
 * than the caller's bound.
 *
 * References: MySQL "Client/Server Protocol" (dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html)
 * and MariaDB "Client/Server Protocol" (mariadb.com/kb/en/clientserver-protocol/).
 */
import { ProtocolError } from '../../core/errors.js';

/** Largest payload one packet can carry; a payload this long continues in the next packet. */
export const MAX_PACKET_PAYLOAD = 0xffffff;
const HEADER = 4;

/** Capability flags (lower and upper 16 bits of the 32-bit field). */
export const Capability = {
  /** CLIENT_LONG_PASSWORD; MariaDB calls it CLIENT_MYSQL and leaves it clear to mark its extended capabilities. */
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  NO_SCHEMA: 0x10,
  COMPRESS: 0x20,
  ODBC: 0x40,
  LOCAL_FILES: 0x80,
  IGNORE_SPACE: 0x100,
  PROTOCOL_41: 0x200,
  INTERACTIVE: 0x400,
  SSL: 0x800,
  IGNORE_SIGPIPE: 0x1000,
  TRANSACTIONS: 0x2000,
  RESERVED: 0x4000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 0x10000,
  MULTI_RESULTS: 0x20000,
  PS_MULTI_RESULTS: 0x40000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
  CAN_HANDLE_EXPIRED_PASSWORDS: 0x400000,
  SESSION_TRACK: 0x800000,
  DEPRECATE_EOF: 0x1000000,
  OPTIONAL_RESULTSET_METADATA: 0x2000000,
  ZSTD_COMPRESSION_ALGORITHM: 0x4000000,
  QUERY_ATTRIBUTES: 0x8000000,
  MULTI_FACTOR_AUTHENTICATION: 0x10000000,
  CAPABILITY_EXTENSION: 0x20000000,
  SSL_VERIFY_SERVER_CERT: 0x40000000,
  REMEMBER_OPTIONS: 0x80000000,
} as const;

/** MariaDB's extended capabilities (bits 32–63), sent in the greeting's reserved bytes when CLIENT_MYSQL is clear. */
export const MariaDbCapability = {
  PROGRESS: 0x1,
  COM_MULTI: 0x2,
  STMT_BULK_OPERATIONS: 0x4,
  EXTENDED_METADATA: 0x8,
  CACHE_METADATA: 0x10,
  BULK_UNIT_RESULTS: 0x20,
} as const;

function flagNames(flags: number, table: Record<string, number>): string[] {
  const out: string[] = [];
  for (const [name, bit] of Object.entries(table)) if ((flags & bit) >>> 0 === bit) out.push(name);
  return out;
}

export function capabilityNames(flags: number): string[] {
  return flagNames(flags >>> 0, Capability);
}

export function mariaDbCapabilityNames(flags: number): string[] {
  return flagNames(flags >>> 0, MariaDbCapability);
}

/** Names of the collations a greeting most often announces (id → name); others are reported by id only. */
export const COLLATIONS: Readonly<Record<number, string>> = {
  8: 'latin1_swedish_ci',
  28: 'gbk_chinese_ci',
  33: 'utf8mb3_general_ci',
  45: 'utf8mb4_general_ci',
  46: 'utf8mb4_bin',
  63: 'binary',
  83: 'utf8mb3_bin',
  192: 'utf8mb3_unicode_ci',
  224: 'utf8mb4_unicode_ci',
  255: 'utf8mb4_0900_ai_ci',
};

// ---------------------------------------------------------------------------------------------
// Framing

export interface Packet {
  sequenceId: number;
  payload: Buffer;
}

/**
 * Decode one logical packet from the front of `buf`, joining continuation packets, with the joined
 * payload bounded by `maxPayload`. Returns `undefined` when more bytes are needed.
 */
export function decodePacket(buf: Buffer, maxPayload = MAX_PACKET_PAYLOAD): { value: Packet; consumed: number } | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  let total = 0;
  let firstSeq = -1;
  let expectSeq = -1;
  for (;;) {
    if (buf.length - offset < HEADER) return undefined;
    const len = buf.readUIntLE(offset, 3);
    const seq = buf[offset + 3]!;
    if (firstSeq < 0) firstSeq = seq;
    else if (seq !== expectSeq) throw new ProtocolError(`Continuation packet has sequence id ${seq}, expected ${expectSeq}`);
    total += len;
    if (total > maxPayload) throw new ProtocolError(`Packet payload of at least ${total} bytes exceeds the limit of ${maxPayload}`);
    if (buf.length - offset - HEADER < len) return undefined;
    parts.push(buf.subarray(offset + HEADER, offset + HEADER + len));
    offset += HEADER + len;
    if (len < MAX_PACKET_PAYLOAD) break;
    expectSeq = (seq + 1) & 0xff;
  }
  const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  return { value: { sequenceId: firstSeq, payload }, consumed: offset };
}

/** Frame `payload` as one or more packets starting at `sequenceId`. */
export function encodePacket(sequenceId: number, payload: Uint8Array): Buffer {
  const out: Buffer[] = [];
  let seq = sequenceId & 0xff;
  let offset = 0;
  for (;;) {
    const len = Math.min(MAX_PACKET_PAYLOAD, payload.length - offset);
    const header = Buffer.alloc(HEADER);
    header.writeUIntLE(len, 0, 3);
    header[3] = seq;
    out.push(header, Buffer.from(payload.buffer, payload.byteOffset + offset, len));
    offset += len;
    seq = (seq + 1) & 0xff;
    // A payload that is an exact multiple of 0xffffff ends with an empty packet.
    if (len < MAX_PACKET_PAYLOAD) break;
  }
  return Buffer.concat(out);
}

// ---------------------------------------------------------------------------------------------
// A bounds-checked reader over one complete payload: running off its end is a malformed packet.

export class PayloadReader {
  offset = 0;
  constructor(
    readonly buf: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number, field: string): void {
    if (n < 0 || this.offset + n > this.buf.length) {
      throw new ProtocolError(`${this.what} is truncated: ${field} needs ${n} bytes, ${this.remaining} left`);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.offset++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }

  u24(field: string): number {
    this.need(3, field);
    const v = this.buf.readUIntLE(this.offset, 3);
    this.offset += 3;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  skip(n: number, field: string): void {
    this.need(n, field);
    this.offset += n;
  }

  /** A NUL-terminated string; `optionalNul` accepts the end of the payload as terminator (some servers omit the last NUL). */
  nulString(field: string, optionalNul = false): string {
    const end = this.buf.indexOf(0, this.offset);
    if (end < 0) {
      if (!optionalNul) throw new ProtocolError(`${this.what} is truncated: ${field} has no NUL terminator`);
      const s = this.buf.toString('utf8', this.offset);
      this.offset = this.buf.length;
      return s;
    }
    const s = this.buf.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }

  rest(): Buffer {
    const v = this.buf.subarray(this.offset);
    this.offset = this.buf.length;
    return v;
  }

  /**
   * A length-encoded integer. 0xfb (NULL) is returned as `null` only where `allowNull`; 0xff is never valid.
   * 8-byte values above 2^53 cannot be a length inside one payload and are rejected.
   */
  lenencInt(field: string, allowNull = false): number | null {
    const first = this.u8(field);
    if (first < 0xfb) return first;
    switch (first) {
      case 0xfb:
        if (allowNull) return null;
        throw new ProtocolError(`${this.what}: ${field} is NULL where an integer is required`);
      case 0xfc:
        return this.u16(field);
      case 0xfd:
        return this.u24(field);
      case 0xfe: {
        this.need(8, field);
        const v = this.buf.readBigUInt64LE(this.offset);
        this.offset += 8;
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError(`${this.what}: ${field} of ${v} is out of range`);
        return Number(v);
      }
      default:
        throw new ProtocolError(`${this.what}: ${field} starts with the invalid length-encoded integer prefix 0xff`);
    }
  }

  /** A length-encoded string (or `null` for the 0xfb NULL marker where `allowNull`). */
  lenencString(field: string, allowNull = false): string | null {
    const len = this.lenencInt(field, allowNull);
    if (len === null) return null;
    return this.bytes(len, field).toString('utf8');
  }
}

// ---------------------------------------------------------------------------------------------
// Greeting (the server speaks first)

/** Initial handshake, protocol version 10 (MySQL 3.21.0 and later, every MariaDB). */
export interface HandshakeV10 {
  kind: 'handshake';
  protocolVersion: 10;
  /** The version string exactly as sent, e.g. `5.5.5-10.11.19-MariaDB-0+deb12u1`. */
  rawServerVersion: string;
  /** `MariaDB` or `MySQL` (or another product naming itself in the version string, e.g. `TiDB`). */
  product: string;
  /** The version with MariaDB's `5.5.5-` replication-compatibility prefix removed. */
  version: string;
  connectionId: number;
  /** Both parts of the auth-plugin-data (the scramble), joined; trailing NUL removed. */
  authPluginData: Buffer;
  /** The 32-bit capability flags (lower | upper << 16). */
  capabilities: number;
  /** MariaDB's extended capability bits 32–63, when the server is MariaDB (CLIENT_MYSQL clear). */
  mariaDbCapabilities?: number;
  characterSet: number;
  statusFlags: number;
  /** Present when the server has CLIENT_PLUGIN_AUTH, e.g. `mysql_native_password`, `caching_sha2_password`. */
  authPluginName?: string;
}

/** Initial handshake, protocol version 9 (MySQL before 3.21.0). */
export interface HandshakeV9 {
  kind: 'handshake';
  protocolVersion: 9;
  rawServerVersion: string;
  product: string;
  version: string;
  connectionId: number;
  authPluginData: Buffer;
}

export interface ErrPacket {
  kind: 'err';
  code: number;
  /** Five-character SQL state when the server sent the `#` marker (after PROTOCOL_41 was agreed). */
  sqlState?: string;
  message: string;
}

export type Greeting = HandshakeV10 | HandshakeV9 | ErrPacket;

const MARIADB_PREFIX = '5.5.5-';

/** Product and version from a server version string (MariaDB prefixes `5.5.5-` so old clients accept it). */
export function productFromVersion(raw: string, mariaDbCaps: boolean): { product: string; version: string } {
  const isMariaDb = /mariadb/i.test(raw) || mariaDbCaps;
  const version = isMariaDb && raw.startsWith(MARIADB_PREFIX) ? raw.slice(MARIADB_PREFIX.length) : raw;
  if (isMariaDb) return { product: 'MariaDB', version };
  if (/tidb/i.test(raw)) return { product: 'TiDB', version };
  return { product: 'MySQL', version };
}

/** Protocol-version bytes a greeting payload may start with: v10, v9, or an ERR packet. */
const GREETING_FIRST_BYTES = new Set([0x0a, 0x09, 0xff]);

/**
 * Session decoder for the server greeting. The header and first payload byte are checked as soon as
 * they arrive, so a peer speaking another protocol is rejected after 5 bytes instead of after the
 * (possibly huge) length its first bytes happen to spell. The greeting is a single packet.
 */
export function decodeGreeting(buf: Buffer): { value: Greeting; consumed: number } | undefined {
  if (buf.length >= HEADER) {
    const len = buf.readUIntLE(0, 3);
    const seq = buf[3]!;
    if (seq !== 0) throw new ProtocolError(`Not a MySQL greeting: sequence id ${seq}, expected 0`);
    if (len === 0) throw new ProtocolError('Not a MySQL greeting: empty packet');
    if (len === MAX_PACKET_PAYLOAD) throw new ProtocolError('Not a MySQL greeting: a greeting never spans packets');
  }
  if (buf.length > HEADER && !GREETING_FIRST_BYTES.has(buf[HEADER]!)) {
    throw new ProtocolError(`Not a MySQL greeting: protocol version byte 0x${buf[HEADER]!.toString(16).padStart(2, '0')}`);
  }
  const packet = decodePacket(buf);
  if (!packet) return undefined;
  return { value: parseGreeting(packet.value.payload), consumed: packet.consumed };
}

export function parseGreeting(payload: Buffer): Greeting {
  if (payload.length === 0) throw new ProtocolError('Not a MySQL greeting: empty packet');
  switch (payload[0]) {
    case 0x0a:
      return parseHandshakeV10(payload);
    case 0x09:
      return parseHandshakeV9(payload);
    case 0xff:
      return parseErrPacket(payload);
    default:
      throw new ProtocolError(`Not a MySQL greeting: protocol version byte 0x${payload[0]!.toString(16).padStart(2, '0')}`);
  }
}

export function parseHandshakeV10(payload: Buffer): HandshakeV10 {
  const r = new PayloadReader(payload, 'Handshake v10');
  if (r.u8('protocol version') !== 10) throw new ProtocolError('Handshake v10 does not start with protocol version 10');
  const rawServerVersion = r.nulString('server version');
  const connectionId = r.u32('connection id');
  const part1 = r.bytes(8, 'auth-plugin-data part 1');
  r.skip(1, 'filler');
  let capabilities = r.u16('capability flags (lower)');
  // Servers older than 4.1 may end the greeting here.
  let characterSet = 0;
  let statusFlags = 0;
  let authDataLen = 0;
  let mariaDbCapabilities: number | undefined;
  let part2: Buffer = Buffer.alloc(0);
  let authPluginName: string | undefined;
  if (r.remaining > 0) {
    characterSet = r.u8('character set');
    statusFlags = r.u16('status flags');
    capabilities = (capabilities | (r.u16('capability flags (upper)') << 16)) >>> 0;
    authDataLen = r.u8('auth-plugin-data length');
    r.skip(6, 'reserved');
    const ext = r.u32('reserved / MariaDB extended capabilities');
    // MariaDB clears CLIENT_MYSQL (bit 0) and puts its extended capabilities in the last 4 reserved bytes.
    if ((capabilities & Capability.LONG_PASSWORD) === 0) mariaDbCapabilities = ext;
    if (capabilities & Capability.SECURE_CONNECTION) {
      // At least 13 bytes; the last is a NUL that is not part of the scramble.
      const len = Math.max(13, authDataLen - 8);
      part2 = r.bytes(Math.min(len, r.remaining), 'auth-plugin-data part 2');
      if (part2.length > 0 && part2[part2.length - 1] === 0) part2 = part2.subarray(0, part2.length - 1);
    }
    if (capabilities & Capability.PLUGIN_AUTH) {
      // MySQL 5.5.7–5.5.9 omitted the final NUL (Bug #59453).
      const name = r.nulString('auth plugin name', true);
      if (name !== '') authPluginName = name;
    }
  }
  const { product, version } = productFromVersion(rawServerVersion, mariaDbCapabilities !== undefined);
  return {
    kind: 'handshake',
    protocolVersion: 10,
    rawServerVersion,
    product,
    version,
    connectionId,
    authPluginData: Buffer.concat([part1, part2]),
    capabilities,
    ...(mariaDbCapabilities !== undefined ? { mariaDbCapabilities } : {}),
    characterSet,
    statusFlags,
    ...(authPluginName !== undefined ? { authPluginName } : {}),
  };
}

export function parseHandshakeV9(payload: Buffer): HandshakeV9 {
  const r = new PayloadReader(payload, 'Handshake v9');
  if (r.u8('protocol version') !== 9) throw new ProtocolError('Handshake v9 does not start with protocol version 9');
  const rawServerVersion = r.nulString('server version');
  const connectionId = r.u32('connection id');
  const authPluginData = Buffer.from(r.nulString('scramble', true), 'latin1');
  const { product, version } = productFromVersion(rawServerVersion, false);
  return { kind: 'handshake', protocolVersion: 9, rawServerVersion, product, version, connectionId, authPluginData };
}

/** ERR packet: 0xff, code, optional `#` + SQL state, message. At greeting time there is no SQL state. */
export function parseErrPacket(payload: Buffer): ErrPacket {
  const r = new PayloadReader(payload, 'ERR packet');
  if (r.u8('header') !== 0xff) throw new ProtocolError('ERR packet does not start with 0xff');
  const code = r.u16('error code');
  let sqlState: string | undefined;
  if (r.remaining >= 6 && payload[r.offset] === 0x23 /* # */) {
    r.skip(1, 'SQL state marker');
    sqlState = r.bytes(5, 'SQL state').toString('latin1');
  }
  const message = r.rest().toString('utf8');
  return { kind: 'err', code, ...(sqlState !== undefined ? { sqlState } : {}), message };
}

export function formatErr(err: ErrPacket): string {
  return `ERR ${err.code}${err.sqlState ? ` (${err.sqlState})` : ''}: ${err.message}`;
}

// ---------------------------------------------------------------------------------------------
// OK / EOF / auth exchange

export interface OkPacket {
  kind: 'ok';
  affectedRows: number;
  lastInsertId: number;
  statusFlags: number;
  warnings: number;
  info: string;
}

export function parseOkPacket(payload: Buffer): OkPacket {
  const r = new PayloadReader(payload, 'OK packet');
  const header = r.u8('header');
  if (header !== 0x00 && header !== 0xfe) throw new ProtocolError('OK packet does not start with 0x00 or 0xfe');
  const affectedRows = r.lenencInt('affected rows') as number;
  const lastInsertId = r.lenencInt('last insert id') as number;
  const statusFlags = r.remaining >= 2 ? r.u16('status flags') : 0;
  const warnings = r.remaining >= 2 ? r.u16('warnings') : 0;
  const info = r.rest().toString('utf8');
  return { kind: 'ok', affectedRows, lastInsertId, statusFlags, warnings, info };
}

/** EOF packet: 0xfe with a payload shorter than 9 bytes (a longer one starting 0xfe is data). */
export function isEofPacket(payload: Buffer): boolean {
  return payload.length > 0 && payload.length < 9 && payload[0] === 0xfe;
}

export interface EofPacket {
  kind: 'eof';
  warnings: number;
  statusFlags: number;
}

export function parseEofPacket(payload: Buffer): EofPacket {
  if (!isEofPacket(payload)) throw new ProtocolError('Not an EOF packet');
  const r = new PayloadReader(payload, 'EOF packet');
  r.skip(1, 'header');
  const warnings = r.remaining >= 2 ? r.u16('warnings') : 0;
  const statusFlags = r.remaining >= 2 ? r.u16('status flags') : 0;
  return { kind: 'eof', warnings, statusFlags };
}

/** The server wants another auth plugin (0xfe + plugin name + plugin data). */
export interface AuthSwitchRequest {
  kind: 'auth-switch';
  pluginName: string;
  pluginData: Buffer;
}

/** Extra data from the current plugin (0x01 + data), e.g. caching_sha2_password's fast-auth result 0x03 / full-auth 0x04. */
export interface AuthMoreData {
  kind: 'auth-more-data';
  data: Buffer;
}

export type AuthReply = OkPacket | ErrPacket | AuthSwitchRequest | AuthMoreData;

/** Decode the server's reply to a HandshakeResponse or AuthSwitchResponse. */
export function parseAuthReply(payload: Buffer): AuthReply {
  if (payload.length === 0) throw new ProtocolError('Empty reply to the login attempt');
  switch (payload[0]) {
    case 0x00:
      return parseOkPacket(payload);
    case 0xff:
      return parseErrPacket(payload);
    case 0xfe: {
      // A lone 0xfe is the pre-4.1 "switch to mysql_old_password" request.
      if (payload.length === 1) return { kind: 'auth-switch', pluginName: 'mysql_old_password', pluginData: Buffer.alloc(0) };
      const r = new PayloadReader(payload, 'AuthSwitchRequest');
      r.skip(1, 'header');
      const pluginName = r.nulString('plugin name', true);
      return { kind: 'auth-switch', pluginName, pluginData: r.rest() };
    }
    case 0x01:
      return { kind: 'auth-more-data', data: payload.subarray(1) };
    default:
      throw new ProtocolError(`Unexpected reply to the login attempt: header byte 0x${payload[0]!.toString(16).padStart(2, '0')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// HandshakeResponse41 (login), commands

export interface HandshakeResponseOptions {
  /** The capability flags the client claims; they are intersected with the server's. */
  clientCapabilities: number;
  serverCapabilities: number;
  username: string;
  /** The auth response bytes (empty for an empty password). */
  authResponse: Uint8Array;
  authPluginName: string;
  characterSet: number;
  maxPacketSize: number;
  connectAttributes: Readonly<Record<string, string>>;
  sequenceId: number;
}

/** Capabilities the probe offers: no LOCAL_FILES (a server could ask for a local file), no MULTI_STATEMENTS, no SSL. */
export const PROBE_CLIENT_CAPABILITIES =
  Capability.LONG_PASSWORD |
  Capability.LONG_FLAG |
  Capability.PROTOCOL_41 |
  Capability.TRANSACTIONS |
  Capability.SECURE_CONNECTION |
  Capability.PLUGIN_AUTH |
  Capability.CONNECT_ATTRS;

function lenencIntBytes(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n]);
  if (n <= 0xffff) {
    const b = Buffer.alloc(3);
    b[0] = 0xfc;
    b.writeUInt16LE(n, 1);
    return b;
  }
  if (n <= 0xffffff) {
    const b = Buffer.alloc(4);
    b[0] = 0xfd;
    b.writeUIntLE(n, 1, 3);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), 1);
  return b;
}

export function lenencString(s: string | Uint8Array): Buffer {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s);
  return Buffer.concat([lenencIntBytes(bytes.length), bytes]);
}

/** The capability flags a HandshakeResponse41 built from `opts` will carry. */
export function negotiatedCapabilities(clientCapabilities: number, serverCapabilities: number): number {
  // CLIENT_LONG_PASSWORD is kept even against MariaDB: it tells MariaDB we are a "MySQL" client with no extended capabilities.
  return ((clientCapabilities & serverCapabilities) | (clientCapabilities & Capability.LONG_PASSWORD)) >>> 0;
}

/** Build a HandshakeResponse41 packet (framed). Requires the server to speak PROTOCOL_41 and SECURE_CONNECTION. */
export function encodeHandshakeResponse41(opts: HandshakeResponseOptions): Buffer {
  const caps = negotiatedCapabilities(opts.clientCapabilities, opts.serverCapabilities);
  if (!(caps & Capability.PROTOCOL_41) || !(caps & Capability.SECURE_CONNECTION)) {
    throw new ProtocolError('Server does not support the 4.1 protocol with secure authentication');
  }
  if (opts.authResponse.length > 250) throw new ProtocolError('Auth response too long');
  const head = Buffer.alloc(32);
  head.writeUInt32LE(caps, 0);
  head.writeUInt32LE(opts.maxPacketSize >>> 0, 4);
  head[8] = opts.characterSet & 0xff;
  // Bytes 9..31 are filler (MariaDB reads its extended capabilities from the last 4 only when CLIENT_MYSQL is clear).
  const parts: Buffer[] = [head, Buffer.from(opts.username + '\0', 'utf8'), Buffer.from([opts.authResponse.length]), Buffer.from(opts.authResponse)];
  if (caps & Capability.PLUGIN_AUTH) parts.push(Buffer.from(opts.authPluginName + '\0', 'utf8'));
  if (caps & Capability.CONNECT_ATTRS) {
    const attrs = Buffer.concat(Object.entries(opts.connectAttributes).flatMap(([k, v]) => [lenencString(k), lenencString(v)]));
    parts.push(lenencIntBytes(attrs.length), attrs);
  }
  return encodePacket(opts.sequenceId, Buffer.concat(parts));
}

export const Command = {
  QUIT: 0x01,
  QUERY: 0x03,
} as const;

export function encodeQuery(sql: string): Buffer {
  return encodePacket(0, Buffer.concat([Buffer.from([Command.QUERY]), Buffer.from(sql, 'utf8')]));
}

export function encodeQuit(): Buffer {
  return encodePacket(0, Buffer.from([Command.QUIT]));
}

// ---------------------------------------------------------------------------------------------
// Text result sets (COM_QUERY replies)

export interface ColumnDefinition {
  schema: string;
  table: string;
  name: string;
  characterSet: number;
  columnLength: number;
  type: number;
  flags: number;
  decimals: number;
}

export interface ResultSet {
  kind: 'resultset';
  columns: ColumnDefinition[];
  rows: (string | null)[][];
}

export type QueryReply = ResultSet | OkPacket | ErrPacket;

export interface ResultSetLimits {
  /** More rows than this is a ProtocolError (the probe never needs many). */
  maxRows: number;
  /** More columns than this is a ProtocolError (MySQL tables have at most 4096). */
  maxColumns: number;
  /** Bound on one packet's payload. */
  maxPayload: number;
}

export const DEFAULT_RESULT_LIMITS: ResultSetLimits = { maxRows: 10_000, maxColumns: 4096, maxPayload: 1024 * 1024 };

export function parseColumnDefinition41(payload: Buffer): ColumnDefinition {
  const r = new PayloadReader(payload, 'Column definition');
  const catalog = r.lenencString('catalog');
  if (catalog !== 'def') throw new ProtocolError(`Column definition has catalog ${JSON.stringify(catalog)}, expected "def"`);
  const schema = r.lenencString('schema') as string;
  const table = r.lenencString('table') as string;
  r.lenencString('original table');
  const name = r.lenencString('name') as string;
  r.lenencString('original name');
  const fixed = r.lenencInt('length of fixed fields') as number;
  if (fixed < 0x0c) throw new ProtocolError(`Column definition has ${fixed} bytes of fixed fields, expected 12`);
  const characterSet = r.u16('character set');
  const columnLength = r.u32('column length');
  const type = r.u8('type');
  const flags = r.u16('flags');
  const decimals = r.u8('decimals');
  return { schema, table, name, characterSet, columnLength, type, flags, decimals };
}

function parseRow(payload: Buffer, columns: number): (string | null)[] {
  const r = new PayloadReader(payload, 'Result row');
  const row: (string | null)[] = [];
  for (let i = 0; i < columns; i++) row.push(r.lenencString(`column ${i + 1}`, true));
  if (r.remaining !== 0) throw new ProtocolError(`Result row has ${r.remaining} bytes after its ${columns} columns`);
  return row;
}

/**
 * Session decoder for the whole reply to COM_QUERY (client did not set DEPRECATE_EOF): an OK or ERR
 * packet, or column count, column definitions, EOF, rows, EOF (or ERR mid-stream). Parses from the
 * start of `buf` each call and returns `undefined` until the terminator has arrived. A LOCAL INFILE
 * request (0xfb) is refused: the probe never sends a client file.
 */
export function decodeQueryReply(buf: Buffer, limits: ResultSetLimits = DEFAULT_RESULT_LIMITS): { value: QueryReply; consumed: number } | undefined {
  let offset = 0;
  let expectSeq = 1;
  const next = (): Packet | undefined => {
    const p = decodePacket(buf.subarray(offset), limits.maxPayload);
    if (!p) return undefined;
    if (p.value.sequenceId !== expectSeq) {
      throw new ProtocolError(`Query reply packet has sequence id ${p.value.sequenceId}, expected ${expectSeq}`);
    }
    expectSeq = (expectSeq + 1) & 0xff;
    offset += p.consumed;
    return p.value;
  };

  const first = next();
  if (!first) return undefined;
  const head = first.payload[0];
  if (head === undefined) throw new ProtocolError('Empty reply to a query');
  if (head === 0x00) return { value: parseOkPacket(first.payload), consumed: offset };
  if (head === 0xff) return { value: parseErrPacket(first.payload), consumed: offset };
  if (head === 0xfb) throw new ProtocolError('Server asked for a local file (LOCAL INFILE request); refused');
  const cr = new PayloadReader(first.payload, 'Column count');
  const columnCount = cr.lenencInt('column count') as number;
  if (cr.remaining !== 0) throw new ProtocolError('Column count packet has trailing bytes');
  if (columnCount < 1 || columnCount > limits.maxColumns) {
    throw new ProtocolError(`Result set has ${columnCount} columns, outside 1..${limits.maxColumns}`);
  }

  const columns: ColumnDefinition[] = [];
  for (let i = 0; i < columnCount; i++) {
    const p = next();
    if (!p) return undefined;
    columns.push(parseColumnDefinition41(p.payload));
  }
  const eof = next();
  if (!eof) return undefined;
  if (!isEofPacket(eof.payload)) throw new ProtocolError('Column definitions are not followed by an EOF packet');

  const rows: (string | null)[][] = [];
  for (;;) {
    const p = next();
    if (!p) return undefined;
    if (isEofPacket(p.payload)) break;
    if (p.payload[0] === 0xff) return { value: parseErrPacket(p.payload), consumed: offset };
    if (rows.length >= limits.maxRows) throw new ProtocolError(`Result set has more than ${limits.maxRows} rows`);
    rows.push(parseRow(p.payload, columnCount));
  }
  return { value: { kind: 'resultset', columns, rows }, consumed: offset };
}

/** Decoder for one reply packet with an expected sequence id (auth exchange). */
export function authReplyDecoder(expectSeq: number): (buf: Buffer) => { value: AuthReply; consumed: number } | undefined {
  return (buf) => {
    const p = decodePacket(buf, 64 * 1024);
    if (!p) return undefined;
    if (p.value.sequenceId !== expectSeq) {
      throw new ProtocolError(`Login reply has sequence id ${p.value.sequenceId}, expected ${expectSeq}`);
    }
    return { value: parseAuthReply(p.value.payload), consumed: p.consumed };
  };
}
