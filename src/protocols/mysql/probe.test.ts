/**
 * The MySQL probe against the two real MariaDB servers of test/servers/mysql.sh (root with an empty
 * password on MYSQL_OPEN_HOST, root with a password on MYSQL_AUTH_HOST), plus the misbehaving peers a
 * scanner meets (silent, garbage, flood, closed port). Every conversation with a real server goes
 * through a recording proxy so the test can decode each byte the probe sent.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ProbeContext, type ProbeResult } from '../../core/types.js';
import { floodPeer, garbagePeer, recordingProxy, silentPeer, type FakePeer, type RecordingProxy } from '../../../test/helpers/fake-servers.js';
import { probeCtx } from '../../../test/helpers/probe-ctx.js';
import { env, requireServer } from '../../../test/helpers/servers.js';
import { Capability, decodePacket, encodePacket, PayloadReader } from './codec.js';
import { MYSQL_QUERIES, MysqlCommand, mysqlProbe, type DatabaseInfo } from './probe.js';
import { MYSQL_SAMPLE_TABLES_QUERY, mysqlSampleRowsQuery, quoteMysqlIdent } from './sample.js';
import { clearValues, syntheticPeople, type Person } from '../../../test/helpers/synthetic-people.js';

const OPEN_HOST = env('MYSQL_OPEN_HOST');
const AUTH_HOST = env('MYSQL_AUTH_HOST');
const PORT = Number(env('MYSQL_PORT'));
const PASSWORD = env('MYSQL_PASSWORD');
const SEED_ROWS = 37;
const BOTH_FLAGS: Partial<ProbeContext> = { authorized: true, checkDefaultCredentials: true };

function mariadb(host: string, sql: string, password?: string): string {
  const args = ['-h', host, '-P', String(PORT), '-u', 'root', '--batch', '--skip-column-names', '-e', sql];
  if (password !== undefined) args.push(`--password=${password}`);
  return execFileSync('mariadb', args, { encoding: 'utf8', timeout: 20_000 });
}

function seedSql(): string {
  const values = Array.from({ length: SEED_ROWS }, (_, i) => `(${i + 1}, 'user${i + 1}@example.invalid', '+44 7700 900${String(i).padStart(3, '0')}')`);
  return [
    'DROP DATABASE IF EXISTS lockdown_seed',
    'CREATE DATABASE lockdown_seed',
    // MyISAM keeps an exact row count in information_schema.tables (InnoDB's is an estimate).
    'CREATE TABLE lockdown_seed.customers (id INT PRIMARY KEY, email VARCHAR(100), phone VARCHAR(32)) ENGINE=MyISAM',
    `INSERT INTO lockdown_seed.customers VALUES ${values.join(', ')}`,
    'CREATE TABLE lockdown_seed.orders (id INT PRIMARY KEY, customer_id INT) ENGINE=InnoDB',
  ].join('; ');
}

interface ClientPacket {
  sequenceId: number;
  payload: Buffer;
}

function splitPackets(bytes: Buffer): ClientPacket[] {
  const out: ClientPacket[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const p = decodePacket(rest);
    assert.ok(p, `client bytes end in a partial packet: ${rest.toString('hex')}`);
    out.push(p.value);
    rest = rest.subarray(p.consumed);
  }
  return out;
}

interface DecodedLogin {
  capabilities: number;
  user: string;
  authResponse: Buffer;
  plugin: string;
  attrs: Record<string, string>;
}

function decodeHandshakeResponse(payload: Buffer): DecodedLogin {
  const r = new PayloadReader(payload, 'HandshakeResponse41');
  const capabilities = r.u32('capabilities');
  r.skip(4 + 1 + 23, 'max packet, charset, filler');
  const user = r.nulString('user');
  const authResponse = r.bytes(r.u8('auth length'), 'auth response');
  const plugin = r.nulString('plugin');
  const attrs: Record<string, string> = {};
  const ar = new PayloadReader(r.bytes(r.lenencInt('attrs length') as number, 'attrs'), 'attrs');
  while (ar.remaining > 0) attrs[ar.lenencString('key') as string] = ar.lenencString('value') as string;
  assert.equal(r.remaining, 0, 'nothing after the connection attributes');
  return { capabilities, user, authResponse, plugin, attrs };
}

/**
 * Decode every packet the client sent and prove it is on the allow-list: exactly one HandshakeResponse
 * (sequence 1) for root with an empty auth response, then only COM_QUERY with one of the module's
 * constant statements, and COM_QUIT. Returns the statements in order.
 */
/** The sampling queries: the constant table list, and SELECT * … LIMIT n on two backtick-quoted names. */
const SAMPLE_ROWS_SQL = /^SELECT \* FROM `(?:[^`]|``)+`\.`(?:[^`]|``)+` LIMIT \d+$/;

function assertAllowListed(bytes: Buffer, ctx: ProbeContext, sampling = false): { login: DecodedLogin; queries: string[]; quit: boolean } {
  const packets = splitPackets(bytes);
  assert.ok(packets.length >= 1);
  const [first, ...commands] = packets as [ClientPacket, ...ClientPacket[]];
  assert.equal(first.sequenceId, 1, 'the login is the reply to the greeting');
  const login = decodeHandshakeResponse(first.payload);
  assert.equal(login.user, 'root');
  assert.equal(login.authResponse.length, 0, 'an empty password is an empty auth response: no secret is sent');
  assert.equal(login.plugin, 'mysql_native_password');
  assert.deepEqual(login.attrs, { _client_name: 'lockdown', program_name: ctx.clientName });
  assert.equal(login.capabilities & Capability.LOCAL_FILES, 0);
  assert.equal(login.capabilities & Capability.MULTI_STATEMENTS, 0);
  const allowedSql = new Set(Object.values(MYSQL_QUERIES));
  const queries: string[] = [];
  let quit = false;
  for (const p of commands) {
    assert.equal(p.sequenceId, 0, 'every command starts a new exchange');
    assert.ok(!quit, 'nothing after COM_QUIT');
    const command = p.payload[0];
    if (command === 0x03) {
      const sql = p.payload.subarray(1).toString('utf8');
      const sample = sampling && (sql === MYSQL_SAMPLE_TABLES_QUERY || SAMPLE_ROWS_SQL.test(sql));
      assert.ok(allowedSql.has(sql) || sample, `query not on the allow-list: ${sql}`);
      queries.push(sql);
    } else if (command === 0x01) {
      assert.equal(p.payload.length, 1);
      quit = true;
    } else {
      assert.fail(`unexpected command byte 0x${String(command?.toString(16))}`);
    }
  }
  return { login, queries, quit };
}

/** Wait until the proxy has relayed `expected` client bytes (the probe may close right after writing). */
async function proxiedBytes(proxy: RecordingProxy, expected: number): Promise<Buffer> {
  const deadline = Date.now() + 2000;
  while (proxy.clientBytes().length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  // A little longer, so bytes the result did not count would show up too.
  await new Promise((r) => setTimeout(r, 100));
  return proxy.clientBytes();
}

async function probeVia(proxy: FakePeer, overrides: Partial<ProbeContext> = {}): Promise<ProbeResult> {
  return mysqlProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx(overrides));
}

describe('mysql probe against real MariaDB servers', () => {
  let openProxy: RecordingProxy;
  let authProxy: RecordingProxy;

  before(async () => {
    await requireServer(OPEN_HOST, PORT, 'MariaDB (open)');
    await requireServer(AUTH_HOST, PORT, 'MariaDB (password)');
    mariadb(OPEN_HOST, seedSql());
    mariadb(AUTH_HOST, seedSql(), PASSWORD);
  });

  // A fresh proxy per test so each records only its own probe.
  const fresh = async (): Promise<void> => {
    openProxy = await recordingProxy(OPEN_HOST, PORT);
    authProxy = await recordingProxy(AUTH_HOST, PORT);
  };
  const closeProxies = async (): Promise<void> => {
    await openProxy?.close();
    await authProxy?.close();
  };
  after(closeProxies);

  it('without flags: reads the greeting of both servers, auth_required, and sends zero bytes', async () => {
    await fresh();
    try {
      for (const proxy of [openProxy, authProxy]) {
        const r = await probeVia(proxy);
        assert.equal(r.status, 'success', r.errors.join('; '));
        assert.equal(r.auth, 'auth_required');
        assert.equal(r.product, 'MariaDB');
        assert.match(r.version ?? '', /^10\.11\./);
        assert.equal(r.evidence, 'greeting: auth plugin mysql_native_password');
        assert.equal(r.metadata.protocolVersion, 10);
        assert.match(String(r.metadata.serverVersion), /^5\.5\.5-10\.11\./);
        assert.equal(typeof r.metadata.connectionId, 'number');
        assert.equal(r.metadata.authPlugin, 'mysql_native_password');
        assert.equal(r.metadata.tls, false);
        const caps = r.metadata.capabilities as string[];
        assert.ok(caps.includes('PLUGIN_AUTH') && caps.includes('PROTOCOL_41') && !caps.includes('SSL'));
        assert.ok((r.metadata.mariaDbCapabilities as string[]).length > 0);
        assert.equal(typeof r.metadata.characterSet, 'number');
        assert.equal(r.metadata.defaultCredentials, undefined);
        assert.equal(r.metadata.databases, undefined);
        assert.equal(r.inventory, undefined, 'nothing listed without a login');
        assert.deepEqual(r.commands, []);
        assert.equal(r.bytesSent, 0);
        assert.ok(r.bytesRead > 50);
        assert.equal((await proxiedBytes(proxy, 0)).length, 0, 'the client sent nothing at all');
      }
    } finally {
      await closeProxies();
    }
  });

  it('with only one of the two flags: no login attempt, nothing sent', async () => {
    for (const flags of [{ authorized: true }, { checkDefaultCredentials: true }]) {
      await fresh();
      try {
        const r = await probeVia(openProxy, flags);
        assert.equal(r.status, 'success');
        assert.equal(r.auth, 'auth_required', JSON.stringify(flags));
        assert.equal(r.metadata.defaultCredentialCheck, undefined);
        assert.deepEqual(r.commands, []);
        assert.equal(r.bytesSent, 0);
        assert.equal((await proxiedBytes(openProxy, 0)).length, 0, `nothing on the wire with ${JSON.stringify(flags)}`);
      } finally {
        await closeProxies();
      }
    }
  });

  it('with authorized && checkDefaultCredentials: the empty-root server is open, with its databases', async () => {
    await fresh();
    try {
      const ctxOverrides = { ...BOTH_FLAGS, clientName: 'lockdown-mysql-test' };
      const r = await probeVia(openProxy, ctxOverrides);
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.deepEqual(r.errors, []);
      assert.equal(r.auth, 'open');
      assert.equal(r.metadata.defaultCredentials, 'root with empty password');
      assert.equal(r.metadata.defaultCredentialCheck, 'accepted');
      const dbs = r.metadata.databases as DatabaseInfo[];
      const names = dbs.map((d) => d.name);
      for (const n of ['information_schema', 'mysql', 'lockdown_seed']) assert.ok(names.includes(n), n);
      const seed = dbs.find((d) => d.name === 'lockdown_seed');
      assert.ok(seed);
      assert.equal(seed.tables, 2);
      assert.ok(seed.tables >= 1);
      assert.ok((seed.rows ?? 0) >= SEED_ROWS, `rows ${seed.rows}`);
      assert.ok((seed.bytes ?? 0) > 0);
      // The server's own view agrees with what the probe reported.
      const truth = mariadb(OPEN_HOST, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'lockdown_seed'").trim();
      assert.equal(String(seed.tables), truth);
      // The normalised inventory: one entry per database, row estimates and sizes, totals on top.
      assert.deepEqual(
        r.inventory?.namespaces,
        dbs.map((d) => ({ path: [d.name], kind: 'database', ...(d.rows !== null ? { records: d.rows } : {}), ...(d.bytes !== null ? { bytes: d.bytes } : {}) })),
      );
      const seedEntry = r.inventory?.namespaces.find((n) => n.path[0] === 'lockdown_seed');
      assert.ok((seedEntry?.records ?? 0) >= SEED_ROWS && (seedEntry?.bytes ?? 0) > 0);
      assert.equal(r.inventory?.records, dbs.reduce((sum, d) => sum + (d.rows ?? 0), 0));
      assert.equal(r.inventory?.bytes, dbs.reduce((sum, d) => sum + (d.bytes ?? 0), 0));
      assert.match(String(r.metadata.versionVariable), /^10\.11\./);
      assert.equal(r.metadata.versionComment, mariadb(OPEN_HOST, 'SELECT @@version_comment').trim());
      assert.match(r.evidence ?? '', /^login as root with empty password: OK; SHOW DATABASES: .*lockdown_seed/);
      assert.deepEqual(r.commands, ['HandshakeResponse', 'Query:show_databases', 'Query:schema_sizes', 'Query:version', 'COM_QUIT']);

      const bytes = await proxiedBytes(openProxy, r.bytesSent);
      assert.equal(bytes.length, r.bytesSent, 'the proxy saw exactly the bytes the probe counted');
      const sent = assertAllowListed(bytes, probeCtx(ctxOverrides));
      assert.deepEqual(sent.queries, [
        MYSQL_QUERIES[MysqlCommand.showDatabases],
        MYSQL_QUERIES[MysqlCommand.schemaSizes],
        MYSQL_QUERIES[MysqlCommand.version],
      ]);
      assert.equal(sent.quit, true);
    } finally {
      await closeProxies();
    }
  });

  it('with authorized && checkDefaultCredentials: the password server stays auth_required with the 1045 evidence', async () => {
    await fresh();
    try {
      const r = await probeVia(authProxy, BOTH_FLAGS);
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.equal(r.auth, 'auth_required');
      assert.match(r.evidence ?? '', /^ERR 1045 \(28000\): Access denied for user 'root'@'[^']+' \(using password: NO\)$/);
      assert.equal(r.metadata.defaultCredentialCheck, 'refused');
      assert.equal(r.metadata.defaultCredentials, undefined);
      assert.equal(r.metadata.databases, undefined);
      assert.deepEqual(r.commands, ['HandshakeResponse']);
      const bytes = await proxiedBytes(authProxy, r.bytesSent);
      assert.equal(bytes.length, r.bytesSent);
      const sent = assertAllowListed(bytes, probeCtx(BOTH_FLAGS));
      assert.deepEqual(sent.queries, []);
      assert.equal(sent.quit, false);
    } finally {
      await closeProxies();
    }
  });

  it('every allow-listed name is one the module uses, and queries are read-only constants', () => {
    assert.deepEqual([...mysqlProbe.allowedCommands].sort(), [
      'AuthSwitchResponse',
      'COM_QUIT',
      'HandshakeResponse',
      'Query:sample_rows',
      'Query:sample_tables',
      'Query:schema_sizes',
      'Query:show_databases',
      'Query:version',
    ]);
    // Pinned here on purpose: changing what the module may run must change this test too.
    assert.deepEqual(MYSQL_QUERIES, {
      'Query:show_databases': 'SHOW DATABASES',
      'Query:schema_sizes':
        'SELECT table_schema, COUNT(*), SUM(table_rows), SUM(data_length + index_length) FROM information_schema.tables GROUP BY table_schema',
      'Query:version': 'SELECT @@version, @@version_comment',
    });
    assert.equal(mysqlProbe.name, 'mysql');
    assert.deepEqual(mysqlProbe.defaultPorts, [3306]);
    assert.equal(mysqlProbe.transport, 'tcp');
  });
});

/**
 * A peer that speaks a scripted MySQL conversation: `greeting` on connect, then one reply per client
 * packet. Used only for replies our two MariaDB servers cannot be made to give without reconfiguring
 * them (an ERR greeting, an ed25519 account).
 */
function scriptedPeer(greeting: Buffer, replies: Buffer[] = []): Promise<FakePeer & { received: () => Buffer }> {
  const got: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.write(greeting);
    let i = 0;
    s.on('data', (d: Buffer) => {
      got.push(Buffer.from(d));
      const reply = replies[i++];
      if (reply) s.write(reply);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        received: () => Buffer.concat(got),
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

function errPacket(seq: number, code: number, message: string, sqlState?: string): Buffer {
  const head = Buffer.from([0xff, code & 0xff, code >> 8]);
  return encodePacket(seq, Buffer.concat([head, Buffer.from(sqlState ? `#${sqlState}${message}` : message)]));
}

/** A greeting captured from the open test server, replayed by scripted peers. */
async function captureGreeting(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: OPEN_HOST, port: PORT });
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const p = decodePacket(buf);
      if (p) {
        s.destroy();
        resolve(buf.subarray(0, p.consumed));
      }
    });
    s.on('error', reject);
  });
}

describe('mysql probe: unusual and hostile peers', () => {
  it('an ERR greeting refusing the host (1130) is auth_required; too many connections (1040) is inconclusive', async () => {
    const cases = [
      { code: 1130, msg: "Host '127.0.0.1' is not allowed to connect to this MariaDB server", auth: 'auth_required', product: 'MariaDB' },
      { code: 1040, msg: 'Too many connections', auth: 'inconclusive', product: undefined },
    ];
    for (const c of cases) {
      const peer = await scriptedPeer(errPacket(0, c.code, c.msg));
      try {
        const r = await mysqlProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx(BOTH_FLAGS));
        assert.equal(r.status, 'success');
        assert.equal(r.auth, c.auth);
        assert.equal(r.product, c.product);
        assert.equal(r.evidence, `greeting: ERR ${c.code}: ${c.msg}`);
        assert.deepEqual(r.metadata.greetingError, { code: c.code, message: c.msg });
        assert.equal(peer.received().length, 0, 'no login attempt after an ERR greeting');
      } finally {
        await peer.close();
      }
    }
  });

  it('stops when the server switches to ed25519: no AuthSwitchResponse, auth_required', async () => {
    await requireServer(OPEN_HOST, PORT, 'MariaDB (open)');
    const greeting = await captureGreeting();
    const authSwitch = encodePacket(2, Buffer.concat([Buffer.from([0xfe]), Buffer.from('client_ed25519\0'), Buffer.alloc(32, 0x61)]));
    const peer = await scriptedPeer(greeting, [authSwitch]);
    try {
      const r = await mysqlProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx(BOTH_FLAGS));
      assert.equal(r.status, 'success');
      assert.equal(r.auth, 'auth_required');
      assert.equal(r.metadata.defaultCredentialCheck, 'stopped: server asked for auth plugin client_ed25519');
      assert.deepEqual(r.commands, ['HandshakeResponse']);
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(splitPackets(peer.received()).length, 1);
    } finally {
      await peer.close();
    }
  });

  it('answers an AuthSwitchRequest to mysql_native_password with an empty response, then reads OK → open', async () => {
    await requireServer(OPEN_HOST, PORT, 'MariaDB (open)');
    const greeting = await captureGreeting();
    const authSwitch = encodePacket(2, Buffer.concat([Buffer.from([0xfe]), Buffer.from('mysql_native_password\0'), Buffer.from('abcdefghijklmnopqrst\0')]));
    const ok = encodePacket(4, Buffer.from([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]));
    // After the login, answer each query with an ERR so the probe moves on, then the peer sees COM_QUIT.
    const denied = errPacket(1, 1227, 'Access denied; you need (at least one of) the PROCESS privilege(s)', '42000');
    const peer = await scriptedPeer(greeting, [authSwitch, ok, denied, denied, denied]);
    try {
      const r = await mysqlProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx(BOTH_FLAGS));
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.equal(r.auth, 'open');
      assert.deepEqual(r.commands, ['HandshakeResponse', 'AuthSwitchResponse', 'Query:show_databases', 'Query:schema_sizes', 'Query:version', 'COM_QUIT']);
      assert.equal(r.errors.length, 3);
      assert.match(r.errors[0] ?? '', /^Query:show_databases failed: ERR 1227 \(42000\)/);
      await new Promise((res) => setTimeout(res, 50));
      const packets = splitPackets(peer.received());
      assert.deepEqual(packets[1], { sequenceId: 3, payload: Buffer.alloc(0) }, 'the AuthSwitchResponse is empty');
    } finally {
      await peer.close();
    }
  });

  it('a silent peer ends in io-timeout and inconclusive within the deadline', async () => {
    const peer = await silentPeer();
    try {
      const started = Date.now();
      const r = await mysqlProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx({ timeoutMs: 400 }));
      assert.equal(r.status, 'io-timeout');
      assert.equal(r.auth, 'inconclusive');
      assert.ok(Date.now() - started < 400 + 500, `took ${Date.now() - started} ms`);
      assert.equal(r.bytesSent, 0);
    } finally {
      await peer.close();
    }
  });

  it('garbage is a protocol-error with the bytes as evidence', async () => {
    const http = await garbagePeer(Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    const broken = await garbagePeer(encodePacket(0, Buffer.concat([Buffer.from([0x0a]), Buffer.from('8.0.1-no-terminator')])));
    try {
      const r = await mysqlProbe.probe({ host: '127.0.0.1', port: http.port }, probeCtx(BOTH_FLAGS));
      assert.equal(r.status, 'protocol-error');
      assert.equal(r.auth, 'inconclusive');
      assert.match(r.evidence ?? '', /^HTTP\/1\.1 400/);
      assert.deepEqual(r.commands, []);
      const r2 = await mysqlProbe.probe({ host: '127.0.0.1', port: broken.port }, probeCtx(BOTH_FLAGS));
      assert.equal(r2.status, 'protocol-error');
      assert.match(r2.errors[0] ?? '', /server version has no NUL terminator/);
    } finally {
      await http.close();
      await broken.close();
    }
  });

  it('a 100 MB flood behind a plausible header stops at the read cap; a flood of one byte is refused at once', async () => {
    // A header promising a 16 MiB-2 greeting (sequence 0, protocol 10), then 100 MB.
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.write(Buffer.from([0xfe, 0xff, 0xff, 0x00, 0x0a]));
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let sent = 0;
      const pump = (): void => {
        while (sent < 100 * 1024 * 1024 && !s.destroyed) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const flood = await floodPeer();
    try {
      const readCap = 256 * 1024;
      const r = await mysqlProbe.probe({ host: '127.0.0.1', port }, probeCtx({ readCap }));
      assert.equal(r.status, 'read-limit');
      assert.ok(r.bytesRead <= readCap + 256 * 1024, `read ${r.bytesRead}`);
      const r2 = await mysqlProbe.probe({ host: '127.0.0.1', port: flood.port }, probeCtx({ readCap }));
      assert.equal(r2.status, 'protocol-error');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
      await flood.close();
    }
  });

  it('a closed port is connection-refused with no verdict', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    const r = await mysqlProbe.probe({ host: '127.0.0.1', port }, probeCtx());
    assert.equal(r.status, 'connection-refused');
    assert.equal(r.auth, undefined);
  });
});


describe('mysql value sampling (after the authorized empty-password login, with ctx.sample) on real MariaDB', () => {
  const people = syntheticPeople(11, 51);
  const WEIRD = 'x`; DROP TABLE y; --';
  const SAMPLE = { perCollection: 50, maxBytes: 1_000_000, maxCollections: 100 };
  const MINE = 'lockdown_people.';
  const lit = (v: string): string => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  const row = (id: number, p: Person): string =>
    `(${id}, ${lit(p.name)}, ${lit(p.id_card)}, ${lit(p.phone)}, ${lit(p.email)}, ${lit(`${p.location.lat},${p.location.lng}`)}, ${lit(p.avatar)}, ${lit(p.chat_message)})`;
  const COLUMNS = 'id INT, name TEXT, id_card TEXT, phone TEXT, email TEXT, location TEXT, avatar TEXT, chat_message TEXT';

  before(async () => {
    await requireServer(OPEN_HOST, PORT, 'MariaDB (open)');
    mariadb(
      OPEN_HOST,
      [
        'DROP DATABASE IF EXISTS lockdown_people',
        'CREATE DATABASE lockdown_people',
        `CREATE TABLE lockdown_people.customers (${COLUMNS})`,
        `INSERT INTO lockdown_people.customers VALUES ${people.slice(0, 6).map((p, i) => row(i + 1, p)).join(', ')}`,
        'CREATE TABLE lockdown_people.chats (id INT, chat_message TEXT)',
        `INSERT INTO lockdown_people.chats VALUES ${people.slice(6, 10).map((p, i) => `(${i + 1}, ${lit(p.chat_message)})`).join(', ')}`,
        "CREATE TABLE lockdown_people.y (v TEXT)",
        "INSERT INTO lockdown_people.y VALUES ('keep me')",
        `CREATE TABLE lockdown_people.${quoteMysqlIdent(WEIRD)} (${COLUMNS})`,
        `INSERT INTO lockdown_people.${quoteMysqlIdent(WEIRD)} VALUES ${row(1, people[10]!)}`,
      ].join('; '),
    );
  });

  after(() => {
    mariadb(OPEN_HOST, 'DROP DATABASE IF EXISTS lockdown_people');
  });

  it('identifier quoting: a backtick in a table name is doubled, and the server reads that one table', () => {
    assert.equal(quoteMysqlIdent(WEIRD), '`x``; DROP TABLE y; --`');
    assert.equal(mysqlSampleRowsQuery('lockdown_people', WEIRD, 5), 'SELECT * FROM `lockdown_people`.`x``; DROP TABLE y; --` LIMIT 5');
    assert.throws(() => quoteMysqlIdent('a\0b'), /NUL/);
    assert.equal(mariadb(OPEN_HOST, `SELECT COUNT(*) FROM (${mysqlSampleRowsQuery('lockdown_people', WEIRD, 5)}) s`).trim(), '1');
  });

  it('with ctx.sample: categories with the seeded counts, no clear value, only allow-listed queries; without: none sent', async () => {
    for (const withSample of [true, false]) {
      const proxy = await recordingProxy(OPEN_HOST, PORT);
      try {
        const ctx = { ...BOTH_FLAGS, ...(withSample ? { sample: SAMPLE } : {}) };
        const r = await probeVia(proxy, ctx);
        assert.equal(r.status, 'success', r.errors.join('; '));
        assert.deepEqual(r.errors, []);
        assert.equal(r.auth, 'open');
        const bytes = await proxiedBytes(proxy, r.bytesSent);
        const sent = assertAllowListed(bytes, probeCtx(ctx), withSample);
        assert.equal(sent.quit, true);
        assert.ok(r.inventory?.namespaces.some((n) => n.path[0] === 'lockdown_people'));
        const text = JSON.stringify(r);
        for (const v of clearValues(people)) assert.ok(!text.includes(v), `the result holds a clear value: ${v}`);
        if (!withSample) {
          assert.equal(r.sample, undefined);
          assert.deepEqual(sent.queries, Object.values(MYSQL_QUERIES));
          continue;
        }
        const cats = r.sample?.categories as Record<string, { count: number; fields: { path: string; count: number }[] }>;
        const mine = (c: string): number => (cats[c]?.fields ?? []).filter((f) => f.path.startsWith(MINE)).reduce((sum, f) => sum + f.count, 0);
        assert.deepEqual(
          Object.fromEntries(['national_id', 'phone', 'email', 'location', 'photo', 'communication'].map((c) => [c, mine(c)])),
          { national_id: 7, phone: 7, email: 7, location: 7, photo: 7, communication: 11 },
        );
        assert.equal(sent.queries[3], MYSQL_SAMPLE_TABLES_QUERY);
        for (const t of ['customers', 'chats', 'y', WEIRD]) assert.ok(sent.queries.includes(mysqlSampleRowsQuery('lockdown_people', t, 50)), t);
        assert.equal(mariadb(OPEN_HOST, 'SELECT COUNT(*) FROM lockdown_people.y').trim(), '1', 'table y is still there');
      } finally {
        await proxy.close();
      }
    }
  });

  it('the password server with ctx.sample: no login, so nothing sampled', async () => {
    const r = await mysqlProbe.probe({ host: AUTH_HOST, port: PORT }, probeCtx({ ...BOTH_FLAGS, sample: SAMPLE }));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.sample, undefined);
    assert.deepEqual(r.commands, ['HandshakeResponse']);
  });
});
