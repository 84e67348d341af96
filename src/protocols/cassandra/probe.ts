/**
 * Cassandra probe over the CQL native protocol (Apache Cassandra, ScyllaDB, DataStax Enterprise …):
 * OPTIONS → SUPPORTED, STARTUP → READY (open) or AUTHENTICATE (auth_required), then, only when open, fixed
 * read-only SELECTs on system tables (queries.ts). It never sends AUTH_RESPONSE: answering AUTHENTICATE
 * would be a login attempt.
 *
 * Version negotiation: frames are protocol v4 (Cassandra 2.2+ and ScyllaDB speak it). A server that does
 * not answers OPTIONS with a protocol error naming the versions it speaks (codec `supportedVersionsFromError`);
 * the probe then reconnects once with the highest of those below 4 that it can frame (v2 or v3). v5 is never
 * asked for: its post-STARTUP framing adds nothing a probe needs.
 *
 * Result fields and their sources:
 * - `auth`: `open` when STARTUP was answered READY (no authenticator: any client may query); `auth_required`
 *   when it was answered AUTHENTICATE (or an ERROR 0x0100 Bad credentials); `inconclusive` for any other
 *   ERROR (evidence keeps the server's code and text).
 * - `product`: `Cassandra` for any CQL server, `ScyllaDB` when SUPPORTED carries ScyllaDB's `SCYLLA_*` options.
 * - `version`: `release_version` from system.local (open servers only; the handshake carries no version).
 * - `evidence`: `AUTHENTICATE <authenticator class>`, the ERROR (`ERROR 0x000a Protocol error: …`), or for an
 *   open server `STARTUP answered READY without credentials` with the release version and user keyspaces.
 * - `metadata`:
 *   `protocolVersion` (the version the conversation used), `cqlVersions`, `compression`, `protocolVersions`
 *   (SUPPORTED's CQL_VERSION, COMPRESSION and PROTOCOL_VERSIONS — the last only from Cassandra 4.0 on),
 *   `supportedExtra` (any other SUPPORTED option, e.g. ScyllaDB's SCYLLA_SHARD), `authenticator` (the class
 *   AUTHENTICATE named), `startupError` ({ code, name, message }), `versionNegotiation` (the version error that
 *   made the probe reconnect with a lower version), and when open: `clusterName`, `dataCenter`,
 *   `rack`, `partitioner` (system.local), `schemaSource` (`system_schema` or, before 3.0,
 *   `system.schema_keyspaces`), `keyspaces` ([{ name, replication, system }] sorted; `system` marks the
 *   server's own keyspaces), `userKeyspaces` (names), `tables` ({ keyspace: [table…] } for non-system
 *   keyspaces only), `userTableCount`, `systemTableCount`, `keyspacesTruncated`/`tablesTruncated` (the one
 *   page the probe reads did not hold them all), `peersSource`, `warnings` (server warnings on our queries).
 *   No row counts (see queries.ts: a COUNT is a full scan).
 * - `inventory`: every keyspace (kind `keyspace`) and the tables of non-system keyspaces (path [keyspace, table],
 *   kind `table`), names only: no counts, no sizes (see queries.ts); `truncated` when a listing did not fit one page.
 * - `sample`: with `ctx.sample` only, the redacted first rows of user tables (sample.ts); `metadata.sampling`.
 * - `peers`: system.peers_v2 (`native_address`:`native_port`) or, when that table does not exist (before 4.0),
 *   system.peers (`rpc_address`, no port); role `peer`.
 */
import { ProtocolError } from '../../core/errors.js';
import { AuthVerdict, type Inventory, type InventoryEntry, type Probe, type ProbeResult } from '../../core/types.js';
import { VERSION } from '../../core/version.js';
import { runProbe, type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import {
  type CqlMessage,
  type CqlResponse,
  describeError,
  encodeOptions,
  encodeQuery,
  encodeStartup,
  ErrorCode,
  errorName,
  responseDecoder,
  type RowsResult,
  supportedVersionsFromError,
} from './codec.js';
import {
  type CqlQuery,
  type KeyspaceInfo,
  parseKeyspaces,
  parseLocal,
  parseTables,
  peersFromRows,
  QUERIES,
} from './queries.js';
import { CASSANDRA_SAMPLE_COMMANDS, sampleCassandra } from './sample.js';

/** The allow-list: the handshake messages and one name per constant query. */
export const CASSANDRA_COMMANDS = {
  options: 'OPTIONS',
  startup: 'STARTUP',
} as const;

const PREFERRED_VERSION = 4;
/** Lowest version whose QUERY carries a page size (v1 has no paging, so no bounded read). */
const LOWEST_VERSION = 2;
/** EVENT frames we never registered for but tolerate before our reply (bounded). */
const MAX_STRAY_FRAMES = 8;

export const cassandraProbe: Probe = {
  name: 'cassandra',
  defaultPorts: [9042],
  transport: 'tcp',
  description: 'Apache Cassandra and CQL-compatible servers (ScyllaDB, DSE): CQL STARTUP without credentials, then schema',
  // The sampling query goes out only with `ctx.sample` (sample.ts).
  allowedCommands: [...Object.values(CASSANDRA_COMMANDS), ...Object.values(QUERIES).map((q) => q.command), ...Object.values(CASSANDRA_SAMPLE_COMMANDS)],
  probe: (target, ctx): Promise<ProbeResult> => runProbe(cassandraProbe, target, ctx, probeCassandra),
};

/** The conversation on one connection, with its protocol version and next stream id. */
interface Conversation {
  session: Session;
  version: number;
  nextStream: number;
  decode: ReturnType<typeof responseDecoder>;
}

async function probeCassandra(run: ProbeRun): Promise<void> {
  let version = PREFERRED_VERSION;
  for (let attempt = 0; ; attempt++) {
    const conv: Conversation = { session: await run.connect(), version, nextStream: 0, decode: responseDecoder(run.ctx.readCap) };
    const reply = await request(conv, CASSANDRA_COMMANDS.options, encodeOptions(version, conv.nextStream));
    // Any well-formed CQL frame proves a CQL server.
    run.result.product ??= 'Cassandra';
    run.result.metadata.protocolVersion = version;
    const msg = reply.message;
    if (msg.type === 'supported') {
      await afterSupported(run, conv, msg.options);
      return;
    }
    if (msg.type !== 'error') throw new ProtocolError(`OPTIONS answered with ${msg.type.toUpperCase()} instead of SUPPORTED`);
    const lower = attempt < 2 ? downgradeTarget(msg, reply.version, version) : undefined;
    if (lower === undefined) {
      run.result.auth = AuthVerdict.inconclusive;
      run.result.metadata.startupError = { code: msg.code, name: errorName(msg.code), message: msg.message };
      run.setEvidence(describeError(msg.code, msg.message));
      return;
    }
    // The server closes the connection after a version error: start over on a new one.
    run.result.metadata.versionNegotiation = describeError(msg.code, msg.message);
    conv.session.close();
    version = lower;
  }
}

/**
 * The version to retry with after an OPTIONS error, or undefined when the error is not about versions.
 * Cassandra 2.0/2.1 wrap the version error in a 0x0000 Server error (`io.netty.handler.codec.DecoderException:
 * …ProtocolException: Invalid or unsupported protocol version: 4`); later versions send 0x000A Protocol error.
 */
export function downgradeTarget(msg: Extract<CqlMessage, { type: 'error' }>, replyVersion: number, sent: number): number | undefined {
  if (msg.code !== ErrorCode.protocolError && msg.code !== ErrorCode.serverError) return undefined;
  const versions = supportedVersionsFromError(msg.message, replyVersion);
  if (!versions) return undefined;
  const usable = versions.filter((v) => v < sent && v >= LOWEST_VERSION);
  return usable.length > 0 ? Math.max(...usable) : undefined;
}

/**
 * The product a SUPPORTED reply names. Apache Cassandra and DSE add nothing of their own; ScyllaDB adds its
 * shard-aware options (SCYLLA_SHARD, SCYLLA_NR_SHARDS, SCYLLA_PARTITIONER, SCYLLA_SHARDING_ALGORITHM …).
 */
export function productFromSupported(options: Readonly<Record<string, readonly string[]>>): string {
  return Object.keys(options).some((k) => k.startsWith('SCYLLA_')) ? 'ScyllaDB' : 'Cassandra';
}

async function afterSupported(run: ProbeRun, conv: Conversation, options: Record<string, string[]>): Promise<void> {
  const meta = run.result.metadata;
  meta.cqlVersions = options.CQL_VERSION ?? [];
  meta.compression = options.COMPRESSION ?? [];
  if (options.PROTOCOL_VERSIONS) meta.protocolVersions = options.PROTOCOL_VERSIONS;
  const extra = Object.fromEntries(Object.entries(options).filter(([k]) => !['CQL_VERSION', 'COMPRESSION', 'PROTOCOL_VERSIONS'].includes(k)));
  if (Object.keys(extra).length > 0) meta.supportedExtra = extra;
  run.result.product = productFromSupported(options);

  // CQL's client identity fields: an operator sees them in system_views.clients / nodetool clientstats.
  const startup = {
    CQL_VERSION: options.CQL_VERSION?.[0] ?? '3.0.0',
    DRIVER_NAME: 'lockdown',
    DRIVER_VERSION: VERSION,
    APPLICATION_NAME: run.ctx.clientName,
  };
  const reply = await request(conv, CASSANDRA_COMMANDS.startup, encodeStartup(conv.version, startup, conv.nextStream));
  const msg = reply.message;
  switch (msg.type) {
    case 'ready':
      run.result.auth = AuthVerdict.open;
      run.setEvidence('STARTUP answered READY without credentials');
      await readSchema(run, conv);
      return;
    case 'authenticate':
      // Stop here: the next message would have to be AUTH_RESPONSE, a login attempt.
      run.result.auth = AuthVerdict.authRequired;
      meta.authenticator = msg.authenticator;
      run.setEvidence(`AUTHENTICATE ${msg.authenticator}`);
      return;
    case 'error':
      run.result.auth = msg.code === ErrorCode.badCredentials ? AuthVerdict.authRequired : AuthVerdict.inconclusive;
      meta.startupError = { code: msg.code, name: errorName(msg.code), message: msg.message };
      run.setEvidence(describeError(msg.code, msg.message));
      return;
    default:
      throw new ProtocolError(`STARTUP answered with ${msg.type.toUpperCase()} instead of READY or AUTHENTICATE`);
  }
}

/** The open server's facts: system.local, keyspaces and tables, peers. A refused query is noted, not fatal. */
async function readSchema(run: ProbeRun, conv: Conversation): Promise<void> {
  const result = run.result;
  const meta = result.metadata;

  const local = reportError(run, QUERIES.local, await query(run, conv, QUERIES.local));
  if (local.rows) {
    const info = parseLocal(local.rows);
    if (info.releaseVersion !== undefined) result.version = info.releaseVersion;
    for (const k of ['clusterName', 'dataCenter', 'rack', 'partitioner'] as const) if (info[k] !== undefined) meta[k] = info[k];
  }

  let keyspacesQuery: CqlQuery = QUERIES.keyspaces;
  let tablesQuery: CqlQuery = QUERIES.tables;
  let keyspaces = await query(run, conv, keyspacesQuery);
  meta.schemaSource = 'system_schema';
  if (keyspaces.error?.code === ErrorCode.invalid) {
    // Before 3.0 there is no system_schema ("Keyspace system_schema does not exist"); the same facts live in system.schema_*.
    keyspacesQuery = QUERIES.legacyKeyspaces;
    tablesQuery = QUERIES.legacyTables;
    meta.schemaSource = 'system.schema_keyspaces';
    keyspaces = await query(run, conv, keyspacesQuery);
  }
  reportError(run, keyspacesQuery, keyspaces);
  if (keyspaces.rows) {
    const list = parseKeyspaces(keyspaces.rows);
    meta.keyspaces = list;
    meta.userKeyspaces = list.filter((k) => !k.system).map((k) => k.name);
    if (keyspaces.rows.hasMorePages) meta.keyspacesTruncated = true;
  }
  const tables = reportError(run, tablesQuery, await query(run, conv, tablesQuery));
  if (tables.rows) {
    const info = parseTables(tables.rows);
    meta.tables = info.tables;
    meta.userTableCount = info.userTableCount;
    meta.systemTableCount = info.systemTableCount;
    if (tables.rows.hasMorePages) meta.tablesTruncated = true;
  }

  if (Array.isArray(meta.keyspaces)) result.inventory = inventoryOf(meta.keyspaces as KeyspaceInfo[], meta.tables as Record<string, string[]> | undefined, meta.keyspacesTruncated === true || meta.tablesTruncated === true);

  let peersQuery: CqlQuery = QUERIES.peersV2;
  let peersTable: 'system.peers_v2' | 'system.peers' = 'system.peers_v2';
  let peers = await query(run, conv, peersQuery);
  if (peers.error?.code === ErrorCode.invalid) {
    // system.peers_v2 exists from 4.0 on ("table peers_v2 does not exist" before).
    peersQuery = QUERIES.peers;
    peersTable = 'system.peers';
    peers = await query(run, conv, peersQuery);
  }
  reportError(run, peersQuery, peers);
  if (peers.rows) {
    meta.peersSource = peersTable;
    result.peers.push(...peersFromRows(peers.rows, peersTable));
  }

  const evidence = ['STARTUP answered READY without credentials'];
  if (result.version !== undefined) evidence.push(`release_version=${result.version}`);
  if (Array.isArray(meta.userKeyspaces)) evidence.push(`user keyspaces: ${(meta.userKeyspaces as string[]).join(', ') || '(none)'}`);
  run.setEvidence(evidence.join('; '));

  const userTables = meta.tables as Record<string, string[]> | undefined;
  if (run.ctx.sample && userTables) await sampleCassandra(run, conv.session, userTables, (q) => query(run, conv, q));
}

/** Keyspaces and (user) tables as the normalised inventory: names only. */
export function inventoryOf(keyspaces: readonly KeyspaceInfo[], tables: Readonly<Record<string, string[]>> | undefined, truncated: boolean): Inventory {
  const namespaces: InventoryEntry[] = [];
  for (const ks of keyspaces) {
    namespaces.push({ path: [ks.name], kind: 'keyspace' });
    for (const t of tables?.[ks.name] ?? []) namespaces.push({ path: [ks.name, t], kind: 'table' });
  }
  return truncated ? { namespaces, truncated } : { namespaces };
}

interface QueryOutcome {
  rows?: RowsResult;
  error?: { code: number; message: string };
}

/** Record a query's ERROR reply in `errors` (once no fallback is left to try). */
function reportError(run: ProbeRun, q: CqlQuery, outcome: QueryOutcome): QueryOutcome {
  if (outcome.error) run.result.errors.push(`${q.command} refused: ${describeError(outcome.error.code, outcome.error.message)}`);
  return outcome;
}

/** One allow-listed SELECT; an ERROR reply is returned, not thrown. */
async function query(run: ProbeRun, conv: Conversation, q: CqlQuery): Promise<QueryOutcome> {
  const reply = await request(conv, q.command, encodeQuery(conv.version, q.cql, { pageSize: q.pageSize, stream: conv.nextStream }));
  if (reply.warnings.length > 0) {
    const warnings = (run.result.metadata.warnings as string[] | undefined) ?? [];
    run.result.metadata.warnings = [...warnings, ...reply.warnings];
  }
  const msg = reply.message;
  if (msg.type === 'error') return { error: { code: msg.code, message: msg.message } };
  if (msg.type !== 'result' || msg.result.kind !== 'rows') {
    throw new ProtocolError(`${q.command} answered with ${msg.type === 'result' ? `a ${msg.result.kind} result` : msg.type.toUpperCase()} instead of rows`);
  }
  return { rows: msg.result };
}

/** Send one request on the next stream id and read its reply, skipping (a bounded number of) server pushes. */
async function request(conv: Conversation, command: string, frame: Buffer): Promise<CqlResponse> {
  const stream = conv.nextStream;
  conv.nextStream = (conv.nextStream + 1) % (conv.version >= 3 ? 0x8000 : 0x80);
  conv.session.send(command, frame);
  for (let i = 0; i <= MAX_STRAY_FRAMES; i++) {
    const reply = await conv.session.read(conv.decode);
    if (reply.stream === stream) return reply;
    if (reply.stream >= 0 || reply.message.type !== 'event') {
      throw new ProtocolError(`CQL reply on stream ${reply.stream}, expected ${stream}`);
    }
  }
  throw new ProtocolError(`More than ${MAX_STRAY_FRAMES} unsolicited CQL events before the reply`);
}
