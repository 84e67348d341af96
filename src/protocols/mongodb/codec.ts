/**
 * The MongoDB wire protocol (https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/ and the
 * OP_MSG spec, github.com/mongodb/specifications source/message/OP_MSG.md) as pure functions over bytes:
 * - OP_MSG (2013), what every MongoDB since 3.6 speaks and the only request format 6.0+ accepts for commands;
 * - OP_QUERY (2004) only to encode the legacy `isMaster` handshake for servers too old for OP_MSG, and to
 *   decode what a client sent (tests);
 * - OP_REPLY (1), the legacy server reply to that OP_QUERY.
 * OP_COMPRESSED (2012) is refused: we never advertise a compressor, so a compressed reply is a protocol error.
 * BSON itself is the `bson` package (maintained by MongoDB); every BSON failure becomes a `ProtocolError`.
 * All integers are little-endian. No sockets here.
 */
import { deserialize, serialize, type DeserializeOptions, type Document } from 'bson';
import { ProtocolError } from '../../core/errors.js';
import { type Decoder } from '../../net/session.js';

export type { Document } from 'bson';

export const OP_CODE = {
  reply: 1,
  query: 2004,
  compressed: 2012,
  msg: 2013,
} as const;
export type OpCode = (typeof OP_CODE)[keyof typeof OP_CODE];

export const MONGO_LIMITS = {
  /** messageLength, requestID, responseTo, opCode. */
  headerBytes: 16,
  /** MongoDB's maxMessageSizeBytes (48,000,000 since 2.6); a header claiming more is hostile. */
  maxMessageBytes: 48_000_000,
  /** Smallest BSON document: int32 length + terminating NUL. */
  minDocumentBytes: 5,
} as const;

/** OP_MSG flagBits. Bits 0–15 are "required": an unknown one set means we cannot read the message. */
export const MSG_FLAGS = {
  checksumPresent: 1 << 0,
  moreToCome: 1 << 1,
  exhaustAllowed: 1 << 16,
} as const;
const KNOWN_REQUIRED_FLAGS = MSG_FLAGS.checksumPresent | MSG_FLAGS.moreToCome;

/** OP_REPLY responseFlags. */
export const REPLY_FLAGS = {
  cursorNotFound: 1 << 0,
  queryFailure: 1 << 1,
  shardConfigStale: 1 << 2,
  awaitCapable: 1 << 3,
} as const;

export interface MsgHeader {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

/** An OP_MSG kind 1 section: a named sequence of documents (e.g. `documents` of an insert). */
export interface DocumentSequence {
  identifier: string;
  documents: Document[];
}

export interface OpMsg {
  opCode: typeof OP_CODE.msg;
  header: MsgHeader;
  flagBits: number;
  /** The one kind 0 section: the command or its reply. */
  body: Document;
  sequences: DocumentSequence[];
  /** CRC-32C of the message, present (and verified) when flagBits has checksumPresent. */
  checksum?: number;
}

export interface OpReply {
  opCode: typeof OP_CODE.reply;
  header: MsgHeader;
  responseFlags: number;
  cursorId: bigint;
  startingFrom: number;
  documents: Document[];
}

export interface OpQuery {
  opCode: typeof OP_CODE.query;
  header: MsgHeader;
  flags: number;
  fullCollectionName: string;
  numberToSkip: number;
  numberToReturn: number;
  query: Document;
  returnFieldsSelector?: Document;
}

export type MongoMessage = OpMsg | OpReply | OpQuery;

/**
 * How replies become JS values: int64 as a number while it fits 53 bits (larger ones stay `Long`),
 * regular expressions as BSONRegExp (never compiled), and invalid UTF-8 replaced rather than fatal —
 * a hostile or odd server's collection name should not hide the rest of its reply.
 */
const DESERIALIZE: DeserializeOptions = {
  promoteLongs: true,
  promoteValues: true,
  promoteBuffers: false,
  useBigInt64: false,
  bsonRegExp: true,
  validation: { utf8: false },
};

// ---------------------------------------------------------------------------------------------------------
// Encoding (requests)

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(MONGO_LIMITS.headerBytes);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/**
 * An OP_MSG with one kind 0 section. `body` must name the command first and carry `$db`
 * (the OP_MSG spec's global argument for the database).
 */
export function encodeOpMsg(requestId: number, body: Document, opts: { flagBits?: number; responseTo?: number } = {}): Buffer {
  const doc = Buffer.from(serialize(body));
  const flags = Buffer.alloc(4);
  flags.writeUInt32LE(opts.flagBits ?? 0, 0);
  const length = MONGO_LIMITS.headerBytes + 4 + 1 + doc.length;
  return Buffer.concat([header(length, requestId, opts.responseTo ?? 0, OP_CODE.msg), flags, Buffer.from([0]), doc]);
}

/**
 * A legacy OP_QUERY (used only for `isMaster` on `admin.$cmd` when a server does not speak OP_MSG).
 * numberToReturn -1: "return one document and close the cursor", what drivers send for commands.
 */
export function encodeOpQuery(requestId: number, fullCollectionName: string, query: Document, numberToReturn = -1): Buffer {
  const name = Buffer.from(fullCollectionName, 'utf8');
  if (name.includes(0)) throw new ProtocolError('Collection name contains a NUL byte');
  const doc = Buffer.from(serialize(query));
  const fixed = Buffer.alloc(4);
  fixed.writeInt32LE(0, 0); // flags
  const counts = Buffer.alloc(8);
  counts.writeInt32LE(0, 0); // numberToSkip
  counts.writeInt32LE(numberToReturn, 4);
  const length = MONGO_LIMITS.headerBytes + 4 + name.length + 1 + 8 + doc.length;
  return Buffer.concat([header(length, requestId, 0, OP_CODE.query), fixed, name, Buffer.from([0]), counts, doc]);
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

export interface DecodeOptions {
  /** Largest message accepted; defaults to maxMessageSizeBytes. The probe passes min(that, read cap). */
  maxMessageBytes?: number;
  /** When set, a reply whose responseTo differs is a protocol error (it answers something we did not ask). */
  responseTo?: number;
}

/** The 16-byte header, or undefined when fewer bytes arrived. Rejects impossible lengths as soon as they are seen. */
export function decodeHeader(buf: Buffer, maxMessageBytes: number = MONGO_LIMITS.maxMessageBytes): MsgHeader | undefined {
  if (buf.length >= 4) {
    const messageLength = buf.readInt32LE(0);
    if (messageLength < MONGO_LIMITS.headerBytes) {
      throw new ProtocolError(`MongoDB message length ${messageLength} is shorter than its 16-byte header`);
    }
    const cap = Math.min(maxMessageBytes, MONGO_LIMITS.maxMessageBytes);
    if (messageLength > cap) {
      throw new ProtocolError(
        messageLength > MONGO_LIMITS.maxMessageBytes
          ? `MongoDB message length ${messageLength} exceeds maxMessageSizeBytes (${MONGO_LIMITS.maxMessageBytes})`
          : `MongoDB message length ${messageLength} exceeds the read cap of ${cap} bytes`,
      );
    }
  }
  if (buf.length < MONGO_LIMITS.headerBytes) return undefined;
  return {
    messageLength: buf.readInt32LE(0),
    requestId: buf.readInt32LE(4),
    responseTo: buf.readInt32LE(8),
    opCode: buf.readInt32LE(12),
  };
}

/**
 * A session decoder for one whole message of any opcode we understand. `undefined` until the message's
 * declared length has arrived; a `ProtocolError` for anything malformed or unexpected.
 */
export function messageDecoder(opts: DecodeOptions = {}): Decoder<MongoMessage> {
  return (buf) => {
    const h = decodeHeader(buf, opts.maxMessageBytes);
    if (!h) return undefined;
    if (buf.length < h.messageLength) return undefined;
    // A copy: decoded documents must not pin the session's receive buffer.
    const msg = decodeMessage(Buffer.from(buf.subarray(0, h.messageLength)), h);
    if (opts.responseTo !== undefined && msg.header.responseTo !== opts.responseTo) {
      throw new ProtocolError(`MongoDB reply answers request ${msg.header.responseTo}, not our request ${opts.responseTo}`);
    }
    return { value: msg, consumed: h.messageLength };
  };
}

/** Decode one complete message (`buf` holds exactly `header.messageLength` bytes). */
export function decodeMessage(buf: Buffer, h: MsgHeader = mustHeader(buf)): MongoMessage {
  if (buf.length !== h.messageLength) throw new ProtocolError('MongoDB message buffer does not match its declared length');
  switch (h.opCode) {
    case OP_CODE.msg:
      return decodeOpMsgBody(buf, h);
    case OP_CODE.reply:
      return decodeOpReplyBody(buf, h);
    case OP_CODE.query:
      return decodeOpQueryBody(buf, h);
    case OP_CODE.compressed:
      throw new ProtocolError('Compressed reply not requested: the server sent OP_COMPRESSED though no compressor was offered');
    default:
      throw new ProtocolError(`Unknown MongoDB opCode ${h.opCode}`);
  }
}

function mustHeader(buf: Buffer): MsgHeader {
  const h = decodeHeader(buf);
  if (!h) throw new ProtocolError('MongoDB message shorter than its header');
  return h;
}

function decodeOpMsgBody(buf: Buffer, h: MsgHeader): OpMsg {
  let pos: number = MONGO_LIMITS.headerBytes;
  if (buf.length < pos + 4) throw new ProtocolError('OP_MSG without flagBits');
  const flagBits = buf.readUInt32LE(pos);
  pos += 4;
  const unknownRequired = flagBits & 0xffff & ~KNOWN_REQUIRED_FLAGS;
  if (unknownRequired !== 0) throw new ProtocolError(`OP_MSG sets unknown required flag bits 0x${unknownRequired.toString(16)}`);
  let end = buf.length;
  let checksum: number | undefined;
  if (flagBits & MSG_FLAGS.checksumPresent) {
    if (end - pos < 4) throw new ProtocolError('OP_MSG announces a checksum but has no room for it');
    end -= 4;
    checksum = buf.readUInt32LE(end);
    const actual = crc32c(buf.subarray(0, end));
    if (actual !== checksum) {
      throw new ProtocolError(`OP_MSG checksum mismatch: message says 0x${hex32(checksum)}, bytes give 0x${hex32(actual)}`);
    }
  }
  let body: Document | undefined;
  const sequences: DocumentSequence[] = [];
  if (pos >= end) throw new ProtocolError('OP_MSG has no sections');
  while (pos < end) {
    const kind = buf[pos]!;
    pos += 1;
    if (kind === 0) {
      if (body !== undefined) throw new ProtocolError('OP_MSG has more than one kind 0 (body) section');
      const d = readDocument(buf, pos, end, 'OP_MSG body');
      body = d.doc;
      pos = d.next;
    } else if (kind === 1) {
      if (end - pos < 4) throw new ProtocolError('OP_MSG document sequence truncated before its size');
      const size = buf.readInt32LE(pos);
      if (size < 5 || size > end - pos) throw new ProtocolError(`OP_MSG document sequence size ${size} does not fit the message`);
      const seqEnd = pos + size;
      const id = readCString(buf, pos + 4, seqEnd, 'document sequence identifier');
      const documents: Document[] = [];
      let at = id.next;
      while (at < seqEnd) {
        const d = readDocument(buf, at, seqEnd, `document sequence ${JSON.stringify(id.value)}`);
        documents.push(d.doc);
        at = d.next;
      }
      sequences.push({ identifier: id.value, documents });
      pos = seqEnd;
    } else {
      // The spec: unknown payload types MUST result in an error and the socket MUST be closed.
      throw new ProtocolError(`OP_MSG section of unknown kind ${kind}`);
    }
  }
  if (body === undefined) throw new ProtocolError('OP_MSG has no kind 0 (body) section');
  const msg: OpMsg = { opCode: OP_CODE.msg, header: h, flagBits, body, sequences };
  if (checksum !== undefined) msg.checksum = checksum;
  return msg;
}

function decodeOpReplyBody(buf: Buffer, h: MsgHeader): OpReply {
  const fixed = MONGO_LIMITS.headerBytes + 4 + 8 + 4 + 4;
  if (buf.length < fixed) throw new ProtocolError('OP_REPLY shorter than its fixed fields');
  const responseFlags = buf.readInt32LE(16);
  const cursorId = buf.readBigInt64LE(20);
  const startingFrom = buf.readInt32LE(28);
  const numberReturned = buf.readInt32LE(32);
  const room = Math.floor((buf.length - fixed) / MONGO_LIMITS.minDocumentBytes);
  if (numberReturned < 0 || numberReturned > room) {
    throw new ProtocolError(`OP_REPLY numberReturned ${numberReturned} does not fit its ${buf.length - fixed} bytes`);
  }
  const documents: Document[] = [];
  let pos: number = fixed;
  for (let i = 0; i < numberReturned; i++) {
    const d = readDocument(buf, pos, buf.length, `OP_REPLY document ${i}`);
    documents.push(d.doc);
    pos = d.next;
  }
  if (pos !== buf.length) throw new ProtocolError(`OP_REPLY has ${buf.length - pos} bytes after its ${numberReturned} documents`);
  return { opCode: OP_CODE.reply, header: h, responseFlags, cursorId, startingFrom, documents };
}

function decodeOpQueryBody(buf: Buffer, h: MsgHeader): OpQuery {
  let pos: number = MONGO_LIMITS.headerBytes;
  if (buf.length < pos + 4) throw new ProtocolError('OP_QUERY without flags');
  const flags = buf.readInt32LE(pos);
  pos += 4;
  const name = readCString(buf, pos, buf.length, 'OP_QUERY fullCollectionName');
  pos = name.next;
  if (buf.length < pos + 8) throw new ProtocolError('OP_QUERY truncated before numberToSkip/numberToReturn');
  const numberToSkip = buf.readInt32LE(pos);
  const numberToReturn = buf.readInt32LE(pos + 4);
  pos += 8;
  const q = readDocument(buf, pos, buf.length, 'OP_QUERY query');
  const msg: OpQuery = {
    opCode: OP_CODE.query,
    header: h,
    flags,
    fullCollectionName: name.value,
    numberToSkip,
    numberToReturn,
    query: q.doc,
  };
  if (q.next < buf.length) {
    const sel = readDocument(buf, q.next, buf.length, 'OP_QUERY returnFieldsSelector');
    if (sel.next !== buf.length) throw new ProtocolError('OP_QUERY has bytes after its returnFieldsSelector');
    msg.returnFieldsSelector = sel.doc;
  }
  return msg;
}

/** One BSON document at `pos`, which must end by `end`. */
function readDocument(buf: Buffer, pos: number, end: number, what: string): { doc: Document; next: number } {
  if (end - pos < 4) throw new ProtocolError(`${what}: truncated before the BSON length`);
  const size = buf.readInt32LE(pos);
  if (size < MONGO_LIMITS.minDocumentBytes || size > end - pos) {
    throw new ProtocolError(`${what}: BSON length ${size} does not fit the ${end - pos} bytes left`);
  }
  if (buf[pos + size - 1] !== 0) throw new ProtocolError(`${what}: BSON document not terminated by NUL`);
  let doc: Document;
  try {
    doc = deserialize(buf.subarray(pos, pos + size), DESERIALIZE);
  } catch (err) {
    // BSONError for malformed content, RangeError for absurd nesting: both are the server's fault.
    throw new ProtocolError(`${what}: invalid BSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  return { doc, next: pos + size };
}

function readCString(buf: Buffer, pos: number, end: number, what: string): { value: string; next: number } {
  const nul = buf.indexOf(0, pos);
  if (nul === -1 || nul >= end) throw new ProtocolError(`${what}: missing NUL terminator`);
  return { value: buf.toString('utf8', pos, nul), next: nul + 1 };
}

// ---------------------------------------------------------------------------------------------------------
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the OP_MSG checksum.

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = (crc >>> 8) ^ CRC32C_TABLE[(crc ^ b) & 0xff]!;
  return (crc ^ 0xffffffff) >>> 0;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
