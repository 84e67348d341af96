/**
 * What MongoDB command replies mean: pure functions from a decoded reply document to plain, JSON-safe facts
 * (the verdict's error classes, hello's topology and peers, buildInfo's product, listDatabases, listCollections,
 * count). Every value a hostile server controls is type-checked and capped here, so nothing odd reaches a result.
 */
import { Decimal128, Int32, Double, Long, type Document } from 'bson';
import { type Peer } from '../../core/types.js';

/** Caps on what a reply may put into a result. */
export const REPLY_LIMITS = {
  /** Characters kept of any string (names, versions, error texts). */
  maxString: 512,
  /** Databases kept from listDatabases (sorted biggest first). */
  maxDatabases: 1000,
  /** Peers kept from hello (a replica set has at most 50 members). */
  maxPeers: 100,
} as const;

/** MongoDB error codes we branch on (src/mongo/base/error_codes.yml). */
export const MONGO_ERROR = {
  unauthorized: 13,
  authenticationFailed: 18,
  commandNotFound: 59,
} as const;

/** A number from any BSON numeric type (int32, int64 as Long, double, decimal128); undefined otherwise. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Long) return v.toNumber();
  if (v instanceof Int32 || v instanceof Double) return v.valueOf();
  if (v instanceof Decimal128) {
    const n = Number(v.toString());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function str(v: unknown, max: number = REPLY_LIMITS.maxString): string | undefined {
  if (typeof v !== 'string') return undefined;
  return v.length > max ? v.slice(0, max - 1) + '…' : v;
}

function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

function strings(v: unknown, max: number): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const item of v) {
    const s = str(item);
    if (s !== undefined) out.push(s);
    if (out.length >= max) break;
  }
  return out;
}

function isDoc(v: unknown): v is Document {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `ok: 1` (int, double, or true) — MongoDB's command success flag. */
export function isOk(reply: Document): boolean {
  const ok = reply.ok;
  return ok === true || num(ok) === 1;
}

/** The fields of a command error that are our evidence (zgrab2 drops them; they tell "auth required" from "empty"). */
export interface CommandError {
  ok: number | boolean | undefined;
  code?: number;
  codeName?: string;
  errmsg?: string;
}

export function commandError(reply: Document): CommandError {
  const e: CommandError = { ok: typeof reply.ok === 'boolean' ? reply.ok : num(reply.ok) };
  const code = num(reply.code);
  if (code !== undefined) e.code = code;
  const codeName = str(reply.codeName);
  if (codeName !== undefined) e.codeName = codeName;
  // Legacy OP_REPLY query failures carry `$err` instead of `errmsg`.
  const errmsg = str(reply.errmsg) ?? str(reply.$err);
  if (errmsg !== undefined) e.errmsg = errmsg;
  return e;
}

/** The error as one line of JSON, the way drivers show a server's reply. */
export function describeCommandError(e: CommandError): string {
  return JSON.stringify({ ok: e.ok, errmsg: e.errmsg, code: e.code, codeName: e.codeName });
}

export type CommandErrorClass = 'auth' | 'command-not-found' | 'other';

const AUTH_TEXT = [
  /\brequires authentication\b/i,
  /\bnot authori[sz]ed\b/i,
  /\bunauthori[sz]ed\b/i,
  /\bauthentication (is )?required\b/i,
  // MongoDB 2.x, before error codes were attached to every refusal.
  /\bneed to login\b/i,
];

/**
 * What an `ok: 0` reply means. Auth: code 13 Unauthorized (mongod/mongos: "command listDatabases requires
 * authentication", 3.6–4.0: "not authorized on admin to execute command { listDatabases: … }"), 18
 * AuthenticationFailed, or those texts without a code (old or compatible servers).
 */
export function classifyCommandError(e: CommandError): CommandErrorClass {
  if (e.code === MONGO_ERROR.unauthorized || e.code === MONGO_ERROR.authenticationFailed) return 'auth';
  if (e.codeName === 'Unauthorized' || e.codeName === 'AuthenticationFailed') return 'auth';
  if (e.errmsg !== undefined && AUTH_TEXT.some((re) => re.test(e.errmsg!))) return 'auth';
  if (e.code === MONGO_ERROR.commandNotFound || e.codeName === 'CommandNotFound') return 'command-not-found';
  if (e.errmsg !== undefined && /\bno such (cmd|command)\b/i.test(e.errmsg)) return 'command-not-found';
  return 'other';
}

// ---------------------------------------------------------------------------------------------------------
// hello / isMaster

export interface HelloFacts {
  /** Plain facts for `metadata` (undefined values removed). */
  metadata: Record<string, unknown>;
  /** Replica-set members the server names, except itself (`me`). */
  peers: Peer[];
  maxWireVersion: number | undefined;
}

/**
 * Topology facts from a hello (or legacy isMaster) reply. Peers come from `hosts` (role `member`, or
 * `primary` for the one named by `primary`), `passives` (`passive`), `arbiters` (`arbiter`) and `primary`
 * itself when it is not among the hosts; the server's own address (`me`) is not a peer.
 */
export function parseHello(reply: Document, source: string): HelloFacts {
  const maxWireVersion = num(reply.maxWireVersion);
  const setName = str(reply.setName);
  const me = str(reply.me);
  const primary = str(reply.primary);
  const metadata: Record<string, unknown> = {
    isWritablePrimary: bool(reply.isWritablePrimary) ?? bool(reply.ismaster),
    secondary: bool(reply.secondary),
    arbiterOnly: bool(reply.arbiterOnly),
    hidden: bool(reply.hidden),
    passive: bool(reply.passive),
    setName,
    setVersion: num(reply.setVersion),
    me,
    primary,
    // mongos answers hello with msg: "isdbgrid".
    mongos: reply.msg === 'isdbgrid' ? true : undefined,
    minWireVersion: num(reply.minWireVersion),
    maxWireVersion,
    maxBsonObjectSize: num(reply.maxBsonObjectSize),
    maxMessageSizeBytes: num(reply.maxMessageSizeBytes),
    readOnly: bool(reply.readOnly),
    logicalSessionTimeoutMinutes: num(reply.logicalSessionTimeoutMinutes),
  };
  dropUndefined(metadata);

  const peers: Peer[] = [];
  const seen = new Set<string>();
  const add = (address: string, role: string, field: string): void => {
    if (peers.length >= REPLY_LIMITS.maxPeers || address === me || seen.has(address)) return;
    seen.add(address);
    const parsed = parseHostPort(address);
    const peer: Peer = { host: parsed.host, role, source: `${source}: ${field}` };
    if (parsed.port !== undefined) peer.port = parsed.port;
    peers.push(peer);
  };
  for (const h of strings(reply.hosts, REPLY_LIMITS.maxPeers)) {
    if (h === primary) add(h, 'primary', 'hosts, primary');
    else add(h, 'member', 'hosts');
  }
  for (const h of strings(reply.passives, REPLY_LIMITS.maxPeers)) add(h, 'passive', 'passives');
  for (const h of strings(reply.arbiters, REPLY_LIMITS.maxPeers)) add(h, 'arbiter', 'arbiters');
  if (primary !== undefined) add(primary, 'primary', 'primary');
  return { metadata, peers, maxWireVersion };
}

/** `host:port`, `[v6]:port` or a bare host as MongoDB writes replica-set members. */
export function parseHostPort(address: string): { host: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(address);
  if (v6) return withPort(v6[1]!, v6[2]);
  const m = /^([^:]+):([0-9]{1,5})$/.exec(address);
  if (m) return withPort(m[1]!, m[2]);
  return { host: address };
}

function withPort(host: string, port: string | undefined): { host: string; port?: number } {
  const n = port === undefined ? undefined : Number(port);
  return n !== undefined && n > 0 && n <= 65535 ? { host, port: n } : { host };
}

// ---------------------------------------------------------------------------------------------------------
// buildInfo

export interface BuildFacts {
  product: string;
  version: string | undefined;
  metadata: Record<string, unknown>;
}

/**
 * Product and version from buildInfo. Compatible servers keep a MongoDB `version` for drivers and add their
 * own: FerretDB `ferretdbVersion` (then `version` is the MongoDB version it claims), Percona Server for
 * MongoDB `psmdbVersion`.
 */
export function parseBuildInfo(reply: Document): BuildFacts {
  const mongoVersion = str(reply.version, 64);
  const ferret = str(reply.ferretdbVersion, 64);
  const psmdb = str(reply.psmdbVersion, 64);
  const openssl = isDoc(reply.openssl) ? str(reply.openssl.running) : undefined;
  const metadata: Record<string, unknown> = {
    gitVersion: str(reply.gitVersion, 64),
    modules: Array.isArray(reply.modules) ? strings(reply.modules, 16) : undefined,
    allocator: str(reply.allocator, 64),
    javascriptEngine: str(reply.javascriptEngine, 64),
    bits: num(reply.bits),
    debug: bool(reply.debug),
    openssl,
    storageEngines: Array.isArray(reply.storageEngines) ? strings(reply.storageEngines, 16) : undefined,
  };
  if (ferret !== undefined || psmdb !== undefined) metadata.mongodbVersion = mongoVersion;
  dropUndefined(metadata);
  if (ferret !== undefined) return { product: 'FerretDB', version: ferret, metadata };
  if (psmdb !== undefined) return { product: 'Percona Server for MongoDB', version: psmdb, metadata };
  return { product: 'MongoDB', version: mongoVersion, metadata };
}

// ---------------------------------------------------------------------------------------------------------
// listDatabases, listCollections, count

export interface DatabaseEntry {
  name: string;
  sizeOnDisk: number | undefined;
  empty: boolean | undefined;
}

/** listDatabases' `databases`, biggest first (ties by name), at most `maxDatabases`. */
export function parseDatabases(reply: Document): { databases: DatabaseEntry[]; total: number; totalSize: number | undefined } {
  const raw: unknown[] = Array.isArray(reply.databases) ? reply.databases : [];
  const databases: DatabaseEntry[] = [];
  for (const d of raw) {
    if (!isDoc(d)) continue;
    const name = str(d.name, 128);
    if (name === undefined) continue;
    databases.push({ name, sizeOnDisk: num(d.sizeOnDisk), empty: bool(d.empty) });
  }
  databases.sort((a, b) => (b.sizeOnDisk ?? -1) - (a.sizeOnDisk ?? -1) || a.name.localeCompare(b.name));
  return { databases: databases.slice(0, REPLY_LIMITS.maxDatabases), total: databases.length, totalSize: num(reply.totalSize) };
}

export interface CollectionEntry {
  name: string;
  /** `collection`, `view` or `timeseries`; absent before MongoDB 3.4 and on FerretDB, where all are collections. */
  type?: string;
}

/** listCollections' cursor.firstBatch, at most `max` entries; `truncated` when the server had more. */
export function parseCollections(reply: Document, max: number): { collections: CollectionEntry[]; truncated: boolean } {
  const cursor = isDoc(reply.cursor) ? reply.cursor : {};
  const batch: unknown[] = Array.isArray(cursor.firstBatch) ? cursor.firstBatch : [];
  const collections: CollectionEntry[] = [];
  for (const c of batch) {
    if (!isDoc(c)) continue;
    const name = str(c.name, 256);
    if (name === undefined) continue;
    const type = str(c.type, 32);
    collections.push(type === undefined ? { name } : { name, type });
  }
  // A non-zero cursor id means more batches wait on the server (we never send getMore).
  const truncated = collections.length > max || (num(cursor.id) ?? 0) !== 0;
  return { collections: collections.slice(0, max), truncated };
}

/**
 * Whether `count` on this entry is cheap and meaningful: a plain collection (counted from its metadata),
 * not a view or time-series collection (counting those runs their pipeline) and not a `system.*` collection.
 */
export function countable(c: CollectionEntry): boolean {
  return (c.type === undefined || c.type === 'collection') && !c.name.startsWith('system.');
}

/** The `n` of a count reply. */
export function parseCount(reply: Document): number | undefined {
  const n = num(reply.n);
  return n !== undefined && n >= 0 ? n : undefined;
}

function dropUndefined(o: Record<string, unknown>): void {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
}
