/**
 * The CouchDB probe against real PouchDB Server 4.2.0 processes (CouchDB-1.x-like HTTP API; start them with
 * `bash test/servers/couchdb.sh start` after `bash scripts/install-couchdb.sh`) and against hostile peers.
 * Apache CouchDB itself cannot run here; its documented replies are replayed in probe-replay.test.ts.
 * The test seeds databases and documents over plain HTTP (the product never writes).
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ProbeResult } from '../../core/types.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, recordingProxy, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { env, requireServer, servers } from '../../../test/helpers/servers.js';
import { fixtureReply, replayServer } from '../../../test/fixtures/couchdb/replay-server.js';
import { ALL_DBS_QUERY, COUCHDB_COMMANDS, couchdbProbe } from './probe.js';
import { clearValues, syntheticPeople } from '../../../test/helpers/synthetic-people.js';

// Same defaults as test/servers/couchdb.sh (not yet in servers.env).
const setting = (key: string, fallback: string): string => process.env[key] ?? servers[key] ?? fallback;
const OPEN = setting('COUCHDB_OPEN_HOST', '127.0.17.1');
const AUTH = setting('COUCHDB_AUTH_HOST', '127.0.17.2');
const PORT = Number(setting('COUCHDB_PORT', '5984'));
const ADMIN = `${setting('COUCHDB_ADMIN_USER', 'lockdown')}:${setting('COUCHDB_ADMIN_PASSWORD', 'lockdown-couch-pw')}`;
/** PouchDB Server's own request log (CouchDB-style lines), written by test/servers/couchdb.sh's config. */
const requestLog = (name: string): string => `${env('LOCKDOWN_SERVERS_DIR')}/${name}/pouchdb.log`;

interface HttpAnswer {
  status: number;
  body: unknown;
}

/** Plain HTTP from the test (seeding and checking), optionally as the admin. */
async function couch(host: string, method: string, path: string, body?: unknown, cred?: string): Promise<HttpAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (cred) headers.authorization = `Basic ${Buffer.from(cred).toString('base64')}`;
  const res = await fetch(`http://${host}:${PORT}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

async function ok(host: string, method: string, path: string, body?: unknown, cred?: string): Promise<unknown> {
  const r = await couch(host, method, path, body, cred);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Drop every non-system database, then create `dbs` with `count` documents each. */
async function seed(host: string, dbs: Record<string, number>, cred?: string): Promise<void> {
  for (const name of (await ok(host, 'GET', '/_all_dbs', undefined, cred)) as string[]) {
    if (!name.startsWith('_')) await ok(host, 'DELETE', `/${encodeURIComponent(name)}`, undefined, cred);
  }
  for (const [name, count] of Object.entries(dbs)) {
    await ok(host, 'PUT', `/${name}`, undefined, cred);
    const docs = Array.from({ length: count }, (_, i) => ({ _id: `${name}-${String(i).padStart(3, '0')}`, n: i }));
    await ok(host, 'POST', `/${name}/_bulk_docs`, { docs }, cred);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The size of a request log once PouchDB Server (which appends asynchronously) has stopped writing to it. */
async function settledLogSize(name: string): Promise<number> {
  let size = statSync(requestLog(name)).size;
  for (let i = 0; i < 50; i++) {
    await sleep(60);
    const now = statSync(requestLog(name)).size;
    if (now === size) return size;
    size = now;
  }
  return size;
}

/** The request lines PouchDB Server logged after byte `from` of its request log (`GET /path?query`), once it settled. */
async function loggedRequests(name: string, from: number, expected: number): Promise<string[]> {
  const read = (): string[] =>
    readFileSync(requestLog(name))
      .subarray(from)
      .toString('utf8')
      .split('\n')
      .map((l) => / - - ([A-Z]+ \S+) \d{3}$/.exec(l)?.[1])
      .filter((l): l is string => l !== undefined);
  for (let i = 0; i < 100 && read().length < expected; i++) await sleep(20);
  await settledLogSize(name);
  return read();
}

/** Decode the HTTP requests a client sent: request lines and whether any carried a body. */
function decodeRequests(bytes: Buffer): { line: string; headers: Record<string, string> }[] {
  const out: { line: string; headers: Record<string, string> }[] = [];
  for (const head of bytes.toString('latin1').split('\r\n\r\n').filter((h) => h.length > 0)) {
    const [line = '', ...rest] = head.split('\r\n');
    const headers: Record<string, string> = {};
    for (const h of rest) {
      const at = h.indexOf(':');
      headers[h.slice(0, at).toLowerCase()] = h.slice(at + 1).trim();
    }
    out.push({ line, headers });
  }
  return out;
}

/** The allow-list name of a request path the probe sent. */
function commandOf(method: string, path: string): string {
  const p = path.split('?')[0] ?? '';
  if (/^\/[^/]+\/_all_docs$/.test(p)) return `${method} /{db}/_all_docs`;
  return ['/', '/_all_dbs', '/_membership', '/_up'].includes(p) ? `${method} ${p}` : `${method} /{db}`;
}

describe('couchdb probe on real PouchDB Server', () => {
  let welcome: { version?: string; uuid?: string } = {};
  let authUuid = '';
  /** Each server's own `_all_dbs` (PouchDB Server lists in creation order, CouchDB sorts). */
  let openList: string[] = [];
  let authList: string[] = [];

  before(async () => {
    await requireServer(OPEN, PORT, 'couchdb-open');
    await requireServer(AUTH, PORT, 'couchdb-auth');
    await seed(OPEN, { customers: 13, chat_messages: 30 });
    // One customer deleted: 12 live documents remain.
    const doc = (await ok(OPEN, 'GET', '/customers/customers-012')) as { _rev: string };
    await ok(OPEN, 'DELETE', `/customers/customers-012?rev=${doc._rev}`);
    welcome = (await ok(OPEN, 'GET', '/')) as typeof welcome;
    openList = (await ok(OPEN, 'GET', '/_all_dbs')) as string[];
    assert.deepEqual([...openList].sort(), ['_replicator', '_users', 'chat_messages', 'customers']);

    // The auth server: one database readable by members only, one without members.
    await seed(AUTH, { payroll: 5, public_notes: 3 }, ADMIN);
    const admin = ADMIN.split(':')[0];
    await ok(AUTH, 'PUT', '/payroll/_security', { admins: { names: [], roles: [] }, members: { names: [admin], roles: [] } }, ADMIN);
    authUuid = ((await ok(AUTH, 'GET', '/')) as { uuid: string }).uuid;
    authList = (await ok(AUTH, 'GET', '/_all_dbs')) as string[];
    assert.deepEqual([...authList].sort(), ['_replicator', '_users', 'payroll', 'public_notes']);
  });

  it('admin party: open, the seeded databases and their document counts, request log shows only GETs', async () => {
    const logStart = await settledLogSize('couchdb-open');
    const r = await couchdbProbe.probe({ host: OPEN, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'PouchDB Server');
    assert.equal(r.version, welcome.version);
    assert.equal(r.metadata.uuid, welcome.uuid);
    assert.deepEqual(r.metadata.vendor, { name: 'PouchDB authors', version: welcome.version });
    assert.deepEqual(r.metadata.pouchdbAdapters, ['memory']);
    assert.deepEqual(r.metadata.databases, openList);
    assert.equal(r.metadata.databaseCount, 4);
    const seeded: Record<string, number> = { chat_messages: 30, customers: 12 };
    const userDbs = openList.filter((n) => !n.startsWith('_'));
    assert.deepEqual(
      r.metadata.databaseInfo,
      userDbs.map((name) => ({ name, docCount: seeded[name], adapter: 'memory' })),
    );
    assert.equal(r.metadata.inspectedDocCount, 42);
    assert.equal(r.metadata.refusedDatabases, undefined);
    // The normalised inventory: every database listed, document counts where inspected, their sum on top.
    assert.deepEqual(r.inventory, {
      records: 42,
      namespaces: openList.map((name) => ({ path: [name], kind: 'database', ...(seeded[name] !== undefined ? { records: seeded[name] } : {}) })),
    });
    // express-pouchdb's constant placeholder node: reported in metadata, not as a peer.
    assert.deepEqual(r.metadata.clusterNodes, ['node1@127.0.0.1']);
    assert.deepEqual(r.peers, []);
    assert.equal(r.evidence, `GET /_all_dbs answered 200 without credentials: 4 databases: ${openList.join(', ')}`);
    assert.deepEqual(r.commands, [
      COUCHDB_COMMANDS.welcome,
      COUCHDB_COMMANDS.allDbs,
      COUCHDB_COMMANDS.dbInfo,
      COUCHDB_COMMANDS.dbInfo,
      COUCHDB_COMMANDS.membership,
      COUCHDB_COMMANDS.up,
    ]);
    assert.deepEqual(r.errors, []);
    // The server's own request log: exactly these requests, all GET.
    assert.deepEqual(await loggedRequests('couchdb-open', logStart, 6), [
      'GET /',
      `GET /_all_dbs${ALL_DBS_QUERY}`,
      ...userDbs.map((n) => `GET /${n}`),
      'GET /_membership',
      'GET /_up',
    ]);
  });

  it('admin configured: PouchDB Server still lists databases (CouchDB 1.x rule) -> open; the members-only database refuses', async () => {
    // What this server enforces once an admin exists, checked with plain HTTP: server-admin endpoints
    // refuse, the database list does not.
    const config = await couch(AUTH, 'GET', '/_config');
    assert.deepEqual(config, { status: 401, body: { error: 'unauthorized', reason: 'You are not a server admin.' } });
    assert.equal((await couch(AUTH, 'GET', '/_all_dbs')).status, 200);

    const logStart = await settledLogSize('couchdb-auth');
    const r = await couchdbProbe.probe({ host: AUTH, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.uuid, authUuid);
    assert.deepEqual(r.metadata.databases, authList);
    const authUserDbs = authList.filter((n) => !n.startsWith('_'));
    assert.deepEqual(
      r.metadata.databaseInfo,
      authUserDbs.map((name) =>
        name === 'payroll'
          ? { name, status: 401, error: 'unauthorized', reason: 'You are not authorized to access this db.' }
          : { name, docCount: 3, adapter: 'memory' },
      ),
    );
    assert.deepEqual(r.metadata.refusedDatabases, ['payroll']);
    assert.equal(r.metadata.inspectedDocCount, 3);
    assert.deepEqual(await loggedRequests('couchdb-auth', logStart, 6), [
      'GET /',
      `GET /_all_dbs${ALL_DBS_QUERY}`,
      ...authUserDbs.map((n) => `GET /${n}`),
      'GET /_membership',
      'GET /_up',
    ]);
  });

  it('allow-list: every request on the wire is a GET of an allow-listed command, with our identity and no body', async () => {
    for (const host of [OPEN, AUTH]) {
      const proxy = await recordingProxy(host, PORT);
      try {
        const ctx = probeCtx();
        const r = await couchdbProbe.probe({ host: '127.0.0.1', port: proxy.port }, ctx);
        assert.equal(r.status, 'success', r.errors.join('; '));
        const sent = decodeRequests(proxy.clientBytes());
        const commands = sent.map(({ line, headers }) => {
          const m = /^(\S+) (\S+) HTTP\/1\.1$/.exec(line);
          assert.ok(m, `not an HTTP/1.1 request line: ${line}`);
          assert.equal(m[1], 'GET', line);
          assert.equal(headers['user-agent'], ctx.identity);
          assert.equal(headers['content-length'] ?? '0', '0');
          assert.equal(headers['transfer-encoding'], undefined);
          return commandOf(m[1]!, m[2]!);
        });
        for (const c of commands) assert.ok(couchdbProbe.allowedCommands.includes(c), c);
        assert.deepEqual(commands, r.commands, 'what went on the wire is what the result says');
      } finally {
        await proxy.close();
      }
    }
  });
});

describe('couchdb probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, no verdict claimed', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => couchdbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.ok(result.auth !== 'open' && result.auth !== 'auth_required');
    assert.ok(ms >= 450 && ms < 4000, `took ${ms} ms`);
  });

  it('silent peer: verdict inconclusive', async () => {
    peer = await silentPeer();
    const result = await couchdbProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx({ timeoutMs: 300 }));
    await peer.close();
    assert.equal(result.auth, 'inconclusive');
  });

  it('garbage peer (an SSH banner): protocol-error, no verdict claimed', async () => {
    peer = await garbagePeer(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), { afterRequest: true });
    const { result, ms } = await timed(() => couchdbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error', result.errors.join('; '));
    assert.ok(result.auth !== 'open' && result.auth !== 'auth_required');
    assert.ok(ms < 4000, `took ${ms} ms`);
  });

  it('garbage peer: verdict inconclusive', async () => {
    peer = await garbagePeer(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), { afterRequest: true });
    const result = await couchdbProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx());
    await peer.close();
    assert.equal(result.auth, 'inconclusive');
  });

  it('100 MB flood of non-HTTP bytes: protocol-error at once, bounded read', async () => {
    peer = await floodPeer();
    const { result, ms } = await timed(() => couchdbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error', result.errors.join('; '));
    assert.ok(result.bytesRead <= 1024 * 1024, `read ${result.bytesRead} bytes`);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB JSON body behind valid HTTP headers: read-limit at the read cap, bounded memory', async () => {
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
      const { result, ms, grew } = await timedWithMemory(() =>
        couchdbProbe.probe({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, probeCtx()),
      );
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

  it('an HTTP server that is not CouchDB (HTML page, Elasticsearch-like JSON, bare 401): protocol-error', async () => {
    const cases: [Record<string, string>, number, string, RegExp][] = [
      [{ 'content-type': 'text/html' }, 200, '<html><body>It works!</body></html>', /GET \/ reply is not JSON/],
      [{ 'content-type': 'application/json' }, 200, '{"name":"es01","tagline":"You Know, for Search"}', /no CouchDB welcome key/],
      [{ 'www-authenticate': 'Basic realm="x"' }, 401, '<h1>401 Authorization Required</h1>', /without a CouchDB error body/],
      [{}, 500, 'oops', /GET \/ answered HTTP 500, not a CouchDB welcome/],
    ];
    for (const [headers, status, body, error] of cases) {
      const replay = await replayServer({ '/': { status, body: Buffer.from(body), headers } });
      try {
        const r = await couchdbProbe.probe({ host: '127.0.0.1', port: replay.port }, probeCtx());
        assert.equal(r.status, 'protocol-error', body);
        assert.equal(r.auth, 'inconclusive');
        assert.match(r.errors[0] ?? '', error);
        assert.deepEqual(r.commands, [COUCHDB_COMMANDS.welcome], 'nothing after a failed welcome');
      } finally {
        await replay.close();
      }
    }
  });

  it('hostile database names in _all_dbs are never requested; odd ones are counted', async () => {
    const names = ['../_config', '_users', 'Bad', 'ok_db', 'a b', 'x%2F..%2F_config', 'team/two', 'a\r\nHost: evil', 'é'];
    const replay = await replayServer({
      '/': fixtureReply('welcome-3.0.0.json'),
      '/_all_dbs': { status: 200, body: Buffer.from(JSON.stringify(names)), headers: { 'content-type': 'application/json' } },
      '/ok_db': fixtureReply('db-info-plants.json'),
    });
    try {
      const r = await couchdbProbe.probe({ host: '127.0.0.1', port: replay.port }, probeCtx());
      assert.equal(r.auth, 'open');
      assert.equal(r.metadata.databaseCount, names.length);
      assert.equal(r.metadata.skippedDatabaseNames, 6);
      assert.deepEqual(
        replay.requests.map((q) => q.url),
        ['/', `/_all_dbs${ALL_DBS_QUERY}`, '/ok_db', '/team%2Ftwo', '/_membership', '/_up'],
      );
      assert.ok(replay.requests.every((q) => q.method === 'GET'));
    } finally {
      await replay.close();
    }
  });

  it('a database list longer than the probe reads: count is a lower bound, at most 20 databases inspected, 500 names kept', async () => {
    const names = Array.from({ length: 10_050 }, (_, i) => `db${String(i).padStart(5, '0')}`);
    const replay = await replayServer({
      '/': fixtureReply('welcome-3.0.0.json'),
      '/_all_dbs': { status: 200, body: Buffer.from(JSON.stringify(names)), headers: { 'content-type': 'application/json' } },
    });
    try {
      const r = await couchdbProbe.probe({ host: '127.0.0.1', port: replay.port }, probeCtx());
      assert.equal(r.auth, 'open');
      assert.equal(r.metadata.databaseCount, 10_000);
      assert.equal(r.metadata.databaseCountIsLowerBound, true);
      assert.equal((r.metadata.databases as string[]).length, 500);
      assert.equal(r.commands.filter((c) => c === COUCHDB_COMMANDS.dbInfo).length, 20);
      assert.match(r.evidence ?? '', /^GET \/_all_dbs answered 200 without credentials: 10000\+ databases: db00000, /);
    } finally {
      await replay.close();
    }
  });

  it('closed port: connection-refused, no verdict', async () => {
    await probeClosedPort(couchdbProbe);
  });
});

describe('couchdb value sampling (ctx.sample, inside the authorized scope) on real PouchDB Server', () => {
  const people = syntheticPeople(10, 61);
  const SAMPLE = { perCollection: 50, maxBytes: 1_000_000, maxCollections: 10 };

  before(async () => {
    await requireServer(OPEN, PORT, 'couchdb-open');
    await seed(OPEN, {});
    await ok(OPEN, 'PUT', '/people');
    await ok(OPEN, 'POST', '/people/_bulk_docs', {
      docs: [
        ...people.slice(0, 6).map((p, i) => ({ _id: `person-${i}`, ...p })),
        { _id: '_design/app', views: { by_name: { map: 'function (doc) { emit(doc.name, null); }' } } },
      ],
    });
    await ok(OPEN, 'PUT', '/chat_log');
    await ok(OPEN, 'POST', '/chat_log/_bulk_docs', { docs: people.slice(6, 10).map((p, i) => ({ _id: `msg-${i}`, chat_message: p.chat_message })) });
  });

  after(async () => seed(OPEN, {}));

  for (const withSample of [true, false]) {
    it(withSample ? 'with ctx.sample: categories with the seeded counts, no clear value, GETs only' : 'without ctx.sample: no _all_docs on the wire or in the server log, no sample', async () => {
      const logStart = await settledLogSize('couchdb-open');
      const proxy = await recordingProxy(OPEN, PORT);
      let r: ProbeResult;
      try {
        r = await couchdbProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx({ authorized: true, ...(withSample ? { sample: SAMPLE } : {}) }));
      } finally {
        await proxy.close();
      }
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.deepEqual(r.errors, []);
      const commands = decodeRequests(proxy.clientBytes()).map(({ line }) => {
        const m = /^(\S+) (\S+) HTTP\/1\.1$/.exec(line);
        assert.ok(m && m[1] === 'GET', line);
        return commandOf(m[1]!, m[2]!);
      });
      assert.deepEqual(commands, r.commands);
      for (const c of commands) assert.ok(couchdbProbe.allowedCommands.includes(c), c);
      const logged = await loggedRequests('couchdb-open', logStart, r.commands.length);
      const docsRequests = logged.filter((l) => l.includes('/_all_docs'));
      const text = JSON.stringify(r);
      for (const v of clearValues(people)) assert.ok(!text.includes(v), `the result holds a clear value: ${v}`);
      assert.deepEqual(r.inventory?.namespaces.filter((n) => !n.path[0]!.startsWith('_')), [
        { path: ['people'], kind: 'database', records: 7 },
        { path: ['chat_log'], kind: 'database', records: 4 },
      ]);
      if (!withSample) {
        assert.equal(r.sample, undefined);
        assert.deepEqual(docsRequests, []);
        return;
      }
      assert.deepEqual(docsRequests.sort(), ['GET /chat_log/_all_docs?limit=50&include_docs=true', 'GET /people/_all_docs?limit=50&include_docs=true']);
      const cats = r.sample?.categories as Record<string, { count: number }>;
      assert.deepEqual(
        Object.fromEntries(Object.entries(cats).map(([c, v]) => [c, v.count])),
        { national_id: 6, phone: 6, email: 6, location: 6, photo: 6, communication: 10 },
      );
      assert.equal(r.sample?.documents, 10, 'the design document is not a record');
    });
  }
});
