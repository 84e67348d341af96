import { type AuthVerdict } from '../../core/types.js';
import { capJson, compactClaim, isObject, isoTime, judgeBlock, str } from './claims.js';
import { ipOf, portOf } from './fields.js';
import { mapModule } from './module-map.js';
import { type ImportSink } from './types.js';

/**
 * zgrab2 output: one JSON line per target, `{"ip", "domain", "data": {"<scan name>": ScanResponse}}`,
 * where ScanResponse (zgrab2 module.go) is `{status, protocol, port?, result, timestamp, error}` and
 * `result` is the module's Result struct (modules/<name>/scanner.go): redis (ping/info/auth responses,
 * version), mongodb (is_master, build_info, database_info), mysql (handshake/error packets), postgres
 * (authentication_mode, server_parameters, startup errors), memcached (version, stats), http (response).
 * A scan that connected (a `result` is present) is a candidate; a failed connect is skipped.
 */

/** zgrab2's default port per module (`zgrab2.AddCommand(..., port, ...)`), for lines written before ScanResponse carried `port`. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  redis: 6379,
  mongodb: 27017,
  mysql: 3306,
  postgres: 5432,
  memcached: 11211,
  mssql: 1433,
  oracle: 1521,
  http: 80,
};

type Obj = Record<string, unknown>;

export function zgrab2Record(value: unknown, line: number, sink: ImportSink): void {
  if (!isObject(value)) {
    sink.malformed(line, 'not a JSON object');
    return;
  }
  const domain = str(value.domain);
  const ip = value.ip !== undefined ? ipOf(value.ip) : undefined;
  if (ip && !ip.ok) {
    sink.malformed(line, `${ip.reason} (ip)`);
    return;
  }
  if (!ip && !domain) {
    sink.malformed(line, 'no ip and no domain');
    return;
  }
  if (!isObject(value.data)) {
    sink.malformed(line, 'no data object');
    return;
  }
  const host = ip?.value ?? (domain as string);
  for (const [name, resp] of Object.entries(value.data)) {
    if (!isObject(resp)) {
      sink.malformed(line, `data.${name}: not a JSON object`);
      continue;
    }
    const protocol = str(resp.protocol) ?? name;
    const result = isObject(resp.result) ? resp.result : undefined;
    if (!result) {
      // Nothing answered (connection-refused, connection-timeout …): no service to import.
      sink.skipped();
      continue;
    }
    const port = portOf(resp.port ?? DEFAULT_PORTS[protocol]);
    if (!port.ok) {
      sink.malformed(line, `data.${name}: ${port.reason}`);
      continue;
    }
    const http = protocol === 'http' ? httpProduct(result) : undefined;
    const product = http?.product ?? PRODUCTS[protocol];
    const match = mapModule({ port: port.value, ...(product ? { product } : {}), service: protocol });
    const module = match?.module ?? null;
    const error = str(resp.error);
    const judged = http?.auth
      ? { auth: http.auth, why: http.why }
      : judgeBlock(module, result, [error, ...replyTexts(result)]);
    sink.candidate({
      host,
      port: port.value,
      transport: 'tcp',
      module,
      product: mysqlProduct(result) ?? product ?? null,
      version: versionOf(protocol, result) ?? http?.version ?? null,
      claimAuth: judged.auth as AuthVerdict | null,
      claim: compactClaim({
        observedAt: isoTime(resp.timestamp),
        hostnames: domain ? [domain] : undefined,
        service: protocol,
        status: str(resp.status),
        moduleFrom: match?.from,
        authFrom: judged.why,
        evidence: { [name]: capJson(result), ...(error ? { error } : {}) },
      }),
      line,
    });
  }
}

const PRODUCTS: Readonly<Record<string, string>> = {
  redis: 'Redis',
  mongodb: 'MongoDB',
  mysql: 'MySQL',
  postgres: 'PostgreSQL',
  memcached: 'memcached',
};

/** Texts in a result that carry the server's own replies (where an auth error would be). */
function replyTexts(result: Obj): string[] {
  const out: string[] = [];
  for (const k of ['ping_response', 'info_response', 'auth_response', 'nonexistent_response']) {
    if (typeof result[k] === 'string') out.push(result[k] as string);
  }
  for (const k of ['startup_error', 'user_startup_error', 'protocol_error']) {
    const e = result[k];
    if (isObject(e) && typeof e.message === 'string') out.push(e.message);
  }
  const mysqlError = get(result, 'error', 'parsed', 'error_message');
  if (typeof mysqlError === 'string') out.push(mysqlError);
  return out;
}

function get(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function versionOf(protocol: string, r: Obj): string | undefined {
  switch (protocol) {
    case 'redis':
    case 'memcached':
      return str(r.version);
    case 'mongodb':
      return str(get(r, 'build_info', 'version'));
    case 'mysql':
      return str(get(r, 'handshake', 'parsed', 'server_version'));
    case 'postgres':
      return str(get(r, 'server_parameters', 'server_version'));
    default:
      return undefined;
  }
}

function mysqlProduct(r: Obj): string | undefined {
  const v = str(get(r, 'handshake', 'parsed', 'server_version'));
  return v && /mariadb/i.test(v) ? 'MariaDB' : undefined;
}

/** Elasticsearch answers HTTP: its root document names it ("You Know, for Search"); with security on, a 401. */
function httpProduct(r: Obj): { product?: string; version?: string; auth?: AuthVerdict; why?: string } | undefined {
  const response = get(r, 'response');
  if (!isObject(response)) return undefined;
  const body = typeof response.body === 'string' ? response.body : '';
  const status = response.status_code;
  const headers = isObject(response.headers) ? response.headers : {};
  const wwwAuth = JSON.stringify(headers.www_authenticate ?? '');
  if (/You Know, for Search/.test(body)) {
    let version: string | undefined;
    try {
      const doc = JSON.parse(body) as Obj;
      version = str(get(doc, 'version', 'number'));
    } catch {
      version = undefined;
    }
    return {
      product: 'Elasticsearch',
      ...(version ? { version } : {}),
      ...(status === 200 ? { auth: 'open' as const, why: 'root document answered (HTTP 200)' } : {}),
    };
  }
  if ((status === 401 || status === 403) && /realm=\\?"security\\?"/.test(wwwAuth)) {
    return { product: 'Elasticsearch', auth: 'auth_required', why: `HTTP ${status}, realm "security"` };
  }
  return undefined;
}
