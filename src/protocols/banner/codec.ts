/**
 * The three binary exchanges of the banner module, as pure functions over bytes (no sockets):
 * - Bolt (Neo4j and other Bolt servers, port 7687): the handshake — magic + four version proposals out,
 *   the 4-byte chosen version back. Spec: https://neo4j.com/docs/bolt/current/bolt/handshake/
 * - Aerospike (port 3000): one info-protocol message (8-byte proto header: version 2, type 1, 48-bit size)
 *   asking `build` and `edition`; the reply is `name\tvalue\n` lines in the same framing.
 * - Kafka (port 9092): ApiVersions v0 (api_key 18) — the request every Kafka client sends first, answered
 *   before any authentication. Spec: https://kafka.apache.org/protocol (ApiVersions, request header v1).
 * Each decoder rejects hostile input (wrong magic/type, huge sizes, impossible counts) with `ProtocolError`.
 */
import { ProtocolError } from '../../core/errors.js';
import { type Decoder } from '../../net/session.js';

// ---------------------------------------------------------------- Bolt

export const BOLT_MAGIC = Buffer.from([0x60, 0x60, 0xb0, 0x17]);

/** A version proposal: `major.minor` down to `major.(minor - range)` (the range byte exists since Bolt 4.3). */
export interface BoltProposal {
  major: number;
  minor: number;
  range: number;
}

/**
 * What we propose, best first: 5.0–5.8, 4.2–4.4, 4.1, 3.0. Servers before 4.3 ignore ranges, so the last
 * two slots are exact versions they understand. No "manifest" sentinel: its reply needs a second exchange.
 */
export const BOLT_PROPOSALS: readonly BoltProposal[] = [
  { major: 5, minor: 8, range: 8 },
  { major: 4, minor: 4, range: 2 },
  { major: 4, minor: 1, range: 0 },
  { major: 3, minor: 0, range: 0 },
];

export function encodeBoltHandshake(proposals: readonly BoltProposal[] = BOLT_PROPOSALS): Buffer {
  if (proposals.length !== 4) throw new RangeError('Bolt handshake carries exactly four proposals');
  const out = Buffer.alloc(20);
  BOLT_MAGIC.copy(out, 0);
  proposals.forEach((p, i) => out.set([0, p.range, p.minor, p.major], 4 + i * 4));
  return out;
}

/** The server's choice, or `none` when it shares no version with us (it answered 00 00 00 00). */
export type BoltReply = { kind: 'version'; major: number; minor: number } | { kind: 'none' };

/** Decode the 4-byte handshake reply, checking it against `proposals`. */
export function boltReplyDecoder(proposals: readonly BoltProposal[] = BOLT_PROPOSALS): Decoder<BoltReply> {
  return (buf) => {
    if (buf.length >= 1 && buf[0] !== 0) {
      const text = buf.subarray(0, 4).toString('latin1');
      throw new ProtocolError(text === 'HTTP' ? 'Answered HTTP, not the Bolt handshake' : `Not a Bolt handshake reply: first byte 0x${hex(buf[0]!)}`);
    }
    if (buf.length < 4) return undefined;
    const [, range, minor, major] = [buf[0]!, buf[1]!, buf[2]!, buf[3]!];
    if (range === 0 && minor === 0 && major === 0) return { value: { kind: 'none' }, consumed: 4 };
    if (range !== 0) throw new ProtocolError(`Not a Bolt handshake reply: 0x${buf.subarray(0, 4).toString('hex')}`);
    const proposed = proposals.some((p) => p.major === major && minor <= p.minor && minor >= p.minor - p.range);
    if (!proposed) throw new ProtocolError(`Bolt server chose version ${major}.${minor}, which was not proposed`);
    return { value: { kind: 'version', major, minor }, consumed: 4 };
  };
}

// ---------------------------------------------------------------- Aerospike info

export const AEROSPIKE_PROTO = { version: 2, typeInfo: 1 } as const;
/** `build` and `edition` answer in a few dozen bytes; anything near this is not an answer to them. */
export const AEROSPIKE_MAX_INFO = 64 * 1024;
export const AEROSPIKE_INFO_NAMES = ['build', 'edition'] as const;

export function encodeAerospikeInfo(names: readonly string[] = AEROSPIKE_INFO_NAMES): Buffer {
  const body = Buffer.from(names.map((n) => `${n}\n`).join(''), 'latin1');
  const header = Buffer.alloc(8);
  header.writeUInt8(AEROSPIKE_PROTO.version, 0);
  header.writeUInt8(AEROSPIKE_PROTO.typeInfo, 1);
  header.writeUIntBE(body.length, 2, 6);
  return Buffer.concat([header, body]);
}

/** One info message's body: the values by name, in the order the server sent them. */
export type AerospikeInfo = Map<string, string>;

export const decodeAerospikeInfo: Decoder<AerospikeInfo> = (buf) => {
  if (buf.length >= 1 && buf[0] !== AEROSPIKE_PROTO.version) {
    throw new ProtocolError(`Not an Aerospike reply: proto version byte 0x${hex(buf[0]!)}`);
  }
  if (buf.length >= 2 && buf[1] !== AEROSPIKE_PROTO.typeInfo) {
    throw new ProtocolError(`Not an Aerospike info reply: message type ${buf[1]!}`);
  }
  if (buf.length < 8) return undefined;
  const size = buf.readUIntBE(2, 6);
  if (size > AEROSPIKE_MAX_INFO) throw new ProtocolError(`Aerospike info reply of ${size} bytes exceeds the limit of ${AEROSPIKE_MAX_INFO}`);
  if (buf.length < 8 + size) return undefined;
  return { value: parseAerospikeInfo(buf.subarray(8, 8 + size)), consumed: 8 + size };
};

/** `name\tvalue\n` lines; a line without a tab is a name with an empty value. */
export function parseAerospikeInfo(body: Buffer): AerospikeInfo {
  const out: AerospikeInfo = new Map();
  for (const line of body.toString('utf8').split('\n')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    if (tab === -1) out.set(line, '');
    else out.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return out;
}

// ---------------------------------------------------------------- Kafka ApiVersions

export const KAFKA_API_VERSIONS_KEY = 18;
/** Fixed, so a test can find it in the request and a reply to someone else's request is refused. */
export const KAFKA_CORRELATION_ID = 0x6c6b6400;
/** A real ApiVersions v0 reply is under 1 KiB (about 80 APIs × 6 bytes). */
export const KAFKA_MAX_RESPONSE = 64 * 1024;
export const KAFKA_MAX_API_KEYS = 1024;

/** ApiVersions v0 with request header v1: size, api_key, api_version, correlation_id, client_id; empty body. */
export function encodeKafkaApiVersions(clientId: string, correlationId = KAFKA_CORRELATION_ID): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  if (id.length > 0x7fff) throw new RangeError('Kafka client id longer than 32767 bytes');
  const msg = Buffer.alloc(4 + 2 + 2 + 4 + 2 + id.length);
  msg.writeInt32BE(msg.length - 4, 0);
  msg.writeInt16BE(KAFKA_API_VERSIONS_KEY, 4);
  msg.writeInt16BE(0, 6);
  msg.writeInt32BE(correlationId, 8);
  msg.writeInt16BE(id.length, 12);
  id.copy(msg, 14);
  return msg;
}

export interface KafkaApiVersion {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface KafkaApiVersionsReply {
  correlationId: number;
  /** 0 = none; 35 = UNSUPPORTED_VERSION (the list then names the ApiVersions versions the broker speaks). */
  errorCode: number;
  apiVersions: KafkaApiVersion[];
}

/** Decode an ApiVersions v0 response (response header v0: correlation id only). */
export function kafkaApiVersionsDecoder(correlationId = KAFKA_CORRELATION_ID): Decoder<KafkaApiVersionsReply> {
  return (buf) => {
    if (buf.length < 4) return undefined;
    const size = buf.readInt32BE(0);
    if (size < 10 || size > KAFKA_MAX_RESPONSE) throw new ProtocolError(`Not a Kafka reply: message size ${size}`);
    if (buf.length >= 8) {
      const got = buf.readInt32BE(4);
      if (got !== correlationId) throw new ProtocolError(`Kafka reply correlation id ${got} is not ours (${correlationId})`);
    }
    if (buf.length < 4 + size) return undefined;
    const errorCode = buf.readInt16BE(8);
    const count = buf.readInt32BE(10);
    const room = size - 10;
    if (count < -1 || count > KAFKA_MAX_API_KEYS || (count > 0 && count * 6 > room)) {
      throw new ProtocolError(`Kafka ApiVersions reply claims ${count} entries in ${room} bytes`);
    }
    const apiVersions: KafkaApiVersion[] = [];
    for (let i = 0; i < count; i++) {
      const at = 14 + i * 6;
      apiVersions.push({ apiKey: buf.readInt16BE(at), minVersion: buf.readInt16BE(at + 2), maxVersion: buf.readInt16BE(at + 4) });
    }
    return { value: { correlationId, errorCode, apiVersions }, consumed: 4 + size };
  };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
