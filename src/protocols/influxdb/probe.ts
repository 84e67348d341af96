/**
 * InfluxDB probe over HTTP (8086), for 1.x and 2.x. Only GET requests, each on the allow-list
 * (`INFLUX_COMMANDS`); every InfluxQL statement is a constant from `INFLUXQL` — a database name from the
 * server's own list only ever travels in the `db=` URL parameter (URL-encoded), never inside InfluxQL.
 *
 * Why the allow-list matters here more than elsewhere: InfluxDB 1.x runs write statements sent by GET
 * (1.6 measured: `GET /query?q=CREATE DATABASE foo` creates it and only adds a deprecation warning), so the
 * server does not keep a GET read-only; the module does.
 *
 * The conversation:
 * 1. `GET /ping`: `X-Influxdb-Version` / `X-Influxdb-Build` name the server (never needs credentials, except
 *    on 1.8+ with `ping-auth-enabled`). A major version 2 goes to step 3, anything else (1.x, no version, 3.x with
 *    its 1.x-compatible `/query`) to step 2.
 * 2. 1.x: `GET /query?q=SHOW DATABASES` decides. When it answers, `SHOW USERS`, `SHOW SUBSCRIPTIONS`, and
 *    for each of the first `INSPECTED_DBS` databases `SHOW MEASUREMENTS LIMIT n` and `SHOW SERIES CARDINALITY`
 *    (an estimate; a server whose parser refuses it — releases before 1.4 — is asked `SHOW SERIES LIMIT n`
 *    instead, counted as a lower bound).
 * 3. 2.x: `GET /health` (version, commit), `GET /api/v2/setup` (is there an owner yet?), `GET /api/v2/buckets`
 *    (needs a token; its answer decides).
 *
 * Result fields and their sources:
 * - `auth`: 1.x: `open` when `SHOW DATABASES` answered 200 with a result; also `open` when it answered 403
 *   "create admin user first" (auth is on but no user exists: InfluxDB 1.x then accepts the creation of the
 *   first admin from anyone, so nothing protects the data — `metadata.claimable`); `auth_required` on 401/403
 *   otherwise; `inconclusive` on other answers. 2.x: `open` when `/api/v2/setup` says `allowed: true` (no
 *   owner yet: anyone can claim the instance — `metadata.claimable`) or when `/api/v2/buckets` answered 200;
 *   `auth_required` when `/api/v2/buckets` answered 401/403; `inconclusive` otherwise.
 * - `evidence`: the refusal as sent (`GET /query SHOW DATABASES: HTTP 401 {"error":"unable to parse
 *   authentication credentials"}`), the setup answer, or the database/measurement/series totals read.
 * - `product`: `InfluxDB` (`InfluxDB Enterprise` when `X-Influxdb-Build: ENT`).
 * - `version`: `X-Influxdb-Version` of `/ping` (or of the `/query` answer); 2.x: `/health` `version`.
 * - `metadata.build`, `metadata.majorVersion` (from the version); `pingAuthEnabled` when `/ping` itself answered 401
 *   (1.8+ `ping-auth-enabled`). 1.x when open: `databases`, `databaseCount`,
 *   `databaseInfo` (per inspected database: `measurementCount`, `measurements` (first 20 names),
 *   `measurementCountIsLowerBound`, `seriesCardinality` (estimate) or `seriesCount` + `seriesCountIsLowerBound`),
 *   `totalMeasurements`, `totalSeries`, `users` (name, admin), `subscriptions`. 2.x: `commit`, `health`,
 *   `setupAllowed`, `buckets`, `bucketCount`. On a refusal: `httpStatus`, `error` (the body's text).
 * - `peers`: 1.x subscription destinations (`SHOW SUBSCRIPTIONS`: where the server copies every write, e.g. a
 *   Kapacitor), role `subscriber`.
 */
import { ProtocolError } from '../../core/errors.js';
import { AuthVerdict, type Peer, type Probe, type ProbeResult } from '../../core/types.js';
import { type HttpResponse } from '../../net/http.js';
import { printable, runProbe, type ProbeRun } from '../../net/probe-run.js';
import {
  INFLUX_LIMITS,
  destinationHost,
  firstColumn,
  firstCount,
  isInspectableDbName,
  parseBuckets,
  parseErrorBody,
  parseHealth,
  parsePingHeaders,
  parseQueryResponse,
  parseSetup,
  parseSubscriptions,
  parseUsers,
  type QueryResponse,
} from './codec.js';

/** The allow-list. `/query` commands are named by their (constant) InfluxQL statement. */
export const INFLUX_COMMANDS = {
  ping: 'GET /ping',
  showDatabases: 'GET /query SHOW DATABASES',
  showUsers: 'GET /query SHOW USERS',
  showSubscriptions: 'GET /query SHOW SUBSCRIPTIONS',
  showMeasurements: 'GET /query SHOW MEASUREMENTS',
  showSeriesCardinality: 'GET /query SHOW SERIES CARDINALITY',
  showSeries: 'GET /query SHOW SERIES',
  health: 'GET /health',
  setup: 'GET /api/v2/setup',
  buckets: 'GET /api/v2/buckets',
} as const;
type QueryCommand =
  | typeof INFLUX_COMMANDS.showDatabases
  | typeof INFLUX_COMMANDS.showUsers
  | typeof INFLUX_COMMANDS.showSubscriptions
  | typeof INFLUX_COMMANDS.showMeasurements
  | typeof INFLUX_COMMANDS.showSeriesCardinality
  | typeof INFLUX_COMMANDS.showSeries;

const ROW_LIMIT = INFLUX_LIMITS.maxRows + 1;

/** The only InfluxQL this module ever sends: constants, all `SHOW` statements. */
export const INFLUXQL: Readonly<Record<QueryCommand, string>> = {
  [INFLUX_COMMANDS.showDatabases]: 'SHOW DATABASES',
  [INFLUX_COMMANDS.showUsers]: 'SHOW USERS',
  [INFLUX_COMMANDS.showSubscriptions]: 'SHOW SUBSCRIPTIONS',
  [INFLUX_COMMANDS.showMeasurements]: `SHOW MEASUREMENTS LIMIT ${ROW_LIMIT}`,
  [INFLUX_COMMANDS.showSeriesCardinality]: 'SHOW SERIES CARDINALITY',
  [INFLUX_COMMANDS.showSeries]: `SHOW SERIES LIMIT ${ROW_LIMIT}`,
};

/** Databases inspected (measurements, series) per probe: two requests each. */
export const INSPECTED_DBS = 16;
const KEPT_DB_NAMES = 100;
const KEPT_MEASUREMENT_NAMES = 20;

/** The request path of a query: the statement and, for per-database statements, `db=`. */
export function queryPath(command: QueryCommand, db?: string): string {
  const params = new URLSearchParams();
  if (db !== undefined) params.set('db', db);
  params.set('q', INFLUXQL[command]);
  return `/query?${params.toString()}`;
}

const REFUSED = new Set([401, 403]);
/** What 1.x answers (403) while auth is on and no user exists yet (its handler's "create admin user first"). */
const NO_ADMIN = /create admin user first/i;

export const influxdbProbe: Probe = {
  name: 'influxdb',
  defaultPorts: [8086],
  transport: 'http',
  description: 'InfluxDB 1.x (databases, measurements, series) and 2.x (setup state, buckets) without credentials',
  allowedCommands: Object.values(INFLUX_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(influxdbProbe, target, ctx, probeInflux),
};

async function probeInflux(run: ProbeRun): Promise<void> {
  const ping = await get(run, INFLUX_COMMANDS.ping, '/ping');
  const info = parsePingHeaders(ping.headers);
  if (info.version === undefined && ping.status !== 204) {
    throw new ProtocolError(`GET /ping answered HTTP ${ping.status} without X-Influxdb-Version: not InfluxDB (${snippet(ping.body)})`);
  }
  const meta = run.result.metadata;
  run.result.product = info.build === 'ENT' ? 'InfluxDB Enterprise' : 'InfluxDB';
  if (info.version !== undefined) run.result.version = info.version;
  if (info.build !== undefined) meta.build = info.build;
  if (info.major !== undefined) meta.majorVersion = info.major;
  if (ping.status === 401) meta.pingAuthEnabled = true;

  if (info.major === 2) await probeV2(run);
  else await probeV1(run);
}

function get(run: ProbeRun, command: string, path: string): Promise<HttpResponse> {
  return run.http(command, { method: 'GET', path });
}

// ---------------------------------------------------------------- 1.x

async function probeV1(run: ProbeRun): Promise<void> {
  const res = await get(run, INFLUX_COMMANDS.showDatabases, queryPath(INFLUX_COMMANDS.showDatabases));
  const header = parsePingHeaders(res.headers);
  if (run.result.version === undefined && header.version !== undefined) run.result.version = header.version;

  if (res.status !== 200) {
    const body = parseErrorBody(res.body);
    if (body === undefined) {
      throw new ProtocolError(`GET /query SHOW DATABASES answered HTTP ${res.status} without an InfluxDB error body: ${snippet(res.body)}`);
    }
    run.result.metadata.httpStatus = res.status;
    run.result.metadata.error = body.error ?? body.message ?? body.code;
    run.setEvidence(replyEvidence(INFLUX_COMMANDS.showDatabases, res));
    if (res.status === 403 && NO_ADMIN.test(body.error ?? '')) {
      run.result.auth = AuthVerdict.open;
      run.result.metadata.claimable = true;
      run.result.metadata.adminUserMissing = true;
      run.setEvidence(
        `${replyEvidence(INFLUX_COMMANDS.showDatabases, res).toString('utf8')}; authentication is on but no user exists: ` +
          'InfluxDB 1.x lets anyone create the first admin without credentials',
      );
    } else if (REFUSED.has(res.status)) run.result.auth = AuthVerdict.authRequired;
    else {
      run.result.auth = AuthVerdict.inconclusive;
      run.result.errors.push(`GET /query SHOW DATABASES answered HTTP ${res.status}; cannot tell whether the data is exposed`);
    }
    return;
  }
  const list = parseQueryResponse(res.body, 'SHOW DATABASES reply');
  const statementError = list.error ?? list.results[0]?.error;
  if (statementError !== undefined || list.results.length === 0) {
    run.result.auth = AuthVerdict.inconclusive;
    run.setEvidence(replyEvidence(INFLUX_COMMANDS.showDatabases, res));
    run.result.errors.push(`SHOW DATABASES answered an error: ${statementError ?? 'no result'}`);
    return;
  }
  const { names, rowCount } = firstColumn(list);
  const meta = run.result.metadata;
  run.result.auth = AuthVerdict.open;
  meta.databaseCount = rowCount;
  meta.databases = names.slice(0, KEPT_DB_NAMES).map((n) => printable(n, 128));
  run.setEvidence(openEvidence(run));

  await readUsers(run);
  await readSubscriptions(run);
  await inspectDatabases(run, names);
  run.setEvidence(openEvidence(run));
}

/** A follow-up `/query`: its parsed reply, or undefined after noting why not (the verdict is already in). */
async function followUp(run: ProbeRun, command: QueryCommand, db?: string): Promise<QueryResponse | undefined> {
  const res = await get(run, command, queryPath(command, db));
  const where = db === undefined ? command : `${command} (db ${printable(db, 64)})`;
  if (res.status !== 200) {
    const body = parseErrorBody(res.body);
    const text = body?.error ?? body?.message ?? snippet(res.body);
    // A parser that does not know the statement (older releases) is not an error worth reporting; the caller falls back.
    if (res.status === 400 && /error parsing query/i.test(text)) return { results: [], error: text };
    run.result.errors.push(`${where} answered HTTP ${res.status}: ${text}`);
    return undefined;
  }
  try {
    const parsed = parseQueryResponse(res.body, `${where} reply`);
    const err = parsed.error ?? parsed.results[0]?.error;
    if (err !== undefined) {
      run.result.errors.push(`${where} answered an error: ${err}`);
      return undefined;
    }
    return parsed;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    run.result.errors.push(err.message);
    return undefined;
  }
}

async function readUsers(run: ProbeRun): Promise<void> {
  const res = await followUp(run, INFLUX_COMMANDS.showUsers);
  if (res && res.error === undefined) run.result.metadata.users = parseUsers(res).slice(0, 100);
}

async function readSubscriptions(run: ProbeRun): Promise<void> {
  const res = await followUp(run, INFLUX_COMMANDS.showSubscriptions);
  if (!res || res.error !== undefined) return;
  const subs = parseSubscriptions(res).slice(0, 100);
  run.result.metadata.subscriptions = subs;
  for (const sub of subs) {
    for (const dest of sub.destinations) {
      const at = destinationHost(dest);
      if (at === undefined) continue;
      const peer: Peer = { host: at.host, role: 'subscriber', source: `SHOW SUBSCRIPTIONS: ${sub.database}.${sub.retentionPolicy} ${sub.name} -> ${dest}` };
      if (at.port !== undefined) peer.port = at.port;
      run.result.peers.push(peer);
    }
  }
}

/** Measurements and series of the first databases of the server's own list (names it lists, nothing else). */
async function inspectDatabases(run: ProbeRun, names: string[]): Promise<void> {
  const picked = names.filter(isInspectableDbName).slice(0, INSPECTED_DBS);
  if (picked.length === 0) return;
  const infos: Record<string, unknown>[] = [];
  run.result.metadata.databaseInfo = infos;
  let totalMeasurements = 0;
  let totalSeries = 0;
  for (const db of picked) {
    const info: Record<string, unknown> = { name: printable(db, 128) };
    infos.push(info);
    const measurements = await followUp(run, INFLUX_COMMANDS.showMeasurements, db);
    if (measurements && measurements.error === undefined) {
      const { names: ms, rowCount } = firstColumn(measurements);
      info.measurementCount = Math.min(rowCount, INFLUX_LIMITS.maxRows);
      if (rowCount > INFLUX_LIMITS.maxRows) info.measurementCountIsLowerBound = true;
      info.measurements = ms.slice(0, KEPT_MEASUREMENT_NAMES).map((n) => printable(n, 128));
      totalMeasurements += info.measurementCount as number;
    }
    const cardinality = await followUp(run, INFLUX_COMMANDS.showSeriesCardinality, db);
    if (cardinality && cardinality.error === undefined) {
      const n = firstCount(cardinality);
      if (n !== undefined) {
        info.seriesCardinality = n;
        totalSeries += n;
      }
      continue;
    }
    if (cardinality?.error === undefined) continue;
    // The parser does not know SHOW SERIES CARDINALITY: count SHOW SERIES rows up to the limit instead.
    const series = await followUp(run, INFLUX_COMMANDS.showSeries, db);
    if (series && series.error === undefined) {
      const { rowCount } = firstColumn(series);
      info.seriesCount = Math.min(rowCount, INFLUX_LIMITS.maxRows);
      if (rowCount > INFLUX_LIMITS.maxRows) info.seriesCountIsLowerBound = true;
      totalSeries += info.seriesCount as number;
    }
  }
  run.result.metadata.totalMeasurements = totalMeasurements;
  run.result.metadata.totalSeries = totalSeries;
}

function openEvidence(run: ProbeRun): string {
  const m = run.result.metadata;
  const names = ((m.databases as string[] | undefined) ?? []).slice(0, 20);
  const count = m.databaseCount as number;
  let text = `GET /query SHOW DATABASES answered 200 without credentials: ${count} database${count === 1 ? '' : 's'}${names.length > 0 ? `: ${names.join(', ')}` : ''}`;
  if (typeof m.totalMeasurements === 'number') text += `; ${m.totalMeasurements} measurements, ${m.totalSeries as number} series in the first ${(m.databaseInfo as unknown[]).length}`;
  return text;
}

// ---------------------------------------------------------------- 2.x

async function probeV2(run: ProbeRun): Promise<void> {
  const meta = run.result.metadata;
  const health = await get(run, INFLUX_COMMANDS.health, '/health');
  if (health.status === 200 || health.status === 503) {
    const h = parseHealth(health.body);
    meta.health = { name: h.name, status: h.status, ...(h.message !== undefined ? { message: h.message } : {}) };
    if (h.version !== undefined) run.result.version = h.version;
    if (h.commit !== undefined) meta.commit = h.commit;
  }

  const setup = await get(run, INFLUX_COMMANDS.setup, '/api/v2/setup');
  if (setup.status === 200) {
    const allowed = parseSetup(setup.body);
    meta.setupAllowed = allowed;
    if (allowed) {
      run.result.auth = AuthVerdict.open;
      meta.claimable = true;
      run.setEvidence(
        `${replyEvidence(INFLUX_COMMANDS.setup, setup).toString('utf8')}; initial setup was never done: ` +
          'anyone can create the first owner, organization and token without credentials',
      );
      return;
    }
  }

  const buckets = await get(run, INFLUX_COMMANDS.buckets, `/api/v2/buckets?limit=${INFLUX_LIMITS.maxRows}`);
  if (buckets.status === 200) {
    const list = parseBuckets(buckets.body);
    run.result.auth = AuthVerdict.open;
    meta.bucketCount = list.length;
    meta.buckets = list.slice(0, KEPT_DB_NAMES);
    run.setEvidence(`GET /api/v2/buckets answered 200 without a token: ${list.length} buckets: ${list.slice(0, 20).map((b) => b.name).join(', ')}`);
    return;
  }
  const body = parseErrorBody(buckets.body);
  meta.httpStatus = buckets.status;
  if (body !== undefined) meta.error = body.message ?? body.error ?? body.code;
  run.setEvidence(replyEvidence(INFLUX_COMMANDS.buckets, buckets));
  if (REFUSED.has(buckets.status) && body !== undefined) run.result.auth = AuthVerdict.authRequired;
  else {
    run.result.auth = AuthVerdict.inconclusive;
    run.result.errors.push(`GET /api/v2/buckets answered HTTP ${buckets.status}; cannot tell whether the data is exposed`);
  }
}

// ---------------------------------------------------------------- helpers

/** Evidence bytes: `GET /query SHOW DATABASES: HTTP 401 {"error":…}` — the server's own body, escaped by `setEvidence`. */
function replyEvidence(command: string, res: HttpResponse): Buffer {
  return Buffer.from(`${command}: HTTP ${res.status} ${res.body.subarray(0, 512).toString('utf8').trim()}`);
}

function snippet(body: Buffer): string {
  return printable(body.subarray(0, 80), 120);
}
