/**
 * etcd's HTTP surface, as pure functions over bytes and JSON (no sockets): the `GET /version` reply and
 * the v3 gRPC-gateway's JSON for the three read-only RPCs the probe calls — KV.Range (only with
 * `count_only` or `keys_only`), Cluster.MemberList and Maintenance.Status — plus the gateway's error
 * replies (`{"error":"etcdserver: user name is empty","code":3}`), and the request bodies the probe sends.
 *
 * The gateway follows protobuf's JSON mapping: 64-bit integers are decimal strings (`"count":"7"`), fields
 * at their zero value are left out (an empty keyspace has no `count`), `bytes` fields are base64.
 * Member and cluster IDs are uint64 and exceed 2^53, so they stay strings; counts and sizes become numbers.
 *
 * Hostile input: bodies are already capped by the read cap before they get here; on top of that every
 * string kept is clipped, every list kept is bounded, numbers must be non-negative safe integers, and
 * invalid UTF-8, invalid JSON or a wrong shape is a `ProtocolError`, never another exception.
 */
import { ProtocolError } from '../../core/errors.js';
import { isJsonObject, parseJsonBody, utf8Text } from '../json-body.js';

export const ETCD_LIMITS = {
  /** Key names a keys_only range asks for (`limit`), inside the authorized scope only. */
  keyNames: 100,
  /** Members kept from a member list (real clusters have 3–7). */
  members: 64,
  /** URLs kept per member. */
  urlsPerMember: 8,
  /** Longest string kept from any field. */
  fieldChars: 256,
} as const;

/** base64 of a single NUL byte: with `range_end` also "\0", a range over every key (etcd's "from key \0"). */
export const WHOLE_KEYSPACE = 'AA==';

/**
 * The body of the range that counts keys. `count_only` makes the server return the count and no key-value
 * pairs at all; no other range body is ever built for the verdict.
 */
export function rangeCountBody(): string {
  return JSON.stringify({ key: WHOLE_KEYSPACE, range_end: WHOLE_KEYSPACE, count_only: true });
}

/**
 * The body of the range that lists key names (authorized scope only). `keys_only` makes the server leave
 * every value out of the reply; `limit` bounds how many names come back.
 */
export function rangeKeysBody(limit: number = ETCD_LIMITS.keyNames): string {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > ETCD_LIMITS.keyNames) {
    throw new RangeError(`Key-name limit must be 1..${ETCD_LIMITS.keyNames}`);
  }
  return JSON.stringify({ key: WHOLE_KEYSPACE, range_end: WHOLE_KEYSPACE, keys_only: true, limit });
}

type JsonObject = Record<string, unknown>;

function clip(s: string): string {
  return s.length > ETCD_LIMITS.fieldChars ? s.slice(0, ETCD_LIMITS.fieldChars) : s;
}

function optString(obj: JsonObject, key: string, what: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ProtocolError(`${what}: ${key} is not a string`);
  return clip(v);
}

/** A protobuf-JSON int64/uint64: a decimal string (or, from hand-written servers, a JSON number). */
function optUint64(obj: JsonObject, key: string, what: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(v)) return v;
  throw new ProtocolError(`${what}: ${key} is not an unsigned integer`);
}

/** A count or size: an unsigned integer that must fit a JS number exactly. Absent means 0 in protobuf JSON. */
function optCount(obj: JsonObject, key: string, what: string): number | undefined {
  const s = optUint64(obj, key, what);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new ProtocolError(`${what}: ${key} ${s} is beyond 2^53`);
  return n;
}

/** `GET /version`: `{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}`. */
export interface EtcdVersion {
  server: string;
  /** The cluster-wide version (`"not_decided"` while a new cluster has not agreed yet). */
  cluster?: string;
}

export function parseVersion(json: unknown): EtcdVersion {
  if (!isJsonObject(json)) throw new ProtocolError('GET /version reply is not a JSON object');
  const server = optString(json, 'etcdserver', 'GET /version reply');
  if (server === undefined) throw new ProtocolError('GET /version reply has no etcdserver field: not etcd');
  const cluster = optString(json, 'etcdcluster', 'GET /version reply');
  return cluster === undefined ? { server } : { server, cluster };
}

/**
 * The v3 gateway's path prefix for a server version: `/v3` from etcd 3.4 on (3.4 and 3.5 also keep
 * `/v3beta`), `/v3beta` on 3.3, `/v3alpha` on 3.2 and older. Returned as an order to try them in: the
 * version's own prefix first, then the others, so an unparseable version still finds its gateway.
 */
export const API_PREFIXES = ['/v3', '/v3beta', '/v3alpha'] as const;
export type ApiPrefix = (typeof API_PREFIXES)[number];

export function apiPrefixOrder(serverVersion: string | undefined): ApiPrefix[] {
  const m = /^(\d+)\.(\d+)/.exec(serverVersion ?? '');
  let first: ApiPrefix = '/v3';
  if (m) {
    const major = Number(m[1]);
    const minor = Number(m[2]);
    if (major === 3 && minor === 3) first = '/v3beta';
    else if (major < 3 || (major === 3 && minor < 3)) first = '/v3alpha';
  }
  return [first, ...API_PREFIXES.filter((p) => p !== first)];
}

/** `ResponseHeader` of every v3 reply. */
export interface EtcdHeader {
  clusterId?: string;
  memberId?: string;
  revision?: number;
  raftTerm?: number;
}

function parseHeader(json: JsonObject, what: string): EtcdHeader {
  const h = json.header;
  if (!isJsonObject(h)) throw new ProtocolError(`${what} has no header object: not an etcd v3 reply`);
  const out: EtcdHeader = {};
  const clusterId = optUint64(h, 'cluster_id', what);
  const memberId = optUint64(h, 'member_id', what);
  const revision = optCount(h, 'revision', what);
  const raftTerm = optCount(h, 'raft_term', what);
  if (clusterId !== undefined) out.clusterId = clusterId;
  if (memberId !== undefined) out.memberId = memberId;
  if (revision !== undefined) out.revision = revision;
  if (raftTerm !== undefined) out.raftTerm = raftTerm;
  return out;
}

/** `POST /v3/kv/range` with `count_only`: the number of keys in the range. */
export interface RangeCount {
  header: EtcdHeader;
  count: number;
}

export function parseRangeCount(json: unknown): RangeCount {
  const what = 'kv/range reply';
  if (!isJsonObject(json)) throw new ProtocolError(`${what} is not a JSON object`);
  const header = parseHeader(json, what);
  return { header, count: optCount(json, 'count', what) ?? 0 };
}

/** `POST /v3/kv/range` with `keys_only`: key names only (values are never read, even if a server sent them). */
export interface RangeKeys {
  header: EtcdHeader;
  keys: string[];
  /** True when the server had more keys than `limit`. */
  more: boolean;
  count: number;
}

export function parseRangeKeys(json: unknown, limit: number = ETCD_LIMITS.keyNames): RangeKeys {
  const what = 'kv/range reply';
  if (!isJsonObject(json)) throw new ProtocolError(`${what} is not a JSON object`);
  const header = parseHeader(json, what);
  const kvs = json.kvs ?? [];
  if (!Array.isArray(kvs)) throw new ProtocolError(`${what}: kvs is not a list`);
  const keys: string[] = [];
  for (const kv of kvs.slice(0, limit)) {
    if (!isJsonObject(kv)) throw new ProtocolError(`${what}: a kvs entry is not an object`);
    const key = kv.key;
    if (typeof key !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(key) || key.length % 4 !== 0) {
      throw new ProtocolError(`${what}: a key is not base64`);
    }
    keys.push(keyName(Buffer.from(key, 'base64')));
  }
  const more = json.more === true || kvs.length > limit;
  return { header, keys, more, count: optCount(json, 'count', what) ?? kvs.length };
}

/** A key as text: UTF-8 when it is valid UTF-8 without control characters, else printable with \xNN escapes. */
export function keyName(bytes: Buffer): string {
  const capped = bytes.subarray(0, ETCD_LIMITS.fieldChars);
  try {
    const text = utf8Text(capped, 'key');
    if (!/[\x00-\x1f\x7f]/.test(text)) return text;
  } catch {
    // fall through to escapes
  }
  let out = '';
  for (const b of capped) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : '\\x' + b.toString(16).padStart(2, '0');
  return out;
}

/** One member of `POST /v3/cluster/member/list`. */
export interface EtcdMember {
  id: string;
  /** Empty for a member added but not started yet. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface MemberList {
  header: EtcdHeader;
  members: EtcdMember[];
  /** Members beyond `ETCD_LIMITS.members` that were not kept. */
  dropped: number;
}

function urlList(obj: JsonObject, key: string, what: string): string[] {
  const v = obj[key] ?? [];
  if (!Array.isArray(v)) throw new ProtocolError(`${what}: ${key} is not a list`);
  const out: string[] = [];
  for (const u of v.slice(0, ETCD_LIMITS.urlsPerMember)) {
    if (typeof u !== 'string') throw new ProtocolError(`${what}: ${key} holds a non-string`);
    out.push(clip(u));
  }
  return out;
}

export function parseMemberList(json: unknown): MemberList {
  const what = 'cluster/member/list reply';
  if (!isJsonObject(json)) throw new ProtocolError(`${what} is not a JSON object`);
  const header = parseHeader(json, what);
  const raw = json.members ?? [];
  if (!Array.isArray(raw)) throw new ProtocolError(`${what}: members is not a list`);
  const members: EtcdMember[] = [];
  for (const m of raw.slice(0, ETCD_LIMITS.members)) {
    if (!isJsonObject(m)) throw new ProtocolError(`${what}: a member is not an object`);
    members.push({
      // The gateway names this field `ID` (the proto field is `ID`); accept `id` as well.
      id: optUint64(m, 'ID', what) ?? optUint64(m, 'id', what) ?? '',
      name: optString(m, 'name', what) ?? '',
      peerURLs: urlList(m, 'peerURLs', what),
      clientURLs: urlList(m, 'clientURLs', what),
      isLearner: m.isLearner === true,
    });
  }
  return { header, members, dropped: Math.max(0, raw.length - ETCD_LIMITS.members) };
}

/** `POST /v3/maintenance/status`. */
export interface EtcdStatus {
  header: EtcdHeader;
  version?: string;
  dbSize?: number;
  dbSizeInUse?: number;
  /** Member ID of the leader as this member sees it (0/absent: no leader). */
  leader?: string;
  raftIndex?: number;
  raftTerm?: number;
  raftAppliedIndex?: number;
  isLearner?: boolean;
  /** Alarms and errors the member reports (e.g. `etcdserver: mvcc: database space exceeded`). */
  errors: string[];
}

export function parseStatus(json: unknown): EtcdStatus {
  const what = 'maintenance/status reply';
  if (!isJsonObject(json)) throw new ProtocolError(`${what} is not a JSON object`);
  const out: EtcdStatus = { header: parseHeader(json, what), errors: [] };
  const version = optString(json, 'version', what);
  const dbSize = optCount(json, 'dbSize', what);
  const dbSizeInUse = optCount(json, 'dbSizeInUse', what);
  const leader = optUint64(json, 'leader', what);
  const raftIndex = optCount(json, 'raftIndex', what);
  const raftTerm = optCount(json, 'raftTerm', what);
  const raftAppliedIndex = optCount(json, 'raftAppliedIndex', what);
  if (version !== undefined) out.version = version;
  if (dbSize !== undefined) out.dbSize = dbSize;
  if (dbSizeInUse !== undefined) out.dbSizeInUse = dbSizeInUse;
  if (leader !== undefined) out.leader = leader;
  if (raftIndex !== undefined) out.raftIndex = raftIndex;
  if (raftTerm !== undefined) out.raftTerm = raftTerm;
  if (raftAppliedIndex !== undefined) out.raftAppliedIndex = raftAppliedIndex;
  if (json.isLearner === true) out.isLearner = true;
  const errs = json.errors ?? [];
  if (Array.isArray(errs)) for (const e of errs.slice(0, 16)) if (typeof e === 'string') out.errors.push(clip(e));
  return out;
}

/** The gRPC gateway's error body: `{"error":"…","message":"…","code":N}` (`message` from 3.4 on). */
export interface GatewayError {
  /** The server's own text (`etcdserver: user name is empty`). */
  message: string;
  /** gRPC status code (3 InvalidArgument, 7 PermissionDenied, 16 Unauthenticated …). */
  code: number;
}

export function parseGatewayError(body: Uint8Array): GatewayError | undefined {
  let json: unknown;
  try {
    json = parseJsonBody(body, 'gateway error');
  } catch {
    return undefined;
  }
  if (!isJsonObject(json)) return undefined;
  const message = typeof json.message === 'string' ? json.message : typeof json.error === 'string' ? json.error : undefined;
  const code = json.code;
  if (message === undefined || typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 16) return undefined;
  return { message: clip(message), code };
}

/**
 * gRPC codes and etcdserver texts that mean "this needs credentials" (etcd's api/v3rpc/rpctypes):
 * `user name is empty` (no token sent while auth is on), `invalid auth token`, `permission denied`,
 * `authentication failed`, and the Unauthenticated / PermissionDenied codes.
 */
const AUTH_MESSAGES = /etcdserver: (user name is empty|invalid auth token|permission denied|authentication failed|user name not found)/i;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;

export function isAuthError(err: GatewayError): boolean {
  return AUTH_MESSAGES.test(err.message) || err.code === GRPC_UNAUTHENTICATED || err.code === GRPC_PERMISSION_DENIED;
}

/** A member URL split into host and port (`http://127.0.0.1:2380`, `https://[::1]:2379`, `unix://…` has none). */
export function urlHostPort(url: string): { host: string; port?: number } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (host === '') return undefined;
  if (u.port === '') return { host, port: u.protocol === 'https:' ? 443 : 80 };
  return { host, port: Number(u.port) };
}

/** A reply body as JSON; see `parseJsonBody`. */
export { parseJsonBody as parseJson };
