/**
 * Memcached wire formats as pure functions over bytes (memcached's doc/protocol.txt and
 * doc/protocol-binary.txt): text replies to `version`/`stats`, the 8-byte UDP frame header, and the
 * 24-byte binary header for servers that speak only the binary protocol (SASL on). No sockets here.
 */
import { ProtocolError } from '../../core/errors.js';
import { type Decoder } from '../../net/session.js';

/** Bounds that turn hostile replies into a `ProtocolError` instead of a hang or a huge allocation. */
export const MC_LIMITS = {
  /** memcached's own reply lines are short (the longest STAT line is well under 1 KiB). */
  maxLineLength: 8 * 1024,
  /** `stats` has about 90 lines in 1.6; a reply with thousands is not memcached. */
  maxStatLines: 4096,
  /** A binary packet body (a stat value, the version, an error message). */
  maxBinaryBody: 64 * 1024,
  /** Binary `stats` is one packet per stat plus a terminator. */
  maxBinaryPackets: 4096,
} as const;

export type McErrorKind = 'ERROR' | 'CLIENT_ERROR' | 'SERVER_ERROR';

/** One decoded text reply. */
export type McTextReply =
  | { kind: 'version'; version: string }
  /** `STAT name value` lines up to `END`, in order; values keep their spaces (e.g. `libevent 2.1.12-stable`). */
  | { kind: 'stats'; stats: [string, string][] }
  /** `ERROR`, `CLIENT_ERROR <message>` or `SERVER_ERROR <message>`; `line` is the whole line. */
  | { kind: 'error'; error: McErrorKind; message: string; line: string };

/**
 * The text commands this module sends: a command word and CRLF, nothing else. With `padTo`, spaces
 * after the word bring the request to that many bytes; memcached's tokenizer ignores them.
 */
export function encodeTextCommand(command: 'version' | 'stats', padTo = 0): Buffer {
  const pad = Math.max(0, padTo - command.length - 2);
  return Buffer.from(`${command}${' '.repeat(pad)}\r\n`, 'latin1');
}

const LF = 0x0a;
/** Every way a memcached text reply line can begin; anything else is not memcached. */
const LINE_STARTS = ['VERSION ', 'STAT ', 'END', 'ERROR', 'CLIENT_ERROR', 'SERVER_ERROR'] as const;

/** The line at `pos` without its CRLF (a bare LF is tolerated), or undefined when its end has not arrived. */
function readLine(buf: Buffer, pos: number): { line: string; next: number } | undefined {
  const limit = Math.min(buf.length, pos + MC_LIMITS.maxLineLength + 1);
  const at = buf.subarray(pos, limit).indexOf(LF);
  if (at === -1) {
    if (buf.length - pos > MC_LIMITS.maxLineLength) {
      throw new ProtocolError(`Memcached reply line longer than ${MC_LIMITS.maxLineLength} bytes`);
    }
    return undefined;
  }
  const end = pos + at;
  const line = buf.toString('latin1', pos, end > pos && buf[end - 1] === 0x0d ? end - 1 : end);
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) throw new ProtocolError(`Control characters in memcached reply line ${JSON.stringify(line.slice(0, 64))}`);
  return { line, next: end + 1 };
}

/** Fail fast when the bytes so far cannot begin any memcached reply line (so garbage needs no newline to be caught). */
function checkLineStart(buf: Buffer, pos: number): void {
  const head = buf.toString('latin1', pos, Math.min(buf.length, pos + 13));
  if (head.length === 0) return;
  const ok = LINE_STARTS.some((start) => (head.length >= start.length ? head.startsWith(start) : start.startsWith(head)));
  if (!ok) throw new ProtocolError(`Not a memcached reply: ${JSON.stringify(head)}`);
}

function errorLine(line: string): McTextReply | undefined {
  if (line === 'ERROR') return { kind: 'error', error: 'ERROR', message: '', line };
  for (const kind of ['CLIENT_ERROR', 'SERVER_ERROR'] as const) {
    if (line === kind || line.startsWith(`${kind} `)) return { kind: 'error', error: kind, message: line.slice(kind.length + 1), line };
  }
  return undefined;
}

/** Decode one text reply (to `version` or `stats`) from the start of `buf`; undefined when more bytes are needed. */
export const decodeTextReply: Decoder<McTextReply> = (buf) => {
  checkLineStart(buf, 0);
  const first = readLine(buf, 0);
  if (!first) return undefined;
  const err = errorLine(first.line);
  if (err) return { value: err, consumed: first.next };
  if (first.line.startsWith('VERSION ')) {
    const version = first.line.slice('VERSION '.length).trim();
    if (!version) throw new ProtocolError('Memcached VERSION line without a version');
    return { value: { kind: 'version', version }, consumed: first.next };
  }
  const stats: [string, string][] = [];
  let line = first;
  for (;;) {
    if (line.line === 'END') return { value: { kind: 'stats', stats }, consumed: line.next };
    const m = /^STAT (\S+) ?(.*)$/.exec(line.line);
    if (!m) throw new ProtocolError(`Unexpected line in memcached stats reply: ${JSON.stringify(line.line.slice(0, 64))}`);
    if (stats.length >= MC_LIMITS.maxStatLines) throw new ProtocolError(`Memcached stats reply longer than ${MC_LIMITS.maxStatLines} lines`);
    stats.push([m[1]!, m[2]!]);
    checkLineStart(buf, line.next);
    const next = readLine(buf, line.next);
    if (!next) return undefined;
    line = next;
  }
};

/** memcached's UDP frame header (protocol.txt "UDP protocol"): 8 bytes in front of every datagram. */
export interface UdpFrameHeader {
  /** Chosen by the client, echoed in every reply datagram. */
  requestId: number;
  /** 0-based index of this datagram within the message. */
  sequence: number;
  /** How many datagrams the message has. */
  total: number;
  /** Reserved for future use; must be 0. */
  reserved: number;
}

export const UDP_HEADER_LENGTH = 8;

export function encodeUdpFrame(header: UdpFrameHeader, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(UDP_HEADER_LENGTH + payload.length);
  out.writeUInt16BE(header.requestId & 0xffff, 0);
  out.writeUInt16BE(header.sequence & 0xffff, 2);
  out.writeUInt16BE(header.total & 0xffff, 4);
  out.writeUInt16BE(header.reserved & 0xffff, 6);
  out.set(payload, UDP_HEADER_LENGTH);
  return out;
}

/** Split one datagram into its frame header and payload; ProtocolError when it cannot be a memcached frame. */
export function decodeUdpFrame(datagram: Uint8Array): { header: UdpFrameHeader; payload: Buffer } {
  if (datagram.length < UDP_HEADER_LENGTH) throw new ProtocolError(`UDP datagram of ${datagram.length} bytes is shorter than the 8-byte frame header`);
  const buf = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const header: UdpFrameHeader = {
    requestId: buf.readUInt16BE(0),
    sequence: buf.readUInt16BE(2),
    total: buf.readUInt16BE(4),
    reserved: buf.readUInt16BE(6),
  };
  if (header.total === 0 || header.sequence >= header.total) {
    throw new ProtocolError(`Invalid memcached UDP frame: datagram ${header.sequence} of ${header.total}`);
  }
  return { header, payload: Buffer.from(buf.subarray(UDP_HEADER_LENGTH)) };
}

/** Binary protocol constants (protocol-binary.txt). */
export const BINARY = {
  requestMagic: 0x80,
  responseMagic: 0x81,
  headerLength: 24,
  opVersion: 0x0b,
  opStat: 0x10,
  statusOk: 0x0000,
  statusAuthError: 0x0020,
} as const;

/** A binary request with no key, extras or body (`version`, `stats` of the general group). */
export function encodeBinaryRequest(opcode: number, opaque: number): Buffer {
  const out = Buffer.alloc(BINARY.headerLength);
  out[0] = BINARY.requestMagic;
  out[1] = opcode;
  out.writeUInt32BE(opaque >>> 0, 12);
  return out;
}

export interface McBinaryPacket {
  opcode: number;
  status: number;
  opaque: number;
  key: string;
  value: Buffer;
}

/** Decode one binary response packet; ProtocolError on a wrong magic or impossible lengths. */
export const decodeBinaryPacket: Decoder<McBinaryPacket> = (buf) => {
  if (buf.length > 0 && buf[0] !== BINARY.responseMagic) {
    throw new ProtocolError(`Not a memcached binary response: magic 0x${buf[0]!.toString(16).padStart(2, '0')}`);
  }
  if (buf.length < BINARY.headerLength) return undefined;
  const keyLength = buf.readUInt16BE(2);
  const extrasLength = buf[4]!;
  const status = buf.readUInt16BE(6);
  const bodyLength = buf.readUInt32BE(8);
  if (bodyLength > MC_LIMITS.maxBinaryBody) throw new ProtocolError(`Memcached binary body of ${bodyLength} bytes exceeds the limit of ${MC_LIMITS.maxBinaryBody}`);
  if (keyLength + extrasLength > bodyLength) throw new ProtocolError('Memcached binary key and extras are longer than the body');
  const end = BINARY.headerLength + bodyLength;
  if (buf.length < end) return undefined;
  const keyStart = BINARY.headerLength + extrasLength;
  return {
    value: {
      opcode: buf[1]!,
      status,
      opaque: buf.readUInt32BE(12),
      key: buf.toString('latin1', keyStart, keyStart + keyLength),
      value: Buffer.from(buf.subarray(keyStart + keyLength, end)),
    },
    consumed: end,
  };
};

/** A whole binary reply: the packets up to the stats terminator (empty key), or the first packet otherwise. */
export type McBinaryReply =
  | { kind: 'stats'; stats: [string, string][] }
  | { kind: 'version'; version: string }
  | { kind: 'error'; opcode: number; status: number; message: string };

/** Decode the binary reply to one `stats` or `version` request. */
export const decodeBinaryReply: Decoder<McBinaryReply> = (buf) => {
  const stats: [string, string][] = [];
  let pos = 0;
  for (;;) {
    const r = decodeBinaryPacket(buf.subarray(pos));
    if (!r) return undefined;
    pos += r.consumed;
    const p = r.value;
    if (p.status !== BINARY.statusOk) {
      return { value: { kind: 'error', opcode: p.opcode, status: p.status, message: p.value.toString('latin1') }, consumed: pos };
    }
    if (p.opcode === BINARY.opVersion) return { value: { kind: 'version', version: p.value.toString('latin1') }, consumed: pos };
    if (p.opcode !== BINARY.opStat) throw new ProtocolError(`Unexpected memcached binary opcode 0x${p.opcode.toString(16)}`);
    if (p.key === '') return { value: { kind: 'stats', stats }, consumed: pos };
    if (stats.length >= MC_LIMITS.maxBinaryPackets) throw new ProtocolError(`Memcached binary stats longer than ${MC_LIMITS.maxBinaryPackets} packets`);
    stats.push([p.key, p.value.toString('latin1')]);
  }
};
