/**
 * The elasticsearch probe against real Elasticsearch 8.8.2 and OpenSearch 2.19.4 processes (start them with
 * `bash test/servers/elasticsearch.sh start` and `bash test/servers/opensearch.sh start`), each once open and
 * once with security on (OpenSearch's over TLS only), against hostile peers (silent, garbage, floods), and —
 * Kibana cannot run here — against Kibana's documented replies served from fixtures/kibana-replies.json.
 * The test seeds the open clusters itself with plain HTTP PUT/POST; the probe only ever sends GET.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ProbeResult } from '../../core/types.js';
import { httpCommandName } from '../../net/http.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, recordingProxy, silentPeer, sourceRelay, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { requireServer, servers } from '../../../test/helpers/servers.js';
import { assessCompromise } from '../../assess/index.js';
import { clearValues, RANSOM_NOTE, syntheticPeople } from '../../../test/helpers/synthetic-people.js';
import { ES_COMMANDS, ES_PATHS, elasticsearchProbe } from './probe.js';
import { isSampleableIndexName, searchPath } from './sample.js';

/** servers.env values, with the defaults of test/servers/elasticsearch.sh and opensearch.sh until they are listed there. */
const envOr = (key: string, fallback: string): string => process.env[key] ?? servers[key] ?? fallback;
const ES_OPEN = envOr('ELASTICSEARCH_OPEN_HOST', '127.0.15.1');
const ES_AUTH = envOr('ELASTICSEARCH_AUTH_HOST', '127.0.15.2');
const ES_ANON = envOr('ELASTICSEARCH_ANON_HOST', '127.0.15.5');
const ES_PASSWORD = envOr('ELASTICSEARCH_PASSWORD', 'lockdown-es-pw');
const ES_PORT = Number(envOr('ELASTICSEARCH_PORT', '9200'));
const ES_TRANSPORT_PORT = Number(envOr('ELASTICSEARCH_TRANSPORT_PORT', '9300'));
const OS_OPEN = envOr('OPENSEARCH_OPEN_HOST', '127.0.15.3');
const OS_TLS = envOr('OPENSEARCH_AUTH_HOST', '127.0.15.4');
const OS_PORT = Number(envOr('OPENSEARCH_PORT', '9200'));
const OS_TRANSPORT_PORT = Number(envOr('OPENSEARCH_TRANSPORT_PORT', '9300'));
const SERVERS_DIR = envOr('LOCKDOWN_SERVERS_DIR', path.join(process.env.TMPDIR ?? '/tmp', 'lockdown-servers'));
/** The es-open node's own log, where HTTP request tracing lists every request it received. */
const ES_OPEN_LOG = path.join(SERVERS_DIR, 'es-open', 'logs', 'lockdown-es-open.log');
/** A loopback source address only this test uses, so the server's log lines of our probe can be told apart. */
const TRACE_SOURCE = '127.0.15.250';

const SEED = { customers: 12, orders: 30 } as const;

/** The test's own writes (never the product's): plain HTTP with fetch. */
async function call(
  base: string,
  method: string,
  urlPath: string,
  body?: string,
  contentType = 'application/json',
  password?: string,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (password !== undefined) headers.authorization = `Basic ${Buffer.from(`elastic:${password}`).toString('base64')}`;
  const res = await fetch(base + urlPath, { method, headers, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, text: await res.text() };
}

/** Index `customers` with 12 documents and `orders` with 30, refreshed so counts are visible at once. */
async function seed(base: string, password?: string): Promise<void> {
  for (const [index, count] of Object.entries(SEED)) {
    await call(base, 'DELETE', `/${index}`, undefined, 'application/json', password);
    const settings = JSON.stringify({ settings: { number_of_shards: 1, number_of_replicas: 0 } });
    const created = await call(base, 'PUT', `/${index}`, settings, 'application/json', password);
    assert.equal(created.status, 200, created.text);
    const lines: string[] = [];
    for (let i = 1; i <= count; i++) {
      lines.push(JSON.stringify({ index: { _index: index } }), JSON.stringify({ n: i, note: `${index} document ${i}` }));
    }
    const bulk = await call(base, 'POST', '/_bulk?refresh=true', lines.join('\n') + '\n', 'application/x-ndjson', password);
    assert.equal(bulk.status, 200, bulk.text);
    assert.equal((JSON.parse(bulk.text) as { errors: boolean }).errors, false, bulk.text);
  }
}

interface ServerView {
  version: string;
  clusterName: string;
  bytes: Record<string, number>;
}

/** What the server itself says (the test's own GETs), to compare the probe's findings with. */
async function serverView(base: string): Promise<ServerView> {
  const root = JSON.parse((await call(base, 'GET', '/')).text) as { cluster_name: string; version: { number: string } };
  const cat = JSON.parse((await call(base, 'GET', '/_cat/indices?format=json&bytes=b')).text) as { index: string; 'store.size': string }[];
  return { version: root.version.number, clusterName: root.cluster_name, bytes: Object.fromEntries(cat.map((r) => [r.index, Number(r['store.size'])])) };
}

/** Every HTTP request in a client byte stream: method, target and headers (GETs carry no body). */
function decodeRequests(bytes: Buffer): { method: string; target: string; headers: Record<string, string> }[] {
  const out: { method: string; target: string; headers: Record<string, string> }[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `client sent an incomplete HTTP request: ${rest.toString('latin1').slice(0, 200)}`);
    const lines = rest.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^([A-Z]+) (\S+) HTTP\/1\.1$/.exec(lines[0]!);
    assert.ok(m, `not an HTTP/1.1 request line: ${lines[0]}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
    assert.ok(headers['content-length'] === undefined || headers['content-length'] === '0', 'no request body');
    assert.equal(headers['transfer-encoding'], undefined, 'no request body');
    out.push({ method: m[1]!, target: m[2]!, headers });
    rest = rest.subarray(end + 4);
  }
  return out;
}

const ALLOWED_TARGETS = new Set(Object.values(ES_PATHS));

function assertAllowListed(result: ProbeResult, requests: { method: string; target: string }[]): void {
  const allowed = new Set(elasticsearchProbe.allowedCommands);
  for (const r of requests) {
    assert.equal(r.method, 'GET');
    assert.ok(ALLOWED_TARGETS.has(r.target), `sent ${r.target}, not one of the module's request paths`);
    assert.ok(allowed.has(httpCommandName('GET', r.target)), `sent ${r.target}, not on the allow-list`);
    assert.ok(!r.target.includes('_search'), 'never _search');
  }
  for (const c of result.commands) assert.ok(allowed.has(c), `result.commands has ${c}`);
}

describe('elasticsearch probe on real Elasticsearch 8.8.2', () => {
  let view: ServerView;

  before(async () => {
    await requireServer(ES_OPEN, ES_PORT, 'es-open (bash test/servers/elasticsearch.sh start)');
    await requireServer(ES_AUTH, ES_PORT, 'es-auth (bash test/servers/elasticsearch.sh start)');
    await seed(`http://${ES_OPEN}:${ES_PORT}`);
    view = await serverView(`http://${ES_OPEN}:${ES_PORT}`);
  });

  it('security off: open, cluster info, the seeded indices and doc counts, nodes as peers', async () => {
    const r = await elasticsearchProbe.probe({ host: ES_OPEN, port: ES_PORT }, probeCtx());
    const after = await serverView(`http://${ES_OPEN}:${ES_PORT}`);
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'Elasticsearch');
    assert.equal(r.version, view.version);
    assert.equal(r.version, '8.8.2');
    assert.equal(r.metadata.tls, false);
    assert.equal(r.metadata.clusterName, 'lockdown-es-open');
    assert.equal(r.metadata.nodeName, 'lockdown-es-open');
    assert.equal(r.metadata.buildFlavor, 'default');
    assert.match(String(r.metadata.clusterUuid), /^[\w-]{22}$/);
    assert.equal(r.metadata.indexCount, 2);
    assert.equal(r.metadata.totalDocs, SEED.customers + SEED.orders);
    const indices = r.metadata.indices as { name: string; docs: number; bytes: number; health: string; status: string }[];
    assert.deepEqual(
      indices.map((i) => [i.name, i.docs, i.health, i.status]).sort(),
      [
        ['customers', 12, 'green', 'open'],
        ['orders', 30, 'green', 'open'],
      ],
    );
    // Store sizes as the server itself reports them (when no merge changed them while the probe ran).
    if (JSON.stringify(after.bytes) === JSON.stringify(view.bytes)) {
      for (const i of indices) assert.equal(i.bytes, view.bytes[i.name], i.name);
    }
    assert.equal(r.metadata.totalBytes, indices.reduce((s, i) => s + i.bytes, 0));
    assert.equal(r.metadata.indicesTruncated, false);
    // The normalised inventory says the same: one index entry each, docs as records, store size as bytes.
    assert.deepEqual(
      r.inventory?.namespaces.map((n) => [n.path, n.kind, n.records, n.bytes]).sort(),
      indices.map((i) => [[i.name], 'index', i.docs, i.bytes]).sort(),
    );
    assert.equal(r.inventory?.records, SEED.customers + SEED.orders);
    assert.equal(r.inventory?.bytes, r.metadata.totalBytes);
    assert.equal(r.inventory?.truncated, undefined);
    assert.equal(r.sample, undefined, 'no ctx.sample, no sample');
    assert.deepEqual(r.metadata.health, {
      clusterName: 'lockdown-es-open',
      status: 'green',
      numberOfNodes: 1,
      numberOfDataNodes: 1,
      activePrimaryShards: 2,
      activeShards: 2,
      unassignedShards: 0,
    });
    assert.equal(r.metadata.nodeCount, 1);
    const [node] = r.metadata.nodes as { name: string; roles: string[]; version: string }[];
    assert.equal(node?.name, 'lockdown-es-open');
    assert.equal(node?.version, '8.8.2');
    assert.ok(node?.roles.includes('master') && node.roles.includes('data'));
    assert.deepEqual(
      r.peers.map((p) => [p.host, p.port, p.role]),
      [
        [ES_OPEN, ES_PORT, 'member'],
        [ES_OPEN, ES_TRANSPORT_PORT, 'transport'],
      ],
    );
    assert.match(r.peers[0]!.source, /^GET \/_nodes: nodes\.[\w-]+\.http\.publish_address$/);
    assert.match(r.evidence ?? '', /^GET \/ answered without credentials: HTTP 200 OK\\ncluster_name: lockdown-es-open\\n.*version\.number: 8\.8\.2\\nGET \/_cat\/indices: 2 indices, 42 docs, \d+ bytes: /);
    assert.deepEqual(r.commands, [ES_COMMANDS.root, ES_COMMANDS.catIndices, ES_COMMANDS.nodes, ES_COMMANDS.clusterHealth]);
    assert.deepEqual(r.errors, []);
  });

  it('security on: auth_required with the 401, its WWW-Authenticate and security_exception; nothing else asked', async () => {
    const r = await elasticsearchProbe.probe({ host: ES_AUTH, port: ES_PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'Elasticsearch');
    assert.equal(r.version, undefined, 'a refusal names no version');
    assert.equal(
      r.evidence,
      'GET /: HTTP 401 Unauthorized\\nWWW-Authenticate: Basic realm="security" charset="UTF-8", ApiKey\\n' +
        'security_exception: missing authentication credentials for REST request [/]',
    );
    assert.equal(r.metadata.httpStatus, 401);
    assert.equal(r.metadata.errorType, 'security_exception');
    assert.equal(r.metadata.wwwAuthenticate, 'Basic realm="security" charset="UTF-8", ApiKey');
    assert.equal(r.metadata.tls, false);
    assert.deepEqual(r.commands, [ES_COMMANDS.root]);
    assert.deepEqual(r.peers, []);
    assert.equal(r.metadata.indices, undefined);
  });

  it('anonymous user with only the monitor privilege: GET / answers, the index list is refused — auth_required', async () => {
    await requireServer(ES_ANON, ES_PORT, 'es-anon (bash test/servers/elasticsearch.sh start)');
    // The test writes with the elastic user's password (from the keystore); the probe has none.
    await seed(`http://${ES_ANON}:${ES_PORT}`, ES_PASSWORD);
    const r = await elasticsearchProbe.probe({ host: ES_ANON, port: ES_PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'Elasticsearch');
    assert.equal(r.version, '8.8.2');
    assert.equal(r.metadata.clusterName, 'lockdown-es-anon');
    assert.equal(r.metadata.rootAnonymous, true);
    assert.equal(r.metadata.httpStatus, 403);
    assert.equal(r.metadata.errorType, 'security_exception');
    assert.match(
      r.evidence ?? '',
      /^GET \/ answered without credentials \(lockdown-es-anon 8\.8\.2\), but GET \/_cat\/indices: HTTP 403 Forbidden\\nsecurity_exception: action \[indices:monitor\/settings\/get\] is unauthorized for user \[_anonymous\]/,
    );
    assert.equal(r.metadata.indices, undefined);
    // Node and health info still answer anonymously: the peers, and shard counts that show data is there.
    assert.equal((r.metadata.health as { activePrimaryShards: number }).activePrimaryShards, 2);
    assert.deepEqual(
      r.peers.map((p) => [p.host, p.port, p.role]),
      [
        [ES_ANON, ES_PORT, 'member'],
        [ES_ANON, ES_TRANSPORT_PORT, 'transport'],
      ],
    );
    assert.deepEqual(r.commands, [ES_COMMANDS.root, ES_COMMANDS.catIndices, ES_COMMANDS.nodes, ES_COMMANDS.clusterHealth]);
    assert.deepEqual(r.errors, []);
  });

  it('allow-list: every byte sent decodes to allow-listed GETs, exactly the ones result.commands names', async () => {
    for (const [host, expected] of [
      [ES_OPEN, ['root', 'catIndices', 'nodes', 'clusterHealth']],
      [ES_AUTH, ['root']],
      [ES_ANON, ['root', 'catIndices', 'nodes', 'clusterHealth']],
    ] as const) {
      const proxy = await recordingProxy(host, ES_PORT);
      try {
        const ctx = probeCtx();
        const r = await elasticsearchProbe.probe({ host: '127.0.0.1', port: proxy.port }, ctx);
        assert.equal(r.status, 'success', r.errors.join('; '));
        const requests = decodeRequests(proxy.clientBytes());
        assertAllowListed(r, requests);
        assert.deepEqual(
          requests.map((q) => q.target),
          expected.map((k) => ES_PATHS[k]),
        );
        assert.deepEqual(requests.map((q) => httpCommandName('GET', q.target)), r.commands);
        for (const q of requests) assert.equal(q.headers['user-agent'], ctx.identity, 'the scanner names itself');
      } finally {
        await proxy.close();
      }
    }
  });

  it("the server's own request log (HTTP tracing) lists exactly the probe's GETs", async () => {
    const relay = await sourceRelay(ES_OPEN, ES_PORT, TRACE_SOURCE);
    const offset = statSync(ES_OPEN_LOG).size;
    try {
      const r = await elasticsearchProbe.probe({ host: '127.0.0.1', port: relay.port }, probeCtx());
      assert.equal(r.auth, 'open');
      let seen: string[] = [];
      for (let i = 0; i < 50; i++) {
        // Lines look like: [..][TRACE][o.e.h.HttpTracer] [node] [12][null][GET][/_cat/indices?…] received request from
        // [Netty4HttpChannel{localAddress=/127.0.15.1:9200, remoteAddress=/127.0.15.250:41234}]
        const fresh = readFileSync(ES_OPEN_LOG).subarray(offset).toString('utf8');
        seen = fresh
          .split('\n')
          .filter((l) => l.includes('received request from') && l.includes(`remoteAddress=/${TRACE_SOURCE}:`))
          .map((l) => {
            const m = /\]\[([A-Z]+)\]\[([^\]]*)\] received request from/.exec(l);
            return m ? `${m[1]} ${m[2]}` : `unparsed: ${l}`;
          });
        if (seen.length >= r.commands.length) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(seen, [ES_PATHS.root, ES_PATHS.catIndices, ES_PATHS.nodes, ES_PATHS.clusterHealth].map((p) => `GET ${p}`));
    } finally {
      await relay.close();
    }
  });
});

describe('elasticsearch probe on real OpenSearch 2.19.4', () => {
  before(async () => {
    await requireServer(OS_OPEN, OS_PORT, 'os-open (bash test/servers/opensearch.sh start)');
    await requireServer(OS_TLS, OS_PORT, 'os-tls (bash test/servers/opensearch.sh start)');
    await seed(`http://${OS_OPEN}:${OS_PORT}`);
  });

  it('no security plugin: open, product OpenSearch from version.distribution, the seeded indices', async () => {
    const view = await serverView(`http://${OS_OPEN}:${OS_PORT}`);
    const r = await elasticsearchProbe.probe({ host: OS_OPEN, port: OS_PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'OpenSearch');
    assert.equal(r.version, view.version);
    assert.equal(r.version, '2.19.4');
    assert.equal(r.metadata.distribution, 'opensearch');
    assert.equal(r.metadata.clusterName, 'lockdown-os-open');
    assert.equal(r.metadata.tls, false);
    assert.deepEqual(
      (r.metadata.indices as { name: string; docs: number }[]).map((i) => [i.name, i.docs]).sort(),
      [
        ['customers', 12],
        ['orders', 30],
      ],
    );
    assert.equal(r.metadata.indexCount, 2);
    assert.equal(r.metadata.totalDocs, 42);
    assert.equal((r.metadata.health as { status: string }).status, 'green');
    const [node] = r.metadata.nodes as { roles: string[] }[];
    assert.ok(node?.roles.includes('cluster_manager'), 'OpenSearch names the master role cluster_manager');
    assert.deepEqual(
      r.peers.map((p) => [p.host, p.port, p.role]),
      [
        [OS_OPEN, OS_PORT, 'member'],
        [OS_OPEN, OS_TRANSPORT_PORT, 'transport'],
      ],
    );
    assert.deepEqual(r.commands, [ES_COMMANDS.root, ES_COMMANDS.catIndices, ES_COMMANDS.nodes, ES_COMMANDS.clusterHealth]);
    assert.deepEqual(r.errors, []);
  });

  it('security plugin (HTTPS only): plain HTTP is closed, the TLS retry gets 401 — auth_required, tls true', async () => {
    const r = await elasticsearchProbe.probe({ host: OS_TLS, port: OS_PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'OpenSearch');
    assert.equal(r.metadata.tls, true);
    assert.match(String(r.metadata.plainHttpFailure), /closed/);
    assert.equal(r.evidence, 'GET /: HTTP 401 Unauthorized\\nWWW-Authenticate: Basic realm="OpenSearch Security"\\nUnauthorized');
    assert.deepEqual(r.commands, [ES_COMMANDS.root, ES_COMMANDS.root]);
    assert.deepEqual(r.peers, []);
  });

  it('allow-list: the plain attempt is one GET /, the rest is a TLS handshake; the open node sees only GETs', async () => {
    const proxy = await recordingProxy(OS_TLS, OS_PORT);
    try {
      const r = await elasticsearchProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx());
      assert.equal(r.auth, 'auth_required');
      const bytes = proxy.clientBytes();
      const end = bytes.indexOf('\r\n\r\n') + 4;
      assertAllowListed(r, decodeRequests(bytes.subarray(0, end)));
      assert.deepEqual(decodeRequests(bytes.subarray(0, end)).map((q) => q.target), [ES_PATHS.root]);
      // What follows is TLS: a handshake record (0x16, version 3.x), whose content we cannot read here.
      assert.equal(bytes[end], 0x16);
      assert.equal(bytes[end + 1], 0x03);
    } finally {
      await proxy.close();
    }
    const open = await recordingProxy(OS_OPEN, OS_PORT);
    try {
      const r = await elasticsearchProbe.probe({ host: '127.0.0.1', port: open.port }, probeCtx());
      const requests = decodeRequests(open.clientBytes());
      assertAllowListed(r, requests);
      assert.deepEqual(requests.map((q) => httpCommandName('GET', q.target)), r.commands);
    } finally {
      await open.close();
    }
  });
});

describe('elasticsearch probe: the allow-list itself', () => {
  it('names each request path by its own command, GET only; _search only as the sampling template', () => {
    for (const [key, p] of Object.entries(ES_PATHS)) {
      assert.equal(httpCommandName('GET', p), ES_COMMANDS[key as keyof typeof ES_COMMANDS]);
    }
    assert.deepEqual([...elasticsearchProbe.allowedCommands].sort(), [
      'GET /',
      'GET /_cat/indices',
      'GET /_cluster/health',
      'GET /_nodes',
      'GET /api/status',
      'GET /{index}/_search',
    ]);
    assert.equal(elasticsearchProbe.transport, 'http');
    assert.deepEqual(elasticsearchProbe.defaultPorts, [9200]);
  });
});

interface KibanaReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}
const kibanaFixtures = JSON.parse(readFileSync(new URL('./fixtures/kibana-replies.json', import.meta.url), 'utf8')) as Record<
  string,
  { source: string; replies: Record<string, KibanaReply> }
>;

/** Serves one Kibana scenario's documented replies by path (404 elsewhere) and records what was asked. */
async function kibanaReplay(scenario: string): Promise<{ port: number; requested: string[]; close(): Promise<void> }> {
  const replies = kibanaFixtures[scenario]!.replies;
  const requested: string[] = [];
  const server = http.createServer((req, res) => {
    requested.push(`${req.method} ${req.url}`);
    const reply = replies[req.url ?? ''];
    if (!reply) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"statusCode":404,"error":"Not Found","message":"Not Found"}');
      return;
    }
    res.writeHead(reply.status, reply.headers).end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requested,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('elasticsearch sampling: which index names may go into a _search path', () => {
  it('only one concrete index: no wildcard, list, remote cluster, system index, path or upper case', () => {
    for (const ok of ['people', 'logs-2024.11.25', 'read_me', 'hqkxbm8ej2-meow', '客户']) assert.ok(isSampleableIndexName(ok), ok);
    for (const bad of ['*', 'peo*', 'a,b', 'remote:people', '_all', '.security', '-x', '+x', 'People', '../x', 'a/b', 'a b', 'a?b', 'a#b', '', 'x'.repeat(256)]) {
      assert.ok(!isSampleableIndexName(bad), bad);
    }
    assert.equal(searchPath('客户', 5), '/%E5%AE%A2%E6%88%B7/_search?size=5&filter_path=hits.hits._source');
  });
});

describe('elasticsearch probe: Kibana in front (documented replies; Kibana cannot run here)', () => {
  const cases = [
    ['kibana-8-open', 'open', '9.3.0', /^GET \/api\/status answered without credentials: HTTP 200 OK\\nname: kibana\\nversion\.number: 9\.3\.0\\nstatus\.overall: available$/],
    ['kibana-6-open', 'open', '6.8.23', /status\.overall: green$/],
    ['kibana-8-security', 'auth_required', undefined, /^GET \/api\/status: HTTP 200, redacted status only \(overall level available\): Kibana requires login$/],
    ['kibana-7-security', 'auth_required', '7.17.9', /^GET \/api\/status: HTTP 401 Unauthorized\\nUnauthorized: Unauthorized$/],
  ] as const;
  for (const [scenario, verdict, version, evidence] of cases) {
    it(`${scenario}: ${verdict}, product Kibana, only GET / and GET /api/status asked`, async () => {
      const replay = await kibanaReplay(scenario);
      try {
        const r = await elasticsearchProbe.probe({ host: '127.0.0.1', port: replay.port }, probeCtx());
        assert.equal(r.status, 'success', r.errors.join('; '));
        assert.equal(r.product, 'Kibana');
        assert.equal(r.auth, verdict);
        assert.equal(r.version, version);
        assert.match(r.evidence ?? '', evidence);
        assert.deepEqual(r.commands, [ES_COMMANDS.root, ES_COMMANDS.kibanaStatus]);
        assert.deepEqual(replay.requested, ['GET /', 'GET /api/status']);
        if (scenario === 'kibana-8-open') {
          assert.deepEqual(r.metadata.kibana, { redacted: false, name: 'kibana', uuid: '5b2de169-2785-441b-ae8c-186a1936b17d', overall: 'available' });
        }
      } finally {
        await replay.close();
      }
    });
  }
});

describe('elasticsearch probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive, no TLS retry', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => elasticsearchProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /deadline of 500 ms/);
    assert.deepEqual(result.commands, [ES_COMMANDS.root]);
    assert.ok(ms >= 450 && ms < 3900, `took ${ms} ms`);
  });

  it('garbage peer (an SSH banner): neither HTTP nor HTTPS, protocol-error after one TLS retry', async () => {
    peer = await garbagePeer(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
    const { result, ms } = await timed(() => elasticsearchProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /^Neither HTTP nor HTTPS: plain HTTP: .+; TLS: .+/);
    assert.deepEqual(result.commands, [ES_COMMANDS.root, ES_COMMANDS.root]);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('an HTTP server that is not Elasticsearch: protocol-error, its reply kept as evidence', async () => {
    const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to nginx!</body></html>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const r = await elasticsearchProbe.probe({ host: '127.0.0.1', port }, probeCtx());
      assert.equal(r.status, 'protocol-error');
      assert.equal(r.auth, 'inconclusive');
      assert.match(r.errors[0] ?? '', /GET \/ reply is not JSON/);
      assert.match(r.evidence ?? '', /^GET \/: HTTP 200 OK\\n<html><body>Welcome to nginx!/);
      assert.deepEqual(r.commands, [ES_COMMANDS.root]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('"plain HTTP request was sent to HTTPS port" (400): retried over TLS', async () => {
    const server = http.createServer((_req, res) => res.writeHead(400, { 'content-type': 'text/html' }).end('<center>The plain HTTP request was sent to HTTPS port</center>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const r = await elasticsearchProbe.probe({ host: '127.0.0.1', port }, probeCtx());
      // This peer only speaks plain HTTP, so the TLS attempt meets HTTP bytes: neither works.
      assert.deepEqual(r.commands, [ES_COMMANDS.root, ES_COMMANDS.root]);
      assert.equal(r.status, 'protocol-error');
      assert.match(r.errors[0] ?? '', /^Neither HTTP nor HTTPS: plain HTTP: Plain HTTP answered HTTP 400 naming HTTPS; TLS: /);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('100 MB flood of non-HTTP bytes: protocol-error at once, bounded memory', async () => {
    peer = await floodPeer();
    const { result, ms, grew } = await timedWithMemory(() => elasticsearchProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assertMemoryBounded(grew);
    assert.ok(ms < 6000, `took ${ms} ms`);
  });

  it('100 MB body behind a valid HTTP header: read-limit at the read cap, bounded memory', async () => {
    peer = await floodPeer(100 * 1024 * 1024, 0x7b, { afterRequest: true, prefix: 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n' });
    const { result, ms, grew } = await timedWithMemory(() => elasticsearchProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'read-limit');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /read cap of 1048576 bytes/);
    assert.ok(result.bytesRead <= 1024 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
    assertMemoryBounded(grew);
    assert.ok(ms < 6000, `took ${ms} ms`);
  });

  it('closed port: connection-refused, no verdict, no TLS retry', async () => {
    const r = await probeClosedPort(elasticsearchProbe);
    assert.ok(r.commands.length <= 1);
  });
});

describe('elasticsearch value sampling (ctx.sample, inside the authorized scope) on real Elasticsearch 8.8.2', () => {
  const base = `http://${ES_OPEN}:${ES_PORT}`;
  const people = syntheticPeople(10, 31);
  const SAMPLE = { perCollection: 50, maxBytes: 1_000_000, maxCollections: 10 };
  const MEOW = 'hqkxbm8ej2-meow';
  const INDICES = ['people', 'chat-logs', 'read_me', 'app-logs', MEOW];
  const SEARCH = /^\/([^/?]+)\/_search\?size=(\d+)&filter_path=hits\.hits\._source$/;

  async function bulk(index: string, docs: object[]): Promise<void> {
    const lines = docs.flatMap((d) => [JSON.stringify({ index: { _index: index } }), JSON.stringify(d)]);
    const res = await call(base, 'POST', '/_bulk?refresh=true', lines.join('\n') + '\n', 'application/x-ndjson');
    assert.equal(res.status, 200, res.text);
    assert.equal((JSON.parse(res.text) as { errors: boolean }).errors, false, res.text);
  }

  before(async () => {
    await requireServer(ES_OPEN, ES_PORT, 'es-open (bash test/servers/elasticsearch.sh start)');
    for (const index of [...Object.keys(SEED), ...INDICES]) await call(base, 'DELETE', `/${index}`);
    const settings = JSON.stringify({ settings: { number_of_shards: 1, number_of_replicas: 0 } });
    for (const index of INDICES) assert.equal((await call(base, 'PUT', `/${index}`, settings)).status, 200, index);
    // Six people, four chat messages, 60 log lines without personal data, and the layout of a "meow"/ransom
    // attack: an emptied index renamed to <random>-meow and a read_me index holding the note.
    await bulk('people', people.slice(0, 6));
    await bulk('chat-logs', people.slice(6, 10).map((p) => ({ room: 'r1', chat_message: p.chat_message })));
    await bulk('app-logs', Array.from({ length: 60 }, (_, n) => ({ level: 'info', n })));
    await bulk('read_me', [{ note: RANSOM_NOTE.text }]);
  });

  after(async () => {
    for (const index of INDICES) await call(base, 'DELETE', `/${index}`);
  });

  it('with ctx.sample: every category with the seeded counts, no clear value in the result, only allow-listed GETs', async () => {
    const proxy = await recordingProxy(ES_OPEN, ES_PORT);
    let r: ProbeResult;
    try {
      r = await elasticsearchProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx({ authorized: true, sample: SAMPLE }));
    } finally {
      await proxy.close();
    }
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.deepEqual(r.errors, []);
    const cats = r.sample?.categories as Record<string, { count: number; fields: { path: string; count: number }[] }>;
    assert.ok(cats, 'a sample was taken');
    assert.deepEqual(
      Object.fromEntries(Object.entries(cats).map(([c, v]) => [c, v.count])),
      { national_id: 6, phone: 6, email: 7, location: 6, photo: 6, communication: 10 },
    );
    assert.equal(r.sample?.documents, 6 + 4 + 1 + 50, 'app-logs capped at perCollection; the empty meow index not read');
    assert.deepEqual(cats.location!.fields, [{ path: 'people.location', count: 6 }]);
    const text = JSON.stringify(r);
    for (const v of [...clearValues(people), RANSOM_NOTE.bitcoin, 'recover.synthetic@example.org']) {
      assert.ok(!text.includes(v), `the result holds a clear value: ${v}`);
    }

    // Inventory: every index with its document count; the ransom layout is in the names.
    const byName = new Map(r.inventory!.namespaces.map((n) => [n.path[0], n]));
    assert.deepEqual(
      INDICES.map((i) => [i, byName.get(i)?.kind, byName.get(i)?.records]),
      [
        ['people', 'index', 6],
        ['chat-logs', 'index', 4],
        ['read_me', 'index', 1],
        ['app-logs', 'index', 60],
        [MEOW, 'index', 0],
      ],
    );
    assert.equal(r.inventory!.records, 71);
    const compromise = assessCompromise({ product: 'elasticsearch', namespaces: r.inventory!.namespaces.map((n) => ({ path: n.path, kind: 'index', ...(n.records !== undefined ? { count: n.records } : {}) })) });
    assert.equal(compromise.compromised, true);

    // On the wire: GETs without a body; the _search ones only on the seeded (listed) indices, size = perCollection.
    const requests = decodeRequests(proxy.clientBytes());
    const names = requests.map((q) => {
      assert.equal(q.method, 'GET');
      const m = SEARCH.exec(q.target);
      if (!m) {
        assert.ok(ALLOWED_TARGETS.has(q.target), q.target);
        return httpCommandName('GET', q.target);
      }
      assert.equal(m[2], '50');
      return 'GET /{index}/_search';
    });
    assert.deepEqual(names, r.commands);
    const searched = requests.map((q) => SEARCH.exec(q.target)?.[1]).filter((x): x is string => x !== undefined).map(decodeURIComponent);
    assert.deepEqual(searched.sort(), ['app-logs', 'chat-logs', 'people', 'read_me']);
    for (const c of r.commands) assert.ok(elasticsearchProbe.allowedCommands.includes(c), c);
  });

  it('without ctx.sample: no _search on the wire, no sample, the same inventory', async () => {
    const proxy = await recordingProxy(ES_OPEN, ES_PORT);
    try {
      const r = await elasticsearchProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx({ authorized: true }));
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.equal(r.sample, undefined);
      assert.equal(r.metadata.sampling, undefined);
      const requests = decodeRequests(proxy.clientBytes());
      assertAllowListed(r, requests); // never _search
      assert.deepEqual(requests.map((q) => q.target), [ES_PATHS.root, ES_PATHS.catIndices, ES_PATHS.nodes, ES_PATHS.clusterHealth]);
      const names = r.inventory!.namespaces.map((n) => n.path[0]);
      for (const i of INDICES) assert.ok(names.includes(i), i);
      const text = JSON.stringify(r);
      for (const v of clearValues(people)) assert.ok(!text.includes(v), v);
    } finally {
      await proxy.close();
    }
  });

  it('bounds: maxCollections indices (largest first), perCollection documents each', async () => {
    const r = await elasticsearchProbe.probe({ host: ES_OPEN, port: ES_PORT }, probeCtx({ authorized: true, sample: { perCollection: 3, maxBytes: 1_000_000, maxCollections: 2 } }));
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.commands.filter((c) => c === 'GET /{index}/_search').length, 2);
    assert.ok((r.sample?.documents ?? 0) <= 6);
  });

  it('security on, ctx.sample given: refused at GET /, nothing sampled', async () => {
    const r = await elasticsearchProbe.probe({ host: ES_AUTH, port: ES_PORT }, probeCtx({ authorized: true, sample: SAMPLE }));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.sample, undefined);
    assert.deepEqual(r.commands, [ES_COMMANDS.root]);
  });
});
