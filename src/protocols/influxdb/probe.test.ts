/**
 * The InfluxDB probe against real influxd 1.6 processes (start them with `bash test/servers/influxdb.sh start`),
 * against documented InfluxDB 2.x replies replayed by a tiny test-only HTTP server (2.x cannot run here; see
 * fixtures/README.md), and against hostile peers (silent, garbage, flood). The test seeds the real servers over
 * plain HTTP (`/query` POST, `/write`); the probe itself never writes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, recordingProxy, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { requireServer, servers } from '../../../test/helpers/servers.js';
import { INFLUX_COMMANDS, INFLUXQL, influxdbProbe } from './probe.js';

/** Same defaults as test/servers/influxdb.sh (not yet in servers.env). */
const conf = (key: string, fallback: string): string => process.env[key] ?? servers[key] ?? fallback;
const OPEN = conf('INFLUXDB_OPEN_HOST', '127.0.19.1');
const AUTH = conf('INFLUXDB_AUTH_HOST', '127.0.19.2');
const NOADMIN = conf('INFLUXDB_NOADMIN_HOST', '127.0.19.3');
const PORT = Number(conf('INFLUXDB_PORT', '8086'));
const SERVERS_DIR = conf('LOCKDOWN_SERVERS_DIR', '/tmp/lockdown-servers');
/** Where subscription copies would go: nothing listens there (InfluxDB only logs its failed pushes). */
const SUBSCRIBER = 'http://127.0.19.9:9092';

/** One HTTP exchange from the test (seeding and cross-checking with the server's own answers). */
async function influx(host: string, method: 'GET' | 'POST', pathAndQuery: string, body?: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`http://${host}:${PORT}${pathAndQuery}`, { method, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function influxql(host: string, q: string): Promise<string> {
  const r = await influx(host, 'POST', `/query?q=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, `${q}: ${r.text}`);
  return r.text;
}

/** Every HTTP request in a client byte stream. */
function decodeHttpRequests(bytes: Buffer): { method: string; url: URL; body: number }[] {
  const out: { method: string; url: URL; body: number }[] = [];
  let rest = bytes.toString('latin1');
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `incomplete HTTP request: ${rest.slice(0, 80)}`);
    const [method, target] = rest.slice(0, end).split('\r\n')[0]!.split(' ') as [string, string];
    const length = Number(/^content-length: *(\d+)$/im.exec(rest.slice(0, end))?.[1] ?? 0);
    out.push({ method, url: new URL(target, 'http://x'), body: length });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

/** Assert every request is a GET of /ping or of /query with an allow-listed statement (and at most a db=). */
function assertAllowListed(requests: { method: string; url: URL; body: number }[]): void {
  const statements = new Set(Object.values(INFLUXQL));
  for (const r of requests) {
    assert.equal(r.method, 'GET');
    assert.equal(r.body, 0);
    if (r.url.pathname === '/ping') continue;
    assert.equal(r.url.pathname, '/query');
    assert.ok(statements.has(r.url.searchParams.get('q') ?? ''), `sent q=${r.url.searchParams.get('q')}`);
    for (const key of r.url.searchParams.keys()) assert.ok(key === 'q' || key === 'db', `sent parameter ${key}`);
  }
}

describe('influxdb probe on real servers (1.6)', () => {
  let version = '';
  let databases: string[] = [];

  before(async () => {
    await requireServer(OPEN, PORT, 'influxdb-open');
    await requireServer(AUTH, PORT, 'influxdb-auth');
    await requireServer(NOADMIN, PORT, 'influxdb-noadmin');
    // Start from an empty throw-away server: drop every database and user a previous run (or a person) left.
    const show = async (q: string): Promise<string[]> => {
      const parsed = JSON.parse((await influx(OPEN, 'GET', `/query?q=${encodeURIComponent(q)}`)).text) as { results: { series?: { values?: [string][] }[] }[] };
      return (parsed.results[0]?.series?.[0]?.values ?? []).map((v) => v[0]);
    };
    for (const db of await show('SHOW DATABASES')) await influxql(OPEN, `DROP DATABASE "${db.replace(/["\\]/g, '\\$&')}"`);
    for (const user of await show('SHOW USERS')) await influxql(OPEN, `DROP USER "${user.replace(/["\\]/g, '\\$&')}"`);
    // Seed over plain HTTP: 2 measurements, 5 series; a user (auth is off, so it protects nothing); a subscription.
    await influxql(OPEN, 'CREATE DATABASE lockdown_seed');
    const lines = ['cpu,host=a,region=eu value=1', 'cpu,host=b,region=eu value=2', 'cpu,host=c,region=us value=3', 'mem,host=a used=10', 'mem,host=b used=20'];
    const write = await influx(OPEN, 'POST', '/write?db=lockdown_seed', lines.join('\n'));
    assert.equal(write.status, 204, write.text);
    await influxql(OPEN, "CREATE USER lockdown_reader WITH PASSWORD 'not-used-by-the-probe'");
    await influxql(OPEN, `CREATE SUBSCRIPTION "lockdown_sub" ON "lockdown_seed"."autogen" DESTINATIONS ALL '${SUBSCRIBER}'`);
    const ping = await influx(OPEN, 'GET', '/ping');
    version = ping.headers.get('x-influxdb-version') ?? '';
    databases = await show('SHOW DATABASES');
    assert.deepEqual(databases, ['lockdown_seed']);
    const exact = await influx(OPEN, 'GET', `/query?db=lockdown_seed&q=${encodeURIComponent('SHOW SERIES EXACT CARDINALITY')}`);
    assert.match(exact.text, /"name":"cpu","columns":\["count"\],"values":\[\[3\]\]/);
  });

  it('auth-enabled = false: open, databases, measurements and series as seeded, users, the subscriber as a peer', async () => {
    const r = await influxdbProbe.probe({ host: OPEN, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'InfluxDB');
    assert.equal(r.version, version);
    assert.equal(version, '1.6.7~rc0');
    assert.equal(r.metadata.build, 'OSS');
    assert.equal(r.metadata.majorVersion, 1);
    assert.deepEqual(r.metadata.databases, databases);
    assert.equal(r.metadata.databaseCount, databases.length);
    assert.deepEqual(r.metadata.databaseInfo, [{ name: 'lockdown_seed', measurementCount: 2, measurements: ['cpu', 'mem'], seriesCardinality: 5 }]);
    assert.equal(r.metadata.totalMeasurements, 2);
    assert.equal(r.metadata.totalSeries, 5);
    assert.deepEqual(r.metadata.users, [{ name: 'lockdown_reader', admin: false }]);
    assert.deepEqual(r.metadata.subscriptions, [
      { database: 'lockdown_seed', retentionPolicy: 'autogen', name: 'lockdown_sub', mode: 'ALL', destinations: [SUBSCRIBER] },
    ]);
    assert.deepEqual(r.peers, [
      { host: '127.0.19.9', port: 9092, role: 'subscriber', source: `SHOW SUBSCRIPTIONS: lockdown_seed.autogen lockdown_sub -> ${SUBSCRIBER}` },
    ]);
    assert.equal(r.evidence, 'GET /query SHOW DATABASES answered 200 without credentials: 1 database: lockdown_seed; 2 measurements, 5 series in the first 1');
    assert.deepEqual(r.commands, [
      INFLUX_COMMANDS.ping,
      INFLUX_COMMANDS.showDatabases,
      INFLUX_COMMANDS.showUsers,
      INFLUX_COMMANDS.showSubscriptions,
      INFLUX_COMMANDS.showMeasurements,
      INFLUX_COMMANDS.showSeriesCardinality,
    ]);
    assert.deepEqual(r.errors, []);
  });

  it("the server's own access log shows only GETs of /ping and allow-listed SHOW statements from our identity", async () => {
    const identity = `lockdown-accesslog-${process.pid}-${Date.now()}`;
    const r = await influxdbProbe.probe({ host: OPEN, port: PORT }, probeCtx({ identity }));
    assert.equal(r.auth, 'open');
    const log = path.join(SERVERS_DIR, 'influxdb-open', 'log');
    let ours: RegExpExecArray[] = [];
    for (let i = 0; i < 50; i++) {
      // [httpd] 127.0.0.1 - - [date] "GET /query?q=SHOW+USERS HTTP/1.1" 200 102 "-" "<user agent>" <request id> <µs>
      ours = readFileSync(log, 'utf8')
        .split('\n')
        .map((l) => /^\[httpd\] \S+ - \S+ \[[^\]]+\] "(\S+) (\S+) HTTP\/1\.1" (\d{3}) \S+ "[^"]*" "([^"]*)"/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && m[4] === identity);
      if (ours.length >= r.commands.length) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(ours.length, r.commands.length, 'one access-log line per command');
    assertAllowListed(ours.map((m) => ({ method: m[1]!, url: new URL(m[2]!, 'http://x'), body: 0 })));
    for (const m of ours) assert.equal(m[3], m[2] === '/ping' ? '204' : '200');
  });

  it('auth-enabled = true with an admin: auth_required with the server-worded 401, nothing else asked', async () => {
    const r = await influxdbProbe.probe({ host: AUTH, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'InfluxDB');
    assert.equal(r.version, version);
    assert.equal(r.evidence, 'GET /query SHOW DATABASES: HTTP 401 {"error":"unable to parse authentication credentials"}');
    assert.equal(r.metadata.httpStatus, 401);
    assert.deepEqual(r.commands, [INFLUX_COMMANDS.ping, INFLUX_COMMANDS.showDatabases]);
    assert.equal(r.metadata.databases, undefined);
  });

  it('auth-enabled = true but no user yet: open and claimable, the 403 as evidence', async () => {
    const r = await influxdbProbe.probe({ host: NOADMIN, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.claimable, true);
    assert.equal(r.metadata.adminUserMissing, true);
    assert.equal(r.metadata.httpStatus, 403);
    assert.match(
      r.evidence ?? '',
      /^GET \/query SHOW DATABASES: HTTP 403 \{"error":"error authorizing query: create admin user first or disable authentication"\}; authentication is on but no user exists/,
    );
    assert.deepEqual(r.commands, [INFLUX_COMMANDS.ping, INFLUX_COMMANDS.showDatabases]);
    // Nothing was created by the probe: the server still has no user.
    const again = await influx(NOADMIN, 'GET', `/query?q=${encodeURIComponent('SHOW DATABASES')}`);
    assert.equal(again.status, 403);
  });

  it('allow-list: every byte sent to the three servers decodes to GETs of /ping and allow-listed statements', async () => {
    for (const host of [OPEN, AUTH, NOADMIN]) {
      const proxy = await recordingProxy(host, PORT);
      try {
        const r = await influxdbProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx());
        assert.equal(r.status, 'success');
        const requests = decodeHttpRequests(proxy.clientBytes());
        assertAllowListed(requests);
        assert.equal(requests.length, r.commands.length);
        for (const c of r.commands) assert.ok(influxdbProbe.allowedCommands.includes(c));
        // Database names travel only as db= parameters, and only names the server listed.
        for (const q of requests) {
          const db = q.url.searchParams.get('db');
          if (db !== null) assert.ok(databases.includes(db), `db=${db}`);
        }
      } finally {
        await proxy.close();
      }
    }
  });
});

// ---------------------------------------------------------------- replayed replies

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}
interface DocumentedReply extends Reply {
  source: string;
}
const v2 = JSON.parse(readFileSync(new URL('fixtures/v2-documented-replies.json', import.meta.url), 'utf8')) as Record<string, DocumentedReply>;
const fixtureText = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

/** A test-only HTTP server answering each request with `route(url)` and recording what it was asked. It is not InfluxDB. */
async function replay(route: (url: URL) => Reply | undefined): Promise<{ port: number; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(`${req.method} ${req.url}`);
    const reply = route(url) ?? { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '404 page not found\n' };
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.status === 204 ? undefined : (reply.body ?? ''));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('influxdb probe against replayed replies (documented 2.x, a pre-1.4 parser, not-InfluxDB)', () => {
  let server: Awaited<ReturnType<typeof replay>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const v2routes =
    (setup: string, buckets: string) =>
    (url: URL): Reply | undefined =>
      ({ '/ping': v2.ping, '/health': v2.health, '/api/v2/setup': v2[setup], '/api/v2/buckets': v2[buckets] })[url.pathname];

  it('2.x after setup: /api/v2/buckets 401 -> auth_required, version and commit from /health', async () => {
    server = await replay(v2routes('setupDone', 'unauthorized'));
    const r = await influxdbProbe.probe({ host: '127.0.0.1', port: server.port }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'InfluxDB');
    assert.equal(r.version, 'v2.7.12');
    assert.equal(r.metadata.majorVersion, 2);
    assert.equal(r.metadata.commit, 'ec9dcde5d6');
    assert.deepEqual(r.metadata.health, { name: 'influxdb', status: 'pass', message: 'ready for queries and writes' });
    assert.equal(r.metadata.setupAllowed, false);
    assert.equal(r.evidence, 'GET /api/v2/buckets: HTTP 401 {"code":"unauthorized","message":"unauthorized access"}');
    assert.deepEqual(server.seen, ['GET /ping', 'GET /health', 'GET /api/v2/setup', 'GET /api/v2/buckets?limit=1000']);
    assert.deepEqual(r.commands, [INFLUX_COMMANDS.ping, INFLUX_COMMANDS.health, INFLUX_COMMANDS.setup, INFLUX_COMMANDS.buckets]);
  });

  it('2.x never set up: /api/v2/setup allowed -> open and claimable, no bucket request', async () => {
    server = await replay(v2routes('setupAllowed', 'unauthorized'));
    const r = await influxdbProbe.probe({ host: '127.0.0.1', port: server.port }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.claimable, true);
    assert.equal(r.metadata.setupAllowed, true);
    assert.match(r.evidence ?? '', /^GET \/api\/v2\/setup: HTTP 200 \{"allowed":true\}; initial setup was never done/);
    assert.deepEqual(server.seen, ['GET /ping', 'GET /health', 'GET /api/v2/setup']);
  });

  it('2.x behind a token-injecting proxy: /api/v2/buckets 200 -> open with the bucket names', async () => {
    server = await replay(v2routes('setupDone', 'bucketsList'));
    const r = await influxdbProbe.probe({ host: '127.0.0.1', port: server.port }, probeCtx());
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.bucketCount, 2);
    assert.deepEqual(
      (r.metadata.buckets as { name: string }[]).map((b) => b.name),
      ['_monitoring', 'telemetry'],
    );
    assert.equal(r.evidence, 'GET /api/v2/buckets answered 200 without a token: 2 buckets: _monitoring, telemetry');
  });

  it('a 1.x parser without SHOW SERIES CARDINALITY (before 1.4): counts SHOW SERIES rows instead', async () => {
    // The 1.6 parser-error shape (fixtures/v1.6.7-parse-error-400.json) naming the token an older parser stops at.
    const parseError = '{"error":"error parsing query: found CARDINALITY, expected ; at line 1, char 13"}';
    const json = { 'content-type': 'application/json', 'x-influxdb-version': '1.3.9', 'x-influxdb-build': 'OSS' };
    server = await replay((url) => {
      if (url.pathname === '/ping') return { status: 204, headers: json };
      const q = url.searchParams.get('q');
      const body: Record<string, string> = {
        'SHOW DATABASES': fixtureText('v1.6.7-show-databases.json'),
        'SHOW USERS': '{"results":[{"statement_id":0,"series":[{"columns":["user","admin"]}]}]}',
        'SHOW SUBSCRIPTIONS': '{"results":[{"statement_id":0}]}',
        [INFLUXQL[INFLUX_COMMANDS.showMeasurements]]: fixtureText('v1.6.7-show-measurements.json'),
        [INFLUXQL[INFLUX_COMMANDS.showSeries]]: fixtureText('v1.6.7-show-series.json'),
      };
      if (q === 'SHOW SERIES CARDINALITY') return { status: 400, headers: json, body: parseError };
      return q !== null && body[q] !== undefined ? { status: 200, headers: json, body: body[q] } : undefined;
    });
    const r = await influxdbProbe.probe({ host: '127.0.0.1', port: server.port }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.version, '1.3.9');
    assert.deepEqual(r.metadata.databaseInfo, [{ name: 'lockdown_seed', measurementCount: 2, measurements: ['cpu', 'mem'], seriesCount: 5 }]);
    assert.equal(r.metadata.totalSeries, 5);
    assert.deepEqual(r.metadata.users, []);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.commands.slice(-3), [INFLUX_COMMANDS.showMeasurements, INFLUX_COMMANDS.showSeriesCardinality, INFLUX_COMMANDS.showSeries]);
  });

  it('1.8 with ping-auth-enabled: /ping 401 still names the version; /query 401 decides -> auth_required', async () => {
    // services/httpd/handler.go (1.8): every route is wrapped by versionHeader, /ping by authenticate when
    // ping-auth-enabled; the refusal body is the captured 1.6 one (same httpError call).
    const headers = { 'content-type': 'application/json', 'x-influxdb-version': '1.8.10', 'x-influxdb-build': 'OSS', 'www-authenticate': 'Basic realm="InfluxDB"' };
    const refusal = { status: 401, headers, body: fixtureText('v1.6.7-unauthorized-401.json') };
    server = await replay(() => refusal);
    const r = await influxdbProbe.probe({ host: '127.0.0.1', port: server.port }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.version, '1.8.10');
    assert.equal(r.metadata.pingAuthEnabled, true);
    assert.equal(r.evidence, 'GET /query SHOW DATABASES: HTTP 401 {"error":"unable to parse authentication credentials"}');
    assert.deepEqual(server.seen, ['GET /ping', 'GET /query?q=SHOW+DATABASES']);
  });

  it('an HTTP server that is not InfluxDB (404 page on /ping; 204 but an HTML 401 on /query): protocol-error', async () => {
    server = await replay(() => undefined);
    let r = await influxdbProbe.probe({ host: '127.0.0.1', port: server.port }, probeCtx());
    assert.equal(r.status, 'protocol-error', r.errors.join('; '));
    assert.match(r.errors[0] ?? '', /GET \/ping answered HTTP 404 without X-Influxdb-Version: not InfluxDB/);
    assert.equal(r.auth, 'inconclusive');
    await server.close();
    server = await replay((url) => (url.pathname === '/ping' ? { status: 204 } : { status: 401, headers: { 'content-type': 'text/html' }, body: '<h1>401</h1>' }));
    r = await influxdbProbe.probe({ host: '127.0.0.1', port: server.port }, probeCtx());
    assert.equal(r.status, 'protocol-error', r.errors.join('; '));
    assert.match(r.errors[0] ?? '', /without an InfluxDB error body/);
  });
});

describe('influxdb probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => influxdbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.ok(ms >= 450 && ms < 4000, `took ${ms} ms`);
  });

  it('garbage (an SSH banner): protocol-error, inconclusive', async () => {
    peer = await garbagePeer(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), { afterRequest: true });
    const { result, ms } = await timed(() => influxdbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error', result.errors.join('; '));
    assert.equal(result.auth, 'inconclusive');
    assert.ok(ms < 4000, `took ${ms} ms`);
  });

  it('100 MB flood of non-HTTP bytes: protocol-error at once, bounded read', async () => {
    peer = await floodPeer();
    const { result, ms } = await timed(() => influxdbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error', result.errors.join('; '));
    assert.ok(result.bytesRead <= 1024 * 1024, `read ${result.bytesRead} bytes`);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB /query body behind a real-looking /ping: read-limit at the read cap, bounded memory', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const server = http.createServer((req, res) => {
      if (req.url === '/ping') return void res.writeHead(204, { 'x-influxdb-version': '1.8.10' }).end();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024) });
      let sent = 0;
      const pump = (): void => {
        while (sent < 100 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { result, ms, grew } = await timedWithMemory(() => influxdbProbe.probe({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, probeCtx()));
      assert.equal(result.status, 'read-limit', result.errors.join('; '));
      assert.equal(result.auth, 'inconclusive');
      assert.equal(result.version, '1.8.10');
      assert.ok(result.bytesRead <= 1024 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
      assertMemoryBounded(grew);
      assert.ok(ms < 5000, `took ${ms} ms`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('closed port: connection-refused, no verdict', async () => {
    await probeClosedPort(influxdbProbe);
  });
});
