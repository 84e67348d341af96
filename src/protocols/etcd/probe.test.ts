/**
 * The etcd probe against real etcd 3.4 processes (start them with `bash test/servers/etcd.sh start`): a
 * two-member open cluster, a member with `auth enable`, a member that demands TLS client certificates —
 * and against hostile peers (silent, garbage, flood). The test seeds keys with the real etcdctl; the
 * probe only ever sends GET /version and the read-only POSTs of its allow-list.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ProbeResult } from '../../core/types.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, recordingProxy, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { requireServer, servers } from '../../../test/helpers/servers.js';
import { ETCD_LIMITS } from './codec.js';
import { ETCD_COMMANDS, ETCD_VERSION_COMMAND, etcdProbe, rpcCommand } from './probe.js';

/** servers.env values, with the defaults of test/servers/etcd.sh until they are listed there. */
const envOr = (key: string, fallback: string): string => process.env[key] ?? servers[key] ?? fallback;
const OPEN = envOr('ETCD_OPEN_HOST', '127.0.20.1');
const AUTH = envOr('ETCD_AUTH_HOST', '127.0.20.2');
const PEER = envOr('ETCD_PEER_HOST', '127.0.20.3');
const TLS = envOr('ETCD_TLS_HOST', '127.0.20.4');
const PORT = Number(envOr('ETCD_PORT', '2379'));
const PEER_PORT = Number(envOr('ETCD_PEER_PORT', '2380'));
const ROOT_PASSWORD = envOr('ETCD_ROOT_PASSWORD', 'lockdown-etcd-pw');
const SERVERS_DIR = envOr('LOCKDOWN_SERVERS_DIR', path.join(process.env.TMPDIR ?? '/tmp', 'lockdown-servers'));

/** Seven keys as a Kubernetes-like cluster holds them; the values must never show up in a result. */
const SEEDED: Record<string, string> = {
  '/registry/secrets/default/db-password': 'value-hunter2-a',
  '/registry/secrets/kube-system/token': 'value-hunter2-b',
  '/registry/configmaps/default/app': 'value-hunter2-c',
  '/registry/pods/default/web-0': 'value-hunter2-d',
  '/registry/services/default/web': 'value-hunter2-e',
  'config/feature-flags': 'value-hunter2-f',
  'locks/leader': 'value-hunter2-g',
};

function etcdctl(host: string, ...args: string[]): string {
  return execFileSync('etcdctl', ['--endpoints', `http://${host}:${PORT}`, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
  });
}

/** `etcdctl member list` (hex IDs) as `{ id (decimal string), name, peerURLs, clientURLs, isLearner }`, sorted by name. */
function membersSeenByEtcdctl(host: string): { id: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }[] {
  return etcdctl(host, 'member', 'list')
    .trim()
    .split('\n')
    .map((line) => {
      const [id, , name, peer, client, learner] = line.split(', ');
      return {
        id: BigInt(`0x${id}`).toString(),
        name: name!,
        peerURLs: [peer!],
        clientURLs: [client!],
        isLearner: learner === 'true',
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function sortedMembers(r: ProbeResult): unknown {
  return [...(r.metadata.members as { name: string }[])].sort((a, b) => a.name.localeCompare(b.name));
}

/** The server's own count of gRPC calls it started, per `Service/Method` (etcd-open runs with --metrics extensive). */
async function grpcCalls(host: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${host}:${PORT}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^grpc_server_started_total\{grpc_method="([^"]+)",grpc_service="([^"]+)"[^}]*\} (\d+)$/gm)) {
    out.set(`${m[2]}/${m[1]}`, Number(m[3]));
  }
  return out;
}

function diff(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) out[k] = v - (before.get(k) ?? 0);
  return out;
}

interface SentRequest {
  method: string;
  path: string;
  body: string;
}

/** The HTTP/1.1 requests in a client byte stream (Content-Length bodies; undici sends no chunked bodies for strings). */
function decodeRequests(bytes: Buffer): SentRequest[] {
  const out: SentRequest[] = [];
  let rest = bytes.toString('latin1');
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `incomplete request head: ${JSON.stringify(rest.slice(0, 200))}`);
    const [line = '', ...headers] = rest.slice(0, end).split('\r\n');
    const [method = '', target = ''] = line.split(' ');
    const length = Number(/^content-length:\s*(\d+)$/im.exec(headers.join('\n'))?.[1] ?? 0);
    assert.ok(!/^transfer-encoding:/im.test(headers.join('\n')), 'no chunked bodies');
    out.push({ method, path: target, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

/** The allow-list name of a request the probe sent, derived from its method, path and range flags. */
function commandOf(req: SentRequest): string {
  if (req.method === 'GET') return `GET ${req.path}`;
  if (req.path.endsWith('/kv/range')) {
    const body = JSON.parse(req.body) as Record<string, unknown>;
    // The rule under test: a range is either count_only or keys_only (with a bounded limit), never a value read.
    if (body.count_only === true) {
      assert.deepEqual(body, { key: 'AA==', range_end: 'AA==', count_only: true });
      return `POST ${req.path} (count_only)`;
    }
    assert.equal(body.keys_only, true, `a range without count_only must be keys_only: ${req.body}`);
    assert.ok(typeof body.limit === 'number' && body.limit > 0 && body.limit <= ETCD_LIMITS.keyNames, `bounded limit: ${req.body}`);
    return `POST ${req.path} (keys_only)`;
  }
  assert.equal(req.body, '{}');
  return `POST ${req.path}`;
}

async function probeThroughProxy(host: string, authorized: boolean): Promise<{ r: ProbeResult; sent: SentRequest[] }> {
  const proxy = await recordingProxy(host, PORT);
  try {
    const r = await etcdProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx({ authorized }));
    return { r, sent: decodeRequests(proxy.clientBytes()) };
  } finally {
    await proxy.close();
  }
}

const V3 = {
  count: rpcCommand('/v3', 'rangeCount'),
  keys: rpcCommand('/v3', 'rangeKeys'),
  members: rpcCommand('/v3', 'memberList'),
  status: rpcCommand('/v3', 'status'),
};

describe('etcd probe on real etcd 3.4', () => {
  let revision = 0;
  let serverVersion = '';

  before(async () => {
    await requireServer(OPEN, PORT, 'etcd-open');
    await requireServer(PEER, PORT, 'etcd-peer');
    await requireServer(AUTH, PORT, 'etcd-auth');
    await requireServer(TLS, PORT, 'etcd-mtls');
    etcdctl(OPEN, 'del', '--prefix', '');
    for (const [k, v] of Object.entries(SEEDED)) etcdctl(OPEN, 'put', k, v);
    // etcdctl's own view: `-w fields` prints the header and the range's Count.
    const fields = etcdctl(OPEN, 'get', '--prefix', '', '--keys-only', '--limit', '1', '-w', 'fields');
    assert.equal(/^"Count" : (\d+)$/m.exec(fields)?.[1], '7');
    revision = Number(/^"Revision" : (\d+)$/m.exec(fields)?.[1]);
    serverVersion = (JSON.parse(await (await fetch(`http://${OPEN}:${PORT}/version`)).text()) as { etcdserver: string }).etcdserver;
  });

  it('open member: open, 7 keys at the seeded revision, both members, the other one as peer, status', async () => {
    const before = await grpcCalls(OPEN);
    const r = await etcdProbe.probe({ host: OPEN, port: PORT }, probeCtx());
    const calls = diff(before, await grpcCalls(OPEN));
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'etcd');
    assert.equal(r.version, serverVersion);
    assert.equal(r.metadata.keyCount, 7);
    assert.equal(r.metadata.revision, revision);
    assert.equal(r.metadata.apiPrefix, '/v3');
    assert.equal(r.metadata.tls, false);
    assert.equal(r.metadata.clusterVersion, '3.4.0');
    assert.deepEqual(sortedMembers(r), membersSeenByEtcdctl(OPEN));
    assert.equal(r.metadata.memberCount, 2);
    const self = membersSeenByEtcdctl(OPEN).find((m) => m.name === 'n1')!;
    assert.equal(r.metadata.memberId, self.id);
    assert.deepEqual(r.peers, [
      { host: PEER, port: PORT, role: 'member', source: `${V3.members}: n2 clientURLs` },
      { host: PEER, port: PEER_PORT, role: 'member', source: `${V3.members}: n2 peerURLs` },
    ]);
    // Status against etcdctl's own view of the same endpoint.
    const status = (JSON.parse(etcdctl(OPEN, 'endpoint', 'status', '-w', 'json')) as { Status: { version: string; dbSize: number } }[])[0]!.Status;
    assert.equal(r.metadata.statusVersion, status.version);
    assert.equal(r.metadata.dbSize, status.dbSize);
    assert.equal(typeof r.metadata.isLeader, 'boolean');
    assert.ok(Number.isInteger(r.metadata.raftIndex));
    assert.deepEqual(r.inventory, { namespaces: [], records: 7, bytes: status.dbSize });
    assert.equal(r.evidence, `${V3.count} answered without credentials: 7 keys at revision ${revision}`);
    // Outside the authorized scope: no key names, and no keys_only range on the wire.
    assert.equal(r.metadata.keyNames, undefined);
    assert.deepEqual(r.commands, [ETCD_VERSION_COMMAND, V3.count, V3.members, V3.status]);
    assert.deepEqual(r.errors, []);
    // The server's own counters: exactly one Range, one MemberList, one Status — no Put, Txn, DeleteRange …
    assert.deepEqual(calls, { 'etcdserverpb.KV/Range': 1, 'etcdserverpb.Cluster/MemberList': 1, 'etcdserverpb.Maintenance/Status': 1 });
  });

  it('authorized scope: key names (never values) from a keys_only range; the server saw two Ranges', async () => {
    const before = await grpcCalls(OPEN);
    const r = await etcdProbe.probe({ host: OPEN, port: PORT }, probeCtx({ authorized: true }));
    const calls = diff(before, await grpcCalls(OPEN));
    assert.equal(r.auth, 'open');
    assert.deepEqual(r.metadata.keyNames, Object.keys(SEEDED).sort());
    assert.equal(r.metadata.keyNamesTruncated, false);
    assert.deepEqual(
      r.inventory?.namespaces,
      Object.keys(SEEDED)
        .sort()
        .map((k) => ({ path: [k], kind: 'key' })),
    );
    assert.deepEqual(r.commands, [ETCD_VERSION_COMMAND, V3.count, V3.members, V3.status, V3.keys]);
    assert.ok(!JSON.stringify(r).includes('hunter2'), 'no seeded value anywhere in the result');
    assert.deepEqual(calls, { 'etcdserverpb.KV/Range': 2, 'etcdserverpb.Cluster/MemberList': 1, 'etcdserverpb.Maintenance/Status': 1 });
  });

  it('follower member: same cluster and keys, not the leader, n1 as its peer', async () => {
    const r = await etcdProbe.probe({ host: PEER, port: PORT }, probeCtx());
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.keyCount, 7);
    assert.deepEqual(sortedMembers(r), membersSeenByEtcdctl(PEER));
    const open = await etcdProbe.probe({ host: OPEN, port: PORT }, probeCtx());
    assert.equal(r.metadata.clusterId, open.metadata.clusterId);
    assert.equal(r.metadata.leader, open.metadata.leader);
    assert.notEqual(r.metadata.isLeader, open.metadata.isLeader, 'exactly one of the two leads');
    assert.deepEqual(
      r.peers.map((p) => `${p.host}:${p.port}`),
      [`${OPEN}:${PORT}`, `${OPEN}:${PEER_PORT}`],
    );
  });

  it('auth enabled: auth_required with the server\'s own refusal; members and status still answer (etcd 3.4 rule)', async () => {
    const r = await etcdProbe.probe({ host: AUTH, port: PORT }, probeCtx({ authorized: true }));
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'etcd');
    assert.equal(
      r.evidence,
      `${V3.count}: HTTP 400 {"error":"etcdserver: user name is empty","message":"etcdserver: user name is empty","code":3}`,
    );
    assert.deepEqual(r.metadata.gatewayError, { message: 'etcdserver: user name is empty', code: 3 });
    assert.equal(r.metadata.keyCount, undefined);
    assert.equal(r.metadata.keyNames, undefined, 'no keys_only range after a refusal, even in the authorized scope');
    assert.deepEqual(r.commands, [ETCD_VERSION_COMMAND, V3.count, V3.members, V3.status]);
    assert.equal(r.metadata.memberCount, 1);
    assert.deepEqual(r.peers, []);
    assert.equal(r.inventory?.records, undefined);
    // The refusal is about credentials: the root user reads the same range.
    const withPassword = etcdctl(AUTH, '--user', `root:${ROOT_PASSWORD}`, 'get', '--prefix', '', '--keys-only', '-w', 'fields');
    assert.match(withPassword, /^"RaftTerm" : \d+$/m);
  });

  it('client certificates required: auth_required from the TLS alert, after plain HTTP was closed', async () => {
    const r = await etcdProbe.probe({ host: TLS, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.metadata.clientCertRequired, true);
    assert.equal(r.metadata.tls, true);
    assert.match(String(r.metadata.plainHttpFailure), /closed/);
    assert.match(r.evidence ?? '', /^TLS refused without a client certificate: ERR_SSL_\w*(BAD_CERTIFICATE|CERTIFICATE_REQUIRED)/);
    assert.deepEqual(r.commands, [ETCD_VERSION_COMMAND, ETCD_VERSION_COMMAND]);
    // With the client certificate the same port answers: the refusal was about the certificate.
    const dir = path.join(SERVERS_DIR, 'etcd-mtls');
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(
          { host: TLS, port: PORT, path: '/version', ca: readFileSync(path.join(dir, 'ca.crt')), cert: readFileSync(path.join(dir, 'client.crt')), key: readFileSync(path.join(dir, 'client.key')) },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString('utf8')));
            res.on('end', () => resolve(text));
          },
        )
        .on('error', reject);
    });
    assert.match(body, /"etcdserver":"3\.4\./);
  });

  it('allow-list: every request on the wire is allow-listed, each range is count_only or keys_only', async () => {
    for (const [host, authorized, expected] of [
      [OPEN, false, [ETCD_VERSION_COMMAND, V3.count, V3.members, V3.status]],
      [OPEN, true, [ETCD_VERSION_COMMAND, V3.count, V3.members, V3.status, V3.keys]],
      [AUTH, true, [ETCD_VERSION_COMMAND, V3.count, V3.members, V3.status]],
    ] as const) {
      const { r, sent } = await probeThroughProxy(host, authorized);
      assert.equal(r.status, 'success', r.errors.join('; '));
      const names = sent.map(commandOf);
      for (const n of names) assert.ok(ETCD_COMMANDS.includes(n), `${n} is not on the allow-list`);
      assert.deepEqual(names, expected);
      assert.deepEqual(r.commands, expected, 'what went on the wire is what the result says');
    }
  });

  it('no /v3 gateway (etcd 3.3): the 404 moves the probe on to /v3beta, answered by the real server', async () => {
    // A relay in front of etcd-open that answers /v3/… the way etcd 3.3's mux does (it has only /v3beta and
    // /v3alpha) and passes everything else to the real server.
    const relay = http.createServer((req, res) => {
      if ((req.url ?? '').startsWith('/v3/')) {
        req.resume();
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
        return;
      }
      const upstream = http.request({ host: OPEN, port: PORT, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const port = (relay.address() as net.AddressInfo).port;
      const r = await etcdProbe.probe({ host: '127.0.0.1', port }, probeCtx());
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.equal(r.auth, 'open');
      assert.equal(r.metadata.apiPrefix, '/v3beta');
      assert.equal(r.metadata.keyCount, 7);
      assert.equal(r.metadata.memberCount, 2);
      assert.equal(r.evidence, `${rpcCommand('/v3beta', 'rangeCount')} answered without credentials: 7 keys at revision ${revision}`);
      assert.deepEqual(r.commands, [
        ETCD_VERSION_COMMAND,
        V3.count,
        rpcCommand('/v3beta', 'rangeCount'),
        rpcCommand('/v3beta', 'memberList'),
        rpcCommand('/v3beta', 'status'),
      ]);
    } finally {
      relay.closeAllConnections();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });
});

describe('etcd probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => etcdProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /deadline of 500 ms/);
    assert.deepEqual(result.commands, [ETCD_VERSION_COMMAND]);
    assert.ok(ms >= 450 && ms < 3900, `took ${ms} ms`);
  });

  it('garbage peer (an SSH banner): neither HTTP nor HTTPS, protocol-error', async () => {
    peer = await garbagePeer(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
    const { result, ms } = await timed(() => etcdProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /^Neither HTTP nor HTTPS: plain HTTP: .+; TLS: .+/);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('an HTTP server that is not etcd: protocol-error naming the status', async () => {
    const server = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const r = await etcdProbe.probe({ host: '127.0.0.1', port }, probeCtx());
      assert.equal(r.status, 'protocol-error');
      assert.equal(r.auth, 'inconclusive');
      assert.match(r.errors[0] ?? '', /^GET \/version answered HTTP 404, not etcd: 404 page not found/);
      assert.equal(r.product, undefined);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('100 MB flood after the request: read-limit or protocol-error, bounded memory', async () => {
    peer = await floodPeer(100 * 1024 * 1024, 0x41, { afterRequest: true });
    const { result, ms, grew } = await timedWithMemory(() => etcdProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.ok(['read-limit', 'protocol-error'].includes(result.status), result.status);
    assert.equal(result.auth, 'inconclusive');
    assert.ok(result.bytesRead <= 4 * 1024 * 1024, `read ${result.bytesRead} bytes`);
    assertMemoryBounded(grew);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB body behind a valid HTTP head: read-limit at the read cap', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x7b);
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let sent = 0;
      const pump = (): void => {
        while (sent < 100 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const { result, ms } = await timed(() => etcdProbe.probe({ host: '127.0.0.1', port }, probeCtx({ readCap: 256 * 1024 })));
      assert.equal(result.status, 'read-limit');
      assert.match(result.errors[0] ?? '', /read cap of 262144 bytes/);
      assert.ok(ms < 5000, `took ${ms} ms`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('closed port: connection-refused, no verdict', async () => {
    await probeClosedPort(etcdProbe);
  });
});
