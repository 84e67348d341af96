/**
 * CouchDB probe over HTTP: `GET /` (is it CouchDB, which product and version), `GET /_all_dbs` (the verdict),
 * then, only when the list was readable, `GET /{db}` for at most `COUCHDB_LIMITS.inspectedDbs` databases
 * named in that list and `GET /_membership`; `GET /_up` last. Only GETs, only the names in `COUCHDB_COMMANDS`;
 * `GET /{db}/_all_docs` (bounded, `include_docs`) only when `ctx.sample` is set (sample.ts), never `_find`.
 *
 * Why `_all_dbs` decides: it is the first thing an attacker lists, and CouchDB guards it exactly like the
 * data — open in an "admin party" (no admin configured) and on CouchDB 1.x/2.x, refused to non-admins by
 * default since CouchDB 3.0 (`[chttpd] admin_only_all_dbs = true`, reply 401 "You are not a server admin.")
 * even where single databases are still readable; a 3.x database is admin-only by default too.
 *
 * Result fields and their sources:
 * - `auth`: `open` when `GET /_all_dbs` answered 200 with a JSON list; `auth_required` when it answered
 *   401/403, or when `GET /` itself answered 401/403 with a CouchDB error body (`[chttpd] require_valid_user`:
 *   "Authentication required."); `inconclusive` for any other `_all_dbs` status.
 *   Note: `open` proves the database list is readable anonymously, not that every database is: a database
 *   with `_security` members answers `GET /{db}` with 401, recorded per database in `metadata.databaseInfo`.
 * - `evidence`: the refusal as sent (`GET /_all_dbs: HTTP 401 {"error":"unauthorized",…}`), or, when open,
 *   the count and first names of the list that answered without credentials.
 * - `product`: from the welcome's key and `vendor.name` (Apache CouchDB, PouchDB Server, IBM Cloudant,
 *   Couchbase Lite, else the vendor name); when `GET /` is refused, "Apache CouchDB" if the `Server` header names CouchDB.
 * - `version`: welcome `version` (Cloudant: the CouchDB version it is compatible with; PouchDB Server:
 *   express-pouchdb's), else the `Server` header's `CouchDB/<version>`.
 * - `metadata`: welcome `uuid`, `gitSha`, `features`, `featureFlags`, `vendor`, `cloudantBuild`, `pouchdbAdapters`;
 *   `server` (the Server header); `requireValidUser` (GET / refused); `databaseCount`, `databases` (first
 *   `keptDbNames` names), `databaseCountIsLowerBound`, `skippedDatabaseNames` (names not matching CouchDB's
 *   rule, never requested); `databaseInfo` (per inspected db: counts and sizes, or the refusal),
 *   `inspectedDocCount`, `refusedDatabases`; `clusterNodes`/`allNodes` and `membershipRefused` from
 *   `_membership`; `upStatus` from `_up` (`ok`, `maintenance_mode`, `nolb`).
 * - `inventory`: every database name kept from `_all_dbs` (kind `database`), with records = doc_count and bytes =
 *   sizes.file (CouchDB 2+) or disk_size (1.x, PouchDB Server) for the inspected ones; totals over the inspected
 *   databases; `truncated` when more databases exist than were inspected (totals are then lower bounds).
 * - `sample`: with `ctx.sample` only, the redacted sample of the largest inspected databases; `metadata.sampling`.
 * - `peers`: every node named by `_membership` (`cluster_nodes`, then `all_nodes` not already named), role
 *   `member`, host = the part after `@` of the Erlang node name (CouchDB node names carry no port); none for
 *   PouchDB Server, whose `_membership` is a constant placeholder.
 */
import { ProtocolError } from '../../core/errors.js';
import { AuthVerdict, type Inventory, type InventoryEntry, type Peer, type Probe, type ProbeResult } from '../../core/types.js';
import { type HttpResponse } from '../../net/http.js';
import { printable, runProbe, type ProbeRun } from '../../net/probe-run.js';
import {
  COUCHDB_LIMITS,
  dbPath,
  isInspectableDbName,
  nodeHost,
  parseAllDbs,
  parseDbInfo,
  parseErrorReply,
  parseJson,
  parseMembership,
  parseServerHeader,
  parseUpStatus,
  parseWelcome,
  type CouchDbInfo,
  type CouchWelcome,
} from './codec.js';
import { COUCHDB_SAMPLE_COMMANDS, sampleCouchdb } from './sample.js';

/** The allow-list. `GET /{db}` is one fixed name for the templated path; the name comes from the server's own list. */
export const COUCHDB_COMMANDS = {
  welcome: 'GET /',
  allDbs: 'GET /_all_dbs',
  dbInfo: 'GET /{db}',
  membership: 'GET /_membership',
  up: 'GET /_up',
  /** Sampling only (`ctx.sample`): templated path, the name from the server's own list (sample.ts). */
  ...COUCHDB_SAMPLE_COMMANDS,
} as const;

/** The query `_all_dbs` is asked with: one more than we keep counting, so a longer list reads as "at least". */
export const ALL_DBS_QUERY = `?limit=${COUCHDB_LIMITS.listedDbNames + 1}`;

const REFUSED = new Set([401, 403]);

export const couchdbProbe: Probe = {
  name: 'couchdb',
  defaultPorts: [5984],
  transport: 'http',
  description: 'Apache CouchDB and compatible servers (PouchDB Server, IBM Cloudant): database list without credentials',
  allowedCommands: Object.values(COUCHDB_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(couchdbProbe, target, ctx, probeCouchdb),
};

async function probeCouchdb(run: ProbeRun): Promise<void> {
  const root = await get(run, COUCHDB_COMMANDS.welcome, '/');
  const server = root.headers.server;
  if (server !== undefined) run.result.metadata.server = printable(server, 128);

  if (REFUSED.has(root.status)) {
    recordRootRefused(run, root);
    await readUp(run);
    return;
  }
  if (root.status !== 200) {
    throw new ProtocolError(`GET / answered HTTP ${root.status}, not a CouchDB welcome: ${snippet(root.body)}`);
  }
  recordWelcome(run, parseWelcome(parseJson(root.body, 'GET / reply')));

  const list = await get(run, COUCHDB_COMMANDS.allDbs, `/_all_dbs${ALL_DBS_QUERY}`);
  if (list.status === 200) {
    const names = parseAllDbs(parseJson(list.body, 'GET /_all_dbs reply'));
    recordOpen(run, names);
    const infos = await inspectDatabases(run, names);
    run.result.inventory = inventoryOf(names, infos);
    await readMembership(run);
    if (run.ctx.sample) await sampleCouchdb(run, infos);
  } else if (REFUSED.has(list.status)) {
    run.result.auth = AuthVerdict.authRequired;
    run.setEvidence(replyEvidence('GET /_all_dbs', list));
  } else {
    run.result.auth = AuthVerdict.inconclusive;
    run.setEvidence(replyEvidence('GET /_all_dbs', list));
    run.result.errors.push(`GET /_all_dbs answered HTTP ${list.status}; cannot tell whether the databases are exposed`);
  }
  await readUp(run);
}

function get(run: ProbeRun, command: string, path: string): Promise<HttpResponse> {
  return run.http(command, { method: 'GET', path });
}

/** `GET /` refused: `require_valid_user`. Only a CouchDB-shaped error body counts; a bare 401 could be anything. */
function recordRootRefused(run: ProbeRun, root: HttpResponse): void {
  const reply = parseErrorReply(root.body);
  if (reply === undefined) {
    throw new ProtocolError(`GET / answered HTTP ${root.status} without a CouchDB error body: ${snippet(root.body)}`);
  }
  const fromHeader = parseServerHeader(root.headers.server);
  if (fromHeader !== undefined) {
    run.result.product = 'Apache CouchDB';
    if (fromHeader.version !== undefined) run.result.version = fromHeader.version;
  }
  run.result.auth = AuthVerdict.authRequired;
  run.result.metadata.requireValidUser = true;
  run.setEvidence(replyEvidence('GET /', root));
}

function recordWelcome(run: ProbeRun, w: CouchWelcome): void {
  run.result.product = w.product;
  if (w.version !== undefined) run.result.version = w.version;
  const meta = run.result.metadata;
  meta.welcome = w.welcome;
  if (w.uuid !== undefined) meta.uuid = w.uuid;
  if (w.gitSha !== undefined) meta.gitSha = w.gitSha;
  if (w.features.length > 0) meta.features = w.features;
  if (w.featureFlags.length > 0) meta.featureFlags = w.featureFlags;
  if (w.vendor !== undefined) meta.vendor = w.vendor;
  if (w.cloudantBuild !== undefined) meta.cloudantBuild = w.cloudantBuild;
  if (w.pouchdbAdapters !== undefined) meta.pouchdbAdapters = w.pouchdbAdapters;
}

function recordOpen(run: ProbeRun, names: string[]): void {
  const meta = run.result.metadata;
  const listed = Math.min(names.length, COUCHDB_LIMITS.listedDbNames);
  run.result.auth = AuthVerdict.open;
  meta.databaseCount = listed;
  if (names.length > COUCHDB_LIMITS.listedDbNames) meta.databaseCountIsLowerBound = true;
  meta.databases = names.slice(0, COUCHDB_LIMITS.keptDbNames).map((n) => printable(n, 128));
  const skipped = names.filter((n) => !n.startsWith('_') && !isInspectableDbName(n)).length;
  if (skipped > 0) meta.skippedDatabaseNames = skipped;
  const shown = names.slice(0, 20).map((n) => printable(n, 64));
  run.setEvidence(
    `GET /_all_dbs answered 200 without credentials: ${listed}${names.length > listed ? '+' : ''} databases` +
      (shown.length > 0 ? `: ${shown.join(', ')}${names.length > shown.length ? ', ...' : ''}` : ''),
  );
}

/**
 * `GET /{db}` for the first databases of the server's own list whose names pass CouchDB's rule (system
 * databases and anything odd are skipped). A refusal or a malformed body is recorded for that database;
 * the probe goes on with the next.
 */
async function inspectDatabases(run: ProbeRun, names: string[]): Promise<Map<string, CouchDbInfo>> {
  const read = new Map<string, CouchDbInfo>();
  const picked = names.filter(isInspectableDbName).slice(0, COUCHDB_LIMITS.inspectedDbs);
  if (picked.length === 0) return read;
  const infos: Record<string, unknown>[] = [];
  const refused: string[] = [];
  let docs = 0;
  run.result.metadata.databaseInfo = infos;
  for (const name of picked) {
    const res = await get(run, COUCHDB_COMMANDS.dbInfo, dbPath(name));
    if (res.status === 200) {
      try {
        const info = parseDbInfo(parseJson(res.body, `GET /${name} reply`));
        infos.push({ ...info, name });
        read.set(name, info);
        docs += info.docCount ?? 0;
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        infos.push({ name, status: res.status, error: err.message });
      }
      continue;
    }
    const reply = parseErrorReply(res.body);
    infos.push({ name, status: res.status, ...(reply ?? { error: snippet(res.body) }) });
    if (REFUSED.has(res.status)) refused.push(name);
  }
  run.result.metadata.inspectedDocCount = docs;
  if (refused.length > 0) run.result.metadata.refusedDatabases = refused;
  return read;
}

/** The database list as the normalised inventory: names, and counts/sizes where a database was inspected. */
export function inventoryOf(names: readonly string[], infos: ReadonlyMap<string, CouchDbInfo>): Inventory {
  const namespaces: InventoryEntry[] = [];
  let records: number | undefined;
  let bytes: number | undefined;
  for (const name of names.slice(0, COUCHDB_LIMITS.keptDbNames)) {
    const entry: InventoryEntry = { path: [name], kind: 'database' };
    const info = infos.get(name);
    if (info?.docCount !== undefined) {
      entry.records = info.docCount;
      records = (records ?? 0) + info.docCount;
    }
    const size = info?.sizes?.file ?? info?.diskSize;
    if (size !== undefined) {
      entry.bytes = size;
      bytes = (bytes ?? 0) + size;
    }
    namespaces.push(entry);
  }
  const inventory: Inventory = { namespaces };
  if (records !== undefined) inventory.records = records;
  if (bytes !== undefined) inventory.bytes = bytes;
  // Databases listed but not inspected (or not kept) leave the totals as lower bounds.
  if (names.some((n) => !infos.has(n) && !n.startsWith('_'))) inventory.truncated = true;
  return inventory;
}

/** `_membership` names the cluster's nodes: peers. CouchDB 1.x has no such endpoint (404); 3.x may keep it admin-only. */
async function readMembership(run: ProbeRun): Promise<void> {
  const res = await get(run, COUCHDB_COMMANDS.membership, '/_membership');
  if (REFUSED.has(res.status)) {
    run.result.metadata.membershipRefused = true;
    return;
  }
  if (res.status !== 200) return;
  let membership;
  try {
    membership = parseMembership(parseJson(res.body, 'GET /_membership reply'));
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    run.result.errors.push(err.message);
    return;
  }
  run.result.metadata.clusterNodes = membership.clusterNodes;
  run.result.metadata.allNodes = membership.allNodes;
  // express-pouchdb answers a constant `node1@127.0.0.1` for Fauxton's sake (its routes/cluster.js): no real peer.
  if (run.result.product === 'PouchDB Server') return;
  run.result.peers.push(...peersOf(membership.clusterNodes, membership.allNodes));
}

function peersOf(clusterNodes: string[], allNodes: string[]): Peer[] {
  const peers: Peer[] = [];
  const seen = new Set<string>();
  for (const [list, field] of [
    [clusterNodes, 'cluster_nodes'],
    [allNodes, 'all_nodes'],
  ] as const) {
    for (const node of list) {
      if (seen.has(node)) continue;
      seen.add(node);
      const host = nodeHost(node);
      if (host !== undefined) peers.push({ host, role: 'member', source: `GET /_membership: ${field} ${printable(node, 128)}` });
    }
  }
  return peers;
}

/** `_up`: node health (`ok`, or 404 with `maintenance_mode`/`nolb`). Public in CouchDB 2.x+ unless `require_valid_user`. */
async function readUp(run: ProbeRun): Promise<void> {
  const res = await get(run, COUCHDB_COMMANDS.up, '/_up');
  if (res.status !== 200 && res.status !== 404) return;
  const status = parseUpStatus(res.body);
  if (status !== undefined) run.result.metadata.upStatus = status;
}

/** Evidence bytes: `GET /_all_dbs: HTTP 401 {"error":"unauthorized",…}` — the server's own body, escaped by `setEvidence`. */
function replyEvidence(command: string, res: HttpResponse): Buffer {
  return Buffer.concat([Buffer.from(`${command}: HTTP ${res.status} `), res.body]);
}

function snippet(body: Buffer): string {
  return printable(body.subarray(0, 80), 120);
}
