/**
 * ClickHouse probe: the HTTP interface (8123) or the native TCP protocol (9000).
 *
 * Which interface: the native one on port 9000, HTTP on every other port; when an HTTP query is answered
 * with ClickHouse's "Port N is for clickhouse-client program" (the native port met with HTTP), the probe
 * says the native Hello on the same port instead.
 *
 * Credentials: none. ClickHouse has no anonymous mode — a client that names no user is user `default` with
 * the empty password (HTTP without credentials, and clickhouse-client without `--user/--password`, both log
 * in that way). So both interfaces send exactly what every client without credentials sends: HTTP requests
 * without an Authorization header, and a native Hello naming `default` with an empty password, the native
 * protocol's only way to say "no credentials". No other user and no password is ever tried.
 *
 * HTTP: only GET requests, each a constant query from `CLICKHOUSE_QUERIES` (never built from input). ClickHouse
 * runs every GET in `readonly` mode itself (18.16 measured: `CREATE DATABASE` over GET answers Code 164
 * "Cannot create database in readonly mode"), so even a query we did not mean could not write. The
 * `readonly=1` URL setting cannot be added: 18.16 refuses it on GET (Code 164 "Setting 'readonly' cannot be
 * overrided in readonly mode"), because GET already is read-only. Native: the Hello only, then close.
 *
 * Result fields and their sources:
 * - `auth`: `open` when the server let user `default` in without a password — HTTP `SELECT version()`
 *   answered 200 with a result, or the native Hello was answered with the server's Hello; `auth_required`
 *   when the login was refused (exception codes 192 UNKNOWN_USER, 193 WRONG_PASSWORD, 194 REQUIRED_PASSWORD,
 *   195 IP_ADDRESS_NOT_ALLOWED, 516 AUTHENTICATION_FAILED); `inconclusive` on any other exception.
 * - `evidence`: the refusal as the server worded it (`GET /?query=version: HTTP 401 Code: 194, e.displayText()
 *   = DB::Exception: Password required for user default, …`; native: `Exception 194 DB::Exception: …`), or
 *   when open, the version and the database/table/row totals that answered without a password.
 * - `product`: `ClickHouse` (native: the Hello's server name).
 * - `version`: HTTP: `SELECT version()`; on a refusal, the `(version X)` suffix of 21.x+ exception texts.
 *   Native: the Hello's major.minor.patch.
 * - `metadata.interface`: `http` or `native`. `metadata.displayName`: the `X-ClickHouse-Server-Display-Name`
 *   header (HTTP) or the Hello's display name (native). `metadata.exceptionCode`/`exceptionName` on a refusal.
 * - HTTP `metadata` when open: `uptimeSeconds`, `timezone`, `hostname` (`SELECT version(), uptime(),
 *   timezone(), hostName()`); `databases`, `databaseCount` (`SHOW DATABASES`); `tables` (database, name,
 *   engine, and `rows`/`bytes`/`parts` summed over the table's active parts from `system.parts` — only
 *   MergeTree-family tables have parts; 18.16's `system.tables` has no `total_rows`/`total_bytes`), `tableCount`,
 *   `totalRows`, `totalBytes` (user tables only: the `system` and `information_schema` databases are left
 *   out), `tablesTruncated`; `clusters` (`system.clusters`: cluster, shard, replica, host, address, port, local).
 *   A later query that fails adds a line to `errors` (and `refusedQueries` when refused) and the probe goes on.
 * - Native `metadata`: `revision` (server protocol revision), `timezone`, `displayName`; `httpAnswer` when an HTTP
 *   query on a non-default port met the native port's "use port 8123 for HTTP" answer first.
 * - `peers`: every `system.clusters` replica that is not the server itself (`is_local = 0`, and not named
 *   `localhost`: the sample config's test clusters list this machine on other ports), role `member`, host as
 *   configured (`host_name`), source naming the cluster, shard and replica.
 */
import { ProtocolError } from '../../core/errors.js';
import { VERSION } from '../../core/version.js';
import { AuthVerdict, type Peer, type Probe, type ProbeResult } from '../../core/types.js';
import { type HttpResponse } from '../../net/http.js';
import { printable, runProbe, type ProbeRun } from '../../net/probe-run.js';
import {
  ACCESS_DENIED_CODE,
  AUTH_ERROR_CODES,
  CLICKHOUSE_LIMITS,
  PROBE_REVISION,
  cellCount,
  cellString,
  decodeServerHello,
  encodeClientHello,
  parseHttpException,
  parseJsonCompact,
  type ClickHouseException,
  type CompactResult,
  type ServerPacket,
} from './codec.js';
import { utf8Text } from '../json-body.js';

/** The allow-list: one name per constant query (`GET /?query=<name>`), and the native Hello. */
export const CLICKHOUSE_COMMANDS = {
  version: 'GET /?query=version',
  databases: 'GET /?query=databases',
  tables: 'GET /?query=tables',
  parts: 'GET /?query=parts',
  clusters: 'GET /?query=clusters',
  clientHello: 'native:ClientHello',
} as const;
type QueryCommand = Exclude<(typeof CLICKHOUSE_COMMANDS)[keyof typeof CLICKHOUSE_COMMANDS], typeof CLICKHOUSE_COMMANDS.clientHello>;

const ROW_LIMIT = CLICKHOUSE_LIMITS.maxRows + 1;
/** Databases whose tables are ClickHouse's own, not the owner's data. */
const SYSTEM_DATABASES = "('system', 'information_schema', 'INFORMATION_SCHEMA')";

/** The only SQL this module ever sends: constants, read-only, every result bounded by LIMIT or by nature. */
export const CLICKHOUSE_QUERIES: Readonly<Record<QueryCommand, string>> = {
  [CLICKHOUSE_COMMANDS.version]: 'SELECT version(), uptime(), timezone(), hostName() FORMAT JSONCompact',
  // SHOW DATABASES takes no LIMIT on 18.16; the list is bounded by the read cap and parseJsonCompact.
  [CLICKHOUSE_COMMANDS.databases]: 'SHOW DATABASES FORMAT JSONCompact',
  [CLICKHOUSE_COMMANDS.tables]:
    `SELECT database, name, engine FROM system.tables WHERE database NOT IN ${SYSTEM_DATABASES} ` +
    `ORDER BY database, name LIMIT ${ROW_LIMIT} FORMAT JSONCompact`,
  [CLICKHOUSE_COMMANDS.parts]:
    'SELECT database, table, sum(rows), sum(bytes_on_disk), count() FROM system.parts ' +
    `WHERE active AND database NOT IN ${SYSTEM_DATABASES} GROUP BY database, table ORDER BY database, table ` +
    `LIMIT ${ROW_LIMIT} FORMAT JSONCompact`,
  [CLICKHOUSE_COMMANDS.clusters]:
    'SELECT cluster, shard_num, replica_num, host_name, host_address, port, is_local FROM system.clusters ' +
    `LIMIT ${ROW_LIMIT} FORMAT JSONCompact`,
};

/** The request path of a query command. */
export function queryPath(command: QueryCommand): string {
  return `/?query=${encodeURIComponent(CLICKHOUSE_QUERIES[command])}`;
}

/** Ports where the native protocol is spoken first. */
const NATIVE_PORTS: ReadonlySet<number> = new Set([9000]);
/** What ClickHouse's native port answers to an HTTP request (TCPHandler). */
const NATIVE_PORT_HINT = /Port \d+ is for clickhouse-client program/;

/** The Hello's client version: lockdown's own (the client name says it is lockdown, not clickhouse-client). */
const [VERSION_MAJOR, VERSION_MINOR] = VERSION.split('.').map((n) => Number(n) || 0) as [number, number];

export const clickhouseProbe: Probe = {
  name: 'clickhouse',
  defaultPorts: [8123, 9000],
  // The HTTP interface is the one that reads data; the native port (plain TCP) only gets the Hello.
  transport: 'http',
  description: 'ClickHouse: HTTP interface (8123) queries as user default without a password; native port (9000) Hello',
  allowedCommands: Object.values(CLICKHOUSE_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(clickhouseProbe, target, ctx, probeClickHouse),
};

async function probeClickHouse(run: ProbeRun): Promise<void> {
  if (NATIVE_PORTS.has(run.target.port)) {
    await probeNative(run);
    return;
  }
  const res = await query(run, CLICKHOUSE_COMMANDS.version);
  if (res.status === 400 && NATIVE_PORT_HINT.test(res.body.subarray(0, 512).toString('latin1'))) {
    run.result.metadata.httpAnswer = printable(res.body.subarray(0, 200), 200);
    await probeNative(run);
    return;
  }
  await probeHttp(run, res);
}

function query(run: ProbeRun, command: QueryCommand): Promise<HttpResponse> {
  return run.http(command, { method: 'GET', path: queryPath(command) });
}

// ---------------------------------------------------------------- HTTP

async function probeHttp(run: ProbeRun, res: HttpResponse): Promise<void> {
  const meta = run.result.metadata;
  meta.interface = 'http';
  const display = res.headers['x-clickhouse-server-display-name'];
  if (display !== undefined) meta.displayName = printable(display, 128);

  if (res.status !== 200) {
    const exception = exceptionOf(res);
    if (exception === undefined) {
      throw new ProtocolError(`GET /?query=version answered HTTP ${res.status} without a ClickHouse exception: ${snippet(res.body)}`);
    }
    recordRefusal(run, exception, `${CLICKHOUSE_COMMANDS.version}: HTTP ${res.status} `, res.body);
    return;
  }
  const version = parseJsonCompact(res.body, 'SELECT version() reply');
  const row = version.rows[0];
  if (row === undefined || typeof row[0] !== 'string') throw new ProtocolError('SELECT version() answered no version');
  run.result.product = 'ClickHouse';
  run.result.version = printable(row[0], 64);
  run.result.auth = AuthVerdict.open;
  run.setEvidence(`GET /?query=version answered 200 without credentials (user default, no password): version ${run.result.version}`);
  const uptime = cellCount(row[1]);
  if (uptime !== undefined) meta.uptimeSeconds = uptime;
  const tz = cellString(row[2]);
  if (tz !== undefined) meta.timezone = tz;
  const host = cellString(row[3]);
  if (host !== undefined) meta.hostname = host;

  await readDatabases(run);
  await readTables(run);
  await readClusters(run);
  run.setEvidence(openEvidence(run));
}

/** The exception a non-200 answer carries, as text; the header `X-ClickHouse-Exception-Code` (21.x+) backs it up. */
function exceptionOf(res: HttpResponse): ClickHouseException | undefined {
  let text: string;
  try {
    text = utf8Text(res.body.subarray(0, 64 * 1024), 'Exception text');
  } catch {
    return undefined;
  }
  const parsed = parseHttpException(text);
  if (parsed !== undefined) return parsed;
  const header = res.headers['x-clickhouse-exception-code'];
  if (header !== undefined && /^[0-9]{1,6}$/.test(header)) return { code: Number(header), message: printable(text.trim(), 512) };
  return undefined;
}

/** The login was refused (or failed some other way): verdict from the exception code, evidence in its words. */
function recordRefusal(run: ProbeRun, e: ClickHouseException, prefix: string, raw: Buffer | string): void {
  run.result.product = 'ClickHouse';
  if (e.version !== undefined) run.result.version = e.version;
  run.result.metadata.exceptionCode = e.code;
  if (e.name !== undefined) run.result.metadata.exceptionName = e.name;
  run.result.auth = AUTH_ERROR_CODES.has(e.code) ? AuthVerdict.authRequired : AuthVerdict.inconclusive;
  if (run.result.auth === AuthVerdict.inconclusive) run.result.errors.push(`The login answered exception ${e.code}; cannot tell whether data is exposed`);
  const text = typeof raw === 'string' ? raw : raw.subarray(0, 2048).toString('utf8').trim();
  run.setEvidence(prefix + text);
}

/** A follow-up query: its result, or undefined after noting why not (the verdict is already in). */
async function followUp(run: ProbeRun, command: QueryCommand, what: string): Promise<CompactResult | undefined> {
  const res = await query(run, command);
  if (res.status === 200) {
    try {
      return parseJsonCompact(res.body, what);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      run.result.errors.push(err.message);
      return undefined;
    }
  }
  const e = exceptionOf(res);
  run.result.errors.push(`${command} answered HTTP ${res.status}${e ? `: Code ${e.code} ${printable(e.message, 200)}` : ''}`);
  if (e !== undefined && (e.code === ACCESS_DENIED_CODE || AUTH_ERROR_CODES.has(e.code))) {
    const refused = (run.result.metadata.refusedQueries ??= []) as string[];
    refused.push(command);
  }
  return undefined;
}

async function readDatabases(run: ProbeRun): Promise<void> {
  const r = await followUp(run, CLICKHOUSE_COMMANDS.databases, 'SHOW DATABASES reply');
  if (!r) return;
  const names = r.rows.map((row) => cellString(row[0])).filter((n): n is string => n !== undefined);
  run.result.metadata.databaseCount = r.rowCount;
  run.result.metadata.databases = names.slice(0, 100);
}

interface TableInfo {
  database: string;
  name: string;
  engine?: string;
  rows?: number;
  bytes?: number;
  parts?: number;
}

async function readTables(run: ProbeRun): Promise<void> {
  const listed = await followUp(run, CLICKHOUSE_COMMANDS.tables, 'system.tables reply');
  if (!listed) return;
  const tables = new Map<string, TableInfo>();
  for (const row of listed.rows.slice(0, CLICKHOUSE_LIMITS.maxRows)) {
    const database = cellString(row[0]);
    const name = cellString(row[1]);
    if (database === undefined || name === undefined) continue;
    const info: TableInfo = { database, name };
    const engine = cellString(row[2]);
    if (engine !== undefined) info.engine = engine;
    tables.set(`${database}\0${name}`, info);
  }
  const meta = run.result.metadata;
  meta.tableCount = tables.size;
  if (listed.rows.length > CLICKHOUSE_LIMITS.maxRows || listed.truncated) meta.tablesTruncated = true;

  const parts = await followUp(run, CLICKHOUSE_COMMANDS.parts, 'system.parts reply');
  if (parts) {
    let totalRows = 0;
    let totalBytes = 0;
    for (const row of parts.rows.slice(0, CLICKHOUSE_LIMITS.maxRows)) {
      const database = cellString(row[0]);
      const name = cellString(row[1]);
      const rows = cellCount(row[2]);
      const bytes = cellCount(row[3]);
      const count = cellCount(row[4]);
      if (database === undefined || name === undefined) continue;
      totalRows += rows ?? 0;
      totalBytes += bytes ?? 0;
      // A table created between the two queries has parts but no listing: keep it, without an engine.
      const info = tables.get(`${database}\0${name}`) ?? { database, name };
      if (rows !== undefined) info.rows = rows;
      if (bytes !== undefined) info.bytes = bytes;
      if (count !== undefined) info.parts = count;
      tables.set(`${database}\0${name}`, info);
    }
    meta.totalRows = totalRows;
    meta.totalBytes = totalBytes;
    if (parts.rows.length > CLICKHOUSE_LIMITS.maxRows || parts.truncated) meta.tablesTruncated = true;
  }
  meta.tables = [...tables.values()];
}

async function readClusters(run: ProbeRun): Promise<void> {
  const r = await followUp(run, CLICKHOUSE_COMMANDS.clusters, 'system.clusters reply');
  if (!r) return;
  const clusters: Record<string, unknown>[] = [];
  for (const row of r.rows.slice(0, CLICKHOUSE_LIMITS.maxRows)) {
    const [cluster, shard, replica, hostName, hostAddress, port, isLocal] = [
      cellString(row[0]),
      cellCount(row[1]),
      cellCount(row[2]),
      cellString(row[3]),
      cellString(row[4]),
      cellCount(row[5]),
      cellCount(row[6]),
    ];
    if (cluster === undefined || hostName === undefined) continue;
    clusters.push({ cluster, shard, replica, host: hostName, address: hostAddress, port, local: isLocal === 1 });
    // `localhost` is this same machine on another port (ClickHouse's sample config ships such test clusters).
    if (isLocal === 1 || hostName === 'localhost') continue;
    const peer: Peer = { host: hostName, role: 'member', source: `system.clusters: ${cluster} shard ${shard ?? '?'} replica ${replica ?? '?'}` };
    if (port !== undefined) peer.port = port;
    run.result.peers.push(peer);
  }
  run.result.metadata.clusters = clusters;
}

function openEvidence(run: ProbeRun): string {
  const m = run.result.metadata;
  const parts = [`GET /?query=version answered 200 without credentials (user default, no password): version ${run.result.version ?? '?'}`];
  if (typeof m.databaseCount === 'number') {
    parts.push(`${m.databaseCount} databases: ${((m.databases as string[] | undefined) ?? []).slice(0, 20).join(', ')}`);
  }
  if (typeof m.tableCount === 'number') {
    parts.push(`${m.tableCount}${m.tablesTruncated ? '+' : ''} user tables` + (typeof m.totalRows === 'number' ? `, ${m.totalRows} rows, ${m.totalBytes as number} bytes` : ''));
  }
  return parts.join('; ');
}

// ---------------------------------------------------------------- native

async function probeNative(run: ProbeRun): Promise<void> {
  run.result.metadata.interface = 'native';
  const session = await run.connect();
  session.send(
    CLICKHOUSE_COMMANDS.clientHello,
    encodeClientHello({
      clientName: run.ctx.clientName,
      versionMajor: VERSION_MAJOR,
      versionMinor: VERSION_MINOR,
      revision: PROBE_REVISION,
      database: '',
      user: 'default',
      password: '',
    }),
  );
  const packet: ServerPacket = await session.read(decodeServerHello);
  if (packet.type === 'exception') {
    const e = packet.exception;
    recordRefusal(run, e, `native Hello as user default without a password: Exception ${e.code} `, e.message);
    return;
  }
  const meta = run.result.metadata;
  run.result.product = printable(packet.name, 64);
  run.result.version = `${packet.versionMajor}.${packet.versionMinor}${packet.versionPatch !== undefined ? `.${packet.versionPatch}` : ''}`;
  run.result.auth = AuthVerdict.open;
  meta.revision = packet.revision;
  if (packet.timezone !== undefined) meta.timezone = packet.timezone;
  if (packet.displayName !== undefined) meta.displayName = packet.displayName;
  run.setEvidence(
    `native Hello as user default without a password answered with the server's Hello: ${packet.name} ${run.result.version} revision ${packet.revision}`,
  );
}

function snippet(body: Buffer): string {
  return printable(body.subarray(0, 80), 120);
}
