/**
 * TDS (Tabular Data Stream, [MS-TDS]) PRELOGIN as pure functions over bytes: the packet framing (2.2.3.1),
 * an encoder for the client's PRELOGIN message and a bounded parser for the server's PRELOGIN response
 * (2.2.6.5). No sockets here.
 *
 * Spec: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-tds/ — 2.2.3.1 packet header,
 * 2.2.6.5 PRELOGIN, 4.1 Pre-Login Request (the example the encoder test reproduces byte for byte).
 */
import { ProtocolError } from '../../core/errors.js';
import { type Decoder } from '../../net/session.js';

/** Packet header types ([MS-TDS] 2.2.3.1.1) this module meets. */
export const TDS_PACKET_TYPE = {
  /** A server's reply, including the PRELOGIN response ("tabular result"). */
  tabularResult: 0x04,
  /** The client's PRELOGIN message. */
  preLogin: 0x12,
} as const;

/** Status bit 0x01: last packet of the message (EOM). */
export const TDS_STATUS_EOM = 0x01;
export const TDS_HEADER_LENGTH = 8;

/** PRELOGIN option tokens ([MS-TDS] 2.2.6.5). */
export const PRELOGIN_TOKEN = {
  version: 0x00,
  encryption: 0x01,
  instOpt: 0x02,
  threadId: 0x03,
  mars: 0x04,
  traceId: 0x05,
  fedAuthRequired: 0x06,
  nonceOpt: 0x07,
  terminator: 0xff,
} as const;

/** B_FENCRYPTION values ([MS-TDS] 2.2.6.5); ENCRYPT_CLIENT_CERT (0x80) is a flag a client may OR in. */
export const ENCRYPTION = {
  off: 0x00,
  on: 0x01,
  notSupported: 0x02,
  required: 0x03,
  clientCertFlag: 0x80,
} as const;

/**
 * Bounds that turn hostile replies into a `ProtocolError`. A packet is at most 32,767 bytes (the largest
 * negotiable packet size); a PRELOGIN response is a few dozen bytes, so a message is capped far lower.
 */
export const TDS_LIMITS = {
  maxPacketLength: 32_767,
  maxMessagePayload: 64 * 1024,
  maxPackets: 16,
  /** [MS-TDS] defines eight option tokens; a table claiming many more is not a PRELOGIN. */
  maxOptions: 32,
} as const;

export interface TdsMessage {
  type: number;
  /** The payloads of every packet of the message, concatenated (a copy). */
  payload: Buffer;
  packets: number;
}

/**
 * A decoder for one TDS message of packet type `expectedType` (possibly split over several packets, the
 * last one carrying EOM). Fails as soon as a byte proves the stream is not TDS: a wrong type byte, a
 * length below the 8-byte header or above the packet limit, or a message growing past the caps.
 */
export function tdsMessageDecoder(expectedType: number): Decoder<TdsMessage> {
  return (buf) => {
    const parts: Buffer[] = [];
    let payloadLength = 0;
    let pos = 0;
    for (let packets = 1; ; packets++) {
      if (pos >= buf.length) return undefined;
      const type = buf[pos]!;
      if (type !== expectedType) {
        throw new ProtocolError(`Not a TDS reply: packet type 0x${hex(type)} where 0x${hex(expectedType)} was expected`);
      }
      if (buf.length - pos < 4) return undefined;
      const length = buf.readUInt16BE(pos + 2);
      if (length < TDS_HEADER_LENGTH) throw new ProtocolError(`TDS packet length ${length} is shorter than its 8-byte header`);
      if (length > TDS_LIMITS.maxPacketLength) {
        throw new ProtocolError(`TDS packet length ${length} exceeds the limit of ${TDS_LIMITS.maxPacketLength}`);
      }
      if (packets > TDS_LIMITS.maxPackets) throw new ProtocolError(`TDS message spans more than ${TDS_LIMITS.maxPackets} packets`);
      payloadLength += length - TDS_HEADER_LENGTH;
      if (payloadLength > TDS_LIMITS.maxMessagePayload) {
        throw new ProtocolError(`TDS message larger than ${TDS_LIMITS.maxMessagePayload} bytes`);
      }
      if (buf.length - pos < length) return undefined;
      const status = buf[pos + 1]!;
      parts.push(buf.subarray(pos + TDS_HEADER_LENGTH, pos + length));
      pos += length;
      if ((status & TDS_STATUS_EOM) !== 0) {
        return { value: { type, payload: Buffer.concat(parts, payloadLength), packets }, consumed: pos };
      }
    }
  };
}

/** What a client puts in its PRELOGIN message. */
export interface ClientPreLogin {
  /** UL_VERSION: the sender's version, major.minor.build, and US_SUBBUILD. */
  version: { major: number; minor: number; build: number; subBuild: number };
  /** B_FENCRYPTION, one of `ENCRYPTION`. */
  encryption: number;
  /** The instance to connect to; '' for the default instance (sent as a lone NUL). */
  instance: string;
  /** UL_THREADID, for the server's debugging only. */
  threadId: number;
  mars: boolean;
  /** The packet ID of the header (1 in the spec's example). */
  packetId?: number;
}

/**
 * Encode a PRELOGIN packet (type 0x12, EOM) with the options VERSION, ENCRYPTION, INSTOPT, THREADID, MARS
 * and TERMINATOR, in that order, data laid out after the option table as in [MS-TDS] 4.1.
 */
export function encodePreLogin(p: ClientPreLogin): Buffer {
  const instance = Buffer.from(p.instance, 'latin1');
  if (instance.includes(0)) throw new RangeError('Instance name must not contain NUL');
  const version = Buffer.alloc(6);
  version.writeUInt8(p.version.major, 0);
  version.writeUInt8(p.version.minor, 1);
  version.writeUInt16BE(p.version.build, 2);
  version.writeUInt16BE(p.version.subBuild, 4);
  const threadId = Buffer.alloc(4);
  // The spec's example carries thread ID 0x00000DB8 as B8 0D 00 00: little-endian, unlike the rest.
  threadId.writeUInt32LE(p.threadId >>> 0, 0);
  const options: [number, Buffer][] = [
    [PRELOGIN_TOKEN.version, version],
    [PRELOGIN_TOKEN.encryption, Buffer.from([p.encryption])],
    [PRELOGIN_TOKEN.instOpt, Buffer.concat([instance, Buffer.from([0])])],
    [PRELOGIN_TOKEN.threadId, threadId],
    [PRELOGIN_TOKEN.mars, Buffer.from([p.mars ? 1 : 0])],
  ];
  const tableLength = options.length * 5 + 1;
  const table = Buffer.alloc(tableLength);
  let offset = tableLength;
  options.forEach(([token, data], i) => {
    table.writeUInt8(token, i * 5);
    table.writeUInt16BE(offset, i * 5 + 1);
    table.writeUInt16BE(data.length, i * 5 + 3);
    offset += data.length;
  });
  table.writeUInt8(PRELOGIN_TOKEN.terminator, tableLength - 1);
  const payload = Buffer.concat([table, ...options.map(([, data]) => data)]);
  const header = Buffer.alloc(TDS_HEADER_LENGTH);
  header.writeUInt8(TDS_PACKET_TYPE.preLogin, 0);
  header.writeUInt8(TDS_STATUS_EOM, 1);
  header.writeUInt16BE(TDS_HEADER_LENGTH + payload.length, 2);
  header.writeUInt16BE(0, 4);
  header.writeUInt8(p.packetId ?? 1, 6);
  header.writeUInt8(0, 7);
  return Buffer.concat([header, payload]);
}

export interface PreLoginOption {
  token: number;
  offset: number;
  length: number;
}

/** The fields of a PRELOGIN structure (either direction); each is present when its option was. */
export interface PreLoginFields {
  options: PreLoginOption[];
  /** The sender's version: for a server, the SQL Server product version. */
  version?: { major: number; minor: number; build: number; subBuild: number };
  encryption?: number;
  /** INSTOPT bytes: the instance name a client asks for, or the server's B_INSTVALIDITY byte. */
  instOpt?: Buffer;
  threadId?: number;
  mars?: boolean;
  fedAuthRequired?: number;
}

/** Exact data lengths for the fixed-size options; INSTOPT and unknown tokens are variable. */
const FIXED_LENGTHS: ReadonlyMap<number, readonly number[]> = new Map([
  [PRELOGIN_TOKEN.version, [6]],
  [PRELOGIN_TOKEN.encryption, [1]],
  // Servers send THREADID with length 0 (e.g. the SQL Server 2008 reply in the fixtures).
  [PRELOGIN_TOKEN.threadId, [0, 4]],
  [PRELOGIN_TOKEN.mars, [1]],
  [PRELOGIN_TOKEN.traceId, [36]],
  [PRELOGIN_TOKEN.fedAuthRequired, [1]],
  [PRELOGIN_TOKEN.nonceOpt, [32]],
]);

/**
 * Parse a PRELOGIN payload (the bytes after the packet header). Rejects with `ProtocolError`: a table
 * without its 0xFF terminator, more than `maxOptions` entries, an option token given twice, data that
 * starts inside the table or ends past the payload, two options whose data overlap, a fixed-size option
 * with the wrong length, and a structure without VERSION (which [MS-TDS] makes mandatory).
 */
export function parsePreLogin(payload: Buffer): PreLoginFields {
  const options: PreLoginOption[] = [];
  let pos = 0;
  for (;;) {
    if (pos >= payload.length) throw new ProtocolError('PRELOGIN option table has no 0xFF terminator');
    const token = payload[pos]!;
    if (token === PRELOGIN_TOKEN.terminator) {
      pos += 1;
      break;
    }
    if (options.length >= TDS_LIMITS.maxOptions) throw new ProtocolError(`PRELOGIN option table has more than ${TDS_LIMITS.maxOptions} entries`);
    if (payload.length - pos < 5) throw new ProtocolError('PRELOGIN option table is truncated');
    options.push({ token, offset: payload.readUInt16BE(pos + 1), length: payload.readUInt16BE(pos + 3) });
    pos += 5;
  }
  const tableEnd = pos;
  const seen = new Set<number>();
  for (const o of options) {
    if (seen.has(o.token)) throw new ProtocolError(`PRELOGIN option 0x${hex(o.token)} appears twice`);
    seen.add(o.token);
    if (o.length > 0 && o.offset < tableEnd) throw new ProtocolError(`PRELOGIN option 0x${hex(o.token)} data starts inside the option table`);
    if (o.offset + o.length > payload.length) {
      throw new ProtocolError(`PRELOGIN option 0x${hex(o.token)} data (offset ${o.offset}, length ${o.length}) ends past the ${payload.length}-byte payload`);
    }
    const allowed = FIXED_LENGTHS.get(o.token);
    if (allowed && !allowed.includes(o.length)) throw new ProtocolError(`PRELOGIN option 0x${hex(o.token)} has length ${o.length}`);
  }
  const ranges = options.filter((o) => o.length > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1]!;
    const cur = ranges[i]!;
    if (prev.offset + prev.length > cur.offset) {
      throw new ProtocolError(`PRELOGIN options 0x${hex(prev.token)} and 0x${hex(cur.token)} overlap`);
    }
  }
  const data = (token: number): Buffer | undefined => {
    const o = options.find((x) => x.token === token);
    return o ? payload.subarray(o.offset, o.offset + o.length) : undefined;
  };
  const version = data(PRELOGIN_TOKEN.version);
  if (!version) throw new ProtocolError('PRELOGIN structure without the mandatory VERSION option');
  const fields: PreLoginFields = {
    options,
    version: { major: version[0]!, minor: version[1]!, build: version.readUInt16BE(2), subBuild: version.readUInt16BE(4) },
  };
  const encryption = data(PRELOGIN_TOKEN.encryption);
  if (encryption) fields.encryption = encryption[0]!;
  const instOpt = data(PRELOGIN_TOKEN.instOpt);
  if (instOpt) fields.instOpt = Buffer.from(instOpt);
  const threadId = data(PRELOGIN_TOKEN.threadId);
  if (threadId && threadId.length === 4) fields.threadId = threadId.readUInt32LE(0);
  const mars = data(PRELOGIN_TOKEN.mars);
  if (mars) fields.mars = mars[0] !== 0;
  const fedAuth = data(PRELOGIN_TOKEN.fedAuthRequired);
  if (fedAuth) fields.fedAuthRequired = fedAuth[0]!;
  return fields;
}

const ENCRYPTION_NAMES: Record<number, string> = {
  [ENCRYPTION.off]: 'ENCRYPT_OFF',
  [ENCRYPTION.on]: 'ENCRYPT_ON',
  [ENCRYPTION.notSupported]: 'ENCRYPT_NOT_SUP',
  [ENCRYPTION.required]: 'ENCRYPT_REQ',
};

/** The [MS-TDS] name of a B_FENCRYPTION byte, e.g. `ENCRYPT_REQ`; unknown values as `unknown (0xNN)`. */
export function encryptionName(value: number): string {
  const base = ENCRYPTION_NAMES[value & 0x7f];
  if (base === undefined || (value & 0x7c) !== 0) return `unknown (0x${hex(value)})`;
  return (value & ENCRYPTION.clientCertFlag) !== 0 ? `${base}+ENCRYPT_CLIENT_CERT` : base;
}

/**
 * The release a SQL Server product version belongs to (Microsoft's "SQL Server versions" table).
 * Azure SQL Database also answers 12.0.x, so 12.0 reads "SQL Server 2014 or Azure SQL Database".
 */
export function sqlServerRelease(major: number, minor: number): string | undefined {
  switch (major) {
    case 7:
      return 'SQL Server 7.0';
    case 8:
      return 'SQL Server 2000';
    case 9:
      return 'SQL Server 2005';
    case 10:
      return minor >= 50 ? 'SQL Server 2008 R2' : 'SQL Server 2008';
    case 11:
      return 'SQL Server 2012';
    case 12:
      return 'SQL Server 2014 or Azure SQL Database';
    case 13:
      return 'SQL Server 2016';
    case 14:
      return 'SQL Server 2017';
    case 15:
      return 'SQL Server 2019';
    case 16:
      return 'SQL Server 2022';
    case 17:
      return 'SQL Server 2025';
    default:
      return undefined;
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
