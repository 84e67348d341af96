/**
 * etcd probe over HTTP: `GET /version` (is it etcd, which version), then the v3 gRPC-gateway's read-only
 * RPCs as JSON POSTs: KV.Range with `count_only` (the verdict: how many keys an anonymous client reaches),
 * Cluster.MemberList (the peers) and Maintenance.Status (leader, database size, raft position). Only inside
 * the authorized scope, one more Range with `keys_only` and `limit` lists key names. Values are never
 * asked for: every Range body carries `count_only` or `keys_only` (see `rangeCountBody`/`rangeKeysBody`),
 * and the allow-list (`ETCD_COMMANDS`) names each RPC with its path and that flag.
 *
 * The gateway's prefix follows the version: `/v3` from 3.4 (3.4/3.5 also serve `/v3beta`), `/v3beta` on
 * 3.3, `/v3alpha` before; a 404 moves on to the next prefix. A port that speaks only TLS (Go answers plain
 * HTTP with 400 "Client sent an HTTP request to an HTTPS server") is asked again over TLS; a TLS handshake
 * refused for want of a client certificate (`--client-cert-auth`, the Kubernetes default) is `auth_required`.
 *
 * Result fields and their sources:
 * - `auth`: `open` when the `count_only` Range answered 200; `auth_required` when it answered a gateway
 *   error naming an auth failure (etcd 3.4 with `auth enable`: HTTP 400 `{"error":"etcdserver: user name is
 *   empty","code":3}`; gRPC codes 7/16 on any version) or when TLS demanded a client certificate;
 *   `inconclusive` for any other reply.
 * - `evidence`: the Range refusal as sent (`POST /v3/kv/range (count_only): HTTP 400 {…}`), the TLS alert, or,
 *   when open, the key count and revision that answered without credentials.
 * - `product`: `etcd` once `GET /version` named an `etcdserver`; `version`: that `etcdserver` value.
 * - `metadata`: `clusterVersion` (`/version` etcdcluster); `apiPrefix`; `keyCount`, `revision`, `clusterId`,
 *   `memberId`, `raftTerm` (Range reply and its header); `members` (MemberList: id, name, peerURLs, clientURLs,
 *   isLearner), `memberCount`; `statusVersion`, `dbSize`, `dbSizeInUse`, `leader`, `isLeader`, `raftIndex`,
 *   `raftAppliedIndex`, `alarms` (Status); `keyNames`, `keyNamesTruncated` (authorized scope only);
 *   `gatewayError` (the refusal's message and gRPC code); `v3GatewayMissing` (every prefix answered 404);
 *   `tls`, `plainHttpFailure`, `clientCertRequired` (transport).
 * - `inventory`: `records` = key count, `bytes` = Status dbSize; key names as `key` entries when listed.
 * - `peers`: every member other than the one answering (MemberList header `member_id`), one peer per distinct
 *   client and peer URL, role `member` (or `learner`), source naming the member and the field.
 */
import { ProtocolError, errorMessage } from '../../core/errors.js';
import { AuthVerdict, type Inventory, type Peer, type Probe, type ProbeResult } from '../../core/types.js';
import { type HttpResponse } from '../../net/http.js';
import { printable, runProbe, type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import { statusFromError } from '../../net/status.js';
import {
  API_PREFIXES,
  ETCD_LIMITS,
  apiPrefixOrder,
  isAuthError,
  parseGatewayError,
  parseJson,
  parseMemberList,
  parseRangeCount,
  parseRangeKeys,
  parseStatus,
  parseVersion,
  rangeCountBody,
  rangeKeysBody,
  urlHostPort,
  type ApiPrefix,
  type EtcdVersion,
  type MemberList,
} from './codec.js';

/** The read-only RPCs, by the path after the gateway prefix. */
export const ETCD_RPCS = {
  rangeCount: { path: '/kv/range', label: ' (count_only)' },
  rangeKeys: { path: '/kv/range', label: ' (keys_only)' },
  memberList: { path: '/cluster/member/list', label: '' },
  status: { path: '/maintenance/status', label: '' },
} as const;
export type EtcdRpc = keyof typeof ETCD_RPCS;

/** The allow-list name of one RPC under one prefix, e.g. `POST /v3/kv/range (count_only)`. */
export function rpcCommand(prefix: ApiPrefix, rpc: EtcdRpc): string {
  return `POST ${prefix}${ETCD_RPCS[rpc].path}${ETCD_RPCS[rpc].label}`;
}

export const ETCD_VERSION_COMMAND = 'GET /version';

/** The allow-list: `GET /version` and the four read-only POSTs under each gateway prefix. */
export const ETCD_COMMANDS: readonly string[] = [
  ETCD_VERSION_COMMAND,
  ...API_PREFIXES.flatMap((p) => (Object.keys(ETCD_RPCS) as EtcdRpc[]).map((rpc) => rpcCommand(p, rpc))),
];

export const etcdProbe: Probe = {
  name: 'etcd',
  defaultPorts: [2379],
  transport: 'http',
  description: 'etcd v3 (JSON gateway): key count, members and status without credentials',
  allowedCommands: ETCD_COMMANDS,
  probe: (target, ctx): Promise<ProbeResult> => runProbe(etcdProbe, target, ctx, probeEtcd),
};

async function probeEtcd(run: ProbeRun): Promise<void> {
  const root = await fetchVersion(run);
  if (root === undefined) return;
  const { res, tls } = root;
  const meta = run.result.metadata;
  meta.tls = tls;
  if (res.status !== 200) throw new ProtocolError(`GET /version answered HTTP ${res.status}, not etcd: ${snippet(res.body)}`);
  const version: EtcdVersion = parseVersion(parseJson(res.body, 'GET /version reply'));
  run.result.product = 'etcd';
  run.result.version = version.server;
  if (version.cluster !== undefined) meta.clusterVersion = version.cluster;

  const found = await rangeCount(run, tls, version.server);
  if (found === undefined) return;
  const { prefix, res: range } = found;
  meta.apiPrefix = prefix;
  const refused = classifyRange(run, prefix, range);

  await readMembers(run, tls, prefix);
  await readStatus(run, tls, prefix);
  if (!refused && run.ctx.authorized) await readKeyNames(run, tls, prefix);
}

function post(run: ProbeRun, tls: boolean, prefix: ApiPrefix, rpc: EtcdRpc, body: string): Promise<HttpResponse> {
  return run.http(rpcCommand(prefix, rpc), {
    method: 'POST',
    path: prefix + ETCD_RPCS[rpc].path,
    headers: { 'content-type': 'application/json' },
    body,
    tls,
  });
}

function getVersion(run: ProbeRun, tls: boolean): Promise<HttpResponse> {
  return run.http(ETCD_VERSION_COMMAND, { method: 'GET', path: '/version', tls });
}

/**
 * `GET /version` in plain HTTP, and once more over TLS when the port looks TLS-only. Returns undefined
 * when TLS itself was refused for want of a client certificate (the verdict is then already set).
 */
async function fetchVersion(run: ProbeRun): Promise<{ res: HttpResponse; tls: boolean } | undefined> {
  let plainFailure: unknown;
  try {
    const res = await getVersion(run, false);
    if (!plainHttpToTlsPort(res)) return { res, tls: false };
    plainFailure = new ProtocolError(`Plain HTTP answered HTTP ${res.status}: ${snippet(res.body)}`);
  } catch (err) {
    if (run.aborted || !worthTlsRetry(err)) throw err;
    plainFailure = err;
  }
  run.result.metadata.plainHttpFailure = errorMessage(plainFailure);
  try {
    return { res: await getVersion(run, true), tls: true };
  } catch (err) {
    if (run.aborted) throw err;
    // undici reports a TLS 1.3 alert that arrives after the handshake as a bare "other side closed":
    // ask the TLS layer itself (a handshake, no request) what the server said.
    const alert = isClientCertRequired(err) ? tlsAlert(err) : await clientCertAlert(run);
    if (alert !== undefined) {
      run.result.auth = AuthVerdict.authRequired;
      run.result.metadata.tls = true;
      run.result.metadata.clientCertRequired = true;
      run.setEvidence(`TLS refused without a client certificate: ${alert}`);
      return undefined;
    }
    if (isTlsFailure(err)) {
      throw new ProtocolError(`Neither HTTP nor HTTPS: plain HTTP: ${errorMessage(plainFailure)}; TLS: ${errorMessage(err)}`, { cause: err });
    }
    throw plainFailure;
  }
}

/** The `count_only` range under the first gateway prefix that exists (404 moves on to the next). */
async function rangeCount(run: ProbeRun, tls: boolean, serverVersion: string): Promise<{ prefix: ApiPrefix; res: HttpResponse } | undefined> {
  let last: HttpResponse | undefined;
  for (const prefix of apiPrefixOrder(serverVersion)) {
    const res = await post(run, tls, prefix, 'rangeCount', rangeCountBody());
    if (res.status !== 404) return { prefix, res };
    last = res;
  }
  run.result.auth = AuthVerdict.inconclusive;
  run.result.metadata.v3GatewayMissing = true;
  run.result.errors.push(`No v3 JSON gateway answered (${API_PREFIXES.join(', ')}): etcd ${serverVersion} may serve only the v2 API or gRPC`);
  if (last) run.setEvidence(replyEvidence('POST /v3/kv/range (count_only)', last));
  return undefined;
}

/** Set the verdict from the `count_only` range. True when the server refused it. */
function classifyRange(run: ProbeRun, prefix: ApiPrefix, res: HttpResponse): boolean {
  const command = rpcCommand(prefix, 'rangeCount');
  if (res.status === 200) {
    const count = parseRangeCount(parseJson(res.body, `${command} reply`));
    const meta = run.result.metadata;
    run.result.auth = AuthVerdict.open;
    meta.keyCount = count.count;
    if (count.header.revision !== undefined) meta.revision = count.header.revision;
    if (count.header.clusterId !== undefined) meta.clusterId = count.header.clusterId;
    if (count.header.memberId !== undefined) meta.memberId = count.header.memberId;
    if (count.header.raftTerm !== undefined) meta.raftTerm = count.header.raftTerm;
    inventory(run).records = count.count;
    run.setEvidence(
      `${command} answered without credentials: ${count.count} keys` +
        (count.header.revision !== undefined ? ` at revision ${count.header.revision}` : ''),
    );
    return false;
  }
  const err = parseGatewayError(res.body);
  run.setEvidence(replyEvidence(command, res));
  if ((err !== undefined && isAuthError(err)) || (err === undefined && (res.status === 401 || res.status === 403))) {
    run.result.auth = AuthVerdict.authRequired;
    if (err !== undefined) run.result.metadata.gatewayError = err;
    return true;
  }
  run.result.auth = AuthVerdict.inconclusive;
  run.result.errors.push(`${command} answered HTTP ${res.status}; cannot tell whether the keys are readable`);
  return true;
}

/** Cluster.MemberList: members in metadata, every member but this one as peers. Answers even with auth on (3.4). */
async function readMembers(run: ProbeRun, tls: boolean, prefix: ApiPrefix): Promise<void> {
  const command = rpcCommand(prefix, 'memberList');
  const res = await post(run, tls, prefix, 'memberList', '{}');
  if (res.status !== 200) {
    run.result.errors.push(`${command} answered HTTP ${res.status}: ${snippet(res.body)}`);
    return;
  }
  let list: MemberList;
  try {
    list = parseMemberList(parseJson(res.body, `${command} reply`));
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    run.result.errors.push(err.message);
    return;
  }
  const meta = run.result.metadata;
  meta.members = list.members;
  meta.memberCount = list.members.length + list.dropped;
  if (meta.clusterId === undefined && list.header.clusterId !== undefined) meta.clusterId = list.header.clusterId;
  if (meta.memberId === undefined && list.header.memberId !== undefined) meta.memberId = list.header.memberId;
  run.result.peers.push(...peersOf(list, command));
}

export function peersOf(list: MemberList, command: string): Peer[] {
  const peers: Peer[] = [];
  const seen = new Set<string>();
  for (const m of list.members) {
    if (list.header.memberId !== undefined && m.id === list.header.memberId) continue;
    const who = m.name !== '' ? m.name : `ID ${m.id}`;
    for (const field of ['clientURLs', 'peerURLs'] as const) {
      for (const url of m[field]) {
        const hp = urlHostPort(url);
        if (hp === undefined) continue;
        const key = `${hp.host}|${hp.port ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const peer: Peer = { host: hp.host, role: m.isLearner ? 'learner' : 'member', source: `${command}: ${printable(who, 64)} ${field}` };
        if (hp.port !== undefined) peer.port = hp.port;
        peers.push(peer);
      }
    }
  }
  return peers;
}

/** Maintenance.Status: version, leader, database size, raft position. */
async function readStatus(run: ProbeRun, tls: boolean, prefix: ApiPrefix): Promise<void> {
  const command = rpcCommand(prefix, 'status');
  const res = await post(run, tls, prefix, 'status', '{}');
  if (res.status !== 200) {
    run.result.errors.push(`${command} answered HTTP ${res.status}: ${snippet(res.body)}`);
    return;
  }
  let status;
  try {
    status = parseStatus(parseJson(res.body, `${command} reply`));
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    run.result.errors.push(err.message);
    return;
  }
  const meta = run.result.metadata;
  if (status.version !== undefined) meta.statusVersion = status.version;
  if (status.dbSize !== undefined) {
    meta.dbSize = status.dbSize;
    inventory(run).bytes = status.dbSize;
  }
  if (status.dbSizeInUse !== undefined) meta.dbSizeInUse = status.dbSizeInUse;
  if (status.leader !== undefined) {
    meta.leader = status.leader;
    if (status.header.memberId !== undefined) meta.isLeader = status.leader === status.header.memberId;
  }
  if (status.raftIndex !== undefined) meta.raftIndex = status.raftIndex;
  if (status.raftAppliedIndex !== undefined) meta.raftAppliedIndex = status.raftAppliedIndex;
  if (meta.raftTerm === undefined && status.raftTerm !== undefined) meta.raftTerm = status.raftTerm;
  if (status.isLearner) meta.isLearner = true;
  if (status.errors.length > 0) meta.alarms = status.errors;
}

/** Authorized scope only: up to `ETCD_LIMITS.keyNames` key names (keys_only: no values on the wire). */
async function readKeyNames(run: ProbeRun, tls: boolean, prefix: ApiPrefix): Promise<void> {
  const command = rpcCommand(prefix, 'rangeKeys');
  const res = await post(run, tls, prefix, 'rangeKeys', rangeKeysBody());
  if (res.status !== 200) {
    run.result.errors.push(`${command} answered HTTP ${res.status}: ${snippet(res.body)}`);
    return;
  }
  const keys = parseRangeKeys(parseJson(res.body, `${command} reply`), ETCD_LIMITS.keyNames);
  run.result.metadata.keyNames = keys.keys;
  run.result.metadata.keyNamesTruncated = keys.more;
  const inv = inventory(run);
  inv.namespaces = keys.keys.map((k) => ({ path: [k], kind: 'key' as const }));
  if (keys.more) inv.truncated = true;
}

function inventory(run: ProbeRun): Inventory {
  return (run.result.inventory ??= { namespaces: [] });
}

/** A plain request failed the way a TLS-only port fails it: closed/reset, or bytes that are not HTTP. */
function worthTlsRetry(err: unknown): boolean {
  const status = statusFromError(err);
  return status === 'connection-closed' || status === 'protocol-error';
}

/** Go's net/http answers plain HTTP on a TLS port with 400 "Client sent an HTTP request to an HTTPS server." */
function plainHttpToTlsPort(res: HttpResponse): boolean {
  return res.status === 400 && /HTTP request to an HTTPS server|plain HTTP request was sent to HTTPS port/i.test(res.body.subarray(0, 4096).toString('latin1'));
}

function errCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * The server wanted a client certificate: TLS 1.3 `certificate_required` (Go's RequireAndVerifyClientCert),
 * TLS 1.2 `bad_certificate`/`handshake_failure` after our empty Certificate message.
 */
function isClientCertRequired(err: unknown): boolean {
  const text = `${errCode(err)} ${errorMessage(err)} ${errorMessage((err as { cause?: unknown })?.cause ?? '')}`;
  return /CERTIFICATE_REQUIRED|ALERT_BAD_CERTIFICATE|certificate required/i.test(text);
}

function tlsAlert(err: unknown): string {
  return errCode(err) || errorMessage(err);
}

/** How long the TLS check waits for a post-handshake alert (TLS 1.3 sends it right after the client's Finished). */
const ALERT_WAIT_MS = 1000;

/**
 * A TLS handshake without a client certificate and without sending a byte: the alert the server sends
 * (`bad_certificate`, `certificate_required`) when it demands one, or undefined when none came.
 */
async function clientCertAlert(run: ProbeRun): Promise<string | undefined> {
  let session: Session | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    session = await run.connect();
    await session.upgradeTls();
    const s = session;
    await Promise.race([
      s.read<never>(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ALERT_WAIT_MS);
      }),
    ]);
    return undefined;
  } catch (err) {
    if (run.aborted) throw err;
    return isClientCertRequired(err) ? tlsAlert(err) : undefined;
  } finally {
    clearTimeout(timer);
    session?.close();
  }
}

function isTlsFailure(err: unknown): boolean {
  const code = errCode(err);
  return code.startsWith('ERR_SSL_') || code === 'EPROTO' || code.startsWith('HPE_') || /SSL|TLS|secure/i.test(errorMessage(err));
}

/** Evidence bytes: `POST /v3/kv/range (count_only): HTTP 400 {"error":…}` — the server's own body, escaped by `setEvidence`. */
function replyEvidence(command: string, res: HttpResponse): Buffer {
  return Buffer.concat([Buffer.from(`${command}: HTTP ${res.status} `), res.body.subarray(0, 900)]);
}

function snippet(body: Buffer): string {
  return printable(body.subarray(0, 120), 160);
}
