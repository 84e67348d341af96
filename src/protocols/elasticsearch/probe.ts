/**
 * Elasticsearch / OpenSearch probe over HTTP (one module for both; Kibana and OpenSearch Dashboards in front of
 * them are recognised too). Only GET requests on the allow-list go out (see `ES_COMMANDS`): never a write, and
 * `_search` only when `ctx.sample` is set (inside `scope.authorized`; sample.ts).
 *
 * The conversation:
 * 1. `GET /` in plain HTTP. When the port speaks only TLS (the server closes the connection, or answers bytes
 *    that are not HTTP, or an HTTP 400 saying "plain HTTP to an HTTPS port"), `GET /` once more over TLS
 *    (certificate not verified); every later request uses what worked.
 * 2. A Kibana reply (`kbn-name`/`osd-name` header, or a redirect into `/app/kibana` / `/spaces/enter`) →
 *    `GET /api/status`, whose answer decides the verdict. Otherwise:
 * 3. `GET /` answered 200 with cluster info → `GET /_cat/indices`, `GET /_nodes` (filtered to addresses, names
 *    and roles) and `GET /_cluster/health` fill metadata and peers. 401/403 to `GET /` → credentials required,
 *    nothing more is asked. A cluster whose anonymous user holds only cluster privileges (`monitor`) answers
 *    `GET /`, nodes and health but refuses the index list: that refusal decides (`auth_required`).
 *
 * Result fields and their sources:
 * - `auth`: `open` when `GET /` answered 200 with cluster info and `GET /_cat/indices` did not refuse
 *   (Kibana: `GET /api/status` answered the full status); `auth_required` on 401/403 to `GET /` (or to
 *   `GET /_cat/indices` after an anonymous `GET /`; Kibana: 401/403 or the redacted status); `inconclusive`
 *   on any other HTTP status.
 * - `evidence`: the refusal as `GET /: HTTP 401 Unauthorized`, the `WWW-Authenticate` header and the error's
 *   `type: reason` from the body (or its text); when open, the cluster name, version and index totals.
 * - `product`: `OpenSearch` when `GET /` says `version.distribution: opensearch`, else `Elasticsearch`;
 *   on a refusal from the `x-elastic-product` header, the realm (`OpenSearch Security`, `Open Distro Security`
 *   → OpenSearch; `security`/`shield`/`Search Guard` → Elasticsearch) or an Elasticsearch error type; `Kibana` /
 *   `OpenSearch Dashboards` from their headers. Unset when a refusal names neither.
 * - `version`: `GET /` `version.number`; Kibana: `/api/status` `version.number`, else the `kbn-version` header.
 * - `metadata.tls`: whether the answer came over TLS; `metadata.plainHttpFailure`: how plain HTTP failed first.
 * - `metadata` from `GET /`: `clusterName`, `clusterUuid`, `nodeName`, `distribution`, `buildFlavor`,
 *   `buildType`, `buildHash`, `buildDate`, `luceneVersion`, `tagline`.
 * - `metadata` from `GET /_cat/indices`: `indices` (name, health, status, docs, bytes; the 500 largest by store
 *   size), `indexCount`, `totalDocs`, `totalBytes` (over every index listed), `indicesTruncated`.
 * - `metadata` from `GET /_nodes`: `nodes` (id, name, host, ip, roles, httpAddress, transportAddress, version;
 *   at most 256) and `nodeCount`. From `GET /_cluster/health`: `health` (status, node and shard counts).
 * - `metadata` on a refusal: `httpStatus`, `wwwAuthenticate`, `errorType`, `errorReason`; `rootAnonymous` when
 *   `GET /` had answered anonymously before `GET /_cat/indices` was refused.
 * - `metadata.kibana` (Kibana): `name`, `uuid`, `overall` from `/api/status`, `redacted` when only the level came.
 * - `inventory`: every index kept from `GET /_cat/indices` (kind `index`, records = docs.count, bytes = store size),
 *   totals records = totalDocs, bytes = totalBytes over every index listed; `truncated` when more were listed
 *   than kept.
 * - `sample`: with `ctx.sample` only, the redacted sample of the largest indices (`GET /{index}/_search`, see
 *   sample.ts); `metadata.sampling` its counts.
 * - `peers`: every node of `GET /_nodes`: its `http.publish_address` (role `member`) and its `transport_address`
 *   (role `transport`), the probed node included — a publish address is often an internal address the
 *   scanner could not see otherwise.
 */
import { ErrorCode, LockdownError } from '../../core/errors.js';
import { AuthVerdict, type Inventory, type Peer, type Probe, type ProbeResult } from '../../core/types.js';
import { type HttpResponse } from '../../net/http.js';
import { plainThenTls } from '../../net/http-tls-fallback.js';
import { printable, runProbe, type ProbeRun } from '../../net/probe-run.js';
import {
  CAT_INDICES_COLUMNS,
  kibanaFromReply,
  parseAddress,
  parseCatIndices,
  parseClusterHealth,
  parseErrorBody,
  parseKibanaStatus,
  parseNodes,
  parseRootInfo,
  productFromRoot,
  type CatIndices,
  type ErrorInfo,
  type KibanaProduct,
  type NodeInfo,
  type RootInfo,
} from './codec.js';
import { ES_SAMPLE_COMMANDS, sampleElasticsearch } from './sample.js';
import { describeError, describeReply } from './describe-reply.js';
import { recordKibanaStatus } from './kibana-status.js';

/** The allow-list: every request this module may send (method and path, query string not included). */
export const ES_COMMANDS = {
  root: 'GET /',
  catIndices: 'GET /_cat/indices',
  nodes: 'GET /_nodes',
  clusterHealth: 'GET /_cluster/health',
  kibanaStatus: 'GET /api/status',
  /** Sampling only (`ctx.sample`): a templated path, the index name from the server's own listing. */
  ...ES_SAMPLE_COMMANDS,
} as const;
type EsRequest = Exclude<keyof typeof ES_COMMANDS, keyof typeof ES_SAMPLE_COMMANDS>;

/** The exact request paths; `httpCommandName('GET', path)` of each is its allow-list name. */
export const ES_PATHS: Readonly<Record<EsRequest, string>> = {
  root: '/',
  // bytes=b: sizes as plain byte counts; h=: only the columns we read, in a fixed order (keeps the reply small).
  catIndices: `/_cat/indices?format=json&bytes=b&h=${CAT_INDICES_COLUMNS.join(',')}`,
  // filter_path keeps the reply to what peers need (a full _nodes reply is tens of KB per node).
  nodes:
    '/_nodes?filter_path=' +
    [
      'nodes.*.name',
      'nodes.*.host',
      'nodes.*.ip',
      'nodes.*.roles',
      'nodes.*.version',
      'nodes.*.http.publish_address',
      'nodes.*.http_address',
      'nodes.*.transport_address',
    ].join(','),
  clusterHealth: '/_cluster/health',
  kibanaStatus: '/api/status',
};

/** Peers kept from `_nodes` (two per node). */
const MAX_PEERS = 512;

export const elasticsearchProbe: Probe = {
  name: 'elasticsearch',
  defaultPorts: [9200],
  transport: 'http',
  description: 'Elasticsearch and OpenSearch REST API (and Kibana in front of it): cluster info and index list without credentials',
  allowedCommands: Object.values(ES_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(elasticsearchProbe, target, ctx, probeElasticsearch),
};

async function probeElasticsearch(run: ProbeRun): Promise<void> {
  const { res: root, tls, plainFailure } = await fetchRoot(run);
  run.result.metadata.tls = tls;
  if (plainFailure !== undefined) run.result.metadata.plainHttpFailure = printable(plainFailure, 256);
  const kibana = kibanaFromReply(root.status, root.headers);
  if (kibana !== undefined) {
    await probeKibana(run, kibana, root, tls);
    return;
  }
  if (root.status === 401 || root.status === 403) {
    recordRefusal(run, ES_COMMANDS.root, root);
    return;
  }
  if (root.status !== 200) {
    run.result.auth = AuthVerdict.inconclusive;
    const product = root.headers['x-elastic-product'];
    if (product !== undefined) run.result.product = printable(product, 64);
    run.result.metadata.httpStatus = root.status;
    run.setEvidence(describeReply(ES_COMMANDS.root, root));
    return;
  }
  // Evidence first, so a reply that is not cluster info still leaves what it was.
  run.setEvidence(describeReply(ES_COMMANDS.root, root));
  const info = parseRootInfo(root.body);
  recordRoot(run, info);
  const cat = await readIndices(run, tls, info);
  // Node and health info answer to the `monitor` privilege alone, so they are read even when indices were refused.
  await readNodes(run, tls);
  await readHealth(run, tls);
  if (run.ctx.sample && cat !== undefined && run.result.auth === AuthVerdict.open) await sampleElasticsearch(run, tls, cat.indices);
}

function get(run: ProbeRun, request: EsRequest, tls: boolean): Promise<HttpResponse> {
  return run.http(ES_COMMANDS[request], { method: 'GET', path: ES_PATHS[request], tls });
}

/** `GET /` in plain HTTP, retried over TLS when the port looks TLS-only (src/net/http-tls-fallback.ts). */
function fetchRoot(run: ProbeRun): Promise<{ res: HttpResponse; tls: boolean; plainFailure?: string }> {
  return plainThenTls(run, (tls) => get(run, 'root', tls));
}





function recordRoot(run: ProbeRun, info: RootInfo): void {
  const result = run.result;
  result.auth = AuthVerdict.open;
  result.product = productFromRoot(info);
  result.version = info.version;
  for (const [key, value] of Object.entries(info)) if (key !== 'version') result.metadata[key] = value;
  run.setEvidence(rootEvidence(info));
}

function rootEvidence(info: RootInfo): string {
  const lines = ['GET / answered without credentials: HTTP 200 OK'];
  if (info.clusterName !== undefined) lines.push(`cluster_name: ${info.clusterName}`);
  if (info.nodeName !== undefined) lines.push(`name: ${info.nodeName}`);
  lines.push(`version.number: ${info.version}`);
  if (info.distribution !== undefined) lines.push(`version.distribution: ${info.distribution}`);
  return lines.join('\n');
}

/** A parse failure of a secondary reply is noted and the probe goes on; a network failure ends it (partial). */
function parsed<T>(run: ProbeRun, what: string, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    if (err instanceof LockdownError && err.code === ErrorCode.protocol) {
      run.result.errors.push(`${what}: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}

/** `GET /_cat/indices`: the index list, or a refusal that turns the verdict into `auth_required`. */
async function readIndices(run: ProbeRun, tls: boolean, info: RootInfo): Promise<CatIndices | undefined> {
  const res = await get(run, 'catIndices', tls);
  if (res.status === 401 || res.status === 403) {
    // The cluster answers GET / anonymously (an anonymous role) but guards its indices.
    recordRefusal(run, ES_COMMANDS.catIndices, res, `GET / answered without credentials (${info.clusterName ?? 'cluster'} ${info.version}), but `);
    run.result.metadata.rootAnonymous = true;
    return undefined;
  }
  if (res.status !== 200) {
    run.result.errors.push(`GET /_cat/indices answered HTTP ${res.status}: ${describeError(parseErrorBody(res.body))}`);
    return undefined;
  }
  const cat = parsed(run, 'GET /_cat/indices', () => parseCatIndices(res.body));
  if (cat === undefined) return undefined;
  run.result.inventory = inventoryOf(cat);
  Object.assign(run.result.metadata, {
    indices: cat.indices,
    indexCount: cat.count,
    totalDocs: cat.totalDocs,
    totalBytes: cat.totalBytes,
    indicesTruncated: cat.truncated,
  });
  run.setEvidence(`${rootEvidence(info)}\n${indicesEvidence(cat)}`);
  return cat;
}

/** The index listing as the normalised inventory. */
export function inventoryOf(cat: CatIndices): Inventory {
  const inventory: Inventory = {
    records: cat.totalDocs,
    bytes: cat.totalBytes,
    namespaces: cat.indices.map((i) => ({
      path: [i.name],
      kind: 'index' as const,
      ...(i.docs !== null ? { records: i.docs } : {}),
      ...(i.bytes !== null ? { bytes: i.bytes } : {}),
    })),
  };
  if (cat.truncated) inventory.truncated = true;
  return inventory;
}

function indicesEvidence(cat: CatIndices): string {
  const head = `GET /_cat/indices: ${cat.count} indices, ${cat.totalDocs} docs, ${cat.totalBytes} bytes`;
  const largest = cat.indices.slice(0, 8).map((i) => `${i.name} (${i.docs ?? '?'} docs)`);
  return largest.length > 0 ? `${head}: ${largest.join(', ')}` : head;
}

async function readNodes(run: ProbeRun, tls: boolean): Promise<void> {
  const res = await get(run, 'nodes', tls);
  if (res.status !== 200) {
    run.result.errors.push(`GET /_nodes answered HTTP ${res.status}: ${describeError(parseErrorBody(res.body))}`);
    return;
  }
  const nodes = parsed(run, 'GET /_nodes', () => parseNodes(res.body));
  if (nodes === undefined) return;
  run.result.metadata.nodes = nodes.nodes;
  run.result.metadata.nodeCount = nodes.count;
  run.result.peers.push(...peersOf(nodes.nodes));
}

/** Each node's HTTP publish address (role `member`) and transport address (role `transport`), deduplicated. */
export function peersOf(nodes: readonly NodeInfo[]): Peer[] {
  const peers: Peer[] = [];
  const seen = new Set<string>();
  const add = (raw: string | undefined, role: string, source: string): void => {
    if (raw === undefined || peers.length >= MAX_PEERS) return;
    const addr = parseAddress(raw);
    if (!addr) return;
    const key = `${role} ${addr.host} ${addr.port}`;
    if (seen.has(key)) return;
    seen.add(key);
    peers.push({ host: addr.host, port: addr.port, role, source });
  };
  for (const node of nodes) {
    add(node.httpAddress, 'member', `GET /_nodes: nodes.${node.id}.http.publish_address`);
    add(node.transportAddress, 'transport', `GET /_nodes: nodes.${node.id}.transport_address`);
  }
  return peers;
}

async function readHealth(run: ProbeRun, tls: boolean): Promise<void> {
  const res = await get(run, 'clusterHealth', tls);
  if (res.status !== 200) {
    run.result.errors.push(`GET /_cluster/health answered HTTP ${res.status}: ${describeError(parseErrorBody(res.body))}`);
    return;
  }
  const health = parsed(run, 'GET /_cluster/health', () => parseClusterHealth(res.body));
  if (health !== undefined) run.result.metadata.health = health;
}

/** 401/403: credentials required; the status line, the challenge and the server's own error are the evidence. */
function recordRefusal(run: ProbeRun, command: string, res: HttpResponse, prefix = ''): void {
  const result = run.result;
  result.auth = AuthVerdict.authRequired;
  const error = parseErrorBody(res.body);
  const product = productFromRefusal(res.headers, error);
  if (product !== undefined && result.product === undefined) result.product = product;
  result.metadata.httpStatus = res.status;
  const challenge = res.headers['www-authenticate'];
  if (challenge !== undefined) result.metadata.wwwAuthenticate = printable(challenge, 256);
  if (error.type !== undefined) result.metadata.errorType = error.type;
  if (error.reason !== undefined) result.metadata.errorReason = error.reason;
  run.setEvidence(prefix + describeReply(command, res, error));
}

/**
 * Who refused, from what a refusal carries: Elasticsearch 7.14+ sends `X-elastic-product` on success only, so
 * the realm of the challenge and the error type are what is left.
 */
export function productFromRefusal(headers: Readonly<Record<string, string>>, error: ErrorInfo): 'Elasticsearch' | 'OpenSearch' | undefined {
  const elastic = headers['x-elastic-product'];
  if (elastic !== undefined && /elasticsearch/i.test(elastic)) return 'Elasticsearch';
  const realm = /realm="([^"]*)"/i.exec(headers['www-authenticate'] ?? '')?.[1] ?? '';
  if (/opensearch|open distro/i.test(realm)) return 'OpenSearch';
  if (/^(security|shield|search guard)$/i.test(realm)) return 'Elasticsearch';
  if (error.type === 'security_exception' || /^AuthenticationException\[/.test(error.type ?? '')) return 'Elasticsearch';
  return undefined;
}

/** Kibana (or OpenSearch Dashboards) answered: `/api/status` says whether it is reachable without logging in. */
async function probeKibana(run: ProbeRun, product: KibanaProduct, root: HttpResponse, tls: boolean): Promise<void> {
  const result = run.result;
  result.product = product;
  const headerVersion = root.headers['kbn-version'] ?? root.headers['osd-version'];
  if (headerVersion !== undefined) result.version = printable(headerVersion, 64);
  const res = await get(run, 'kibanaStatus', tls);
  if (res.status === 401 || res.status === 403) {
    recordRefusal(run, ES_COMMANDS.kibanaStatus, res);
    return;
  }
  if (res.status !== 200 && res.status !== 503) {
    result.auth = AuthVerdict.inconclusive;
    result.metadata.httpStatus = res.status;
    run.setEvidence(describeReply(ES_COMMANDS.kibanaStatus, res));
    return;
  }
  run.setEvidence(describeReply(ES_COMMANDS.kibanaStatus, res));
  recordKibanaStatus(run, res, parseKibanaStatus(res.body), product);
}
