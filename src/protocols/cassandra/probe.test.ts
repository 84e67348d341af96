/**
 * The Cassandra probe against real Apache Cassandra 5.0 nodes (start them with `bash test/servers/cassandra.sh start`):
 * an open two-node cluster (AllowAllAuthenticator) and a PasswordAuthenticator node, plus hostile peers
 * (silent, garbage, floods) and a closed port. Nothing here mocks Cassandra. The test seeds its schema with CQL
 * frames it builds itself (the product never writes).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ProbeResult } from '../../core/types.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, recordingProxy, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { requireServer, servers } from '../../../test/helpers/servers.js';
import { VERSION } from '../../core/version.js';
import { BodyReader, type CqlResponse, responseDecoder, rowObjects, type RowsResult } from './codec.js';
import { CASSANDRA_COMMANDS, cassandraProbe } from './probe.js';
import { QUERIES } from './queries.js';
import { cqlSampleRowsQuery, quoteCqlIdent } from './sample.js';
import { clearValues, syntheticPeople, type Person } from '../../../test/helpers/synthetic-people.js';

// Not (yet) in servers.env; test/servers/cassandra.sh uses the same defaults.
const setting = (key: string, fallback: string): string => process.env[key] ?? servers[key] ?? fallback;
const OPEN = setting('CASSANDRA_OPEN_HOST', '127.0.16.1');
const AUTH = setting('CASSANDRA_AUTH_HOST', '127.0.16.2');
const PEER = setting('CASSANDRA_PEER_HOST', '127.0.16.3');
const PORT = Number(setting('CASSANDRA_PORT', '9042'));

// ---------------------------------------------------------------------------------------------------------
// A minimal CQL client for seeding and for reading what the server says about itself. Its request frames
// are built here, byte by byte from the v4 spec, not with the module's encoders.

function requestFrame(stream: number, opcode: number, body: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head[0] = 0x04;
  head.writeInt16BE(stream, 2);
  head[4] = opcode;
  head.writeInt32BE(body.length, 5);
  return Buffer.concat([head, body]);
}

function shortString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function startupBody(): Buffer {
  const count = Buffer.alloc(2);
  count.writeUInt16BE(1);
  return Buffer.concat([count, shortString('CQL_VERSION'), shortString('3.0.0')]);
}

/** <query: [long string]><consistency ONE><flags 0>. */
function queryBody(cql: string): Buffer {
  const text = Buffer.from(cql, 'utf8');
  const len = Buffer.alloc(4);
  len.writeInt32BE(text.length);
  return Buffer.concat([len, text, Buffer.from([0x00, 0x01, 0x00])]);
}

/** Run statements one by one on a fresh connection; every reply must be a RESULT. */
async function cql(host: string, statements: readonly string[]): Promise<CqlResponse[]> {
  const socket = net.connect({ host, port: PORT });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  const decode = responseDecoder();
  const read = async (): Promise<CqlResponse> => {
    for (let i = 0; i < 600; i++) {
      const r = decode(buf);
      if (r) {
        buf = buf.subarray(r.consumed);
        return r.value;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    throw new Error(`no CQL reply from ${host}`);
  };
  try {
    socket.write(requestFrame(0, 0x01, startupBody()));
    assert.equal((await read()).message.type, 'ready', 'the seeding client needs an open node');
    const out: CqlResponse[] = [];
    for (const [i, statement] of statements.entries()) {
      socket.write(requestFrame(i + 1, 0x07, queryBody(statement)));
      const reply = await read();
      assert.equal(reply.message.type, 'result', `${statement}: ${JSON.stringify(reply.message)}`);
      out.push(reply);
    }
    return out;
  } finally {
    socket.destroy();
  }
}

function rows(reply: CqlResponse): Record<string, unknown>[] {
  assert.equal(reply.message.type, 'result');
  const result = (reply.message as { result: RowsResult }).result;
  assert.equal(result.kind, 'rows');
  return rowObjects(result);
}

/** Every request frame in a client byte stream, decoded from the v4 spec (header, opcode, body). */
interface SentFrame {
  opcode: number;
  stream: number;
  body: Buffer;
}
function decodeRequests(bytes: Buffer): SentFrame[] {
  const out: SentFrame[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    assert.ok(rest.length >= 9, 'a whole header');
    assert.equal(rest[0], 0x04, 'a v4 request frame');
    assert.equal(rest[1], 0x00, 'no flags (no compression, no tracing)');
    const length = rest.readInt32BE(5);
    assert.ok(rest.length >= 9 + length, 'a whole body');
    out.push({ stream: rest.readInt16BE(2), opcode: rest[4]!, body: rest.subarray(9, 9 + length) });
    rest = rest.subarray(9 + length);
  }
  return out;
}

const QUERY_BY_TEXT = new Map<string, { command: string; pageSize: number }>(Object.values(QUERIES).map((q) => [q.cql, q]));

/** Map each sent frame to its allow-list name, checking each body is exactly what that name stands for. */
function allowListNames(frames: SentFrame[], clientName: string): string[] {
  return frames.map((f) => {
    const r = new BodyReader(f.body);
    switch (f.opcode) {
      case 0x05:
        assert.equal(f.body.length, 0);
        return CASSANDRA_COMMANDS.options;
      case 0x01:
        assert.deepEqual(r.stringMap(), { CQL_VERSION: '3.4.7', DRIVER_NAME: 'lockdown', DRIVER_VERSION: VERSION, APPLICATION_NAME: clientName });
        return CASSANDRA_COMMANDS.startup;
      case 0x07: {
        const text = r.longString();
        const q = QUERY_BY_TEXT.get(text);
        assert.ok(q, `sent a query that is not one of the constant SELECTs: ${text}`);
        assert.match(text, /^SELECT /);
        assert.equal(r.short(), 0x0001, 'consistency ONE');
        assert.equal(r.byte(), 0x04, 'only the Page_size flag');
        assert.equal(r.int(), q.pageSize);
        assert.equal(r.remaining, 0);
        return q.command;
      }
      default:
        assert.fail(`sent opcode 0x${f.opcode.toString(16)} (AUTH_RESPONSE is 0x0f), which is not on the allow-list`);
    }
  });
}

/**
 * Wait (bounded) until both nodes of the open cluster report the same schema version, so the peer knows the
 * freshly created tables (writes it owns would fail with INCOMPATIBLE_SCHEMA) and lists the same schema.
 */
async function waitSchemaAgreement(): Promise<void> {
  let versions: string[] = [];
  for (let i = 0; i < 150; i++) {
    const [local, peers] = await cql(OPEN, ['SELECT schema_version FROM system.local', 'SELECT schema_version FROM system.peers_v2']);
    const [peerLocal] = await cql(PEER, ['SELECT schema_version FROM system.local']);
    versions = [...rows(local!), ...rows(peers!), ...rows(peerLocal!)].map((r) => String(r.schema_version));
    if (versions.length === 3 && new Set(versions).size === 1) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the open cluster did not agree on a schema version: ${versions.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------------------

describe('cassandra probe on real servers', () => {
  let releaseVersion = '';
  let clusterName = '';

  before(async () => {
    await requireServer(OPEN, PORT, 'cassandra-open');
    await requireServer(PEER, PORT, 'cassandra-peer');
    await requireServer(AUTH, PORT, 'cassandra-auth');
    await cql(OPEN, [
      'DROP KEYSPACE IF EXISTS lockdown_seed',
      "CREATE KEYSPACE lockdown_seed WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
      'CREATE TABLE lockdown_seed.users (id uuid PRIMARY KEY, email text, name text)',
      'CREATE TABLE lockdown_seed.messages (user_id uuid, sent timeuuid, body text, PRIMARY KEY (user_id, sent))',
    ]);
    await waitSchemaAgreement();
    await cql(OPEN, [
      "INSERT INTO lockdown_seed.users (id, email, name) VALUES (uuid(), 'ada@example.org', 'Ada')",
      "INSERT INTO lockdown_seed.messages (user_id, sent, body) VALUES (uuid(), now(), 'hello')",
    ]);
    const [local] = await cql(OPEN, ['SELECT release_version, cluster_name FROM system.local']);
    const row = rows(local!)[0]!;
    releaseVersion = String(row.release_version);
    clusterName = String(row.cluster_name);
    assert.match(releaseVersion, /^5\.0\./);
  });

  it('open node: verdict open, the seeded keyspace and tables exactly, version and cluster from system.local, its peer', async () => {
    const r = await cassandraProbe.probe({ host: OPEN, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'Cassandra');
    assert.equal(r.version, releaseVersion);
    assert.deepEqual(r.errors, []);
    const m = r.metadata;
    assert.equal(m.protocolVersion, 4);
    assert.deepEqual(m.cqlVersions, ['3.4.7']);
    assert.deepEqual(m.compression, ['snappy', 'lz4']);
    assert.deepEqual(m.protocolVersions, ['3/v3', '4/v4', '5/v5', '6/v6-beta']);
    assert.equal(m.clusterName, clusterName);
    assert.equal(m.dataCenter, 'datacenter1');
    assert.equal(m.rack, 'rack1');
    assert.equal(m.partitioner, 'org.apache.cassandra.dht.Murmur3Partitioner');
    assert.equal(m.schemaSource, 'system_schema');
    assert.deepEqual(m.userKeyspaces, ['lockdown_seed']);
    assert.deepEqual(m.tables, { lockdown_seed: ['messages', 'users'] });
    assert.equal(m.userTableCount, 2);
    const keyspaces = m.keyspaces as { name: string; replication: Record<string, string>; system: boolean }[];
    assert.deepEqual(
      keyspaces.find((k) => k.name === 'lockdown_seed'),
      { name: 'lockdown_seed', replication: { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' }, system: false },
    );
    assert.deepEqual(keyspaces.filter((k) => k.system).map((k) => k.name), ['system', 'system_auth', 'system_distributed', 'system_schema', 'system_traces']);
    assert.ok((m.systemTableCount as number) > 20, `system tables counted: ${String(m.systemTableCount)}`);
    assert.equal(m.keyspacesTruncated, undefined);
    assert.equal(m.tablesTruncated, undefined);
    // The normalised inventory: every keyspace, the user keyspace's tables under it; names only, no counts.
    assert.deepEqual(
      r.inventory?.namespaces.filter((n) => n.path[0] === 'lockdown_seed'),
      [
        { path: ['lockdown_seed'], kind: 'keyspace' },
        { path: ['lockdown_seed', 'messages'], kind: 'table' },
        { path: ['lockdown_seed', 'users'], kind: 'table' },
      ],
    );
    assert.deepEqual(r.inventory?.namespaces.filter((n) => n.kind === 'keyspace').map((n) => n.path[0]), keyspaces.map((k) => k.name));
    assert.equal(r.inventory?.records, undefined);
    assert.equal(r.inventory?.truncated, undefined);
    // Rows are never counted (a COUNT is a full scan): no row or partition figures at all.
    assert.ok(!JSON.stringify(m).match(/rowCount|partitions/i));
    assert.equal(m.peersSource, 'system.peers_v2');
    assert.deepEqual(r.peers, [{ host: PEER, port: PORT, role: 'peer', source: 'system.peers_v2: native_address' }]);
    assert.equal(r.evidence, `STARTUP answered READY without credentials; release_version=${releaseVersion}; user keyspaces: lockdown_seed`);
    assert.deepEqual(r.commands, ['OPTIONS', 'STARTUP', 'QUERY:system.local', 'QUERY:keyspaces', 'QUERY:tables', 'QUERY:peers_v2']);
  });

  it('the other node of the cluster: same schema, and the first node as its peer', async () => {
    const r = await cassandraProbe.probe({ host: PEER, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.clusterName, clusterName);
    assert.deepEqual(r.metadata.tables, { lockdown_seed: ['messages', 'users'] });
    assert.deepEqual(r.peers, [{ host: OPEN, port: PORT, role: 'peer', source: 'system.peers_v2: native_address' }]);
  });

  it('PasswordAuthenticator: auth_required with the authenticator class as evidence, and nothing queried', async () => {
    const r = await cassandraProbe.probe({ host: AUTH, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'Cassandra');
    assert.equal(r.evidence, 'AUTHENTICATE org.apache.cassandra.auth.PasswordAuthenticator');
    assert.equal(r.metadata.authenticator, 'org.apache.cassandra.auth.PasswordAuthenticator');
    assert.deepEqual(r.metadata.cqlVersions, ['3.4.7']);
    assert.equal(r.version, undefined);
    assert.equal(r.metadata.keyspaces, undefined);
    assert.equal(r.inventory, undefined);
    assert.deepEqual(r.peers, []);
    assert.deepEqual(r.commands, ['OPTIONS', 'STARTUP']);
  });

  it('allow-list: every frame sent to the open and the auth node decodes to an allow-listed message', async () => {
    const ctx = probeCtx({ clientName: 'lockdown-allowlist-check' });
    for (const [host, expected] of [
      [OPEN, ['OPTIONS', 'STARTUP', 'QUERY:system.local', 'QUERY:keyspaces', 'QUERY:tables', 'QUERY:peers_v2']],
      [AUTH, ['OPTIONS', 'STARTUP']],
    ] as const) {
      const proxy = await recordingProxy(host, PORT);
      try {
        const r = await cassandraProbe.probe({ host: '127.0.0.1', port: proxy.port }, ctx);
        assert.equal(r.status, 'success', r.errors.join('; '));
        const sent = decodeRequests(proxy.clientBytes());
        const names = allowListNames(sent, ctx.clientName);
        assert.deepEqual(names, expected);
        assert.deepEqual(names, r.commands, 'what went on the wire is what the result says');
        for (const name of names) assert.ok(cassandraProbe.allowedCommands.includes(name));
        assert.deepEqual(sent.map((f) => f.stream), names.map((_, i) => i), 'one stream id per request');
        assert.equal(r.bytesSent, proxy.clientBytes().length);
      } finally {
        await proxy.close();
      }
    }
  });

  it('the allow-list is exactly the handshake, the constant queries and the sampling template', () => {
    assert.deepEqual([...cassandraProbe.allowedCommands].sort(), [
      'OPTIONS',
      'QUERY:keyspaces',
      'QUERY:peers',
      'QUERY:peers_v2',
      'QUERY:sample_rows',
      'QUERY:schema_columnfamilies',
      'QUERY:schema_keyspaces',
      'QUERY:system.local',
      'QUERY:tables',
      'STARTUP',
    ]);
    for (const q of Object.values(QUERIES)) assert.match(q.cql, /^SELECT [a-z_, ]+ FROM system(_schema)?\.[a-z_0-9]+$/);
  });
});

// ---------------------------------------------------------------------------------------------------------

/** A hostile peer that answers the first request with a legal CQL header announcing `announced` body bytes, then floods. */
function frameFloodPeer(announced: number, total: number): Promise<FakePeer> {
  const head = Buffer.from([0x84, 0, 0, 0, 0x06, 0, 0, 0, 0]);
  head.writeInt32BE(announced, 5);
  return floodPeer(total, 0x61, { afterRequest: true, prefix: head });
}

describe('cassandra probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => cassandraProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /deadline of 500 ms/);
    assert.deepEqual(result.commands, ['OPTIONS']);
    assert.ok(ms >= 450 && ms < 3900, `took ${ms} ms`);
  });

  it('garbage peer (an HTTP server): protocol-error naming the bad byte', async () => {
    peer = await garbagePeer(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), { afterRequest: true });
    const { result, ms } = await timed(() => cassandraProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assert.equal(result.product, undefined);
    assert.match(result.errors[0] ?? '', /first byte 0x48 lacks the response bit/);
    assert.ok(ms < 4000, `took ${ms} ms`);
  });

  it('100 MB flood of non-CQL bytes: protocol-error at once, little read', async () => {
    peer = await floodPeer();
    const { result, ms } = await timed(() => cassandraProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.match(result.errors[0] ?? '', /first byte 0x41/);
    assert.ok(result.bytesRead <= 1024 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('a frame header announcing more than the read cap: protocol-error before the body is buffered', async () => {
    peer = await frameFloodPeer(200 * 1024 * 1024, 100 * 1024 * 1024);
    const { result, ms } = await timed(() => cassandraProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.match(result.errors[0] ?? '', /body of 209715200 bytes exceeds the limit of 1048576 bytes/);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood behind a legal header just under the cap: read-limit at the cap, bounded memory', async () => {
    peer = await frameFloodPeer(1024 * 1024 - 16, 100 * 1024 * 1024);
    const { result, ms, grew } = await timedWithMemory(() => cassandraProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ readCap: 1024 * 1024 })));
    await peer.close();
    assert.equal(result.status, 'read-limit');
    assert.equal(result.auth, 'inconclusive');
    assert.ok(result.bytesRead <= 1024 * 1024 + 256 * 1024, `read ${result.bytesRead} bytes`);
    assertMemoryBounded(grew);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('closed port: connection-refused, no verdict, nothing sent', async () => {
    const r = await probeClosedPort(cassandraProbe);
    assert.deepEqual(r.commands, []);
  });
});

describe('cassandra value sampling (ctx.sample, inside the authorized scope) on the real open cluster', () => {
  const people = syntheticPeople(11, 71);
  const KS = 'lockdown_people';
  // Cassandra allows only [A-Za-z0-9_] in table names; a mixed-case name exists only quoted (unquoted, CQL lower-cases it).
  const WEIRD = 'VipCustomers';
  const SAMPLE = { perCollection: 50, maxBytes: 1_000_000, maxCollections: 20 };
  const lit = (v: string): string => `'${v.replace(/'/g, "''")}'`;
  const insert = (table: string, id: number, p: Person): string =>
    `INSERT INTO ${KS}.${table} (id, name, id_card, phone, email, location, avatar, chat_message) VALUES (${id}, ${lit(p.name)}, ${lit(p.id_card)}, ${lit(p.phone)}, ${lit(p.email)}, ${lit(`${p.location.lat},${p.location.lng}`)}, ${lit(p.avatar)}, ${lit(p.chat_message)})`;
  const COLUMNS = 'id int PRIMARY KEY, name text, id_card text, phone text, email text, location text, avatar text, chat_message text';

  before(async () => {
    await requireServer(OPEN, PORT, 'cassandra-open');
    await requireServer(PEER, PORT, 'cassandra-peer');
    await cql(OPEN, [
      `DROP KEYSPACE IF EXISTS ${KS}`,
      `CREATE KEYSPACE ${KS} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      `CREATE TABLE ${KS}.customers (${COLUMNS})`,
      `CREATE TABLE ${KS}.chats (id int PRIMARY KEY, chat_message text)`,
      `CREATE TABLE ${KS}.${quoteCqlIdent(WEIRD)} (${COLUMNS})`,
    ]);
    await waitSchemaAgreement();
    await cql(OPEN, [
      ...people.slice(0, 6).map((p, i) => insert('customers', i + 1, p)),
      ...people.slice(6, 10).map((p, i) => `INSERT INTO ${KS}.chats (id, chat_message) VALUES (${i + 1}, ${lit(p.chat_message)})`),
      insert(quoteCqlIdent(WEIRD), 1, people[10]!),
    ]);
  });

  after(async () => {
    await cql(OPEN, [`DROP KEYSPACE IF EXISTS ${KS}`]);
    await waitSchemaAgreement();
  });

  it('identifier quoting: quotes doubled, a case-sensitive name reached through its quoted form', async () => {
    assert.equal(cqlSampleRowsQuery(KS, 'x"; DROP TABLE y; --', 5).cql, 'SELECT * FROM "lockdown_people"."x""; DROP TABLE y; --" LIMIT 5');
    assert.equal(cqlSampleRowsQuery(KS, WEIRD, 5).cql, 'SELECT * FROM "lockdown_people"."VipCustomers" LIMIT 5');
    assert.throws(() => quoteCqlIdent('a\0b'), /NUL/);
    const [reply] = await cql(OPEN, [cqlSampleRowsQuery(KS, WEIRD, 5).cql]);
    assert.equal(rows(reply!).length, 1);
  });

  for (const withSample of [true, false]) {
    it(withSample ? 'with ctx.sample: categories with the seeded counts, no clear value, allow-listed frames' : 'without ctx.sample: no sampling query on the wire, no sample', async () => {
      const proxy = await recordingProxy(OPEN, PORT);
      const ctx = probeCtx({ authorized: true, ...(withSample ? { sample: SAMPLE } : {}) });
      let r: ProbeResult;
      try {
        r = await cassandraProbe.probe({ host: '127.0.0.1', port: proxy.port }, ctx);
      } finally {
        await proxy.close();
      }
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.deepEqual(r.errors, []);
      const frames = decodeRequests(proxy.clientBytes());
      const sampling = frames.filter((f) => f.opcode === 0x07 && /^SELECT \* FROM "/.test(new BodyReader(f.body).longString()));
      const constant = frames.filter((f) => !sampling.includes(f));
      assert.deepEqual(allowListNames(constant, ctx.clientName), r.commands.filter((c) => c !== 'QUERY:sample_rows'));
      const text = JSON.stringify(r);
      for (const v of clearValues(people)) assert.ok(!text.includes(v), `the result holds a clear value: ${v}`);
      assert.deepEqual(r.inventory?.namespaces.filter((n) => n.path[0] === KS).map((n) => n.path.join('/')).sort(), [KS, `${KS}/chats`, `${KS}/customers`, `${KS}/${WEIRD}`].sort());
      if (!withSample) {
        assert.deepEqual(sampling, []);
        assert.equal(r.sample, undefined);
        return;
      }
      const texts = sampling.map((f) => {
        const b = new BodyReader(f.body);
        const t = b.longString();
        assert.equal(b.short(), 0x0001, 'consistency ONE');
        assert.equal(b.byte(), 0x04, 'only the Page_size flag');
        assert.equal(b.int(), 50);
        return t;
      });
      for (const t of ['customers', 'chats', WEIRD]) assert.ok(texts.includes(cqlSampleRowsQuery(KS, t, 50).cql), t);
      for (const t of texts) assert.match(t, /^SELECT \* FROM "(?:[^"]|"")+"\."(?:[^"]|"")+" LIMIT 50$/);
      const cats = r.sample?.categories as Record<string, { fields: { path: string; count: number }[] }>;
      const mine = (c: string): number => (cats[c]?.fields ?? []).filter((f) => f.path.startsWith(`${KS}.`)).reduce((sum, f) => sum + f.count, 0);
      assert.deepEqual(
        Object.fromEntries(['national_id', 'phone', 'email', 'location', 'photo', 'communication'].map((c) => [c, mine(c)])),
        { national_id: 7, phone: 7, email: 7, location: 7, photo: 7, communication: 11 },
      );
    });
  }
});
