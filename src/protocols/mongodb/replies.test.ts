/**
 * Reply interpretation against reply shapes with a named source. No real MongoDB server runs here (FerretDB
 * does, and probe.test.ts uses it); MongoDB's own shapes come from:
 * - mongodb/mongo src/mongo/db/commands.cpp (checkAuthorizationImplPreParse: "command <name> requires
 *   authentication", ErrorCodes::Unauthorized = 13; appendCommandStatusNoThrow adds ok 0.0, errmsg, code, codeName);
 *   MongoDB 6.0+ capitalises it "Command <name> requires authentication";
 * - a MongoDB 3.6.4 refusal quoted in github.com/kbst/mongodb/issues/15 ("not authorized on admin to execute
 *   command { listDatabases: 1.0, $db: \"admin\" }", code 13);
 * - a full server response quoted in github.com/dbeaver/dbeaver/issues/26722 ({"ok": 0.0, "errmsg": "command
 *   listCollections requires authentication", "code": 13, "codeName": "Unauthorized"});
 * - the hello replies of the driver SDAM spec tests, github.com/mongodb/specifications
 *   source/server-discovery-and-monitoring/tests/rs/{discover_passives,discover_arbiters,discover_secondary,
 *   primary_hint_from_secondary_with_mismatched_me}.yml, and sharded/ (msg: "isdbgrid");
 * - the buildInfo / listDatabases / listCollections / count output fields of the MongoDB command reference;
 * - FerretDB v1.24.2's buildInfo, captured from the test server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Double, Int32, Long } from 'bson';
import {
  REPLY_LIMITS,
  classifyCommandError,
  commandError,
  countable,
  describeCommandError,
  isOk,
  num,
  parseBuildInfo,
  parseCollections,
  parseCount,
  parseDatabases,
  parseHello,
  parseHostPort,
} from './replies.js';

describe('mongodb replies: command errors', () => {
  it('classifies the Unauthorized refusals of MongoDB, old MongoDB and FerretDB as auth, keeping the evidence', () => {
    const replies = [
      { ok: 0, errmsg: 'command listDatabases requires authentication', code: 13, codeName: 'Unauthorized' },
      { ok: 0, errmsg: 'Command listDatabases requires authentication', code: 13, codeName: 'Unauthorized' },
      { ok: 0, errmsg: 'not authorized on admin to execute command { listDatabases: 1.0, $db: "admin" }', code: 13, codeName: 'Unauthorized' },
      { ok: 0.0, errmsg: 'command listCollections requires authentication', code: 13, codeName: 'Unauthorized' },
    ];
    for (const r of replies) {
      assert.equal(isOk(r), false);
      const e = commandError(r);
      assert.deepEqual(e, { ok: 0, code: 13, codeName: 'Unauthorized', errmsg: r.errmsg });
      assert.equal(classifyCommandError(e), 'auth', r.errmsg);
    }
    assert.equal(
      describeCommandError(commandError(replies[0]!)),
      '{"ok":0,"errmsg":"command listDatabases requires authentication","code":13,"codeName":"Unauthorized"}',
    );
  });

  it('classifies auth refusals without a code by their text, and AuthenticationFailed by its code', () => {
    assert.equal(classifyCommandError(commandError({ ok: 0, errmsg: 'unauthorized' })), 'auth');
    assert.equal(classifyCommandError(commandError({ ok: 0, errmsg: 'need to login' })), 'auth');
    assert.equal(classifyCommandError(commandError({ ok: 0, errmsg: 'login page moved' })), 'other');
    assert.equal(classifyCommandError(commandError({ ok: 0, errmsg: 'Authentication failed.', code: 18, codeName: 'AuthenticationFailed' })), 'auth');
    // Legacy OP_REPLY query failures say it in $err.
    assert.equal(classifyCommandError(commandError({ $err: 'not authorized for query on admin.$cmd', code: 13 })), 'auth');
  });

  it('tells a missing command (MongoDB before hello) and other errors apart from auth', () => {
    const notFound = { ok: 0, errmsg: "no such command: 'hello'", code: 59, codeName: 'CommandNotFound' };
    assert.equal(classifyCommandError(commandError(notFound)), 'command-not-found');
    assert.equal(classifyCommandError(commandError({ ok: 0, errmsg: 'no such cmd: hello', code: 59 })), 'command-not-found');
    assert.equal(classifyCommandError(commandError({ ok: 0, errmsg: 'node is recovering', code: 11600, codeName: 'InterruptedAtShutdown' })), 'other');
    assert.equal(classifyCommandError(commandError({ ok: 0 })), 'other');
  });

  it('reads ok and numbers of every BSON numeric type, and nothing else', () => {
    assert.equal(isOk({ ok: 1 }), true);
    assert.equal(isOk({ ok: true }), true);
    assert.equal(isOk({ ok: new Double(1) }), true);
    assert.equal(isOk({ ok: '1' }), false);
    assert.equal(isOk({}), false);
    assert.equal(num(new Int32(7)), 7);
    assert.equal(num(Long.fromNumber(2 ** 40)), 2 ** 40);
    assert.equal(num(Number.NaN), undefined);
    assert.equal(num('12'), undefined);
  });
});

describe('mongodb replies: hello', () => {
  it('a primary naming a passive (SDAM discover_passives): both listed with their roles', () => {
    const hello = {
      ok: 1,
      helloOk: true,
      isWritablePrimary: true,
      hosts: ['a:27017'],
      passives: ['b:27017'],
      setName: 'rs',
      minWireVersion: 0,
      maxWireVersion: 21,
    };
    const facts = parseHello(hello, 'hello');
    assert.deepEqual(facts.peers, [
      { host: 'a', port: 27017, role: 'member', source: 'hello: hosts' },
      { host: 'b', port: 27017, role: 'passive', source: 'hello: passives' },
    ]);
    assert.equal(facts.maxWireVersion, 21);
    assert.deepEqual(facts.metadata, { isWritablePrimary: true, setName: 'rs', minWireVersion: 0, maxWireVersion: 21 });
  });

  it('arbiters (SDAM discover_arbiters) and a secondary listing its set (discover_secondary)', () => {
    const arb = parseHello({ ok: 1, isWritablePrimary: true, hosts: ['a:27017'], arbiters: ['b:27017'], setName: 'rs' }, 'hello');
    assert.deepEqual(arb.peers.map((p) => [p.host, p.role]), [['a', 'member'], ['b', 'arbiter']]);
    const sec = parseHello({ ok: 1, isWritablePrimary: false, secondary: true, setName: 'rs', hosts: ['a:27017', 'b:27017'] }, 'hello');
    assert.equal(sec.metadata.secondary, true);
    assert.deepEqual(sec.peers.map((p) => p.host), ['a', 'b']);
  });

  it('names the primary once, and leaves the server itself (me) out (SDAM primary_hint_from_secondary_with_mismatched_me)', () => {
    const hello = { ok: 1, isWritablePrimary: false, secondary: true, me: 'c:27017', hosts: ['b:27017'], setName: 'rs', primary: 'b:27017' };
    assert.deepEqual(parseHello(hello, 'hello').peers, [{ host: 'b', port: 27017, role: 'primary', source: 'hello: hosts, primary' }]);
    const self = { ok: 1, isWritablePrimary: true, me: 'b:27017', hosts: ['b:27017', 'c:27017'], primary: 'b:27017', setName: 'rs' };
    assert.deepEqual(parseHello(self, 'isMaster').peers, [{ host: 'c', port: 27017, role: 'member', source: 'isMaster: hosts' }]);
    // A primary that is not among the hosts is still named.
    assert.deepEqual(parseHello({ ok: 1, hosts: [], primary: 'p:27018' }, 'hello').peers, [
      { host: 'p', port: 27018, role: 'primary', source: 'hello: primary' },
    ]);
  });

  it('recognises mongos (msg: "isdbgrid") and legacy ismaster', () => {
    const facts = parseHello({ ismaster: true, msg: 'isdbgrid', maxWireVersion: 21, ok: 1 }, 'isMaster');
    assert.equal(facts.metadata.mongos, true);
    assert.equal(facts.metadata.isWritablePrimary, true);
  });

  it('survives hostile hello fields: wrong types, too many hosts, overlong strings', () => {
    const many = Array.from({ length: 1000 }, (_, i) => `h${i}:27017`);
    const facts = parseHello({ ok: 1, hosts: many, passives: 'x', arbiters: [1, null, {}], setName: 'x'.repeat(10_000), maxWireVersion: 'nine' }, 'hello');
    assert.equal(facts.peers.length, REPLY_LIMITS.maxPeers);
    assert.equal((facts.metadata.setName as string).length, REPLY_LIMITS.maxString);
    assert.equal(facts.maxWireVersion, undefined);
  });

  it('parses host:port forms, including IPv6 and junk ports', () => {
    assert.deepEqual(parseHostPort('db1.example.net:27017'), { host: 'db1.example.net', port: 27017 });
    assert.deepEqual(parseHostPort('[2001:db8::1]:27018'), { host: '2001:db8::1', port: 27018 });
    assert.deepEqual(parseHostPort('[::1]'), { host: '::1' });
    assert.deepEqual(parseHostPort('db1'), { host: 'db1' });
    assert.deepEqual(parseHostPort('db1:99999'), { host: 'db1' });
    assert.deepEqual(parseHostPort('db1:0'), { host: 'db1' });
  });
});

describe('mongodb replies: buildInfo', () => {
  it('FerretDB (captured from v1.24.2): product FerretDB, its own version, the MongoDB version it claims', () => {
    const reply = {
      version: '7.0.42',
      gitVersion: 'unknown',
      modules: [],
      sysInfo: 'deprecated',
      versionArray: [7, 0, 42, 0],
      bits: 64,
      debug: false,
      maxBsonObjectSize: 16777216,
      ferretdbVersion: 'v1.24.2',
      ferretdbFeatures: { aggregationStages: ['$match'] },
      ok: 1,
    };
    assert.deepEqual(parseBuildInfo(reply), {
      product: 'FerretDB',
      version: 'v1.24.2',
      metadata: { gitVersion: 'unknown', modules: [], bits: 64, debug: false, mongodbVersion: '7.0.42' },
    });
  });

  it('MongoDB (the documented buildInfo fields) and Percona Server for MongoDB (psmdbVersion)', () => {
    const mongo = {
      version: '7.0.14',
      gitVersion: 'ce59cfc6a3c5e5c067dca0d30697edd68d4f5188',
      modules: ['enterprise'],
      allocator: 'tcmalloc',
      javascriptEngine: 'mozjs',
      sysInfo: 'deprecated',
      versionArray: [7, 0, 14, 0],
      openssl: { running: 'OpenSSL 3.0.2 15 Mar 2022', compiled: 'OpenSSL 3.0.2 15 Mar 2022' },
      bits: 64,
      debug: false,
      maxBsonObjectSize: 16777216,
      storageEngines: ['devnull', 'inMemory', 'queryable_wt', 'wiredTiger'],
      ok: 1,
    };
    const b = parseBuildInfo(mongo);
    assert.equal(b.product, 'MongoDB');
    assert.equal(b.version, '7.0.14');
    assert.deepEqual(b.metadata.modules, ['enterprise']);
    assert.equal(b.metadata.openssl, 'OpenSSL 3.0.2 15 Mar 2022');
    assert.equal(b.metadata.mongodbVersion, undefined);
    const percona = parseBuildInfo({ ...mongo, version: '6.0.9', psmdbVersion: '6.0.9-7' });
    assert.deepEqual([percona.product, percona.version, percona.metadata.mongodbVersion], ['Percona Server for MongoDB', '6.0.9-7', '6.0.9']);
  });
});

describe('mongodb replies: listDatabases, listCollections, count', () => {
  it('lists databases biggest first (ties by name), with int64/double sizes', () => {
    const reply = {
      databases: [
        { name: 'admin', sizeOnDisk: Long.fromNumber(40960), empty: false },
        { name: 'shop', sizeOnDisk: new Double(1_073_741_824), empty: false },
        { name: 'b', sizeOnDisk: 8192, empty: false },
        { name: 'a', sizeOnDisk: 8192, empty: false },
        { name: 'empty', sizeOnDisk: 0, empty: true },
        { nope: 1 },
        'junk',
      ],
      totalSize: Long.fromNumber(1_073_799_168),
      totalSizeMb: 1024,
      ok: 1,
    };
    const parsed = parseDatabases(reply);
    assert.deepEqual(parsed.databases.map((d) => d.name), ['shop', 'admin', 'a', 'b', 'empty']);
    assert.deepEqual(parsed.databases[0], { name: 'shop', sizeOnDisk: 1_073_741_824, empty: false });
    assert.equal(parsed.total, 5);
    assert.equal(parsed.totalSize, 1_073_799_168);
  });

  it('keeps at most maxDatabases entries but counts them all', () => {
    const databases = Array.from({ length: 5000 }, (_, i) => ({ name: `db${i}`, sizeOnDisk: i, empty: false }));
    const parsed = parseDatabases({ databases, ok: 1 });
    assert.equal(parsed.databases.length, REPLY_LIMITS.maxDatabases);
    assert.equal(parsed.total, 5000);
    assert.equal(parsed.databases[0]!.name, 'db4999');
  });

  it('reads listCollections first batches, flags truncation, and counts only plain collections', () => {
    const reply = {
      cursor: {
        id: Long.fromNumber(0),
        ns: 'shop.$cmd.listCollections',
        firstBatch: [
          { name: 'orders', type: 'collection' },
          { name: 'recent', type: 'view' },
          { name: 'metrics', type: 'timeseries' },
          { name: 'system.views', type: 'collection' },
          { name: 'legacy' },
          { type: 'collection' },
        ],
      },
      ok: 1,
    };
    const { collections, truncated } = parseCollections(reply, 50);
    assert.equal(truncated, false);
    assert.deepEqual(collections.map((c) => [c.name, countable(c)]), [
      ['orders', true],
      ['recent', false],
      ['metrics', false],
      ['system.views', false],
      ['legacy', true],
    ]);
    assert.equal(parseCollections(reply, 2).truncated, true);
    assert.equal(parseCollections(reply, 2).collections.length, 2);
    const more = { cursor: { id: Long.fromString('8000000000000000001'), firstBatch: [{ name: 'x', type: 'collection' }] }, ok: 1 };
    assert.equal(parseCollections(more, 50).truncated, true);
    assert.deepEqual(parseCollections({ ok: 1 }, 50), { collections: [], truncated: false });
  });

  it('reads count replies', () => {
    assert.equal(parseCount({ n: 25, ok: 1 }), 25);
    assert.equal(parseCount({ n: Long.fromNumber(3_000_000_000), ok: 1 }), 3_000_000_000);
    assert.equal(parseCount({ n: -1, ok: 1 }), undefined);
    assert.equal(parseCount({ ok: 1 }), undefined);
  });
});
