/**
 * The replies of the Elasticsearch/OpenSearch REST API (and of Kibana in front of it) that the probe reads,
 * as pure functions over response bytes: `GET /`, `GET /_cat/indices`, `GET /_nodes`, `GET /_cluster/health`,
 * error bodies, and Kibana's `GET /api/status`. No sockets here.
 *
 * Hostile input: every body is at most the read cap (HTTP layer), but a small body can still be expensive to
 * parse: a deeply nested JSON value is refused before `JSON.parse` (depth scan), the index listing is walked
 * one object at a time and only the largest `maxIndicesKept` are kept (memory stays bounded whatever the count),
 * node lists and strings are capped, and any reply of the wrong shape is a `ProtocolError`.
 */
import { ProtocolError } from '../../core/errors.js';
import { isJsonObject, parseJsonText } from '../json-body.js';

export const ES_LIMITS = {
  /** Deeper than any reply we read (cat/nodes/health/root/error bodies nest 5 levels at most). */
  maxDepth: 32,
  /** Indices kept in metadata, the largest first; totals still cover every index. */
  maxIndicesKept: 500,
  /** One `_cat/indices` entry is ~100 bytes; a larger "entry" is not one. */
  maxIndexEntryBytes: 64 * 1024,
  /** Nodes read from `_nodes` (peers and metadata); the count still covers every node. */
  maxNodes: 256,
  /** Strings copied from a reply into a result. */
  maxString: 256,
} as const;

/** `GET /`: the cluster's self-description. Field names are the reply's, camelCased. */
export interface RootInfo {
  /** `version.number`. */
  version: string;
  /** `name`: this node's name. */
  nodeName?: string;
  clusterName?: string;
  clusterUuid?: string;
  /** `version.distribution`: `opensearch` on OpenSearch, absent on Elasticsearch. */
  distribution?: string;
  /** `version.build_flavor` (`default`/`oss`, Elasticsearch 6.3+). */
  buildFlavor?: string;
  buildType?: string;
  buildHash?: string;
  buildDate?: string;
  luceneVersion?: string;
  tagline?: string;
}

export type EsProduct = 'Elasticsearch' | 'OpenSearch';

/** One row of `GET /_cat/indices?format=json&bytes=b&h=health,status,index,docs.count,store.size`. */
export interface IndexInfo {
  name: string;
  health?: string;
  status?: string;
  /** `docs.count`; null when the index is closed or the value is not a count. */
  docs: number | null;
  /** `store.size` in bytes (`bytes=b`); null when unknown. */
  bytes: number | null;
}

export interface CatIndices {
  /** The largest indices by store size (then by name), at most `maxIndicesKept`. */
  indices: IndexInfo[];
  /** Every index listed, kept or not. */
  count: number;
  totalDocs: number;
  totalBytes: number;
  /** True when more indices were listed than kept. */
  truncated: boolean;
}

/** The `h=` columns the probe asks `_cat/indices` for, in this order (the text-table fallback relies on it). */
export const CAT_INDICES_COLUMNS = ['health', 'status', 'index', 'docs.count', 'store.size'] as const;

export interface NodeInfo {
  /** The node id (the key under `nodes`). */
  id: string;
  name?: string;
  /** `host`: publish host name or address. */
  host?: string;
  ip?: string;
  /** `roles` (Elasticsearch 5+/OpenSearch); empty when the reply has none. */
  roles: string[];
  /** `http.publish_address` (5+) or `http_address` (1.x/2.x), as the server wrote it. */
  httpAddress?: string;
  /** `transport_address`, as the server wrote it. */
  transportAddress?: string;
  version?: string;
}

export interface NodesInfo {
  nodes: NodeInfo[];
  /** Every node listed, kept or not. */
  count: number;
}

export interface ClusterHealth {
  clusterName?: string;
  /** `green`, `yellow` or `red`. */
  status?: string;
  numberOfNodes?: number;
  numberOfDataNodes?: number;
  activePrimaryShards?: number;
  activeShards?: number;
  unassignedShards?: number;
}

/** What an error reply says: Elasticsearch's `error.type`/`error.reason`, hapi's `error`/`message`, or its text. */
export interface ErrorInfo {
  type?: string;
  reason?: string;
  /** The body as printable text when it is not a JSON error object. */
  text?: string;
}

/** Kibana's `GET /api/status` (also OpenSearch Dashboards'). */
export interface KibanaStatus {
  name?: string;
  uuid?: string;
  version?: string;
  /** `status.overall.level` (Kibana 8+: `available`, `degraded` …) or `status.overall.state` (7.x: `green` …). */
  overall?: string;
  /**
   * True for the reply an unauthenticated client gets when Kibana security is on: only `status.overall.level`
   * (Kibana's getRedactedStatusResponse in src/core/packages/status/server-internal/src/routes/status.ts).
   */
  redacted: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Decode a body as UTF-8 (invalid sequences become U+FFFD; the reply is evidence, not trusted text). */
export function bodyText(body: Uint8Array): string {
  return decoder.decode(body);
}

/** Clip a server-supplied string so no single field can bloat a result. */
function clip(s: string): string {
  return s.length > ES_LIMITS.maxString ? s.slice(0, ES_LIMITS.maxString - 1) + '…' : s;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? clip(v) : undefined;
}

/** A non-negative safe integer from a JSON number or a decimal string (cat APIs write counts as strings). */
export function toCount(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : null;
  if (typeof v === 'string' && /^[0-9]{1,15}$/.test(v)) return Number(v);
  return null;
}

function optCount(v: unknown): number | undefined {
  return toCount(v) ?? undefined;
}


/** Parse a JSON body after the depth check; `what` names the reply in the error. */
export function parseJson(body: Uint8Array | string, what: string): unknown {
  return parseJsonText(typeof body === 'string' ? body : bodyText(body), what, ES_LIMITS.maxDepth);
}

/** `GET /` of Elasticsearch (any version) or OpenSearch: an object whose `version.number` is a string. */
export function parseRootInfo(body: Uint8Array): RootInfo {
  const json = parseJson(body, 'GET / reply');
  if (!isJsonObject(json) || !isJsonObject(json.version) || typeof json.version.number !== 'string') {
    throw new ProtocolError('GET / reply is JSON but not Elasticsearch/OpenSearch cluster info (no version.number)');
  }
  const v = json.version;
  const info: RootInfo = { version: clip(v.number as string) };
  const fields: [keyof RootInfo, unknown][] = [
    ['nodeName', json.name],
    ['clusterName', json.cluster_name],
    ['clusterUuid', json.cluster_uuid],
    ['distribution', v.distribution],
    ['buildFlavor', v.build_flavor],
    ['buildType', v.build_type],
    ['buildHash', v.build_hash],
    ['buildDate', v.build_date],
    ['luceneVersion', v.lucene_version],
    ['tagline', json.tagline],
  ];
  for (const [key, value] of fields) {
    const s = str(value);
    if (s !== undefined) info[key] = s;
  }
  return info;
}

/** OpenSearch says so in `version.distribution`; Elasticsearch has no such field. */
export function productFromRoot(info: RootInfo): EsProduct {
  return info.distribution?.toLowerCase() === 'opensearch' ? 'OpenSearch' : 'Elasticsearch';
}

/** Bounded "largest first" selection: keeps at most `max` entries while seeing any number of them. */
class TopIndices {
  private kept: IndexInfo[] = [];
  constructor(private readonly max: number) {}

  add(entry: IndexInfo): void {
    this.kept.push(entry);
    if (this.kept.length >= this.max * 2) this.trim();
  }

  result(): IndexInfo[] {
    this.trim();
    return this.kept;
  }

  private trim(): void {
    this.kept.sort((a, b) => (b.bytes ?? -1) - (a.bytes ?? -1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (this.kept.length > this.max) this.kept.length = this.max;
  }
}

function indexEntry(raw: Record<string, unknown>): IndexInfo | undefined {
  const name = str(raw.index);
  if (name === undefined || name === '') return undefined;
  const entry: IndexInfo = { name, docs: toCount(raw['docs.count']), bytes: toCount(raw['store.size']) };
  const health = str(raw.health);
  const status = str(raw.status);
  if (health !== undefined) entry.health = health;
  if (status !== undefined) entry.status = status;
  return entry;
}

/**
 * `GET /_cat/indices?format=json&bytes=b&h=…`: a JSON array of flat objects whose values are strings
 * (Elasticsearch 5+, OpenSearch). Versions before 5.0 ignore `format=json` and answer the text table, whose
 * columns follow `h=` (see `CAT_INDICES_COLUMNS`); both are read. The array is walked one object at a time,
 * so memory holds the kept indices, not the listing.
 */
export function parseCatIndices(body: Uint8Array, maxKept: number = ES_LIMITS.maxIndicesKept): CatIndices {
  const text = bodyText(body);
  const first = text.trimStart()[0];
  const top = new TopIndices(maxKept);
  const totals = { count: 0, totalDocs: 0, totalBytes: 0 };
  const add = (entry: IndexInfo | undefined): void => {
    if (!entry) return;
    totals.count++;
    totals.totalDocs += entry.docs ?? 0;
    totals.totalBytes += entry.bytes ?? 0;
    top.add(entry);
  };
  if (first === '[') forEachArrayObject(text, 'GET /_cat/indices reply', (obj) => add(indexEntry(obj)));
  else if (first === '{') throw new ProtocolError('GET /_cat/indices reply is a JSON object, not a list of indices');
  else for (const line of text.split('\n')) add(textIndexEntry(line));
  const indices = top.result();
  return { indices, ...totals, truncated: totals.count > indices.length };
}

/**
 * Call `each` with every element of a top-level JSON array of objects, parsing one element at a time.
 * Anything else at the top level (a scalar element, an unterminated array, trailing bytes) is a `ProtocolError`.
 */
export function forEachArrayObject(text: string, what: string, each: (obj: Record<string, unknown>) => void): void {
  let i = skipSpace(text, 0);
  if (text[i] !== '[') throw new ProtocolError(`${what} is not a JSON array`);
  i = skipSpace(text, i + 1);
  if (text[i] === ']') {
    if (skipSpace(text, i + 1) !== text.length) throw new ProtocolError(`${what} has bytes after the JSON array`);
    return;
  }
  for (;;) {
    if (text[i] !== '{') throw new ProtocolError(`${what} has a non-object element at offset ${i}`);
    const end = objectEnd(text, i, what);
    if (end - i > ES_LIMITS.maxIndexEntryBytes) throw new ProtocolError(`${what} has an element larger than ${ES_LIMITS.maxIndexEntryBytes} bytes`);
    each(parseJson(text.slice(i, end), what) as Record<string, unknown>);
    i = skipSpace(text, end);
    if (text[i] === ',') {
      i = skipSpace(text, i + 1);
      continue;
    }
    if (text[i] === ']') {
      if (skipSpace(text, i + 1) !== text.length) throw new ProtocolError(`${what} has bytes after the JSON array`);
      return;
    }
    throw new ProtocolError(`${what} is a truncated or malformed JSON array at offset ${i}`);
  }
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  return i;
}

/** The offset just past the object that starts at `start`, honouring strings; bounded by the nesting limit. */
function objectEnd(text: string, start: number, what: string): number {
  let depth = 0;
  let inString = false;
  const limit = Math.min(text.length, start + ES_LIMITS.maxIndexEntryBytes + 1);
  for (let i = start; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > ES_LIMITS.maxDepth) throw new ProtocolError(`${what} nests deeper than ${ES_LIMITS.maxDepth} levels`);
    } else if (c === 0x7d || c === 0x5d) {
      if (--depth === 0) return i + 1;
    }
  }
  if (limit - start > ES_LIMITS.maxIndexEntryBytes) {
    throw new ProtocolError(`${what} has an element larger than ${ES_LIMITS.maxIndexEntryBytes} bytes`);
  }
  throw new ProtocolError(`${what} ends inside an element (truncated JSON)`);
}

/**
 * One line of the pre-5.0 text table in `CAT_INDICES_COLUMNS` order: `yellow open customers 12 5432`.
 * A closed index has no health, doc count or size (`close customers`).
 */
function textIndexEntry(line: string): IndexInfo | undefined {
  const cols = line.trim().split(/\s+/);
  if (cols.length === 0 || cols[0] === '') return undefined;
  if (cols.length >= 5) {
    return indexEntry({ health: cols[0], status: cols[1], index: cols[2], 'docs.count': cols[3], 'store.size': cols[4] });
  }
  const at = cols.findIndex((c) => c === 'open' || c === 'close');
  if (at === -1 || at + 1 >= cols.length) throw new ProtocolError(`GET /_cat/indices text line is not an index row: ${JSON.stringify(clip(line))}`);
  return indexEntry({ status: cols[at], index: cols[at + 1], 'docs.count': cols[at + 2], 'store.size': cols[at + 3] });
}

/**
 * `GET /_nodes?filter_path=…`: `{"nodes":{"<id>":{"name","host","ip","roles","transport_address",
 * "http":{"publish_address"}, "version"}}}`; 1.x/2.x write `http_address` at node level instead of `http`.
 * `{}` (filter_path matched nothing) is an empty list.
 */
export function parseNodes(body: Uint8Array): NodesInfo {
  const json = parseJson(body, 'GET /_nodes reply');
  if (!isJsonObject(json)) throw new ProtocolError('GET /_nodes reply is not a JSON object');
  if (json.nodes === undefined) return { nodes: [], count: 0 };
  if (!isJsonObject(json.nodes)) throw new ProtocolError('GET /_nodes reply has no nodes object');
  const nodes: NodeInfo[] = [];
  let count = 0;
  for (const [id, raw] of Object.entries(json.nodes)) {
    count++;
    if (nodes.length >= ES_LIMITS.maxNodes || !isJsonObject(raw)) continue;
    const node: NodeInfo = { id: clip(id), roles: [] };
    const name = str(raw.name);
    const host = str(raw.host);
    const ip = str(raw.ip);
    const version = str(raw.version);
    const transport = str(raw.transport_address);
    const http = isJsonObject(raw.http) ? str(raw.http.publish_address) : str(raw.http_address);
    if (name !== undefined) node.name = name;
    if (host !== undefined) node.host = host;
    if (ip !== undefined) node.ip = ip;
    if (version !== undefined) node.version = version;
    if (transport !== undefined) node.transportAddress = transport;
    if (http !== undefined) node.httpAddress = http;
    if (Array.isArray(raw.roles)) node.roles = raw.roles.slice(0, 32).filter((r): r is string => typeof r === 'string').map(clip);
    nodes.push(node);
  }
  return { nodes, count };
}

/**
 * A publish/transport address as the server writes it: `1.2.3.4:9200`, `host/1.2.3.4:9200` (publish host
 * was a name), `[::1]:9200`, or 1.x's `inet[/1.2.3.4:9300]`. Undefined when it is none of these.
 */
export function parseAddress(raw: string): { host: string; port: number } | undefined {
  let s = raw.trim();
  const inet = /^inet\[(.*)\]$/.exec(s);
  if (inet) s = inet[1]!;
  const slash = s.lastIndexOf('/');
  if (slash !== -1) s = s.slice(slash + 1);
  const m = /^\[([0-9a-fA-F:.%a-zA-Z]+)\]:([0-9]{1,5})$/.exec(s) ?? /^([^:\s[\]]+):([0-9]{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535 || m[1]!.length > 255) return undefined;
  return { host: m[1]!, port };
}

/** `GET /_cluster/health`. */
export function parseClusterHealth(body: Uint8Array): ClusterHealth {
  const json = parseJson(body, 'GET /_cluster/health reply');
  if (!isJsonObject(json) || typeof json.status !== 'string') throw new ProtocolError('GET /_cluster/health reply has no status');
  const health: ClusterHealth = {};
  const clusterName = str(json.cluster_name);
  if (clusterName !== undefined) health.clusterName = clusterName;
  health.status = clip(json.status);
  const counts: [keyof ClusterHealth, unknown][] = [
    ['numberOfNodes', json.number_of_nodes],
    ['numberOfDataNodes', json.number_of_data_nodes],
    ['activePrimaryShards', json.active_primary_shards],
    ['activeShards', json.active_shards],
    ['unassignedShards', json.unassigned_shards],
  ];
  for (const [key, value] of counts) {
    const n = optCount(value);
    if (n !== undefined) (health as Record<string, unknown>)[key] = n;
  }
  return health;
}

/**
 * An error reply: Elasticsearch 5+/OpenSearch `{"error":{"type","reason",…},"status":N}`, Elasticsearch 1.x/2.x
 * `{"error":"AuthenticationException[missing authentication token …]","status":401}`, hapi/Kibana
 * `{"statusCode":401,"error":"Unauthorized","message":"…"}`, or anything else as text (OpenSearch's security
 * plugin answers a bare `Unauthorized`). Never throws: an error body is evidence whatever its shape.
 */
export function parseErrorBody(body: Uint8Array): ErrorInfo {
  const text = bodyText(body.subarray(0, 64 * 1024)).trim();
  let json: unknown;
  try {
    json = text.startsWith('{') ? parseJson(text, 'error reply') : undefined;
  } catch {
    json = undefined;
  }
  if (isJsonObject(json)) {
    if (isJsonObject(json.error)) {
      const info: ErrorInfo = {};
      const type = str(json.error.type);
      const reason = str(json.error.reason);
      if (type !== undefined) info.type = type;
      if (reason !== undefined) info.reason = reason;
      if (type !== undefined || reason !== undefined) return info;
    }
    if (typeof json.error === 'string') {
      const info: ErrorInfo = { type: clip(json.error) };
      const message = str(json.message);
      if (message !== undefined) info.reason = message;
      return info;
    }
  }
  return text === '' ? {} : { text: clip(text) };
}

/** Kibana's `GET /api/status`: full (name, uuid, version, status) or redacted (`status.overall.level` only). */
export function parseKibanaStatus(body: Uint8Array): KibanaStatus {
  const json = parseJson(body, 'GET /api/status reply');
  if (!isJsonObject(json) || !isJsonObject(json.status)) throw new ProtocolError('GET /api/status reply has no status object');
  const overallRaw = json.status.overall;
  const status: KibanaStatus = { redacted: false };
  if (isJsonObject(overallRaw)) {
    const overall = str(overallRaw.level) ?? str(overallRaw.state);
    if (overall !== undefined) status.overall = overall;
  }
  const name = str(json.name);
  const uuid = str(json.uuid);
  const version = isJsonObject(json.version) ? str(json.version.number) : undefined;
  if (name !== undefined) status.name = name;
  if (uuid !== undefined) status.uuid = uuid;
  if (version !== undefined) status.version = version;
  status.redacted = name === undefined && uuid === undefined && version === undefined;
  return status;
}

export type KibanaProduct = 'Kibana' | 'OpenSearch Dashboards';

/**
 * Whether an HTTP reply comes from Kibana (or its fork OpenSearch Dashboards) rather than the search engine:
 * Kibana sets `kbn-name` (and `kbn-version`) on every response (src/core/…/lifecycle_handlers.ts), OpenSearch
 * Dashboards `osd-name`; and its `/` redirects into the app (`/app/kibana` 4–6.x, `/app/home` 7.x,
 * `/spaces/enter` 8.x, `/login?next=…` with security on — the last only counts together with a header).
 */
export function kibanaFromReply(status: number, headers: Readonly<Record<string, string>>): KibanaProduct | undefined {
  if (headers['osd-name'] !== undefined) return 'OpenSearch Dashboards';
  if (headers['kbn-name'] !== undefined) return 'Kibana';
  const location = headers.location ?? '';
  if (status >= 300 && status < 400 && /\/(?:app\/kibana|spaces\/enter)(?:[/?#]|$)/.test(location)) {
    return 'Kibana';
  }
  return undefined;
}
