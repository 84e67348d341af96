/**
 * The CouchDB codec against documented replies of CouchDB 1.x–3.x and IBM Cloudant (test/fixtures/couchdb/,
 * each with its source in the README there), a reply captured from the real PouchDB Server, hostile bodies,
 * and a seeded fuzz loop.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  COUCHDB_LIMITS,
  dbPath,
  isInspectableDbName,
  nodeHost,
  parseAllDbs,
  parseDbInfo,
  parseErrorReply,
  parseJson,
  parseMembership,
  parseServerHeader,
  parseUpStatus,
  parseWelcome,
} from './codec.js';

const FIXTURES = new URL('../../../test/fixtures/couchdb/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));
const json = (name: string): unknown => parseJson(fixture(name), name);
const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A small deterministic PRNG (mulberry32) so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('couchdb welcome (GET /)', () => {
  it('CouchDB 3.0.0 (docs, The Core API): version, git_sha, uuid, features, vendor', () => {
    assert.deepEqual(parseWelcome(json('welcome-3.0.0.json')), {
      product: 'Apache CouchDB',
      welcome: 'Welcome',
      version: '3.0.0',
      gitSha: '83bdcf693',
      uuid: '56f16e7c93ff4a2dc20eb6acc7000b71',
      features: ['access-ready', 'partitioned', 'pluggable-storage-engines', 'reshard', 'scheduler'],
      featureFlags: [],
      vendor: { name: 'The Apache Software Foundation' },
    });
  });

  it('CouchDB 2.2.0 (issue #1705) has no uuid; CouchDB 1.3.1 (API reference) has a vendor version', () => {
    const v2 = parseWelcome(json('welcome-2.2.0.json'));
    assert.equal(v2.product, 'Apache CouchDB');
    assert.equal(v2.version, '2.2.0');
    assert.equal(v2.gitSha, '2a16ec4');
    assert.equal(v2.uuid, undefined);
    assert.deepEqual(v2.features, ['pluggable-storage-engines', 'scheduler']);
    const v1 = parseWelcome(json('welcome-1.3.1.json'));
    assert.deepEqual(v1, {
      product: 'Apache CouchDB',
      welcome: 'Welcome',
      version: '1.3.1',
      uuid: '85fb71bf700c17267fef77535820e371',
      features: [],
      featureFlags: [],
      vendor: { name: 'The Apache Software Foundation', version: '1.3.1' },
    });
  });

  it('IBM Cloudant, from vendor.name (2.0) or cloudant_build (before 2.0)', () => {
    const c2 = parseWelcome(json('welcome-cloudant-2.0.0.json'));
    assert.equal(c2.product, 'IBM Cloudant');
    assert.equal(c2.version, '2.0.0');
    assert.deepEqual(c2.vendor, { name: 'IBM Cloudant', version: '5638', variant: 'paas' });
    assert.deepEqual(c2.features, ['geo']);
    const c1 = parseWelcome(json('welcome-cloudant-1.0.2.json'));
    assert.equal(c1.product, 'IBM Cloudant');
    assert.equal(c1.cloudantBuild, '2660');
    assert.equal(c1.version, '1.0.2');
  });

  it('PouchDB Server 4.2.0 (captured): express-pouchdb key, adapters, vendor', () => {
    assert.deepEqual(parseWelcome(json('welcome-pouchdb-server-4.2.0.json')), {
      product: 'PouchDB Server',
      welcome: 'Welcome!',
      version: '4.2.0',
      uuid: '09bb4592-7431-42a6-91bb-53d1796e22ca',
      features: [],
      featureFlags: [],
      vendor: { name: 'PouchDB authors', version: '4.2.0' },
      pouchdbAdapters: ['memory'],
    });
  });

  it('names Couchbase Lite, a bare 0.x welcome, and unknown vendors as they name themselves', () => {
    // Couchbase Lite's documented GET / reply (REST API reference).
    assert.equal(parseWelcome({ couchdb: 'Welcome', CouchbaseLite: 'Welcome', version: '1.485' }).product, 'Couchbase Lite');
    // CouchDB 0.11 (wiki HttpGetRoot): no vendor at all.
    assert.equal(parseWelcome({ couchdb: 'Welcome', version: '0.11.0' }).product, 'Apache CouchDB');
    assert.equal(
      parseWelcome({ couchdb: 'Welcome', vendor: { name: 'Couchbase Sync Gateway', version: '1.0' } }).product,
      'Couchbase Sync Gateway',
    );
  });

  it('refuses what is not a CouchDB welcome', () => {
    for (const v of [null, [], 'Welcome', 42, {}, { name: 'es01', cluster_name: 'docker-cluster', tagline: 'You Know, for Search' }, { couchdb: 1 }]) {
      assert.throws(() => parseWelcome(v), ProtocolError, JSON.stringify(v));
    }
    assert.throws(() => parseWelcome({ tagline: 'x' }), /no CouchDB welcome key \(keys: tagline\)/);
  });

  it('clips long strings and bounds feature lists', () => {
    const w = parseWelcome({
      couchdb: 'W'.repeat(10_000),
      version: 'v'.repeat(10_000),
      features: Array.from({ length: 10_000 }, (_, i) => `f${i}`),
      vendor: { name: 'x'.repeat(10_000) },
    });
    assert.equal(w.welcome.length, COUCHDB_LIMITS.fieldChars);
    assert.equal(w.version?.length, COUCHDB_LIMITS.fieldChars);
    assert.equal(w.features.length, COUCHDB_LIMITS.features);
    assert.equal(w.vendor?.name?.length, COUCHDB_LIMITS.fieldChars);
  });
});

describe('couchdb _all_dbs and database names', () => {
  it('decodes the documented list in order', () => {
    assert.deepEqual(parseAllDbs(json('all-dbs.json')), ['_users', 'contacts', 'docs', 'invoices', 'locations']);
    assert.deepEqual(parseAllDbs([]), []);
  });

  it('refuses a non-array and non-string entries', () => {
    assert.throws(() => parseAllDbs({ dbs: [] }), /not a JSON array/);
    assert.throws(() => parseAllDbs(['a', 7]), /entry 1 is number, not a database name/);
    assert.throws(() => parseAllDbs(['a', null]), /entry 1 is null/);
  });

  it('inspects only names that pass CouchDB rule, and encodes them for the path', () => {
    for (const ok of ['contacts', 'a', 'db_1', 'a$b', 'a(b)', 'a+b', 'a-b', 'team/sub']) assert.ok(isInspectableDbName(ok), ok);
    for (const bad of ['_users', '_replicator', 'Contacts', '1db', '', '../_config', 'a b', 'a?x=1', 'a#b', 'a%2F', 'é', 'a\r\nHost: x', 'a.b']) {
      assert.ok(!isInspectableDbName(bad), bad);
    }
    assert.ok(!isInspectableDbName('a'.repeat(COUCHDB_LIMITS.dbNameChars + 1)));
    assert.equal(dbPath('team/sub'), '/team%2Fsub');
    assert.equal(dbPath('a$b+c(d)'), '/a%24b%2Bc(d)');
    assert.throws(() => dbPath('../_config'), ProtocolError);
  });
});

describe('couchdb database info (GET /{db})', () => {
  it('CouchDB 3 receipts (API reference): counts, sizes, cluster, props', () => {
    assert.deepEqual(parseDbInfo(json('db-info-receipts.json')), {
      name: 'receipts',
      docCount: 6146,
      docDelCount: 64637,
      sizes: { file: 137433211, external: 66982448, active: 65031503 },
      cluster: { q: 8, n: 3, w: 2, r: 2 },
    });
    assert.equal(parseDbInfo(json('db-info-animals.json')).docCount, 52224);
    assert.deepEqual(parseDbInfo(json('db-info-plants.json')).sizes, { file: 3872387, external: 2339, active: 67475 });
    assert.equal(parseDbInfo({ db_name: 'p', doc_count: 1, props: { partitioned: true } }).partitioned, true);
  });

  it('CouchDB 1.x sizes and PouchDB Server adapter (captured)', () => {
    assert.deepEqual(parseDbInfo({ db_name: 'old', doc_count: 3, doc_del_count: 1, disk_size: 8290, data_size: 1200 }), {
      name: 'old',
      docCount: 3,
      docDelCount: 1,
      diskSize: 8290,
      dataSize: 1200,
    });
    const pouch = b(
      '{"doc_count":1,"update_seq":1,"backend_adapter":"MemDOWN","db_name":"payroll","auto_compaction":false,"adapter":"memory","instance_start_time":"1795611285348"}',
    );
    assert.deepEqual(parseDbInfo(parseJson(pouch, 'pouch')), { name: 'payroll', docCount: 1, adapter: 'memory' });
  });

  it('believes only non-negative safe integers', () => {
    const info = parseDbInfo({ db_name: 'x', doc_count: -1, doc_del_count: 1e300, sizes: { file: 1.5, external: '9', active: 2 ** 53 } });
    assert.deepEqual(info, { name: 'x', sizes: {} });
    assert.equal(parseDbInfo(parseJson(b('{"doc_count":1e400}'), 't')).docCount, undefined);
  });

  it('refuses bodies that are not database info', () => {
    assert.throws(() => parseDbInfo([]), ProtocolError);
    assert.throws(() => parseDbInfo({ ok: true }), /neither db_name nor doc_count/);
  });
});

describe('couchdb membership, _up, errors, Server header', () => {
  it('membership (CouchDB API reference, Cloudant docs) and node hosts', () => {
    assert.deepEqual(parseMembership(json('membership.json')), {
      allNodes: ['node1@127.0.0.1', 'node2@127.0.0.1', 'node3@127.0.0.1'],
      clusterNodes: ['node1@127.0.0.1', 'node2@127.0.0.1', 'node3@127.0.0.1'],
    });
    const cloudant = parseMembership(json('membership-cloudant.json'));
    assert.deepEqual(cloudant.clusterNodes.map(nodeHost), ['db1.testy004.cloudant.net', 'db2.testy004.cloudant.net', 'db3.testy004.cloudant.net']);
    assert.equal(nodeHost('couchdb@10.0.0.5'), '10.0.0.5');
    assert.equal(nodeHost('couchdb@fd00::5'), 'fd00::5');
    assert.equal(nodeHost('nonode@nohost'), undefined);
    assert.equal(nodeHost('no-at-sign'), undefined);
    assert.equal(nodeHost('a@b c'), undefined);
    assert.throws(() => parseMembership({ nodes: [] }), ProtocolError);
    const many = parseMembership({ all_nodes: Array.from({ length: 5000 }, (_, i) => `n${i}@h`), cluster_nodes: 'x' });
    assert.equal(many.allNodes.length, COUCHDB_LIMITS.nodes);
    assert.deepEqual(many.clusterNodes, []);
  });

  it('_up statuses (3.x with seeds, 2.2) and anything else', () => {
    assert.equal(parseUpStatus(fixture('up.json')), 'ok');
    assert.equal(parseUpStatus(fixture('up-2.2.json')), 'ok');
    assert.equal(parseUpStatus(b('{"status":"maintenance_mode"}')), 'maintenance_mode');
    assert.equal(parseUpStatus(b('{"error":"not_found","reason":"no_db_file"}')), undefined);
    assert.equal(parseUpStatus(b('<html>')), undefined);
  });

  it('error replies: the three documented 401 bodies, and non-errors', () => {
    assert.deepEqual(parseErrorReply(fixture('unauthorized-server-admin.json')), { error: 'unauthorized', reason: 'You are not a server admin.' });
    assert.deepEqual(parseErrorReply(fixture('unauthorized-authentication-required.json')), {
      error: 'unauthorized',
      reason: 'Authentication required.',
    });
    assert.deepEqual(parseErrorReply(fixture('unauthorized-db.json')), {
      error: 'unauthorized',
      reason: 'You are not authorized to access this db.',
    });
    assert.deepEqual(parseErrorReply(b('{"error":"not_found"}')), { error: 'not_found' });
    for (const s of ['<h1>401</h1>', '[]', '{"reason":"x"}', '\xff', '']) assert.equal(parseErrorReply(b(s)), undefined, s);
  });

  it('Server header versions', () => {
    assert.deepEqual(parseServerHeader('CouchDB/3.2.2-ea382cf (Erlang OTP/25)'), { version: '3.2.2-ea382cf' });
    assert.deepEqual(parseServerHeader('CouchDB/2.1.0-7f17678 (Erlang OTP/17)'), { version: '2.1.0-7f17678' });
    assert.deepEqual(parseServerHeader('CouchDB (Erlang/OTP)'), {});
    assert.equal(parseServerHeader('nginx/1.22.1'), undefined);
    assert.equal(parseServerHeader('CouchDBX/1'), undefined);
    assert.equal(parseServerHeader(undefined), undefined);
  });
});

describe('couchdb codec: hostile bodies', () => {
  it('invalid UTF-8, invalid JSON, absurd nesting: ProtocolError, not a crash', () => {
    assert.throws(() => parseJson(Buffer.from([0x7b, 0xff, 0x7d]), 'x'), /not UTF-8/);
    assert.throws(() => parseJson(b('{"couchdb":'), 'GET / reply'), /GET \/ reply is not JSON/);
    assert.throws(() => parseJson(b(''), 'x'), ProtocolError);
    // A byte-order mark is dropped by the UTF-8 decoder, as any JSON client would.
    assert.deepEqual(parseJson(b('\ufeff{}'), 'x'), {});
    const deep = b('['.repeat(1_000_000));
    assert.throws(() => parseJson(deep, 'x'), ProtocolError);
    const deepValid = b('['.repeat(200_000) + ']'.repeat(200_000));
    try {
      parseAllDbs(parseJson(deepValid, 'x'));
      assert.fail('nested arrays are not names');
    } catch (err) {
      assert.ok(err instanceof ProtocolError, String(err));
    }
  });

  it('prototype keys in a reply stay data', () => {
    const w = parseWelcome(parseJson(b('{"couchdb":"Welcome","__proto__":{"version":"evil"},"vendor":{"__proto__":{"name":"x"}}}'), 'w'));
    assert.equal(w.version, undefined);
    assert.equal(w.product, 'Apache CouchDB');
    assert.equal(({} as Record<string, unknown>).version, undefined);
  });

  it('a 1 MiB list of names parses within bounds', () => {
    const names = Array.from({ length: 60_000 }, (_, i) => `db_${i}`);
    const started = performance.now();
    const parsed = parseAllDbs(parseJson(b(JSON.stringify(names)), 'x'));
    assert.equal(parsed.length, 60_000);
    assert.ok(performance.now() - started < 1000);
  });

  it('fuzz: 2,000 mutated and random bodies only ever yield values or ProtocolError', () => {
    const seeds = [
      'welcome-3.0.0.json',
      'welcome-cloudant-2.0.0.json',
      'welcome-pouchdb-server-4.2.0.json',
      'all-dbs.json',
      'db-info-receipts.json',
      'membership.json',
      'up.json',
      'unauthorized-server-admin.json',
    ].map(fixture);
    const rand = rng(0xc0c0db);
    const int = (n: number): number => Math.floor(rand() * n);
    const parsers: ((v: unknown) => unknown)[] = [parseWelcome, parseAllDbs, parseDbInfo, parseMembership];
    let values = 0;
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      let buf: Buffer;
      const kind = i % 4;
      if (kind === 0) {
        buf = Buffer.from(Array.from({ length: int(300) }, () => int(256)));
      } else {
        buf = Buffer.from(seeds[int(seeds.length)]!);
        const edits = 1 + int(2);
        for (let e = 0; e < edits && buf.length > 0; e++) {
          const at = int(buf.length);
          if (kind === 1) buf[at] = int(256);
          else if (kind === 2) buf = buf.subarray(0, at);
          else buf = Buffer.concat([buf.subarray(0, at), Buffer.from(['{', '[', '"', ':', ',', '-1', '1e999', 'null'][int(8)]!), buf.subarray(at)]);
        }
      }
      for (const parse of parsers) {
        try {
          parse(parseJson(buf, 'fuzz'));
          values++;
        } catch (err) {
          assert.ok(err instanceof ProtocolError, `case ${i}: ${String(err)} for ${buf.toString('latin1')}`);
          refused++;
        }
      }
      // Never throw at all:
      parseErrorReply(buf);
      parseUpStatus(buf);
    }
    assert.ok(values > 100 && refused > 1000, `values ${values}, refused ${refused}`);
  });
});
