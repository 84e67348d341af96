/**
 * What the Kibana probe reads beyond Elasticsearch's own replies, as pure functions over response parts (no
 * sockets): the one console-proxy request it may send, the reply of that proxy, and Kibana's redirects.
 * Kibana's `/api/status` body, its `kbn-name` header and Elasticsearch's `_cat/indices` listing are read by the
 * Elasticsearch codec (`parseKibanaStatus`, `kibanaFromReply`, `parseCatIndices`), imported, not duplicated.
 */
import { ProtocolError } from '../../core/errors.js';
import { bodyText, parseCatIndices, parseErrorBody, type CatIndices, type ErrorInfo } from '../elasticsearch/codec.js';

/** The Elasticsearch request the probe runs through the console proxy: a read, listing indices with sizes in bytes. */
export const CONSOLE_PROXY_ES_PATH = '_cat/indices?format=json&bytes=b';
/** The method Kibana is asked to use towards Elasticsearch. Always GET: nothing is ever written. */
export const CONSOLE_PROXY_ES_METHOD = 'GET';

/**
 * The request target of the console proxy call, a constant: `path` and `method` are the proxy's query
 * parameters (Kibana's routeValidationConfig in src/plugins/console/server/routes/api/console/proxy/
 * validation_config.ts), URL-encoded; `consoleProxyQuery` reads them back for the tests.
 */
export const CONSOLE_PROXY_TARGET = '/api/console/proxy?path=_cat%2Findices%3Fformat%3Djson%26bytes%3Db&method=GET';

/**
 * The headers of the console proxy request. Kibana refuses a POST without `kbn-xsrf` (or `kbn-version`) with
 * 400, and a `kbn-version` that differs from its own version with 400 "Browser client is out of date"
 * (createXsrfPostAuthHandler / createVersionCheckPostAuthHandler in Kibana's http lifecycle_handlers.ts), so the
 * version goes along only as the server itself stated it. OpenSearch Dashboards, Kibana's fork, names the
 * same headers `osd-xsrf` / `osd-version` (its src/core/server/http/lifecycle_handlers.ts).
 */
export function consoleProxyHeaders(product: 'Kibana' | 'OpenSearch Dashboards', version: string | undefined): Record<string, string> {
  const prefix = product === 'OpenSearch Dashboards' ? 'osd' : 'kbn';
  const headers: Record<string, string> = { [`${prefix}-xsrf`]: 'true' };
  if (version !== undefined && /^[0-9A-Za-z.+-]{1,64}$/.test(version)) headers[`${prefix}-version`] = version;
  return headers;
}

/** `path` and `method` as Kibana will read them from a console proxy request target. */
export function consoleProxyQuery(target: string): { path: string | null; method: string | null; keys: string[] } {
  const query = new URL(target, 'http://kibana.invalid').searchParams;
  return { path: query.get('path'), method: query.get('method'), keys: [...query.keys()] };
}

/** The outcome of the console proxy request. */
export type ConsoleProxyReply =
  | {
      ok: true;
      /** Elasticsearch's status as the proxy relayed it (always 200 here). */
      esStatus: number;
      cat: CatIndices;
    }
  | {
      ok: false;
      /** Kibana's HTTP status. */
      httpStatus: number;
      /** Elasticsearch's status when the proxy says it (`x-console-proxy-status-code`, Kibana 8.x). */
      esStatus?: number;
      /** The error body: Elasticsearch's `error.type/reason` or Kibana's (hapi) `error/message`, or text. */
      error: ErrorInfo;
    };

/**
 * Elasticsearch's status behind a console proxy reply. Kibana 6.x/7.x answer with Elasticsearch's own status
 * and body (`response.custom({ statusCode, body: esIncomingMessage })` in create_handler.ts, or h2o2's
 * pass-through in 6.x src/core_plugins/console/server/proxy_route.js); Kibana 8.x answers 200 whatever
 * Elasticsearch said, with that status in `x-console-proxy-status-code` and Elasticsearch's body unchanged
 * (`response.ok({ body: esIncomingMessage, headers: { 'x-console-proxy-status-code': … } })`, same file;
 * elastic/kibana#140536). A header that is not a status code is ignored.
 */
export function proxiedStatus(httpStatus: number, headers: Readonly<Record<string, string>>): { esStatus: number; fromHeader: boolean } {
  const raw = headers['x-console-proxy-status-code']?.trim();
  if (raw !== undefined && /^[1-5][0-9]{2}$/.test(raw)) return { esStatus: Number(raw), fromHeader: true };
  return { esStatus: httpStatus, fromHeader: false };
}

/**
 * Read the console proxy's reply to `GET _cat/indices?format=json&bytes=b`. Success needs both Kibana's and
 * Elasticsearch's status to be 200 and a JSON array of indices (Elasticsearch 5+ honours `format=json`; Kibana
 * 6+ needs Elasticsearch 6+), read by the Elasticsearch codec with its bounds. Anything else is a refusal or
 * an error, described from its body. A 200 whose body is not an index list is a `ProtocolError`.
 */
export function readConsoleProxyReply(httpStatus: number, headers: Readonly<Record<string, string>>, body: Uint8Array): ConsoleProxyReply {
  const { esStatus, fromHeader } = proxiedStatus(httpStatus, headers);
  if (httpStatus === 200 && esStatus === 200) {
    const first = bodyText(body.subarray(0, 64)).trimStart()[0];
    if (first !== '[') throw new ProtocolError('Console proxy answered 200, but the body is not a JSON list of indices');
    return { ok: true, esStatus, cat: parseCatIndices(body) };
  }
  const reply: ConsoleProxyReply = { ok: false, httpStatus, error: parseErrorBody(body) };
  // Kibana's own refusals (hapi/Boom bodies: 400 xsrf, 403 no console privilege, 404 console disabled) are not
  // Elasticsearch's status; only the header, or an Elasticsearch-shaped error body, says Elasticsearch answered.
  if (fromHeader) reply.esStatus = esStatus;
  else if (isElasticsearchError(body)) reply.esStatus = httpStatus;
  return reply;
}

/** Elasticsearch 5+ errors are `{"error":{"type",…},"status":N}`; Kibana's are `{"statusCode":N,"error":"…"}`. */
function isElasticsearchError(body: Uint8Array): boolean {
  return /^\s*\{\s*"error"\s*:\s*\{/.test(bodyText(body.subarray(0, 256)));
}

export type KibanaRedirect = 'login' | 'app';

/**
 * Where a Kibana redirect leads: `login` for its login page (`/login?next=…`, under any `server.basePath`;
 * also the target of an authenticating proxy in front), `app` for the app itself (`/app/kibana` 4–6.x,
 * `/app/home` 7.x, `/spaces/enter` and `/spaces/space_selector` 7.x/8.x with spaces). Undefined for any
 * other status or location.
 */
export function kibanaRedirect(status: number, location: string | undefined): KibanaRedirect | undefined {
  if (status < 300 || status >= 400 || location === undefined) return undefined;
  let pathname: string;
  try {
    pathname = new URL(location, 'http://kibana.invalid').pathname;
  } catch {
    return undefined;
  }
  if (/(?:^|\/)login\/?$/.test(pathname)) return 'login';
  if (/\/(?:app\/(?:kibana|home)|spaces\/(?:enter|space_selector))\/?$/.test(pathname)) return 'app';
  return undefined;
}
