/**
 * ZooKeeper's two wire formats, as pure functions over bytes (no sockets):
 *
 * 1. Four-letter words (`srvr`, `stat`, `mntr`, `envi`, `conf`): the client sends four ASCII bytes on a fresh
 *    TCP connection, the server writes plain text and closes. `checkFourLetterStart` refuses bytes that
 *    cannot begin a ZooKeeper reply as soon as they arrive; the parsers turn the text into small records.
 * 2. The session protocol in Jute (zookeeper-jute's zookeeper.jute): every message is a 4-byte big-endian
 *    length and a Jute record. Client → server: ConnectRequest, then RequestHeader {xid, type} + body.
 *    Server → client: ConnectResponse, then ReplyHeader {xid, zxid, err} + body. Jute's types: int (4 bytes),
 *    long (8), boolean (1), buffer/ustring (int length, -1 = null, then bytes), vector (int count, -1 = null).
 *
 * Hostile input: frame lengths outside 0..`JUTE_LIMITS.maxFrame`, string lengths and vector counts that do
 * not fit the bytes left in their frame, and truncated records are a `ProtocolError`; nothing is
 * preallocated from a count a server sent; every string and list kept is bounded.
 */
import { ProtocolError } from '../../core/errors.js';
import { type Decoder } from '../../net/session.js';

export const JUTE_LIMITS = {
  /**
   * Largest frame accepted. ZooKeeper's own default for `jute.maxbuffer` (server) and the client's
   * packet length is 0xfffff (1 MiB − 1); operators raise it for huge child lists, so allow 4× that.
   */
  maxFrame: 4 * 1024 * 1024,
  /** Child names kept from one getChildren reply (the count is always the full count). */
  keptChildren: 1000,
  /** Longest string kept (znode names, config values, versions). */
  fieldChars: 256,
  /** Longest password ConnectResponse may carry (ZooKeeper's is 16 bytes). */
  maxPasswd: 64,
} as const;

/** Operation codes (ZooDefs.OpCode) of the requests this module sends. */
export const ZK_OPCODES = {
  exists: 3,
  getChildren: 8,
  getChildren2: 12,
  closeSession: -11,
} as const;

/** Reserved xids of server-initiated frames (ClientCnxn): watch notifications and ping replies. */
export const NOTIFICATION_XID = -1;
export const PING_XID = -2;

/** KeeperException.Code values a read-only probe can meet, with ZooKeeper's own names. */
export const ZK_ERRORS: Readonly<Record<number, string>> = {
  0: 'OK',
  [-1]: 'SystemError',
  [-4]: 'ConnectionLoss',
  [-5]: 'MarshallingError',
  [-6]: 'Unimplemented',
  [-7]: 'OperationTimeout',
  [-8]: 'BadArguments',
  [-13]: 'NewConfigNoQuorum',
  [-14]: 'ReconfigInProgress',
  [-100]: 'APIError',
  [-101]: 'NoNode',
  [-102]: 'NoAuth',
  [-112]: 'SessionExpired',
  [-115]: 'AuthFailed',
  [-118]: 'SessionMoved',
  [-119]: 'NotReadOnly',
  [-124]: 'SessionClosedRequireSaslAuth',
  [-125]: 'QuotaExceeded',
  [-127]: 'Throttled',
};

export const ZK_NO_AUTH = -102;
export const ZK_AUTH_FAILED = -115;
export const ZK_SESSION_REQUIRES_SASL = -124;

export function errorName(code: number): string {
  return ZK_ERRORS[code] ?? 'Unknown';
}

// ---------------------------------------------------------------- Jute writing

class JuteWriter {
  private readonly parts: Buffer[] = [];
  int(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  long(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  bool(v: boolean): this {
    this.parts.push(Buffer.from([v ? 1 : 0]));
    return this;
  }
  buffer(v: Uint8Array): this {
    this.int(v.length);
    this.parts.push(Buffer.from(v));
    return this;
  }
  ustring(v: string): this {
    return this.buffer(Buffer.from(v, 'utf8'));
  }
  /** The record with its 4-byte length prefix. */
  frame(): Buffer {
    const body = Buffer.concat(this.parts);
    const len = Buffer.alloc(4);
    len.writeInt32BE(body.length);
    return Buffer.concat([len, body]);
  }
}

/**
 * ConnectRequest {protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly}: a new session
 * (sessionId 0, 16 zero password bytes, as ZooKeeper's own client sends), read-only so a server cut off
 * from its quorum still answers.
 */
export function encodeConnectRequest(timeoutMs: number): Buffer {
  return new JuteWriter().int(0).long(0n).int(timeoutMs).long(0n).buffer(Buffer.alloc(16)).bool(true).frame();
}

/** GetChildren2Request {path, watch=false} under RequestHeader {xid, type 12}: children and the parent's Stat. */
export function encodeGetChildren2(xid: number, path: string): Buffer {
  return new JuteWriter().int(xid).int(ZK_OPCODES.getChildren2).ustring(path).bool(false).frame();
}

/** ExistsRequest {path, watch=false} (type 3): a znode's Stat only — never its data, and ZooKeeper checks no ACL for it. */
export function encodeExists(xid: number, path: string): Buffer {
  return new JuteWriter().int(xid).int(ZK_OPCODES.exists).ustring(path).bool(false).frame();
}

/** closeSession (type -11): a RequestHeader with no body; the server ends the session at once. */
export function encodeCloseSession(xid: number): Buffer {
  return new JuteWriter().int(xid).int(ZK_OPCODES.closeSession).frame();
}

// ---------------------------------------------------------------- Jute reading

/** A bounded reader over one complete frame: reading past its end is a `ProtocolError`. */
export class JuteReader {
  private pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.remaining < n) throw new ProtocolError(`${this.what} is truncated: needs ${n} more bytes, ${this.remaining} left`);
  }

  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  long(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  bool(): boolean {
    this.need(1);
    const v = this.buf[this.pos]!;
    this.pos += 1;
    if (v > 1) throw new ProtocolError(`${this.what}: boolean byte 0x${v.toString(16)} is neither 0 nor 1`);
    return v === 1;
  }

  /** A Jute buffer; null (-1) reads as undefined. The length must fit in the bytes left. */
  buffer(max = JUTE_LIMITS.maxFrame): Buffer | undefined {
    const len = this.int();
    if (len === -1) return undefined;
    if (len < 0) throw new ProtocolError(`${this.what}: negative length ${len}`);
    if (len > max) throw new ProtocolError(`${this.what}: length ${len} exceeds ${max}`);
    this.need(len);
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  ustring(): string | undefined {
    const b = this.buffer();
    return b === undefined ? undefined : clip(b.toString('utf8'));
  }

  /** A vector's count: -1 (null) or a count whose smallest possible encoding fits in the bytes left. */
  vectorCount(minEntryBytes: number): number {
    const count = this.int();
    if (count === -1) return -1;
    if (count < 0) throw new ProtocolError(`${this.what}: negative vector count ${count}`);
    if (count * minEntryBytes > this.remaining) {
      throw new ProtocolError(`${this.what}: vector count ${count} does not fit in the ${this.remaining} bytes left`);
    }
    return count;
  }
}

function clip(s: string): string {
  return s.length > JUTE_LIMITS.fieldChars ? s.slice(0, JUTE_LIMITS.fieldChars) : s;
}

/** One length-prefixed frame's payload (a copy); `undefined` until all of it arrived. */
export const decodeFrame: Decoder<Buffer> = (buf) => {
  if (buf.length < 4) return undefined;
  const len = buf.readInt32BE(0);
  if (len < 0 || len > JUTE_LIMITS.maxFrame) {
    throw new ProtocolError(`Not a ZooKeeper frame: length ${len} (first bytes ${buf.subarray(0, 4).toString('hex')})`);
  }
  if (buf.length < 4 + len) return undefined;
  return { value: Buffer.from(buf.subarray(4, 4 + len)), consumed: 4 + len };
};

export interface ConnectResponse {
  protocolVersion: number;
  /** Negotiated session timeout in ms; 0 when the server refused the session (expired or invalid). */
  timeOut: number;
  /** The new session's ID as 16 hex digits; all zeros when refused. */
  sessionId: string;
  /** Whether the server runs the session read-only (absent on servers before 3.3). */
  readOnly?: boolean;
}

export function decodeConnectResponse(frame: Buffer): ConnectResponse {
  const r = new JuteReader(frame, 'ConnectResponse');
  const protocolVersion = r.int();
  const timeOut = r.int();
  const sessionId = r.long();
  r.buffer(JUTE_LIMITS.maxPasswd);
  if (protocolVersion !== 0) throw new ProtocolError(`ConnectResponse: protocol version ${protocolVersion}, not 0`);
  if (timeOut < 0) throw new ProtocolError(`ConnectResponse: negative session timeout ${timeOut}`);
  const out: ConnectResponse = { protocolVersion, timeOut, sessionId: BigInt.asUintN(64, sessionId).toString(16).padStart(16, '0') };
  if (r.remaining >= 1) out.readOnly = r.bool();
  return out;
}

export interface ReplyHeader {
  xid: number;
  /** The server's last zxid, as ZooKeeper prints it (`0x100000000`). */
  zxid: string;
  err: number;
}

export function decodeReplyHeader(r: JuteReader): ReplyHeader {
  const xid = r.int();
  const zxid = r.long();
  const err = r.int();
  return { xid, zxid: zxidHex(zxid), err };
}

function zxidHex(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

/** A znode's Stat (68 bytes). Times are ms since the epoch; zxids in hex as ZooKeeper prints them. */
export interface ZnodeStat {
  czxid: string;
  mzxid: string;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** Session that owns an ephemeral znode; `0` for persistent ones. */
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
  pzxid: string;
}

export const STAT_BYTES = 68;

export function decodeStat(r: JuteReader): ZnodeStat {
  const czxid = zxidHex(r.long());
  const mzxid = zxidHex(r.long());
  const ctime = safeTime(r.long());
  const mtime = safeTime(r.long());
  const version = r.int();
  const cversion = r.int();
  const aversion = r.int();
  const ephemeralOwner = BigInt.asUintN(64, r.long()).toString(16);
  const dataLength = r.int();
  const numChildren = r.int();
  const pzxid = zxidHex(r.long());
  if (dataLength < 0 || numChildren < 0) throw new ProtocolError(`Stat: negative dataLength ${dataLength} or numChildren ${numChildren}`);
  return { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, dataLength, numChildren, pzxid };
}

function safeTime(v: bigint): number {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : 0;
}

export interface ChildrenReply {
  /** Child names in the server's order, at most `JUTE_LIMITS.keptChildren`. */
  children: string[];
  /** How many names the reply carried. */
  count: number;
  stat: ZnodeStat;
}

/** GetChildren2Response {vector<ustring> children, Stat stat}, after the ReplyHeader. */
export function decodeGetChildren2Response(r: JuteReader): ChildrenReply {
  // Each name is at least its 4-byte length.
  const count = r.vectorCount(4);
  const children: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.ustring();
    if (name === undefined) throw new ProtocolError('getChildren reply: null child name');
    if (children.length < JUTE_LIMITS.keptChildren) children.push(name);
  }
  return { children, count: Math.max(count, 0), stat: decodeStat(r) };
}

/** One whole reply frame: its header, and the body reader positioned after it. */
export function decodeReply(frame: Buffer, what: string): { header: ReplyHeader; body: JuteReader } {
  const r = new JuteReader(frame, what);
  return { header: decodeReplyHeader(r), body: r };
}

/** A client frame as the server sees it (for tests that decode what went on the wire). */
export interface ClientRequest {
  xid: number;
  type: number;
  path?: string;
  watch?: boolean;
}

export function decodeConnectRequest(frame: Buffer): { protocolVersion: number; timeOut: number; sessionId: bigint; passwd: Buffer; readOnly: boolean } {
  const r = new JuteReader(frame, 'ConnectRequest');
  const protocolVersion = r.int();
  r.long();
  const timeOut = r.int();
  const sessionId = r.long();
  const passwd = r.buffer(JUTE_LIMITS.maxPasswd) ?? Buffer.alloc(0);
  const readOnly = r.remaining > 0 ? r.bool() : false;
  return { protocolVersion, timeOut, sessionId, passwd, readOnly };
}

export function decodeClientRequest(frame: Buffer): ClientRequest {
  const r = new JuteReader(frame, 'request');
  const out: ClientRequest = { xid: r.int(), type: r.int() };
  if (r.remaining > 0) {
    const path = r.ustring();
    if (path !== undefined) out.path = path;
    out.watch = r.bool();
  }
  if (r.remaining !== 0) throw new ProtocolError(`request: ${r.remaining} unexpected trailing bytes`);
  return out;
}

/** A single znode name as getChildren lists it: non-empty, no `/`, not `.`/`..`, no control characters. */
export function isZnodeName(name: string): boolean {
  return name.length > 0 && name.length <= JUTE_LIMITS.fieldChars && name !== '.' && name !== '..' && !/[/\x00-\x1f\x7f]/.test(name);
}

// ---------------------------------------------------------------- four-letter words

export const FOUR_LETTER_WORDS = ['srvr', 'stat', 'mntr', 'envi', 'conf'] as const;
export type FourLetterWord = (typeof FOUR_LETTER_WORDS)[number];

/** How each word's answer begins on every ZooKeeper from 3.4 to 3.9 (each command's `commandRun`). */
const ANSWER_START: Record<FourLetterWord, string> = {
  srvr: 'Zookeeper version: ',
  stat: 'Zookeeper version: ',
  mntr: 'zk_version\t',
  envi: 'Environment:\n',
  conf: 'clientPort=',
};
/** FourLetterCommands / NettyServerCnxn texts for a word the server will not run. */
const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests\n';
const notWhitelisted = (word: string): string => `${word} is not executed because it is not in the whitelist.\n`;

export type FourLetterOutcome = 'answered' | 'not-whitelisted' | 'not-serving' | 'empty';

export function encodeFourLetterWord(word: FourLetterWord): Buffer {
  return Buffer.from(word, 'latin1');
}

/** Throw a `ProtocolError` as soon as the bytes received cannot begin ZooKeeper's reply to `word`. */
export function checkFourLetterStart(word: FourLetterWord, received: Buffer): void {
  const n = Math.min(received.length, 64);
  const head = received.toString('latin1', 0, n);
  const fits = (expected: string): boolean => expected.startsWith(head) || head.startsWith(expected);
  if (fits(ANSWER_START[word]) || fits(notWhitelisted(word)) || fits(NOT_SERVING)) return;
  throw new ProtocolError(`Not a ZooKeeper reply to ${word}: ${JSON.stringify(head.slice(0, 32))}`);
}

/** What the complete reply says (after `checkFourLetterStart` accepted its start). */
export function classifyFourLetterReply(word: FourLetterWord, text: string): FourLetterOutcome {
  if (text.length === 0) return 'empty';
  if (text.startsWith(notWhitelisted(word))) return 'not-whitelisted';
  if (text.startsWith(NOT_SERVING)) return 'not-serving';
  if (!text.startsWith(ANSWER_START[word])) throw new ProtocolError(`Not a ZooKeeper reply to ${word}: ${JSON.stringify(text.slice(0, 32))}`);
  return 'answered';
}

/** `srvr` (and the head of `stat`). */
export interface SrvrInfo {
  /** Full build string: `3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, built on 2022-02-25 08:49 UTC`. */
  build: string;
  /** The release alone: `3.8.0`. */
  version?: string;
  mode?: string;
  nodeCount?: number;
  zxid?: string;
  connections?: number;
  outstanding?: number;
  received?: number;
  sent?: number;
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function nonNegInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9]{1,15}$/.test(s.trim())) return undefined;
  return Number(s.trim());
}

export function parseSrvr(text: string): SrvrInfo {
  const fields = new Map<string, string>();
  for (const line of lines(text)) {
    const at = line.indexOf(': ');
    if (at > 0) fields.set(line.slice(0, at), line.slice(at + 2));
  }
  const build = clip(fields.get('Zookeeper version') ?? '');
  const out: SrvrInfo = { build };
  const version = /^(\d+\.\d+\.\d+)/.exec(build)?.[1];
  if (version !== undefined) out.version = version;
  const mode = fields.get('Mode');
  if (mode !== undefined) out.mode = clip(mode);
  const zxid = fields.get('Zxid');
  if (zxid !== undefined && /^0x[0-9a-f]{1,16}$/i.test(zxid)) out.zxid = zxid;
  const set = (key: 'nodeCount' | 'connections' | 'outstanding' | 'received' | 'sent', field: string): void => {
    const v = nonNegInt(fields.get(field));
    if (v !== undefined) out[key] = v;
  };
  set('nodeCount', 'Node count');
  set('connections', 'Connections');
  set('outstanding', 'Outstanding');
  set('received', 'Received');
  set('sent', 'Sent');
  return out;
}

/** `stat`'s `Clients:` section: ` /127.0.0.1:42516[0](queued=0,recved=1,sent=0)` → `127.0.0.1:42516`. */
export function parseStatClients(text: string, max = 50): { clients: string[]; count: number } {
  const clients: string[] = [];
  let count = 0;
  let inClients = false;
  for (const line of lines(text)) {
    if (line === 'Clients:') {
      inClients = true;
      continue;
    }
    if (!inClients) continue;
    if (line.trim() === '') break;
    const m = /^\s*\/?([^[\s]+)\[/.exec(line);
    if (!m) continue;
    count++;
    if (clients.length < max) clients.push(clip(m[1]!));
  }
  return { clients, count };
}

/** `mntr`: `zk_key<TAB>value` lines. Values stay text; callers pick the numbers they want. */
export function parseMntr(text: string, maxEntries = 2000): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(text)) {
    const tab = line.indexOf('\t');
    if (tab <= 0 || out.size >= maxEntries) continue;
    out.set(clip(line.slice(0, tab)), clip(line.slice(tab + 1)));
  }
  return out;
}

/** `envi` and `conf`: `key=value` lines (envi's first line is `Environment:`). */
export function parseKeyValues(text: string, maxEntries = 500): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    if (eq <= 0 || out.size >= maxEntries) continue;
    out.set(clip(line.slice(0, eq)), clip(line.slice(eq + 1)));
  }
  return out;
}

/** One `server.N=` line of `conf` (3.5+ prints the ensemble membership). */
export interface EnsembleMember {
  id: number;
  host: string;
  quorumPort?: number;
  electionPort?: number;
  /** `participant` (voting) or `observer`. */
  role: string;
  /** The member's client address (`;[host:]port` suffix), when given. */
  clientHost?: string;
  clientPort?: number;
}

function port(s: string | undefined): number | undefined {
  const n = nonNegInt(s);
  return n !== undefined && n > 0 && n < 65536 ? n : undefined;
}

/** Split `host:port` where host may be `[v6]`. */
function hostPort(s: string): { host: string; rest: string[] } | undefined {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return undefined;
    const rest = s.slice(end + 1);
    return { host: s.slice(1, end), rest: rest.startsWith(':') ? rest.slice(1).split(':') : [] };
  }
  const [host = '', ...rest] = s.split(':');
  return host === '' ? undefined : { host, rest };
}

/**
 * `server.2=127.0.21.4:2888:3888:observer;127.0.21.4:2181` — quorum address(es) (several joined by `|` since
 * 3.6; the first is kept), optional role, optional `;clientAddress`. Undefined when it is not such a line.
 */
export function parseServerLine(key: string, value: string): EnsembleMember | undefined {
  const id = /^server\.(\d{1,9})$/.exec(key)?.[1];
  if (id === undefined) return undefined;
  const [quorum = '', client] = value.split(';', 2);
  const first = quorum.split('|')[0] ?? '';
  const hp = hostPort(first.trim());
  if (!hp) return undefined;
  const [qPort, ePort, role] = hp.rest;
  const out: EnsembleMember = { id: Number(id), host: clip(hp.host), role: role === 'observer' ? 'observer' : 'participant' };
  const q = port(qPort);
  const e = port(ePort);
  if (q !== undefined) out.quorumPort = q;
  if (e !== undefined) out.electionPort = e;
  if (client !== undefined && client.trim() !== '') {
    const c = client.trim();
    if (/^\d+$/.test(c)) {
      const p = port(c);
      if (p !== undefined) out.clientPort = p;
    } else {
      const chp = hostPort(c);
      const p = port(chp?.rest[0]);
      if (chp) out.clientHost = clip(chp.host);
      if (p !== undefined) out.clientPort = p;
    }
  }
  return out;
}

export function parseConfMembers(conf: Map<string, string>, max = 64): EnsembleMember[] {
  const out: EnsembleMember[] = [];
  for (const [k, v] of conf) {
    const m = parseServerLine(k, v);
    if (m && out.length < max) out.push(m);
  }
  return out;
}
