/**
 * The MongoDB probe against real FerretDB v1.24.2 servers, which speak the MongoDB wire protocol (start them
 * with `bash test/servers/mongodb.sh start` after `bash scripts/install-ferretdb.sh`), and against hostile
 * peers (silent, garbage, flood). No real MongoDB server can run here: the legacy fallback is exercised by
 * scripted peers that play back the documented behaviour and replies of MongoDB versions that cannot be
 * installed (3.4: no OP_MSG; 4.0: OP_MSG without `hello`), each marked as such.
 *
 * The test writes its seed data through the wire protocol itself (OP_MSG insert/dropDatabase framed here with
 * `bson`); the module never writes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { deserialize, serialize, type Document } from 'bson';
import { VERSION } from '../../core/version.js';
import { type ProbeResult } from '../../core/types.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, recordingProxy, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { requireServer, servers } from '../../../test/helpers/servers.js';
import { assessResult } from '../../assess/assess-result.js';
import { assessCompromise } from '../../assess/index.js';
import { clearValues, RANSOM_NOTE, syntheticPeople } from '../../../test/helpers/synthetic-people.js';
import { decodeMessage, decodeHeader, type MongoMessage } from './codec.js';
import { MONGODB_COMMANDS, MONGODB_LIMITS, mongodbProbe } from './probe.js';

// Same defaults as test/servers/mongodb.sh (not yet in servers.env).
const setting = (key: string, fallback: string): string => process.env[key] ?? servers[key] ?? fallback;
const OPEN = setting('MONGODB_OPEN_HOST', '127.0.14.1');
const AUTH = setting('MONGODB_AUTH_HOST', '127.0.14.2');
const RS = setting('MONGODB_RS_HOST', '127.0.14.3');
const PORT = Number(setting('MONGODB_PORT', '27017'));
const RS_NAME = setting('MONGODB_RS_NAME', 'lockdown-rs');
const SERVERS_DIR = setting('LOCKDOWN_SERVERS_DIR', `${process.env.TMPDIR ?? '/tmp'}/lockdown-servers`);

// ---------------------------------------------------------------------------------------------------------
// Test-side wire client for seeding: OP_MSG framed here, independently of the module's encoder.

function opMsgBytes(requestId: number, body: Document, responseTo = 0): Buffer {
  const doc = Buffer.from(serialize(body));
  const head = Buffer.alloc(21);
  head.writeInt32LE(21 + doc.length, 0);
  head.writeInt32LE(requestId, 4);
  head.writeInt32LE(responseTo, 8);
  head.writeInt32LE(2013, 12);
  head.writeUInt32LE(0, 16); // flagBits; byte 20 = section kind 0
  return Buffer.concat([head, doc]);
}

function opReplyBytes(responseTo: number, doc: Document): Buffer {
  const d = Buffer.from(serialize(doc));
  const head = Buffer.alloc(36);
  head.writeInt32LE(36 + d.length, 0);
  head.writeInt32LE(900, 4);
  head.writeInt32LE(responseTo, 8);
  head.writeInt32LE(1, 12);
  head.writeInt32LE(0, 16); // responseFlags; cursorID 0; startingFrom 0
  head.writeInt32LE(1, 32); // numberReturned
  return Buffer.concat([head, d]);
}

class SeedClient {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private nextId = 1;
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
  }

  static async connect(host: string, port: number): Promise<SeedClient> {
    const socket = net.connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new SeedClient(socket);
  }

  async command(body: Document): Promise<Document> {
    const id = this.nextId++;
    this.socket.write(opMsgBytes(id, body));
    for (;;) {
      if (this.buf.length >= 4 && this.buf.length >= this.buf.readInt32LE(0)) {
        const len = this.buf.readInt32LE(0);
        assert.equal(this.buf.readInt32LE(8), id, 'reply answers our request');
        assert.equal(this.buf.readInt32LE(12), 2013, 'OP_MSG reply');
        assert.equal(this.buf[20], 0, 'kind 0 section');
        const reply = deserialize(this.buf.subarray(21, len));
        this.buf = this.buf.subarray(len);
        return reply;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async ok(body: Document): Promise<Document> {
    const reply = await this.command(body);
    assert.equal(reply.ok, 1, `${JSON.stringify(body).slice(0, 80)} → ${JSON.stringify(reply)}`);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

const SYSTEM = new Set(['admin', 'local', 'config']);

/** Drop every non-system database, then insert `layout` (db → collection → number of documents). */
async function seed(host: string, layout: Record<string, Record<string, number>>): Promise<void> {
  const c = await SeedClient.connect(host, PORT);
  try {
    const existing = await c.ok({ listDatabases: 1, nameOnly: true, $db: 'admin' });
    for (const d of existing.databases as { name: string }[]) if (!SYSTEM.has(d.name)) await c.ok({ dropDatabase: 1, $db: d.name });
    for (const [db, collections] of Object.entries(layout)) {
      for (const [coll, n] of Object.entries(collections)) {
        const documents = Array.from({ length: n }, (_, i) => ({ _id: i + 1, name: `${coll}-${i + 1}`, email: `${coll}${i + 1}@example.invalid` }));
        const r = await c.ok({ insert: coll, documents, $db: db });
        assert.equal(r.n, n);
      }
    }
  } finally {
    c.close();
  }
}

async function serverCommand(host: string, body: Document): Promise<Document> {
  const c = await SeedClient.connect(host, PORT);
  try {
    return await c.ok(body);
  } finally {
    c.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// What the client sent, decoded with the codec; FerretDB's own request log.

/** Allow-list name of one client message: an OP_MSG's command (its body's first key), or the legacy isMaster. */
function commandName(msg: MongoMessage): string {
  if (msg.opCode === 2013) return Object.keys(msg.body)[0] ?? '';
  if (msg.opCode === 2004) {
    const first = Object.keys(msg.query)[0];
    if (msg.fullCollectionName !== 'admin.$cmd') return `OP_QUERY ${msg.fullCollectionName}`;
    if (first === 'isMaster') return MONGODB_COMMANDS.isMasterLegacy;
    if (first === 'listDatabases') return MONGODB_COMMANDS.listDatabasesLegacy;
    return `OP_QUERY ${first}`;
  }
  return `opCode ${msg.opCode}`;
}

function decodeClientStream(bytes: Buffer): MongoMessage[] {
  const out: MongoMessage[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const h = decodeHeader(rest);
    assert.ok(h && rest.length >= h.messageLength, 'client sent a whole message');
    out.push(decodeMessage(Buffer.from(rest.subarray(0, h.messageLength))));
    rest = rest.subarray(h.messageLength);
  }
  return out;
}

function assertAllowListed(result: ProbeResult, sent: Buffer): MongoMessage[] {
  const messages = decodeClientStream(sent);
  const allowed = new Set(mongodbProbe.allowedCommands);
  for (const m of messages) assert.ok(allowed.has(commandName(m)), `sent ${commandName(m)}, not on the allow-list`);
  assert.deepEqual(messages.map(commandName), result.commands, 'what went on the wire is what the result says');
  assert.ok(!result.commands.includes('find'));
  assert.equal(result.bytesSent, sent.length);
  return messages;
}

/**
 * FerretDB at DEBUG logs each request as `Request message:` followed by its sections, then the connection
 * (`{"name":"// 127.0.0.1:PORT -> HOST:27017 "}`). Returns each request's connection, the first key of its kind 0
 * document (the command), and its text.
 */
function ferretRequests(log: string): { conn: string; command: string; text: string }[] {
  const out: { conn: string; command: string; text: string }[] = [];
  const lines = log.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.includes('Request message:')) continue;
    const block: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const m = /^\t\{"name":"\/\/ (.+?) "\}$/.exec(lines[j]!);
      if (m) {
        // Small documents are printed on one line, larger ones one field per line.
        const text = block.join('\n');
        const key = /"Document": \{\s*"([^"]+)":/.exec(text)?.[1];
        out.push({ conn: m[1]!, command: key ?? '?', text });
        break;
      }
      block.push(lines[j]!);
    }
    i = j;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Peers for what cannot run here.

type ScriptAnswer = Buffer | 'silent' | 'close';

/** A peer that decodes each client message with the codec and answers per `script` (per connection index). */
async function scriptedPeer(script: (msg: MongoMessage, conn: number) => ScriptAnswer): Promise<FakePeer & { received: string[][] }> {
  const received: string[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    const conn = received.length;
    received.push([]);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const h = buf.length >= 16 ? decodeHeader(buf) : undefined;
        if (!h || buf.length < h.messageLength) return;
        const msg = decodeMessage(Buffer.from(buf.subarray(0, h.messageLength)));
        buf = buf.subarray(h.messageLength);
        received[conn]!.push(commandName(msg));
        const answer = script(msg, conn);
        if (answer === 'close') {
          s.destroy();
          return;
        }
        if (answer !== 'silent') s.write(answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The isMaster fields MongoDB 3.4 documents for a standalone; maxWireVersion 5 = MongoDB 3.4 (no OP_MSG). */
const MONGODB_34_ISMASTER = {
  ismaster: true,
  maxBsonObjectSize: 16777216,
  maxMessageSizeBytes: 48000000,
  maxWriteBatchSize: 1000,
  localTime: new Date('2018-01-01T00:00:00Z'),
  maxWireVersion: 5,
  minWireVersion: 0,
  readOnly: false,
  ok: 1,
};

/** listDatabases as MongoDB 3.4 answers it (same shape as today's: databases, totalSize, ok). */
const MONGODB_34_LIST_DATABASES = {
  databases: [
    { name: 'shop', sizeOnDisk: 83886080, empty: false },
    { name: 'admin', sizeOnDisk: 32768, empty: false },
  ],
  totalSize: 83918848,
  ok: 1,
};

/** 3.4's refusal with authentication on (mongodb/mongo src/mongo/db/commands.cpp: "not authorized on … to execute command"). */
const MONGODB_34_UNAUTHORIZED = {
  ok: 0,
  errmsg: 'not authorized on admin to execute command { listDatabases: 1 }',
  code: 13,
  codeName: 'Unauthorized',
};

// ---------------------------------------------------------------------------------------------------------

describe('mongodb probe on real FerretDB servers', () => {
  let buildInfo: Document;
  let listing: Document;

  before(async () => {
    await requireServer(OPEN, PORT, 'mongodb-open');
    await requireServer(AUTH, PORT, 'mongodb-auth');
    await requireServer(RS, PORT, 'mongodb-rs');
    await seed(OPEN, { lockdown_seed: { users: 25, messages: 40 }, lockdown_small: { notes: 3 } });
    buildInfo = await serverCommand(OPEN, { buildInfo: 1, $db: 'admin' });
    listing = await serverCommand(OPEN, { listDatabases: 1, nameOnly: false, $db: 'admin' });
  });

  it('open server: verdict open; databases, collections and counts equal the seeded data', async () => {
    const r = await mongodbProbe.probe({ host: OPEN, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'FerretDB');
    assert.equal(r.version, buildInfo.ferretdbVersion);
    assert.equal((r.metadata.build as Document).mongodbVersion, buildInfo.version);
    assert.equal(r.metadata.handshake, 'hello');
    assert.equal(r.metadata.isWritablePrimary, true);
    assert.equal(r.metadata.maxWireVersion, 21);
    // What the server itself reports, biggest first — with the seeded collections and counts on top.
    const size = (name: string): number => (listing.databases as Document[]).find((d) => d.name === name)!.sizeOnDisk as number;
    assert.deepEqual(r.metadata.databases, [
      {
        name: 'lockdown_seed',
        sizeOnDisk: size('lockdown_seed'),
        empty: false,
        collections: [
          { name: 'messages', count: 40 },
          { name: 'users', count: 25 },
        ],
        collectionsTruncated: false,
      },
      { name: 'lockdown_small', sizeOnDisk: size('lockdown_small'), empty: false, collections: [{ name: 'notes', count: 3 }], collectionsTruncated: false },
    ]);
    assert.ok(size('lockdown_seed') > size('lockdown_small'), 'two collections take more pages than one');
    assert.equal(r.metadata.databaseCount, 2);
    assert.equal(r.metadata.totalSize, listing.totalSize);
    assert.equal(r.metadata.documentCount, 68);
    // The normalised inventory: databases with their sizes, collections with their counts.
    assert.deepEqual(r.inventory, {
      records: 68,
      bytes: listing.totalSize,
      namespaces: [
        { path: ['lockdown_seed'], kind: 'database', bytes: size('lockdown_seed'), records: 65 },
        { path: ['lockdown_seed', 'messages'], kind: 'collection', records: 40 },
        { path: ['lockdown_seed', 'users'], kind: 'collection', records: 25 },
        { path: ['lockdown_small'], kind: 'database', bytes: size('lockdown_small'), records: 3 },
        { path: ['lockdown_small', 'notes'], kind: 'collection', records: 3 },
      ],
    });
    assert.equal(r.sample, undefined, 'no ctx.sample, no sample');
    assert.match(
      r.evidence ?? '',
      /^listDatabases answered without credentials: ok: 1, 2 databases, totalSize \d+: lockdown_seed \(\d+ bytes\), lockdown_small/,
    );
    assert.deepEqual(r.commands, ['hello', 'buildInfo', 'listDatabases', 'listCollections', 'listCollections', 'count', 'count', 'count']);
    assert.deepEqual(r.peers, []);
    assert.deepEqual(r.errors, []);
  });

  it('allow-list: every byte sent decodes to allow-listed commands, and the hello carries our identity', async () => {
    for (const host of [OPEN, AUTH]) {
      const proxy = await recordingProxy(host, PORT);
      try {
        const ctx = probeCtx({ clientName: 'lockdown-allowlist-check' });
        const r = await mongodbProbe.probe({ host: '127.0.0.1', port: proxy.port }, ctx);
        assert.equal(r.status, 'success', r.errors.join('; '));
        const messages = assertAllowListed(r, proxy.clientBytes());
        const hello = messages[0]!;
        assert.equal(hello.opCode, 2013);
        if (hello.opCode !== 2013) return;
        assert.deepEqual(hello.body, {
          hello: 1,
          client: { application: { name: 'lockdown-allowlist-check' }, driver: { name: 'lockdown', version: VERSION }, os: { type: os.type() } },
          $db: 'admin',
        });
        // Read-only by construction: no command of these can write.
        for (const m of messages.slice(1)) assert.equal(m.opCode, 2013);
      } finally {
        await proxy.close();
      }
    }
  });

  it("the server's own log names us and shows only the allow-listed commands on our connection", async () => {
    const name = `lockdown-log-check-${process.pid}-${Date.now()}`;
    const r = await mongodbProbe.probe({ host: OPEN, port: PORT }, probeCtx({ clientName: name }));
    assert.equal(r.auth, 'open');
    // FerretDB writes its log asynchronously: wait until our hello and then all our requests are in it.
    let ours: string | undefined;
    let seen: ReturnType<typeof ferretRequests> = [];
    for (let i = 0; i < 100 && (ours === undefined || seen.length < r.commands.length); i++) {
      if (i > 0) await new Promise((res) => setTimeout(res, 50));
      const requests = ferretRequests(readFileSync(`${SERVERS_DIR}/mongodb-open/log`, 'utf8'));
      ours = requests.find((q) => q.command === 'hello' && q.text.includes(`"application": {"name": "${name}"}`))?.conn;
      seen = requests.filter((q) => q.conn === ours);
    }
    assert.ok(ours, 'FerretDB logged a hello carrying our application name');
    assert.deepEqual(
      seen.map((q) => q.command),
      r.commands,
    );
    assert.match(seen[0]!.text, /"driver": \{"name": "lockdown", "version": "/);
  });

  it('auth on: auth_required with the server\'s own refusal as evidence, nothing listed', async () => {
    const r = await mongodbProbe.probe({ host: AUTH, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.evidence, '{"ok":0,"errmsg":"Command listDatabases requires authentication","code":13,"codeName":"Unauthorized"}');
    assert.deepEqual(r.metadata.listDatabasesError, { ok: 0, code: 13, codeName: 'Unauthorized', errmsg: 'Command listDatabases requires authentication' });
    // buildInfo needs no login, so the product is still known.
    assert.equal(r.product, 'FerretDB');
    assert.equal(r.version, buildInfo.ferretdbVersion);
    assert.deepEqual(r.commands, ['hello', 'buildInfo', 'listDatabases']);
    assert.equal(r.metadata.databases, undefined);
    assert.deepEqual(r.errors, []);
  });

  it('open but empty is open, not auth_required (what zgrab2 cannot tell apart)', async () => {
    await seed(RS, {});
    const r = await mongodbProbe.probe({ host: RS, port: PORT }, probeCtx());
    assert.equal(r.auth, 'open');
    assert.deepEqual(r.metadata.databases, []);
    assert.equal(r.metadata.databaseCount, 0);
    assert.equal(r.metadata.documentCount, 0);
    assert.match(r.evidence ?? '', /ok: 1, 0 databases/);
    assert.deepEqual(r.commands, ['hello', 'buildInfo', 'listDatabases']);
  });

  it('replica-set name from hello; the server naming only itself yields no peers', async () => {
    const hello = await serverCommand(RS, { hello: 1, $db: 'admin' });
    assert.deepEqual(hello.hosts, [`${RS}:${PORT}`], 'FerretDB lists itself as the only member');
    const r = await mongodbProbe.probe({ host: RS, port: PORT }, probeCtx());
    assert.equal(r.metadata.setName, RS_NAME);
    assert.deepEqual(r.peers, []);
  });

  it('bounded enumeration: 10 largest databases, 50 collections each, counts exact', async () => {
    const layout: Record<string, Record<string, number>> = { lockdown_wide: {} };
    for (let i = 0; i < 55; i++) layout.lockdown_wide![`c${String(i).padStart(2, '0')}`] = 1;
    for (let d = 0; d < 10; d++) layout[`lockdown_db${d}`] = { items: d + 1 };
    await seed(RS, layout);
    const own = await serverCommand(RS, { listDatabases: 1, nameOnly: false, $db: 'admin' });
    const expectedOrder = (own.databases as { name: string; sizeOnDisk: number }[])
      .sort((a, b) => b.sizeOnDisk - a.sizeOnDisk || a.name.localeCompare(b.name))
      .map((d) => d.name);
    assert.equal(expectedOrder.length, 11);

    const r = await mongodbProbe.probe({ host: RS, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    type Db = { name: string; collections?: { name: string; count?: number }[]; collectionsTruncated?: boolean };
    const dbs = r.metadata.databases as Db[];
    assert.deepEqual(dbs.map((d) => d.name), expectedOrder);
    const enumerated = dbs.filter((d) => d.collections !== undefined).map((d) => d.name);
    assert.deepEqual(enumerated, expectedOrder.slice(0, MONGODB_LIMITS.maxDatabases));
    assert.equal(dbs[MONGODB_LIMITS.maxDatabases]!.collections, undefined, 'the 11th database is not listed');

    const wide = dbs.find((d) => d.name === 'lockdown_wide')!;
    assert.equal(wide.collections!.length, MONGODB_LIMITS.maxCollectionsPerDatabase);
    assert.equal(wide.collectionsTruncated, true);
    for (const c of wide.collections!) {
      assert.ok(c.name in layout.lockdown_wide!, c.name);
      assert.equal(c.count, 1);
    }
    for (const d of dbs.filter((x) => x.name.startsWith('lockdown_db') && x.collections)) {
      assert.deepEqual(d.collections, [{ name: 'items', count: layout[d.name]!.items }]);
      assert.equal(d.collectionsTruncated, false);
    }
    const listCollections = r.commands.filter((c) => c === 'listCollections').length;
    const counts = r.commands.filter((c) => c === 'count').length;
    assert.equal(listCollections, MONGODB_LIMITS.maxDatabases);
    assert.equal(counts, 50 + 9);
    // The inventory says it is partial: one database not enumerated, one with more collections than listed.
    assert.equal(r.inventory?.truncated, true);
    assert.equal(r.inventory?.namespaces.filter((n) => n.kind === 'database').length, 11);
    assert.equal(r.inventory?.namespaces.filter((n) => n.path[0] === 'lockdown_wide' && n.kind === 'collection').length, 50);
    assert.ok(counts <= MONGODB_LIMITS.maxDatabases * MONGODB_LIMITS.maxCollectionsPerDatabase);
    assert.equal(r.metadata.setName, RS_NAME);
    await seed(RS, {});
  });
});

describe('mongodb probe: legacy servers (scripted from documented behaviour; no such server can run here)', () => {
  let peer: (FakePeer & { received: string[][] }) | undefined;
  after(async () => peer?.close());

  it('MongoDB 3.4 stays silent on OP_MSG: after the hello wait, a new connection sends OP_QUERY isMaster', async () => {
    // 3.4's assembleResponse logs "operation isn't supported: 2013" and sends nothing (mongodb/mongo src/mongo/db/instance.cpp).
    peer = await scriptedPeer((msg) => {
      if (msg.opCode !== 2004) return 'silent';
      return opReplyBytes(msg.header.requestId, Object.keys(msg.query)[0] === 'listDatabases' ? MONGODB_34_LIST_DATABASES : MONGODB_34_ISMASTER);
    });
    const { result: r, ms } = await timed(() => mongodbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 2000 })));
    await peer.close();
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open', 'a 3.4 server without authentication lists its databases over OP_QUERY');
    assert.equal(r.product, 'MongoDB');
    assert.equal(r.metadata.handshake, 'isMaster (OP_QUERY)');
    assert.equal(r.metadata.legacyOnly, true);
    assert.equal(r.metadata.maxWireVersion, 5);
    assert.equal(r.metadata.opMsgFailure, 'No reply to the OP_MSG hello within 1000 ms');
    assert.match(r.evidence ?? '', /OP_QUERY, maxWireVersion 5/);
    assert.deepEqual((r.metadata.databases as { name: string }[]).map((d) => d.name), ['shop', 'admin']);
    assert.deepEqual(r.inventory?.namespaces.map((n) => n.path.join('/')), ['shop', 'admin']);
    assert.deepEqual(r.commands, ['hello', 'isMaster (OP_QUERY)', 'listDatabases (OP_QUERY)']);
    assert.deepEqual(peer.received, [['hello'], ['isMaster (OP_QUERY)', 'listDatabases (OP_QUERY)']]);
    assert.ok(ms >= 950 && ms < 4800, `took ${ms} ms`);
  });

  it('a server that closes the connection on OP_MSG gets the OP_QUERY isMaster at once', async () => {
    // With authentication on, 3.4 refuses listDatabases: code 13, "not authorized on admin to execute command".
    peer = await scriptedPeer((msg) => {
      if (msg.opCode !== 2004) return 'close';
      return opReplyBytes(msg.header.requestId, Object.keys(msg.query)[0] === 'listDatabases' ? MONGODB_34_UNAUTHORIZED : MONGODB_34_ISMASTER);
    });
    const { result: r, ms } = await timed(() => mongodbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(r.auth, 'auth_required');
    assert.match(r.evidence ?? '', /not authorized on admin/);
    assert.equal(r.metadata.legacyOnly, true);
    assert.match(String(r.metadata.opMsgFailure), /closed/);
    assert.deepEqual(peer.received, [['hello'], ['isMaster (OP_QUERY)', 'listDatabases (OP_QUERY)']]);
    assert.ok(ms < 4000, `took ${ms} ms`);
  });

  it('MongoDB 4.0 (OP_MSG, no hello): isMaster over OP_QUERY on the same connection, then OP_MSG on', async () => {
    // hello arrived in 4.4.2 (and 4.2.10, 4.0.21, 3.6.21); older servers answer CommandNotFound, code 59.
    peer = await scriptedPeer((msg) => {
      const id = msg.header.requestId;
      if (msg.opCode === 2004) return opReplyBytes(id, { ...MONGODB_34_ISMASTER, maxWriteBatchSize: 100000, maxWireVersion: 7 });
      if (msg.opCode !== 2013) return 'close';
      switch (Object.keys(msg.body)[0]) {
        case 'hello':
          return opMsgBytes(1, { ok: 0, errmsg: "no such command: 'hello'", code: 59, codeName: 'CommandNotFound' }, id);
        case 'buildInfo':
          return opMsgBytes(2, { version: '4.0.3', modules: [], allocator: 'tcmalloc', javascriptEngine: 'mozjs', bits: 64, debug: false, ok: 1 }, id);
        case 'listDatabases':
          return opMsgBytes(3, { ok: 0, errmsg: 'command listDatabases requires authentication', code: 13, codeName: 'Unauthorized' }, id);
        default:
          return 'close';
      }
    });
    const r = await mongodbProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx());
    await peer.close();
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.evidence, '{"ok":0,"errmsg":"command listDatabases requires authentication","code":13,"codeName":"Unauthorized"}');
    assert.equal(r.product, 'MongoDB');
    assert.equal(r.version, '4.0.3');
    assert.equal(r.metadata.handshake, 'isMaster (OP_QUERY)');
    assert.equal(r.metadata.maxWireVersion, 7);
    assert.deepEqual(r.metadata.helloError, { ok: 0, code: 59, codeName: 'CommandNotFound', errmsg: "no such command: 'hello'" });
    assert.deepEqual(peer.received, [['hello', 'isMaster (OP_QUERY)', 'buildInfo', 'listDatabases']]);
  });

  it('a replica-set member names its peers (SDAM spec reply shape), without itself', async () => {
    peer = await scriptedPeer((msg) => {
      if (msg.opCode !== 2013) return 'close';
      const id = msg.header.requestId;
      switch (Object.keys(msg.body)[0]) {
        case 'hello':
          return opMsgBytes(1, {
            ok: 1,
            isWritablePrimary: false,
            secondary: true,
            setName: 'rs',
            me: 'b.example.net:27017',
            primary: 'a.example.net:27017',
            hosts: ['a.example.net:27017', 'b.example.net:27017'],
            passives: ['c.example.net:27017'],
            arbiters: ['d.example.net:27017'],
            minWireVersion: 0,
            maxWireVersion: 21,
          }, id);
        case 'buildInfo':
          return opMsgBytes(2, { version: '7.0.14', ok: 1 }, id);
        default:
          return opMsgBytes(3, { ok: 0, errmsg: 'Command listDatabases requires authentication', code: 13, codeName: 'Unauthorized' }, id);
      }
    });
    const r = await mongodbProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx());
    await peer.close();
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.metadata.setName, 'rs');
    assert.equal(r.metadata.secondary, true);
    assert.deepEqual(r.peers, [
      { host: 'a.example.net', port: 27017, role: 'primary', source: 'hello: hosts, primary' },
      { host: 'c.example.net', port: 27017, role: 'passive', source: 'hello: passives' },
      { host: 'd.example.net', port: 27017, role: 'arbiter', source: 'hello: arbiters' },
    ]);
  });
});

describe('mongodb probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive (after trying OP_QUERY too)', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => mongodbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 1000 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /deadline of 1000 ms/);
    assert.deepEqual(result.commands, ['hello', 'isMaster (OP_QUERY)']);
    assert.ok(ms >= 950 && ms < 4500, `took ${ms} ms`);
  });

  it('garbage peer: protocol-error', async () => {
    peer = await garbagePeer(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), { afterRequest: true });
    const { result, ms } = await timed(() => mongodbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /exceeds maxMessageSizeBytes/);
    assert.ok(ms < 4000, `took ${ms} ms`);
  });

  it('a compressed reply (never requested): protocol-error', async () => {
    const compressed = Buffer.alloc(25 + 10);
    compressed.writeInt32LE(compressed.length, 0);
    compressed.writeInt32LE(1, 8);
    compressed.writeInt32LE(2012, 12);
    compressed.writeInt32LE(2013, 16);
    compressed.writeInt32LE(100, 20);
    compressed[24] = 2; // zlib
    peer = await garbagePeer(compressed, { afterRequest: true });
    const result = await mongodbProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx());
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.match(result.errors[0] ?? '', /Compressed reply not requested/);
  });

  it('100 MB flood of non-MongoDB bytes: protocol-error at once', async () => {
    peer = await floodPeer(100 * 1024 * 1024, 0x41, { afterRequest: true, prefix: Buffer.alloc(0) });
    const { result, ms } = await timed(() => mongodbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.match(result.errors[0] ?? '', /message length 1094795585 exceeds maxMessageSizeBytes/);
    assert.ok(result.bytesRead <= 1024 * 1024 + 256 * 1024, `read ${result.bytesRead} bytes`);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood behind a legal 40 MB header: refused at the header (over the read cap), bounded memory', async () => {
    const head = Buffer.alloc(16);
    head.writeInt32LE(40_000_000, 0);
    head.writeInt32LE(1, 8);
    head.writeInt32LE(2013, 12);
    peer = await floodPeer(100 * 1024 * 1024, 0x41, { afterRequest: true, prefix: head });
    const { result, ms, grew } = await timedWithMemory(() => mongodbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.match(result.errors[0] ?? '', /message length 40000000 exceeds the read cap of 1048576 bytes/);
    assert.ok(result.bytesRead <= 1024 * 1024 + 256 * 1024, `read ${result.bytesRead} bytes`);
    assertMemoryBounded(grew);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood behind a header within the cap: the junk body is refused after at most the cap', async () => {
    const head = Buffer.alloc(16);
    head.writeInt32LE(512 * 1024, 0);
    head.writeInt32LE(1, 8);
    head.writeInt32LE(2013, 12);
    peer = await floodPeer(100 * 1024 * 1024, 0x41, { afterRequest: true, prefix: head });
    const { result, ms, grew } = await timedWithMemory(() => mongodbProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    // Either the decoder rejects the 'A…' flagBits once 512 KiB arrived, or the cap trips first: both bounded.
    assert.ok(['protocol-error', 'read-limit'].includes(result.status), result.status);
    assert.ok(result.bytesRead <= 1024 * 1024 + 256 * 1024, `read ${result.bytesRead} bytes`);
    assertMemoryBounded(grew);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('closed port: connection-refused, no verdict', async () => {
    const r = await probeClosedPort(mongodbProbe);
    assert.deepEqual(r.commands, []);
  });
});

describe('mongodb value sampling (ctx.sample, inside the authorized scope) on real FerretDB', () => {
  const people = syntheticPeople(10, 21);
  const RANSOM_DB = 'READ__ME_TO_RECOVER_YOUR_DATA';
  const SAMPLE = { perCollection: 50, maxBytes: 1_000_000, maxCollections: 10 };

  before(async () => {
    await requireServer(OPEN, PORT, 'mongodb-open');
    await seed(OPEN, {});
    const c = await SeedClient.connect(OPEN, PORT);
    try {
      // shop.customers: six people; shop.chats: four messages; logs.events: 60 log lines (largest, no personal data);
      // and the layout ransom gangs leave: a database named READ__ME_TO_RECOVER_YOUR_DATA with a README note.
      await c.ok({ insert: 'customers', documents: people.slice(0, 6).map((p, i) => ({ _id: i + 1, ...p })), $db: 'shop' });
      await c.ok({ insert: 'chats', documents: people.slice(6, 10).map((p, i) => ({ _id: i + 1, room: 'r1', chat_message: p.chat_message })), $db: 'shop' });
      await c.ok({ insert: 'events', documents: Array.from({ length: 60 }, (_, i) => ({ _id: i + 1, level: 'info', n: i })), $db: 'logs' });
      await c.ok({ insert: 'README', documents: [{ _id: 1, content: RANSOM_NOTE.text, BitCoin: RANSOM_NOTE.bitcoin }], $db: RANSOM_DB });
    } finally {
      c.close();
    }
  });

  after(async () => seed(OPEN, {}));

  it('with ctx.sample: every category with the seeded counts, no clear value in the result, allow-list held', async () => {
    const proxy = await recordingProxy(OPEN, PORT);
    let r: ProbeResult;
    try {
      r = await mongodbProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx({ authorized: true, sample: SAMPLE }));
    } finally {
      await proxy.close();
    }
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.deepEqual(r.errors, []);
    const cats = r.sample?.categories as Record<string, { count: number; fields: { path: string; count: number }[] }>;
    assert.ok(cats, 'a sample was taken');
    // Six customers (all six categories), four chat messages, and the note's contact e-mail.
    assert.deepEqual(
      Object.fromEntries(Object.entries(cats).map(([c, v]) => [c, v.count])),
      { national_id: 6, phone: 6, email: 7, location: 6, photo: 6, communication: 10 },
    );
    assert.equal(r.sample?.documents, 50 + 6 + 4 + 1, 'logs.events capped at perCollection');
    assert.deepEqual(cats.national_id!.fields, [{ path: 'shop.customers.id_card', count: 6 }]);
    const text = JSON.stringify(r);
    for (const v of [...clearValues(people), RANSOM_NOTE.bitcoin, 'recover.synthetic@example.org']) {
      assert.ok(!text.includes(v), `the result holds a clear value: ${v}`);
    }

    // The ransom layout is visible from names alone, and the compromise rules see it.
    const paths = r.inventory!.namespaces.map((n) => n.path.join('/'));
    for (const p of [RANSOM_DB, `${RANSOM_DB}/README`, 'shop/customers', 'shop/chats', 'logs/events']) assert.ok(paths.includes(p), p);
    const compromise = assessCompromise({ product: 'mongodb', namespaces: r.inventory!.namespaces.map((n) => ({ path: n.path, kind: n.kind === 'collection' ? 'collection' : 'database', ...(n.records !== undefined ? { count: n.records } : {}) })) });
    assert.equal(compromise.compromised, true);
    // The note's wording was read (it sits in a collection named like a note) and kept only as masked rule matches.
    assert.ok(r.sample?.compromise?.some((m) => m.strength === 'strong'), JSON.stringify(r.sample?.compromise));
    // What the pipeline's assessment stage stores with the finding: compromised, severe, categories from values.
    const assessed = assessResult(r);
    assert.equal(assessed.compromised, true);
    assert.ok(['critical', 'high'].includes(assessed.severity), assessed.severity);
    assert.ok(assessed.sensitive.some((s) => s.source === 'sample' && s.category === 'national_id' && s.count === 6), JSON.stringify(assessed.sensitive));
    assert.ok(!JSON.stringify(assessed).includes(RANSOM_NOTE.bitcoin), 'the wallet address is masked in the assessment');

    // On the wire: allow-listed commands only; each find bounded, single batch, never a getMore.
    const messages = decodeClientStream(proxy.clientBytes());
    const allowed = new Set(mongodbProbe.allowedCommands);
    for (const m of messages) assert.ok(allowed.has(commandName(m)), commandName(m));
    assert.deepEqual(messages.map(commandName), r.commands);
    const finds = messages.filter((m): m is Extract<MongoMessage, { opCode: 2013 }> => m.opCode === 2013 && commandName(m) === 'find');
    assert.deepEqual(finds.map((m) => `${String(m.body.$db)}.${String(m.body.find)}`), ['logs.events', 'shop.customers', 'shop.chats', `${RANSOM_DB}.README`]);
    for (const f of finds) {
      assert.deepEqual(f.body.filter, {});
      assert.equal(f.body.limit, 50);
      assert.equal(f.body.batchSize, 50);
      assert.equal(f.body.singleBatch, true);
    }
    assert.ok(!r.commands.includes('getMore'));
  });

  it('without ctx.sample: no find on the wire, no sample, the same inventory', async () => {
    const proxy = await recordingProxy(OPEN, PORT);
    try {
      const r = await mongodbProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx({ authorized: true }));
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.equal(r.sample, undefined);
      assert.equal(r.metadata.sampling, undefined);
      assertAllowListed(r, proxy.clientBytes()); // asserts no `find` too
      assert.ok(!decodeClientStream(proxy.clientBytes()).some((m) => commandName(m) === 'find'));
      const paths = r.inventory!.namespaces.map((n) => n.path.join('/'));
      for (const p of [RANSOM_DB, `${RANSOM_DB}/README`, 'shop/customers', 'shop/chats', 'logs/events']) assert.ok(paths.includes(p), p);
      assert.equal(r.inventory!.records, 71);
      const text = JSON.stringify(r);
      for (const v of clearValues(people)) assert.ok(!text.includes(v), v);
    } finally {
      await proxy.close();
    }
  });

  it('bounds: maxCollections collections (largest first), perCollection documents each', async () => {
    const r = await mongodbProbe.probe({ host: OPEN, port: PORT }, probeCtx({ authorized: true, sample: { perCollection: 5, maxBytes: 1_000_000, maxCollections: 2 } }));
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.commands.filter((c) => c === 'find').length, 2);
    // logs.events (60) and shop.customers (6): five of each.
    assert.equal(r.sample?.documents, 10);
    assert.equal((r.sample?.categories as Record<string, { count: number }>).national_id?.count, 5);
  });

  it('auth on, ctx.sample given: refused before any find', async () => {
    const r = await mongodbProbe.probe({ host: AUTH, port: PORT }, probeCtx({ authorized: true, sample: SAMPLE }));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.sample, undefined);
    assert.deepEqual(r.commands, ['hello', 'buildInfo', 'listDatabases']);
  });
});
