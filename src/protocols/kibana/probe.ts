/**
 * Kibana probe over HTTP (default port 5601; OpenSearch Dashboards, its fork, is recognised too). Only the three
 * requests of `KIBANA_COMMANDS` go out: two GETs, and one POST to the Dev Tools console proxy whose proxied
 * method is a constant GET (see `CONSOLE_PROXY_TARGET`), so nothing is ever written.
 *
 * Why this module's result is a finding of its own: Kibana's console proxy runs any Elasticsearch request it is
 * given, as the Kibana user (anonymous when security is off). An open Kibana therefore exposes Elasticsearch's
 * data even when Elasticsearch's own port (9200) is firewalled or bound to localhost, and closing 9200 does not
 * fix it. So the exposure is reported where it is reachable — module `kibana`, on Kibana's port — with evidence
 * naming the console proxy and `metadata.exposes = 'elasticsearch-via-kibana'`, separate from any
 * `elasticsearch` finding on 9200 (which the same cluster may or may not also have). Both can exist for one
 * cluster; their remedies differ (Kibana's security or `console.enabled: false` vs Elasticsearch's).
 *
 * The conversation:
 * 1. `GET /api/status` in plain HTTP; once more over TLS when the port looks TLS-only (the connection closes,
 *    the bytes are not HTTP, or a 400 says "plain HTTP to an HTTPS port"). Every later request uses what worked.
 *    - 200/503 with Kibana's status body: the full body (name, uuid, version) → `open`; the redacted body of
 *      Kibana 8.x with security on (`{status:{overall:{level}}}` only, getRedactedStatusResponse in Kibana's
 *      src/core/packages/status/server-internal/src/routes/status.ts) → `auth_required`.
 *    - 401/403 → `auth_required` (Kibana 7.x with security answers API routes 401).
 *    - A redirect to `/login` → `auth_required` (a login wall, Kibana's own or a proxy's in front).
 *    - Anything else (404, 5xx, a redirect elsewhere): `GET /`, to tell a Kibana (its `kbn-name`/`kbn-version`
 *      header, a redirect into `/app/kibana`, `/app/home` or `/spaces/enter`) from another HTTP service; a
 *      redirect to `/login` there → `auth_required`, a recognised Kibana otherwise → `inconclusive`, anything
 *      else → protocol-error.
 * 2. Only when open: one `POST /api/console/proxy?path=_cat/indices?format=json&bytes=b&method=GET` with
 *    `kbn-xsrf: true` (and `kbn-version` when the status reply stated it), no body.
 *
 * Result fields and their sources:
 * - `auth`: as above. The console proxy never changes it: Kibana being readable without login is the verdict.
 * - `product`: `Kibana`, or `OpenSearch Dashboards` from its `osd-name` header (`kibanaFromReply`).
 * - `version`: `/api/status` `version.number`, else the `kbn-version` response header.
 * - `evidence`: the status reply (name, version, overall status) and, when it answered, the console proxy's
 *   listing (`Elasticsearch behind Kibana's console proxy lists N indices …`) or its refusal; on a refusal,
 *   `GET /api/status: HTTP 401 Unauthorized`, the challenge and the error body.
 * - `metadata.tls`, `metadata.plainHttpFailure`: whether the answer came over TLS, how plain HTTP failed.
 * - `metadata.kibana`: `name`, `uuid`, `overall` (`status.overall.level`/`state`), `redacted` from `/api/status`.
 * - `metadata.httpStatus`, `wwwAuthenticate`, `errorType`, `errorReason`, `location`: the deciding reply when it
 *   was not a status body.
 * - `metadata.consoleProxy`: `{ open: true, indices, docs, bytes }` (totals over every index Elasticsearch
 *   listed; `truncated` when more were listed than kept), or `{ open: false, httpStatus, esStatus?, errorType?,
 *   errorReason? }` when Kibana or Elasticsearch refused. Absent when Kibana was not open.
 * - `metadata.exposes`: `elasticsearch-via-kibana` when the console proxy listed Elasticsearch's indices.
 * - `inventory`: those indices (kind `index`, docs as records, store size as bytes), as the elasticsearch module
 *   records them (`inventoryOf`).
 */
import { ErrorCode, LockdownError, ProtocolError } from '../../core/errors.js';
import { AuthVerdict, type Probe, type ProbeResult } from '../../core/types.js';
import { type HttpResponse } from '../../net/http.js';
import { plainThenTls } from '../../net/http-tls-fallback.js';
import { printable, runProbe, type ProbeRun } from '../../net/probe-run.js';
import { kibanaFromReply, parseErrorBody, parseKibanaStatus, type CatIndices, type KibanaProduct } from '../elasticsearch/codec.js';
import { inventoryOf } from '../elasticsearch/probe.js';
import { CONSOLE_PROXY_TARGET, consoleProxyHeaders, kibanaRedirect, readConsoleProxyReply, type ConsoleProxyReply } from './codec.js';
import { describeError, describeReply } from '../elasticsearch/describe-reply.js';
import { recordKibanaStatus } from '../elasticsearch/kibana-status.js';

/** The allow-list: every request this module may send. */
export const KIBANA_COMMANDS = {
  status: 'GET /api/status',
  root: 'GET /',
  /** A POST to Kibana, a GET to Elasticsearch: the name says both (the target is the constant `CONSOLE_PROXY_TARGET`). */
  consoleProxy: 'POST /api/console/proxy (GET _cat/indices)',
} as const;

/** The exact request targets, one per command. */
export const KIBANA_PATHS: Readonly<Record<keyof typeof KIBANA_COMMANDS, string>> = {
  status: '/api/status',
  root: '/',
  consoleProxy: CONSOLE_PROXY_TARGET,
};

export const kibanaProbe: Probe = {
  name: 'kibana',
  defaultPorts: [5601],
  transport: 'http',
  description: "Kibana status without login, and Elasticsearch's indices read through Kibana's Dev Tools console proxy",
  allowedCommands: Object.values(KIBANA_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(kibanaProbe, target, ctx, probeKibana),
};

async function probeKibana(run: ProbeRun): Promise<void> {
  const { res, tls, plainFailure } = await fetchStatus(run);
  const result = run.result;
  result.metadata.tls = tls;
  if (plainFailure !== undefined) result.metadata.plainHttpFailure = printable(plainFailure, 256);
  const product = kibanaFromReply(res.status, res.headers);
  if (product !== undefined) result.product = product;
  const headerVersion = versionHeader(res);
  if (headerVersion !== undefined) result.version = headerVersion;
  if (res.status === 200 || res.status === 503) {
    // Kibana answers 503 with the full body while its overall status is not available.
    await readStatus(run, res, tls, product, headerVersion);
  } else if (res.status === 401 || res.status === 403) {
    recordRefusal(run, KIBANA_COMMANDS.status, res);
  } else if (kibanaRedirect(res.status, res.headers.location) === 'login') {
    recordLoginRedirect(run, KIBANA_COMMANDS.status, res);
  } else {
    await recogniseFromRoot(run, res, tls);
  }
}

function get(run: ProbeRun, request: 'status' | 'root', tls: boolean): Promise<HttpResponse> {
  return run.http(KIBANA_COMMANDS[request], { method: 'GET', path: KIBANA_PATHS[request], tls });
}

function versionHeader(res: HttpResponse): string | undefined {
  const v = res.headers['kbn-version'] ?? res.headers['osd-version'];
  return v !== undefined ? printable(v, 64) : undefined;
}

async function readStatus(run: ProbeRun, res: HttpResponse, tls: boolean, headerProduct: KibanaProduct | undefined, headerVersion: string | undefined): Promise<void> {
  const result = run.result;
  run.setEvidence(describeReply(KIBANA_COMMANDS.status, res));
  const status = parseKibanaStatus(res.body);
  // Any JSON with a `status` object parses; without Kibana's header, only Kibana's overall status says it is Kibana.
  if (headerProduct === undefined && status.overall === undefined) {
    throw new ProtocolError('GET /api/status reply is JSON but not Kibana status (no status.overall and no kbn-name header)');
  }
  const product = headerProduct ?? 'Kibana';
  result.product = product;
  const evidence = recordKibanaStatus(run, res, status, product);
  if (evidence === undefined) return;
  // The exact version the server stated goes back in kbn-version; a header beats the body (snapshot builds
  // strip "-SNAPSHOT" from version.number, and Kibana refuses a kbn-version that differs from its own).
  await readConsoleProxy(run, tls, product, headerVersion ?? status.version, evidence);
}

/**
 * The one console proxy request. Its reply is noted whatever it is: a listing makes this the
 * elasticsearch-via-kibana finding; a refusal (Kibana 400/403/404, or Elasticsearch's 401/403 relayed) is
 * recorded and the verdict stays open. A body that is not an index list is noted as an error.
 */
async function readConsoleProxy(run: ProbeRun, tls: boolean, product: KibanaProduct, version: string | undefined, statusLines: string): Promise<void> {
  const result = run.result;
  const res = await run.http(KIBANA_COMMANDS.consoleProxy, {
    method: 'POST',
    path: KIBANA_PATHS.consoleProxy,
    headers: consoleProxyHeaders(product, version),
    tls,
  });
  let reply: ConsoleProxyReply;
  try {
    reply = readConsoleProxyReply(res.status, res.headers, res.body);
  } catch (err) {
    if (!(err instanceof LockdownError && err.code === ErrorCode.protocol)) throw err;
    result.errors.push(`${KIBANA_COMMANDS.consoleProxy}: ${err.message}`);
    result.metadata.consoleProxy = { open: false, httpStatus: res.status };
    return;
  }
  if (reply.ok) {
    const { cat } = reply;
    const proxy: Record<string, unknown> = { open: true, indices: cat.count, docs: cat.totalDocs, bytes: cat.totalBytes };
    if (cat.truncated) proxy.truncated = true;
    result.metadata.consoleProxy = proxy;
    result.metadata.exposes = 'elasticsearch-via-kibana';
    result.inventory = inventoryOf(cat);
    run.setEvidence(`${statusLines}\n${proxyEvidence(cat)}`);
    return;
  }
  const proxy: Record<string, unknown> = { open: false, httpStatus: reply.httpStatus };
  if (reply.esStatus !== undefined) proxy.esStatus = reply.esStatus;
  if (reply.error.type !== undefined) proxy.errorType = reply.error.type;
  if (reply.error.reason !== undefined) proxy.errorReason = reply.error.reason;
  result.metadata.consoleProxy = proxy;
  const who = reply.esStatus !== undefined ? `Elasticsearch answered ${reply.esStatus} through the proxy` : `${product} refused`;
  const detail = describeError(reply.error);
  run.setEvidence(`${statusLines}\n${KIBANA_COMMANDS.consoleProxy}: HTTP ${reply.httpStatus}, ${who}${detail !== '' ? `: ${detail}` : ''}`);
}

function proxyEvidence(cat: CatIndices): string {
  const head =
    `${KIBANA_COMMANDS.consoleProxy} answered without credentials: Elasticsearch behind Kibana's console proxy lists ` +
    `${cat.count} indices, ${cat.totalDocs} docs, ${cat.totalBytes} bytes`;
  const largest = cat.indices.slice(0, 8).map((i) => `${i.name} (${i.docs ?? '?'} docs)`);
  return largest.length > 0 ? `${head}: ${largest.join(', ')}` : head;
}

/** 401/403: the status line, the challenge and the error body are the evidence. */
function recordRefusal(run: ProbeRun, command: string, res: HttpResponse): void {
  const result = run.result;
  result.auth = AuthVerdict.authRequired;
  const error = parseErrorBody(res.body);
  result.metadata.httpStatus = res.status;
  const challenge = res.headers['www-authenticate'];
  if (challenge !== undefined) result.metadata.wwwAuthenticate = printable(challenge, 256);
  if (error.type !== undefined) result.metadata.errorType = error.type;
  if (error.reason !== undefined) result.metadata.errorReason = error.reason;
  run.setEvidence(describeReply(command, res, error));
}

/** A redirect to a login page: whoever sent it, nothing is readable without credentials. */
function recordLoginRedirect(run: ProbeRun, command: string, res: HttpResponse): void {
  run.result.auth = AuthVerdict.authRequired;
  run.result.metadata.httpStatus = res.status;
  run.result.metadata.location = printable(res.headers.location ?? '', 256);
  run.setEvidence(`${describeReply(command, res)}\nRedirects to a login page: credentials required`);
}

/** `/api/status` did not decide: `GET /` says whether this is Kibana at all, and whether it wants a login. */
async function recogniseFromRoot(run: ProbeRun, status: HttpResponse, tls: boolean): Promise<void> {
  const result = run.result;
  const statusReply = describeReply(KIBANA_COMMANDS.status, status);
  run.setEvidence(statusReply);
  const root = await get(run, 'root', tls);
  const redirect = kibanaRedirect(root.status, root.headers.location);
  const product = (result.product as KibanaProduct | undefined) ?? kibanaFromReply(root.status, root.headers) ?? (redirect === 'app' ? 'Kibana' : undefined);
  if (product !== undefined) result.product = product;
  result.version ??= versionHeader(root);
  if (redirect === 'login') {
    recordLoginRedirect(run, KIBANA_COMMANDS.root, root);
    run.setEvidence(`${statusReply}\n${describeReply(KIBANA_COMMANDS.root, root)}\nRedirects to a login page: credentials required`);
    return;
  }
  run.setEvidence(`${statusReply}\n${describeReply(KIBANA_COMMANDS.root, root)}`);
  if (product === undefined) {
    throw new ProtocolError(`Not Kibana: GET /api/status answered HTTP ${status.status} and GET / has no Kibana header or redirect`);
  }
  // Kibana is there, but its status API did not answer: nothing says whether it is readable.
  result.auth = AuthVerdict.inconclusive;
  result.metadata.httpStatus = status.status;
}

/** `GET /api/status` in plain HTTP, retried over TLS when the port looks TLS-only (src/net/http-tls-fallback.ts). */
function fetchStatus(run: ProbeRun): Promise<{ res: HttpResponse; tls: boolean; plainFailure?: string }> {
  return plainThenTls(run, (tls) => get(run, 'status', tls));
}



