/**
 * The ClickHouse probe against real clickhouse-server 18.16 processes (start them with
 * `bash test/servers/clickhouse.sh start`) and against hostile peers (silent, garbage, flood). Nothing here
 * mocks ClickHouse. The test seeds data with the real clickhouse-client; the probe itself never writes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { VERSION } from '../../core/version.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, recordingProxy, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { requireServer, servers } from '../../../test/helpers/servers.js';
import { PROBE_REVISION, decodeClientHello } from './codec.js';
import { CLICKHOUSE_COMMANDS, CLICKHOUSE_QUERIES, clickhouseProbe } from './probe.js';

/** Same defaults as test/servers/clickhouse.sh (not yet in servers.env). */
const conf = (key: string, fallback: string): string => process.env[key] ?? servers[key] ?? fallback;
const OPEN = conf('CLICKHOUSE_OPEN_HOST', '127.0.18.1');
const AUTH = conf('CLICKHOUSE_AUTH_HOST', '127.0.18.2');
const HTTP_PORT = Number(conf('CLICKHOUSE_HTTP_PORT', '8123'));
const NATIVE_PORT = Number(conf('CLICKHOUSE_NATIVE_PORT', '9000'));
const PASSWORD = conf('CLICKHOUSE_PASSWORD', 'lockdown-ch-pw');

/** Run SQL with the real client (the test seeds; the probe never writes). */
function client(host: string, sql: string, password = ''): string {
  const args = ['--host', host, '--port', String(NATIVE_PORT), '--query', sql];
  if (password) args.push('--password', password);
  return execFileSync('clickhouse-client', args, { encoding: 'utf8' }).trim();
}

/** Every HTTP request in a client byte stream: method, path and the decoded `query` parameter. */
function decodeHttpRequests(bytes: Buffer): { method: string; path: string; query: string | null; body: number }[] {
  const out: { method: string; path: string; query: string | null; body: number }[] = [];
  let rest = bytes.toString('latin1');
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `incomplete HTTP request: ${rest.slice(0, 80)}`);
    const head = rest.slice(0, end).split('\r\n');
    const [method, target] = head[0]!.split(' ') as [string, string];
    const length = Number(/^content-length: *(\d+)$/im.exec(rest.slice(0, end))?.[1] ?? 0);
    const url = new URL(target, 'http://x');
    out.push({ method, path: url.pathname, query: url.searchParams.get('query'), body: length });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

/**
 * A hostile "native port": its first connection answers HTTP exactly as ClickHouse's native port does (so the
 * probe switches to the native Hello), and every later connection gets `native` (silence, garbage, a flood).
 */
async function nativeHintPeer(native: (s: net.Socket) => void): Promise<FakePeer> {
  const sockets = new Set<net.Socket>();
  let first = true;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    if (first) {
      first = false;
      s.once('data', () => s.end('HTTP/1.0 400 Bad Request\r\n\r\nPort 9000 is for clickhouse-client program.\r\nYou must use port 8123 for HTTP.\r\n'));
    } else native(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('clickhouse probe on real servers (18.16)', () => {
  let version = '';
  let seededBytes = 0;
  let databases: string[] = [];

  before(async () => {
    await requireServer(OPEN, HTTP_PORT, 'clickhouse-open (HTTP)');
    await requireServer(OPEN, NATIVE_PORT, 'clickhouse-open (native)');
    await requireServer(AUTH, HTTP_PORT, 'clickhouse-auth (HTTP)');
    await requireServer(AUTH, NATIVE_PORT, 'clickhouse-auth (native)');
    // Seed with the real client: one MergeTree table with 123 rows (one part), one Memory table with 5 rows.
    client(OPEN, 'DROP DATABASE IF EXISTS lockdown_seed');
    client(OPEN, 'CREATE DATABASE lockdown_seed');
    client(OPEN, 'CREATE TABLE lockdown_seed.events (id UInt32, name String, at Date) ENGINE = MergeTree ORDER BY id');
    client(OPEN, "INSERT INTO lockdown_seed.events SELECT number, concat('event-', toString(number)), today() FROM system.numbers LIMIT 123");
    client(OPEN, 'CREATE TABLE lockdown_seed.notes (id UInt32) ENGINE = Memory');
    client(OPEN, 'INSERT INTO lockdown_seed.notes SELECT number FROM system.numbers LIMIT 5');
    // The password protects the auth server; its data is seeded with the password.
    client(AUTH, 'CREATE DATABASE IF NOT EXISTS lockdown_secret', PASSWORD);
    version = client(OPEN, 'SELECT version()');
    seededBytes = Number(client(OPEN, "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'lockdown_seed'"));
    databases = client(OPEN, 'SHOW DATABASES').split('\n');
    assert.equal(client(OPEN, 'SELECT count() FROM lockdown_seed.events'), '123');
    assert.ok(seededBytes > 0);
  });

  it('HTTP, no password for default: open, version, databases, tables with rows and bytes, a cluster peer', async () => {
    const r = await clickhouseProbe.probe({ host: OPEN, port: HTTP_PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'ClickHouse');
    assert.equal(r.version, version);
    assert.equal(version, '18.16.1');
    assert.equal(r.metadata.interface, 'http');
    assert.deepEqual(r.metadata.databases, databases);
    assert.equal(r.metadata.databaseCount, databases.length);
    assert.ok(databases.includes('lockdown_seed'));
    assert.deepEqual(r.metadata.tables, [
      { database: 'lockdown_seed', name: 'events', engine: 'MergeTree', rows: 123, bytes: seededBytes, parts: 1 },
      { database: 'lockdown_seed', name: 'notes', engine: 'Memory' },
    ]);
    assert.equal(r.metadata.tableCount, 2);
    assert.equal(r.metadata.totalRows, 123);
    assert.equal(r.metadata.totalBytes, seededBytes);
    assert.equal(r.metadata.timezone, client(OPEN, 'SELECT timezone()'));
    assert.equal(r.metadata.hostname, client(OPEN, 'SELECT hostName()'));
    assert.ok(Number.isInteger(r.metadata.uptimeSeconds));
    // lockdown_cluster (test/servers/clickhouse.sh) names the auth server; Debian's localhost test clusters are not peers.
    assert.deepEqual(r.peers, [{ host: AUTH, port: NATIVE_PORT, role: 'member', source: 'system.clusters: lockdown_cluster shard 1 replica 1' }]);
    assert.ok((r.metadata.clusters as unknown[]).length >= 2);
    assert.match(r.evidence ?? '', /answered 200 without credentials .*version 18\.16\.1; \d+ databases: .*lockdown_seed.*; 2 user tables, 123 rows/);
    assert.deepEqual(r.commands, [
      CLICKHOUSE_COMMANDS.version,
      CLICKHOUSE_COMMANDS.databases,
      CLICKHOUSE_COMMANDS.tables,
      CLICKHOUSE_COMMANDS.parts,
      CLICKHOUSE_COMMANDS.clusters,
    ]);
    assert.deepEqual(r.errors, []);
  });

  it('the server itself ran only the allow-listed SELECT/SHOW queries, by GET, from our identity (system.query_log)', async () => {
    const identity = `lockdown-querylog-${process.pid}-${Date.now()}`;
    const r = await clickhouseProbe.probe({ host: OPEN, port: HTTP_PORT }, probeCtx({ identity }));
    assert.equal(r.auth, 'open');
    client(OPEN, 'SYSTEM FLUSH LOGS');
    // type 2 = QueryFinish; interface 2 = HTTP; http_method 1 = GET.
    const logged = client(
      OPEN,
      `SELECT interface, http_method, query FROM system.query_log WHERE http_user_agent = '${identity}' AND type = 2 FORMAT JSONCompact`,
    );
    const rows = (JSON.parse(logged) as { data: [number, number, string][] }).data;
    // query_log times have one-second resolution on 18.16: compare as sorted lists, not in order.
    assert.deepEqual(
      rows.map((row) => row[2]).sort(),
      r.commands.map((c) => CLICKHOUSE_QUERIES[c as keyof typeof CLICKHOUSE_QUERIES]).sort(),
    );
    for (const [iface, method] of rows) assert.deepEqual([iface, method], [2, 1]);
    const failed = client(OPEN, `SELECT count() FROM system.query_log WHERE http_user_agent = '${identity}' AND type != 2 AND type != 1`);
    assert.equal(failed, '0', 'no query of ours failed or was refused');
  });

  it('HTTP, password set: auth_required with the server-worded refusal, nothing else asked', async () => {
    const r = await clickhouseProbe.probe({ host: AUTH, port: HTTP_PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'ClickHouse');
    assert.equal(r.evidence, 'GET /?query=version: HTTP 401 Code: 194, e.displayText() = DB::Exception: Password required for user default, e.what() = DB::Exception');
    assert.equal(r.metadata.exceptionCode, 194);
    assert.deepEqual(r.commands, [CLICKHOUSE_COMMANDS.version]);
    assert.equal(r.metadata.databases, undefined);
    assert.deepEqual(r.peers, []);
  });

  it('native port, no password for default: the server Hello -> open, version and revision from it', async () => {
    const r = await clickhouseProbe.probe({ host: OPEN, port: NATIVE_PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'ClickHouse');
    assert.equal(r.version, version);
    assert.equal(r.metadata.interface, 'native');
    assert.equal(r.metadata.revision, 54412);
    assert.equal(r.metadata.timezone, client(OPEN, 'SELECT timezone()'));
    assert.equal(r.evidence, "native Hello as user default without a password answered with the server's Hello: ClickHouse 18.16.1 revision 54412");
    assert.deepEqual(r.commands, [CLICKHOUSE_COMMANDS.clientHello]);
  });

  it('native port, password set: the Exception packet -> auth_required with its code and text', async () => {
    const r = await clickhouseProbe.probe({ host: AUTH, port: NATIVE_PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'ClickHouse');
    assert.equal(r.evidence, 'native Hello as user default without a password: Exception 194 DB::Exception: Password required for user default');
    assert.equal(r.metadata.exceptionCode, 194);
    assert.equal(r.metadata.exceptionName, 'DB::Exception');
    assert.deepEqual(r.commands, [CLICKHOUSE_COMMANDS.clientHello]);
  });

  it('allow-list: HTTP bytes decode to GETs of the constant queries only; native bytes to one Hello (default, no password)', async () => {
    for (const [host, port, expected] of [
      [OPEN, HTTP_PORT, ['version', 'databases', 'tables', 'parts', 'clusters']],
      [AUTH, HTTP_PORT, ['version']],
    ] as const) {
      const proxy = await recordingProxy(host, port);
      try {
        const r = await clickhouseProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx());
        assert.equal(r.status, 'success');
        const requests = decodeHttpRequests(proxy.clientBytes());
        const allowedSql = new Set(Object.values(CLICKHOUSE_QUERIES));
        for (const req of requests) {
          assert.equal(req.method, 'GET');
          assert.equal(req.path, '/');
          assert.equal(req.body, 0);
          assert.ok(req.query !== null && allowedSql.has(req.query), `sent query ${req.query}`);
        }
        assert.deepEqual(
          requests.map((q) => q.query),
          expected.map((k) => CLICKHOUSE_QUERIES[CLICKHOUSE_COMMANDS[k]]),
        );
        for (const c of r.commands) assert.ok(clickhouseProbe.allowedCommands.includes(c));
      } finally {
        await proxy.close();
      }
    }
    for (const host of [OPEN, AUTH]) {
      const proxy = await recordingProxy(host, NATIVE_PORT);
      try {
        // Through the proxy the port is not 9000: the probe asks HTTP first, meets the native port's HTTP
        // answer, and says the native Hello on a second connection.
        const r = await clickhouseProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx());
        assert.equal(r.status, 'success', r.errors.join('; '));
        assert.equal(r.metadata.interface, 'native');
        assert.equal(r.auth, host === OPEN ? 'open' : 'auth_required');
        assert.match(String(r.metadata.httpAnswer), /is for clickhouse-client program/);
        assert.deepEqual(r.commands, [CLICKHOUSE_COMMANDS.version, CLICKHOUSE_COMMANDS.clientHello]);
        const bytes = proxy.clientBytes();
        const httpEnd = bytes.indexOf('\r\n\r\n') + 4;
        const [get] = decodeHttpRequests(bytes.subarray(0, httpEnd));
        assert.equal(get?.query, CLICKHOUSE_QUERIES[CLICKHOUSE_COMMANDS.version]);
        const hello = decodeClientHello(bytes.subarray(httpEnd));
        assert.deepEqual(hello, {
          value: {
            clientName: 'lockdown-test',
            versionMajor: Number(VERSION.split('.')[0]),
            versionMinor: Number(VERSION.split('.')[1]),
            revision: PROBE_REVISION,
            database: '',
            user: 'default',
            password: '',
          },
          consumed: bytes.length - httpEnd,
        });
        assert.equal(r.bytesSent > 0, true);
      } finally {
        await proxy.close();
      }
    }
  });
});

describe('clickhouse probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => clickhouseProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.ok(ms >= 450 && ms < 4000, `took ${ms} ms`);
  });

  it('silent native port (after the HTTP hint): io-timeout, inconclusive', async () => {
    peer = await nativeHintPeer(() => undefined);
    const { result, ms } = await timed(() => clickhouseProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.deepEqual(result.commands, [CLICKHOUSE_COMMANDS.version, CLICKHOUSE_COMMANDS.clientHello]);
    assert.ok(ms >= 450 && ms < 4000, `took ${ms} ms`);
  });

  it('garbage (an SSH banner): protocol-error, inconclusive', async () => {
    peer = await garbagePeer(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), { afterRequest: true });
    const { result, ms } = await timed(() => clickhouseProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error', result.errors.join('; '));
    assert.equal(result.auth, 'inconclusive');
    assert.ok(ms < 4000, `took ${ms} ms`);
  });

  it('garbage on the native port: protocol-error naming the packet type', async () => {
    peer = await nativeHintPeer((s) => s.once('data', () => s.write(Buffer.from([7, 1, 2, 3]))));
    const result = await clickhouseProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx());
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /packet type 7 before the Hello/);
  });

  it('an HTTP server that is not ClickHouse (HTML 200, bare 401): protocol-error', async () => {
    for (const [status, body] of [
      [200, '<html><body>It works!</body></html>'],
      [401, '<h1>401 Authorization Required</h1>'],
    ] as const) {
      const server = http.createServer((_req, res) => res.writeHead(status, { 'content-type': 'text/html' }).end(body));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const r = await clickhouseProbe.probe({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, probeCtx());
        assert.equal(r.status, 'protocol-error', r.errors.join('; '));
        assert.equal(r.auth, 'inconclusive');
        assert.equal(r.product, undefined);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
  });

  it('100 MB flood of non-HTTP bytes: protocol-error at once, bounded read', async () => {
    peer = await floodPeer();
    const { result, ms } = await timed(() => clickhouseProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error', result.errors.join('; '));
    assert.ok(result.bytesRead <= 1024 * 1024, `read ${result.bytesRead} bytes`);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood inside a legal native string (after the HTTP hint): read-limit at the cap, bounded memory', async () => {
    // Packet 0 (Hello), then a server-name length of 1 MiB (the codec's limit) and bytes that never end it.
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    peer = await nativeHintPeer((s) =>
      s.once('data', () => {
        s.write(Buffer.from([0x00, 0x80, 0x80, 0x40]));
        let sent = 0;
        const pump = (): void => {
          while (sent < 100 * 1024 * 1024 && !s.destroyed) {
            sent += chunk.length;
            if (!s.write(chunk)) return void s.once('drain', pump);
          }
        };
        pump();
      }),
    );
    const { result, ms, grew } = await timedWithMemory(() => clickhouseProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ readCap: 512 * 1024 })));
    await peer.close();
    assert.equal(result.status, 'read-limit', result.errors.join('; '));
    assert.equal(result.auth, 'inconclusive');
    assert.ok(result.bytesRead <= 512 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
    assertMemoryBounded(grew);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB body behind valid HTTP headers: read-limit at the read cap, bounded memory', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const server = http.createServer((_req, res) => {
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
      const { result, ms, grew } = await timedWithMemory(() => clickhouseProbe.probe({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, probeCtx()));
      assert.equal(result.status, 'read-limit', result.errors.join('; '));
      assert.equal(result.auth, 'inconclusive');
      assert.ok(result.bytesRead <= 1024 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
      assertMemoryBounded(grew);
      assert.ok(ms < 5000, `took ${ms} ms`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('closed port: connection-refused, no verdict', async () => {
    await probeClosedPort(clickhouseProbe);
  });
});
