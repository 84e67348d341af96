/**
 * The InfluxDB HTTP replies the probe reads, as pure functions over bytes and headers (no sockets here):
 * - 1.x: `/ping` headers (`X-Influxdb-Version`, `X-Influxdb-Build`), `/query` results
 *   (`{"results":[{"statement_id":0,"series":[{"name","columns","values"}]}]}`) and error bodies
 *   (`{"error":"unable to parse authentication credentials"}`);
 * - 2.x: `/health` (`{"name":"influxdb","message":"ready for queries and writes","status":"pass",…}`),
 *   `/api/v2/setup` (`{"allowed":true|false}`), `/api/v2/buckets`, and its error body
 *   (`{"code":"unauthorized","message":"unauthorized access"}`).
 *
 * Hostile input: bodies are at most the read cap (HTTP layer); nesting is checked before `JSON.parse`, rows,
 * names and strings are capped, and any reply of the wrong shape is a `ProtocolError`.
 */
import { ProtocolError } from '../../core/errors.js';
import { isJsonObject, parseJsonBody } from '../json-body.js';

export const INFLUX_LIMITS = {
  /** `/query` results nest 5 levels (results → result → series → values → row); a little slack for tags. */
  maxJsonDepth: 16,
  /** Rows kept from one series (the queries' LIMITs ask for at most `maxRows + 1` to see truncation). */
  maxRows: 1000,
  /** Series kept from one statement result (SHOW SUBSCRIPTIONS answers one per database). */
  maxSeries: 1000,
  /** Strings copied from a reply into a result. */
  maxString: 256,
  /** Database, measurement and bucket names longer than this are not InfluxDB's (it caps names far lower in practice). */
  maxNameBytes: 1024,
} as const;

type JsonObject = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v.slice(0, INFLUX_LIMITS.maxString) : undefined;
}

/** Parse a reply body as JSON after checking its nesting; anything else is a `ProtocolError` naming `what`. */
export function parseJson(body: Uint8Array, what: string): unknown {
  return parseJsonBody(body, what, INFLUX_LIMITS.maxJsonDepth);
}

// ---------------------------------------------------------------- /ping

/** What `/ping`'s headers say. InfluxDB Cloud sends no version. */
export interface PingInfo {
  /** `X-Influxdb-Version`, e.g. `1.6.7~rc0`, `1.8.10`, `v2.7.11`. */
  version?: string;
  /** `X-Influxdb-Build`: `OSS` or `ENT` (Enterprise). */
  build?: string;
  /** The major version from `version` (`v2.7.11` → 2), when it has one. */
  major?: number;
}

/** Read `/ping`'s headers (lower-cased names, as the HTTP layer gives them). */
export function parsePingHeaders(headers: Record<string, string>): PingInfo {
  const out: PingInfo = {};
  const version = headers['x-influxdb-version'];
  if (version !== undefined && version.length > 0) {
    out.version = version.slice(0, 64);
    const m = /^v?(\d{1,3})\./.exec(version);
    if (m) out.major = Number(m[1]);
  }
  const build = headers['x-influxdb-build'];
  if (build !== undefined && build.length > 0) out.build = build.slice(0, 32);
  return out;
}

// ---------------------------------------------------------------- 1.x /query

/** One series of a statement result. */
export interface Series {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  /** At most `maxRows` rows. */
  values: unknown[][];
  /** Every row the series had, kept or not. */
  rowCount: number;
}

/** One statement's result: its series, or the error InfluxDB reported for that statement. */
export interface StatementResult {
  statementId?: number;
  series: Series[];
  error?: string;
  /** `messages[].text` (e.g. deprecation warnings). */
  messages: string[];
}

/** A `/query` reply: per-statement results, or a request-level `{"error": …}` (parse errors, auth). */
export interface QueryResponse {
  results: StatementResult[];
  error?: string;
}

/** Parse a 1.x `/query` reply (also what InfluxDB 2.x's 1.x-compatible `/query` answers). */
export function parseQueryResponse(body: Uint8Array, what: string): QueryResponse {
  const value = parseJson(body, what);
  if (!isJsonObject(value)) throw new ProtocolError(`${what} is not a JSON object`);
  if (value.results === undefined) {
    const error = str(value.error);
    if (error === undefined) throw new ProtocolError(`${what} has neither results nor error`);
    return { results: [], error };
  }
  if (!Array.isArray(value.results)) throw new ProtocolError(`${what}: results is not an array`);
  const results = value.results.slice(0, 16).map((r, i) => parseStatement(r, `${what} results[${i}]`));
  const out: QueryResponse = { results };
  const error = str(value.error);
  if (error !== undefined) out.error = error;
  return out;
}

function parseStatement(r: unknown, what: string): StatementResult {
  if (!isJsonObject(r)) throw new ProtocolError(`${what} is not an object`);
  const out: StatementResult = { series: [], messages: [] };
  if (typeof r.statement_id === 'number') out.statementId = r.statement_id;
  const error = str(r.error);
  if (error !== undefined) out.error = error;
  if (Array.isArray(r.messages)) {
    for (const m of r.messages.slice(0, 16)) if (isJsonObject(m) && typeof m.text === 'string') out.messages.push(m.text.slice(0, INFLUX_LIMITS.maxString));
  }
  if (r.series === undefined) return out;
  if (!Array.isArray(r.series)) throw new ProtocolError(`${what}: series is not an array`);
  for (const s of r.series.slice(0, INFLUX_LIMITS.maxSeries)) out.series.push(parseSeries(s, what));
  return out;
}

function parseSeries(s: unknown, what: string): Series {
  if (!isJsonObject(s) || !Array.isArray(s.columns) || !s.columns.every((c) => typeof c === 'string')) {
    throw new ProtocolError(`${what}: a series has no columns`);
  }
  const columns = (s.columns as string[]).map((c) => c.slice(0, INFLUX_LIMITS.maxString));
  const values: unknown[][] = [];
  let rowCount = 0;
  if (s.values !== undefined) {
    if (!Array.isArray(s.values)) throw new ProtocolError(`${what}: series values is not an array`);
    for (const row of s.values) {
      if (!Array.isArray(row)) throw new ProtocolError(`${what}: a series row is not an array`);
      rowCount++;
      if (values.length < INFLUX_LIMITS.maxRows) values.push(row);
    }
  }
  const out: Series = { columns, values, rowCount };
  const name = str(s.name);
  if (name !== undefined) out.name = name;
  if (isJsonObject(s.tags)) {
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.tags).slice(0, 32)) if (typeof v === 'string') tags[k.slice(0, 64)] = v.slice(0, INFLUX_LIMITS.maxString);
    out.tags = tags;
  }
  return out;
}

/** The first column of every row of the first series of the first statement, as strings (names). */
export function firstColumn(res: QueryResponse): { names: string[]; rowCount: number } {
  const series = res.results[0]?.series[0];
  if (!series) return { names: [], rowCount: 0 };
  const names = series.values.map((row) => row[0]).filter((v): v is string => typeof v === 'string' && Buffer.byteLength(v) <= INFLUX_LIMITS.maxNameBytes);
  return { names, rowCount: series.rowCount };
}

/** The first numeric cell of the first series (`SHOW SERIES CARDINALITY` answers one, column name varies by version). */
export function firstCount(res: QueryResponse): number | undefined {
  const v = res.results[0]?.series[0]?.values[0]?.find((cell) => typeof cell === 'number');
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** `SHOW USERS`: `user` and `admin` columns. */
export function parseUsers(res: QueryResponse): { name: string; admin: boolean }[] {
  const series = res.results[0]?.series[0];
  if (!series) return [];
  const ui = series.columns.indexOf('user');
  const ai = series.columns.indexOf('admin');
  const out: { name: string; admin: boolean }[] = [];
  for (const row of series.values) {
    const name = row[ui];
    if (typeof name === 'string') out.push({ name: name.slice(0, INFLUX_LIMITS.maxString), admin: row[ai] === true });
  }
  return out;
}

/** One subscription from `SHOW SUBSCRIPTIONS` (one series per database). */
export interface Subscription {
  database: string;
  retentionPolicy: string;
  name: string;
  mode: string;
  destinations: string[];
}

export function parseSubscriptions(res: QueryResponse): Subscription[] {
  const out: Subscription[] = [];
  for (const series of res.results[0]?.series ?? []) {
    const col = (n: string): number => series.columns.indexOf(n);
    for (const row of series.values) {
      const dest = row[col('destinations')];
      out.push({
        database: series.name ?? '',
        retentionPolicy: str(row[col('retention_policy')]) ?? '',
        name: str(row[col('name')]) ?? '',
        mode: str(row[col('mode')]) ?? '',
        destinations: Array.isArray(dest) ? dest.filter((d): d is string => typeof d === 'string').slice(0, 16).map((d) => d.slice(0, INFLUX_LIMITS.maxString)) : [],
      });
    }
  }
  return out;
}

/** host[:port] of a subscription destination URL (`http://host:9092`, `udp://[::1]:9100`), or undefined. */
export function destinationHost(dest: string): { host: string; port?: number } | undefined {
  let url: URL;
  try {
    url = new URL(dest);
  } catch {
    return undefined;
  }
  if (!url.hostname) return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const out: { host: string; port?: number } = { host };
  if (url.port) out.port = Number(url.port);
  return out;
}

/**
 * Whether a database name from the server's own list may be put in a `db=` URL parameter: non-empty, not
 * absurdly long, no control characters. (It is URL-encoded, never spliced into InfluxQL.)
 */
export function isInspectableDbName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= INFLUX_LIMITS.maxNameBytes && !/[\x00-\x1f\x7f]/.test(name);
}

// ---------------------------------------------------------------- error bodies (1.x and 2.x)

/** `{"error": …}` (1.x) or `{"code": …, "message": …}` (2.x), or undefined when the body is neither. */
export interface ErrorBody {
  error?: string;
  code?: string;
  message?: string;
}

export function parseErrorBody(body: Uint8Array): ErrorBody | undefined {
  let value: unknown;
  try {
    value = parseJson(body, 'Error body');
  } catch {
    return undefined;
  }
  if (!isJsonObject(value)) return undefined;
  const out: ErrorBody = {};
  const error = str(value.error);
  const code = str(value.code);
  const message = str(value.message);
  if (error !== undefined) out.error = error;
  if (code !== undefined) out.code = code;
  if (message !== undefined) out.message = message;
  return Object.keys(out).length > 0 ? out : undefined;
}

// ---------------------------------------------------------------- 2.x

/** `GET /health` (2.x, and 1.8+). */
export interface Health {
  name: string;
  status: string;
  message?: string;
  version?: string;
  commit?: string;
}

export function parseHealth(body: Uint8Array): Health {
  const value = parseJson(body, 'GET /health reply');
  if (!isJsonObject(value) || typeof value.name !== 'string' || typeof value.status !== 'string') {
    throw new ProtocolError('GET /health reply has no name and status');
  }
  const out: Health = { name: value.name.slice(0, 64), status: value.status.slice(0, 64) };
  const message = str(value.message);
  const version = str(value.version);
  const commit = str(value.commit);
  if (message !== undefined) out.message = message;
  if (version !== undefined) out.version = version;
  if (commit !== undefined) out.commit = commit;
  return out;
}

/** `GET /api/v2/setup`: `allowed` is true while the instance has no owner yet (onboarding not done). */
export function parseSetup(body: Uint8Array): boolean {
  const value = parseJson(body, 'GET /api/v2/setup reply');
  if (!isJsonObject(value) || typeof value.allowed !== 'boolean') throw new ProtocolError('GET /api/v2/setup reply has no boolean "allowed"');
  return value.allowed;
}

/** `GET /api/v2/buckets`: the buckets' names and types, at most `maxRows`. */
export function parseBuckets(body: Uint8Array): { name: string; type?: string; id?: string }[] {
  const value = parseJson(body, 'GET /api/v2/buckets reply');
  if (!isJsonObject(value) || !Array.isArray(value.buckets)) throw new ProtocolError('GET /api/v2/buckets reply has no buckets array');
  const out: { name: string; type?: string; id?: string }[] = [];
  for (const b of value.buckets.slice(0, INFLUX_LIMITS.maxRows)) {
    if (!isJsonObject(b) || typeof b.name !== 'string') continue;
    const bucket: { name: string; type?: string; id?: string } = { name: b.name.slice(0, INFLUX_LIMITS.maxString) };
    const type = str(b.type);
    const id = str(b.id);
    if (type !== undefined) bucket.type = type;
    if (id !== undefined) bucket.id = id;
    out.push(bucket);
  }
  return out;
}
