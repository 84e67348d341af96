/**
 * CouchDB's HTTP API replies, parsed: pure functions over the bytes of one response body (no sockets).
 * The HTTP framing itself is undici's job (src/net/http.ts); this file turns the JSON bodies of
 * `GET /`, `GET /_all_dbs`, `GET /{db}`, `GET /_membership`, `GET /_up` and CouchDB's error replies
 * into small typed values, and refuses anything that is not CouchDB-shaped with a `ProtocolError`.
 *
 * Hostile input: bodies are already capped by the read cap before they get here; on top of that every
 * string kept is clipped, every list kept is bounded, numbers must be non-negative safe integers, and
 * invalid UTF-8, invalid JSON or a wrong shape is a `ProtocolError`, never another exception.
 */
import { ProtocolError } from '../../core/errors.js';
import { isJsonObject, parseJsonBody } from '../json-body.js';

export const COUCHDB_LIMITS = {
  /** Database names kept in the result (the count is always the full count). */
  keptDbNames: 500,
  /** Names asked of `_all_dbs` (`?limit=`, one more to tell "more than this"); keeps the reply far below the read cap. */
  listedDbNames: 10_000,
  /** Databases whose info (`GET /{db}`) one probe reads. */
  inspectedDbs: 20,
  /** Node names kept from each `_membership` list. */
  nodes: 100,
  /** Feature names kept from the welcome. */
  features: 64,
  /** Longest string kept from any field (versions, uuids, vendor names, feature and node names). */
  fieldChars: 256,
  /** Longest database name the probe puts in a request line (CouchDB's own names are far shorter). */
  dbNameChars: 256,
} as const;

/** The database-name rule of CouchDB's `PUT /{db}` docs: `^[a-z][a-z0-9_$()+/-]*$`. System databases (`_users`) fail it. */
const DB_NAME = /^[a-z][a-z0-9_$()+/-]*$/;

/** The welcome of `GET /`, reduced to what identifies the server. */
export interface CouchWelcome {
  /** Product as derived from the welcome key and `vendor.name` (see `productOf`). */
  product: string;
  /** The welcome text itself (`"Welcome"`, PouchDB's `"Welcome!"`). */
  welcome: string;
  /** `version`: CouchDB's version; for Cloudant the CouchDB version it is compatible with; for PouchDB Server express-pouchdb's. */
  version?: string;
  /** `git_sha` (CouchDB 2.x+). */
  gitSha?: string;
  /** `uuid`: the server's (CouchDB 1.x, 3.x, PouchDB Server) UUID; absent from 2.x welcomes. */
  uuid?: string;
  /** `features` (CouchDB 2.x+, Cloudant). */
  features: string[];
  /** `features_flags` (Cloudant). */
  featureFlags: string[];
  /** `vendor` object: `name`, `version` (Cloudant's build number, PouchDB Server's version), `variant` (Cloudant `paas`/`local`). */
  vendor?: { name?: string; version?: string; variant?: string };
  /** `cloudant_build` (Cloudant before 2.0). */
  cloudantBuild?: string;
  /** `pouchdb-adapters` (PouchDB Server). */
  pouchdbAdapters?: string[];
}

/** `GET /{db}`: the counts and sizes a notice needs. Fields a server leaves out stay undefined. */
export interface CouchDbInfo {
  /** `db_name`. */
  name?: string;
  /** `doc_count`: live documents. */
  docCount?: number;
  /** `doc_del_count`: deleted documents (tombstones); PouchDB Server does not report it. */
  docDelCount?: number;
  /** `sizes.file` / `sizes.external` / `sizes.active` in bytes (CouchDB 2.x+). */
  sizes?: { file?: number; external?: number; active?: number };
  /** `disk_size` / `data_size` in bytes (CouchDB 1.x). */
  diskSize?: number;
  dataSize?: number;
  /** `cluster.q/n/w/r`: shards, replicas, write and read quorum (CouchDB 2.x+). */
  cluster?: { q?: number; n?: number; w?: number; r?: number };
  /** `props.partitioned` (CouchDB 3.x). */
  partitioned?: boolean;
  /** `adapter` (PouchDB Server's storage adapter, e.g. `memory`, `leveldb`). */
  adapter?: string;
}

/** `GET /_membership` (CouchDB 2.x+, Cloudant). */
export interface CouchMembership {
  /** `all_nodes`: every node this node knows about. */
  allNodes: string[];
  /** `cluster_nodes`: the nodes configured in the cluster. */
  clusterNodes: string[];
}

/** CouchDB's error reply `{"error": "...", "reason": "..."}`. */
export interface CouchErrorReply {
  error: string;
  reason?: string;
}

type JsonObject = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v.slice(0, COUCHDB_LIMITS.fieldChars) : undefined;
}

function strings(v: unknown, max: number): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const item of v) {
    if (out.length >= max) break;
    if (typeof item === 'string') out.push(item.slice(0, COUCHDB_LIMITS.fieldChars));
  }
  return out;
}

/** A count or a size: only non-negative safe integers are believed. */
function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function withoutUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * `GET /` → the welcome. A CouchDB-family server names itself with a welcome key: `couchdb` (Apache CouchDB,
 * Cloudant, Couchbase Sync Gateway …), `express-pouchdb` (PouchDB Server) or `CouchbaseLite`.
 * Anything else is not CouchDB: `ProtocolError`.
 */
export function parseWelcome(value: unknown): CouchWelcome {
  if (!isJsonObject(value)) throw new ProtocolError('GET / reply is not a JSON object, so not a CouchDB welcome');
  const welcome = str(value.couchdb) ?? str(value['express-pouchdb']) ?? str(value.CouchbaseLite);
  if (welcome === undefined) {
    const keys = Object.keys(value).slice(0, 5).join(', ');
    throw new ProtocolError(`GET / reply has no CouchDB welcome key (keys: ${keys || 'none'})`);
  }
  const vendorObj = isJsonObject(value.vendor) ? value.vendor : undefined;
  const vendor = vendorObj
    ? withoutUndefined({ name: str(vendorObj.name), version: str(vendorObj.version), variant: str(vendorObj.variant) })
    : undefined;
  const out: CouchWelcome = {
    product: productOf(value, vendor?.name),
    welcome,
    features: strings(value.features, COUCHDB_LIMITS.features),
    featureFlags: strings(value.features_flags, COUCHDB_LIMITS.features),
  };
  const version = str(value.version);
  if (version !== undefined) out.version = version;
  const gitSha = str(value.git_sha);
  if (gitSha !== undefined) out.gitSha = gitSha;
  const uuid = str(value.uuid);
  if (uuid !== undefined) out.uuid = uuid;
  if (vendor !== undefined) out.vendor = vendor;
  const build = str(value.cloudant_build);
  if (build !== undefined) out.cloudantBuild = build;
  if (Array.isArray(value['pouchdb-adapters'])) out.pouchdbAdapters = strings(value['pouchdb-adapters'], COUCHDB_LIMITS.features);
  return out;
}

/**
 * The product behind a welcome: PouchDB Server (`express-pouchdb` key, vendor "PouchDB authors"),
 * IBM Cloudant (vendor "IBM Cloudant", or `cloudant_build` before Cloudant 2.0), Couchbase Lite
 * (`CouchbaseLite` key), Apache CouchDB (vendor "The Apache Software Foundation", or no vendor as in
 * CouchDB 0.x/1.0); any other vendor is named as the server names itself.
 */
function productOf(value: JsonObject, vendorName: string | undefined): string {
  if (value['express-pouchdb'] !== undefined || /pouchdb/i.test(vendorName ?? '')) return 'PouchDB Server';
  if (/cloudant/i.test(vendorName ?? '') || value.cloudant_build !== undefined) return 'IBM Cloudant';
  if (value.CouchbaseLite !== undefined) return 'Couchbase Lite';
  if (vendorName === undefined || vendorName === '' || vendorName === 'The Apache Software Foundation') return 'Apache CouchDB';
  return vendorName;
}

/** `GET /_all_dbs` → every database name, in the server's order. A non-array or a non-string entry is a `ProtocolError`. */
export function parseAllDbs(value: unknown): string[] {
  if (!Array.isArray(value)) throw new ProtocolError('GET /_all_dbs reply is not a JSON array');
  const names: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'string') throw new ProtocolError(`GET /_all_dbs entry ${i} is ${v === null ? 'null' : typeof v}, not a database name`);
    names.push(v);
  }
  return names;
}

/**
 * Whether a name from the server's own `_all_dbs` may go into a request line: CouchDB's name rule
 * and a length bound. Anything else (system databases, a hostile server's `../_config` or control
 * characters) is never requested.
 */
export function isInspectableDbName(name: string): boolean {
  return name.length <= COUCHDB_LIMITS.dbNameChars && DB_NAME.test(name);
}

/** The request path of `GET /{db}`; `/` inside a name is encoded (`a/b` → `/a%2Fb`), as CouchDB expects. */
export function dbPath(name: string): string {
  if (!isInspectableDbName(name)) throw new ProtocolError(`Refusing to request database ${JSON.stringify(name.slice(0, 64))}: not a valid CouchDB name`);
  return `/${encodeURIComponent(name)}`;
}

/** `GET /{db}` → counts and sizes. A body that is not an object, or has neither `db_name` nor `doc_count`, is a `ProtocolError`. */
export function parseDbInfo(value: unknown): CouchDbInfo {
  if (!isJsonObject(value)) throw new ProtocolError('Database info is not a JSON object');
  if (value.db_name === undefined && value.doc_count === undefined) {
    throw new ProtocolError('Database info has neither db_name nor doc_count');
  }
  const info: CouchDbInfo = {
    name: str(value.db_name),
    docCount: count(value.doc_count),
    docDelCount: count(value.doc_del_count),
    diskSize: count(value.disk_size),
    dataSize: count(value.data_size),
    adapter: str(value.adapter),
  };
  if (isJsonObject(value.sizes)) {
    info.sizes = withoutUndefined({ file: count(value.sizes.file), external: count(value.sizes.external), active: count(value.sizes.active) });
  }
  if (isJsonObject(value.cluster)) {
    const c = value.cluster;
    info.cluster = withoutUndefined({ q: count(c.q), n: count(c.n), w: count(c.w), r: count(c.r) });
  }
  if (isJsonObject(value.props) && typeof value.props.partitioned === 'boolean') info.partitioned = value.props.partitioned;
  return withoutUndefined(info);
}

/** `GET /_membership` → node names. Neither list present is a `ProtocolError`. */
export function parseMembership(value: unknown): CouchMembership {
  if (!isJsonObject(value) || (!Array.isArray(value.all_nodes) && !Array.isArray(value.cluster_nodes))) {
    throw new ProtocolError('GET /_membership reply has neither all_nodes nor cluster_nodes');
  }
  return {
    allNodes: strings(value.all_nodes, COUCHDB_LIMITS.nodes),
    clusterNodes: strings(value.cluster_nodes, COUCHDB_LIMITS.nodes),
  };
}

/**
 * The host part of an Erlang node name (`couchdb@10.0.0.5` → `10.0.0.5`, `dbcore@db1.example.net` →
 * `db1.example.net`). CouchDB's unconfigured default `nonode@nohost` and names without a host name no peer.
 */
export function nodeHost(node: string): string | undefined {
  const at = node.lastIndexOf('@');
  const host = at >= 0 ? node.slice(at + 1) : '';
  if (host === '' || host === 'nohost' || !/^[A-Za-z0-9._:[\]-]+$/.test(host)) return undefined;
  return host;
}

/** CouchDB's `{"error": …, "reason": …}` from any body, or undefined when the body is not one. Never throws. */
export function parseErrorReply(body: Uint8Array): CouchErrorReply | undefined {
  let value: unknown;
  try {
    value = parseJsonBody(body, 'Error reply');
  } catch {
    return undefined;
  }
  if (!isJsonObject(value)) return undefined;
  const error = str(value.error);
  if (error === undefined) return undefined;
  const reason = str(value.reason);
  return reason === undefined ? { error } : { error, reason };
}

/** `GET /_up` → `status` (`ok`, or `maintenance_mode`/`nolb` with a 404), or undefined for any other body. Never throws. */
export function parseUpStatus(body: Uint8Array): string | undefined {
  try {
    const value = parseJsonBody(body, 'GET /_up reply');
    return isJsonObject(value) ? str(value.status) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CouchDB's `Server` header: `CouchDB/3.2.2-ea382cf (Erlang OTP/25)` → version `3.2.2-ea382cf`;
 * `CouchDB (Erlang/OTP)` → no version. Undefined when the header does not name CouchDB.
 */
export function parseServerHeader(header: string | undefined): { version?: string } | undefined {
  const m = /^CouchDB(?:\/([^\s()]{1,64}))?(?:\s|$)/.exec(header ?? '');
  if (!m) return undefined;
  return m[1] === undefined ? {} : { version: m[1] };
}

/** A reply body as JSON; see `parseJsonBody`. */
export { parseJsonBody as parseJson };
