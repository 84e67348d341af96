import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { ErrorCode, LockdownError, StoreError } from '../core/errors.js';
import { type ProbeResult } from '../core/types.js';
import { type KyselyStoreOptions } from './kysely-store.js';
import { migrations } from './migrations.js';
import { type Database } from './schema.js';
import { openSqliteStore } from './sqlite-store.js';
import { type ScanBatch, type Store } from './store.js';

/**
 * One suite for every dialect (kysely's way: no storage mocks, the same assertions on each real
 * database). A dialect registers a factory below; PostgreSQL will add one that creates a fresh
 * database per `create()` on the test server.
 */
export interface TestDatabase {
  /** Opens the store on this database (migrating it); may be called again after `close()`. */
  open(options?: Omit<KyselyStoreOptions, 'label'>): Promise<Store>;
  /** A second, independent connection for asserting on raw rows. */
  inspect(): Kysely<Database>;
}

export interface StoreFactory {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new, empty database. */
  create(): Promise<TestDatabase>;
}

/** `portable`: write scan batches with the dialect-neutral Kysely queries instead of SQLite's own writer. */
function sqliteFactory(portable = false): StoreFactory {
  let dir = '';
  let n = 0;
  const inspectors: Kysely<Database>[] = [];
  return {
    name: portable ? 'sqlite (portable Kysely batch queries)' : 'sqlite',
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'lockdown-store-'));
    },
    async teardown() {
      for (const k of inspectors) await k.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
    async create() {
      const path = join(dir, `db-${++n}`, 'lockdown.db');
      return {
        open: (options) => openSqliteStore(path, portable ? { ...options, batchWriter: undefined } : options),
        inspect() {
          const k = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(path, { readonly: true }) }) });
          inspectors.push(k);
          return k;
        },
      };
    },
  };
}

const factories: StoreFactory[] = [sqliteFactory(), sqliteFactory(true)];

// ---- fixtures ----

const T0 = Date.parse('2026-01-10T08:00:00.000Z');
const iso = (secondsAfterT0: number): string => new Date(T0 + secondsAfterT0 * 1000).toISOString();

/** A clock that moves one second per call, so rows created in a row have distinct, ordered times. */
function steppingClock(start = Date.parse('2026-02-01T00:00:00.000Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

function result(host: string, port: number, module: string, over: Partial<ProbeResult> = {}): ProbeResult {
  return {
    module,
    target: { host, port },
    status: 'success',
    auth: 'open',
    product: 'Redis',
    version: '7.0.15',
    evidence: '$123\r\n# Server',
    metadata: { keys: 3 },
    peers: [],
    errors: [],
    commands: ['INFO'],
    bytesSent: 14,
    bytesRead: 2048,
    startedAt: iso(0),
    durationMs: 12,
    ...over,
  };
}

function batch(scanId: string, over: Partial<ScanBatch> = {}): ScanBatch {
  return { scanId, results: [], donePositions: [], watermark: 0, doneDelta: 0, answeredDelta: 0, openDelta: 0, ...over };
}

const newScan = { spec: { version: 1, targets: ['10.0.0.0/24'], ports: [6379] }, totalItems: 256, operator: 'alice', commandLine: 'lockdown scan 10.0.0.0/24' };

async function count(k: Kysely<Database>, table: keyof Database): Promise<number> {
  const row = await k.selectFrom(table).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---- the suite ----

export function describeStore(factory: StoreFactory): void {
  describe(`store on ${factory.name}`, () => {
    before(() => factory.setup());
    after(() => factory.teardown());

    /** A fresh database and an open store on it; the store is closed after the test. */
    async function fresh(options?: Omit<KyselyStoreOptions, 'label'>): Promise<{ db: TestDatabase; store: Store }> {
      const db = await factory.create();
      return { db, store: await db.open(options) };
    }

    it('migrates an empty database and reopens it without migrating again, keeping the data', async () => {
      const db = await factory.create();
      const first = await db.open();
      const scan = await first.createScan(newScan);
      await first.recordBatch(batch(scan.id, { results: [result('10.0.0.1', 6379, 'redis')], donePositions: [0], watermark: 1, doneDelta: 1 }));
      await first.close();

      const second = await db.open();
      const third = await db.open(); // a second handle on the same database (another process)
      try {
        assert.deepEqual(await second.getScan(scan.id), await third.getScan(scan.id));
        assert.equal((await second.getScan(scan.id))?.watermark, 1);
        assert.equal((await second.listFindings()).length, 1);
        const k = db.inspect();
        assert.equal(await count(k, 'findings'), 1);
        const applied = await k.selectFrom('kysely_migration' as never).selectAll().execute();
        assert.deepEqual(applied.map((m) => (m as { name: string }).name), Object.keys(migrations('sqlite')).sort());
      } finally {
        await second.close();
        await third.close();
      }
    });

    it('creates, reads and lists scans', async () => {
      const { store } = await fresh({ clock: steppingClock() });
      try {
        const a = await store.createScan(newScan);
        const b = await store.createScan({ ...newScan, spec: { nested: { list: [1, 'two', null] } }, operator: 'bob' });

        assert.match(a.id, /^s-\d{8}-\d{6}-[0-9a-f]{4}$/);
        assert.notEqual(a.id, b.id);
        assert.equal(a.state, 'running');
        assert.deepEqual(a.spec, newScan.spec);
        assert.equal(a.totalItems, 256);
        assert.equal(a.operator, 'alice');
        assert.equal(a.commandLine, 'lockdown scan 10.0.0.0/24');
        assert.deepEqual([a.watermark, a.doneCount, a.answeredCount, a.openCount], [0, 0, 0, 0]);
        assert.equal(a.finishedAt, null);
        assert.equal(a.createdAt, a.updatedAt);
        assert.equal(a.createdAt, '2026-02-01T00:00:01.000Z');

        assert.deepEqual(await store.getScan(a.id), a);
        assert.deepEqual((await store.getScan(b.id))?.spec, { nested: { list: [1, 'two', null] } });
        assert.equal(await store.getScan('s-00000000-000000-0000'), undefined);

        assert.deepEqual((await store.listScans()).map((s) => s.id), [b.id, a.id], 'newest first');
        assert.deepEqual((await store.listScans(1)).map((s) => s.id), [b.id]);
      } finally {
        await store.close();
      }
    });

    it('sets scan states, stamping finished_at only for finished scans', async () => {
      const { store } = await fresh({ clock: steppingClock() });
      try {
        const scan = await store.createScan(newScan);
        await store.setScanState(scan.id, 'interrupted');
        let got = await store.getScan(scan.id);
        assert.equal(got?.state, 'interrupted');
        assert.equal(got?.finishedAt, null);
        assert.ok(got !== undefined && got.updatedAt > scan.updatedAt);

        await store.setScanState(scan.id, 'completed');
        got = await store.getScan(scan.id);
        assert.equal(got?.state, 'completed');
        assert.equal(got?.finishedAt, got?.updatedAt);

        await store.setScanState(scan.id, 'running'); // resumed
        assert.equal((await store.getScan(scan.id))?.finishedAt, null);

        await assert.rejects(store.setScanState('s-nope', 'failed'), (err: unknown) => err instanceof LockdownError && err.code === ErrorCode.notFound);
      } finally {
        await store.close();
      }
    });

    it('records batches: hosts and findings upserted with first/last seen, counters, watermark, done positions', async () => {
      const { db, store } = await fresh();
      try {
        const scan = await store.createScan(newScan);
        await store.recordBatch(
          batch(scan.id, {
            results: [
              result('10.0.0.5', 6379, 'redis', { startedAt: iso(0), target: { host: '10.0.0.5', port: 6379, hostname: 'cache.example' } }),
              result('10.0.0.5', 11211, 'memcached', { startedAt: iso(1), auth: 'auth_required', product: 'memcached', version: '1.6.18' }),
            ],
            donePositions: [0, 1, 2, 5, 7],
            watermark: 3,
            doneDelta: 5,
            answeredDelta: 2,
            openDelta: 1,
          }),
        );
        let s = await store.getScan(scan.id);
        assert.deepEqual([s?.watermark, s?.doneCount, s?.answeredCount, s?.openCount], [3, 5, 2, 1]);
        assert.ok(s !== undefined && s.updatedAt >= scan.updatedAt);
        assert.deepEqual(await store.donePositionsAboveWatermark(scan.id), [5, 7]);

        // Later: redis now asks for a password and reports a new version; the hostname is not repeated.
        await store.recordBatch(
          batch(scan.id, {
            results: [
              result('10.0.0.5', 6379, 'redis', {
                startedAt: iso(60),
                auth: 'auth_required',
                version: '7.2.4',
                evidence: '-NOAUTH Authentication required.',
                metadata: { mode: 'standalone' },
                peers: [{ host: '10.0.0.6', port: 6379, role: 'replica', source: 'INFO replication: slave0' }],
                errors: ['Keyspace not readable'],
              }),
            ],
            donePositions: [3, 4, 6, 9],
            watermark: 8,
            doneDelta: 4,
            answeredDelta: 1,
            openDelta: 0,
          }),
        );
        s = await store.getScan(scan.id);
        assert.deepEqual([s?.watermark, s?.doneCount, s?.answeredCount, s?.openCount], [8, 9, 3, 1]);
        assert.deepEqual(await store.donePositionsAboveWatermark(scan.id), [9]);
        // Rows below the watermark are gone from the table, not just filtered out.
        assert.equal(await count(db.inspect(), 'scan_done'), 1);

        const host = await store.getHost('10.0.0.5');
        assert.deepEqual(host?.host, { host: '10.0.0.5', hostname: 'cache.example', firstSeen: iso(0), lastSeen: iso(60), honeypot: null });
        assert.deepEqual(host?.findings.map((f) => `${f.port}/${f.module}`), ['6379/redis', '11211/memcached']);

        const redis = host?.findings[0];
        assert.equal(redis?.firstSeen, iso(0), 'first_seen kept');
        assert.equal(redis?.lastSeen, iso(60));
        assert.equal(redis?.auth, 'auth_required');
        assert.equal(redis?.version, '7.2.4');
        assert.equal(redis?.product, 'Redis');
        assert.equal(redis?.hostname, 'cache.example', 'hostname kept when a later result has none');
        assert.equal(redis?.evidence, '-NOAUTH Authentication required.');
        assert.deepEqual(redis?.metadata, { mode: 'standalone' });
        assert.deepEqual(redis?.peers, [{ host: '10.0.0.6', port: 6379, role: 'replica', source: 'INFO replication: slave0' }]);
        assert.deepEqual(redis?.errors, ['Keyspace not readable']);
        assert.equal(redis?.lastScanId, scan.id);
        assert.equal(redis?.status, 'success');

        // A second scan of the same service moves last_scan_id; the first scan's observation stays.
        const rescan = await store.createScan(newScan);
        await store.recordBatch(batch(rescan.id, { results: [result('10.0.0.5', 6379, 'redis', { startedAt: iso(3600), auth: 'open' })], watermark: 1, doneDelta: 1 }));
        const [again] = (await store.getHost('10.0.0.5'))?.findings ?? [];
        assert.equal(again?.lastScanId, rescan.id);
        assert.equal(again?.firstSeen, iso(0));
        assert.equal(again?.auth, 'open');
        assert.equal(await count(db.inspect(), 'observations'), 3);
      } finally {
        await store.close();
      }
    });

    it('replaying a batch duplicates no finding or observation, and an older result never overwrites a newer one', async () => {
      const { db, store } = await fresh();
      try {
        const scan = await store.createScan(newScan);
        const results = [result('10.0.0.1', 6379, 'redis', { startedAt: iso(10) }), result('10.0.0.2', 5432, 'postgres', { startedAt: iso(11), product: 'PostgreSQL' })];
        const b = batch(scan.id, { results, donePositions: [0, 1, 4], watermark: 2, doneDelta: 3, answeredDelta: 2, openDelta: 2 });
        await store.recordBatch(b);
        const before = await store.listFindings();
        await store.recordBatch(b);

        const k = db.inspect();
        assert.equal(await count(k, 'findings'), 2);
        assert.equal(await count(k, 'observations'), 2);
        assert.equal(await count(k, 'hosts'), 2);
        assert.equal(await count(k, 'scan_done'), 1);
        assert.deepEqual(await store.listFindings(), before);

        // A late batch carrying an older result for 10.0.0.1 leaves the newer state alone.
        await store.recordBatch(batch(scan.id, { results: [result('10.0.0.1', 6379, 'redis', { startedAt: iso(5), auth: 'auth_required', version: '2.8.0' })], watermark: 0 }));
        const [f] = await store.listFindings({ host: '10.0.0.1' });
        assert.deepEqual([f?.auth, f?.version, f?.lastSeen, f?.firstSeen], ['open', '7.0.15', iso(10), iso(10)]);
        assert.equal((await store.getHost('10.0.0.1'))?.host.firstSeen, iso(5), 'host first_seen is the earliest sighting');
        assert.equal((await store.getScan(scan.id))?.watermark, 2, 'the watermark never moves back');
        assert.deepEqual(await store.donePositionsAboveWatermark(scan.id), [4]);

        // Two results for the same service in one batch: one finding (the newest), one observation.
        await store.recordBatch(
          batch(scan.id, {
            results: [
              result('10.0.0.3', 6379, 'redis', { startedAt: iso(21), version: 'newest' }),
              result('10.0.0.3', 6379, 'redis', { startedAt: iso(20), version: 'older' }),
            ],
          }),
        );
        const dup = await store.listFindings({ host: '10.0.0.3' });
        assert.deepEqual(dup.map((d) => d.version), ['newest']);
        assert.equal(await count(k, 'observations'), 3);
      } finally {
        await store.close();
      }
    });

    it('filters findings by auth, module, host and scan, in address order', async () => {
      const { store } = await fresh();
      try {
        const s1 = await store.createScan(newScan);
        const s2 = await store.createScan(newScan);
        await store.recordBatch(
          batch(s1.id, {
            results: [
              result('10.0.0.10', 6379, 'redis'),
              result('10.0.0.2', 6379, 'redis', { auth: 'auth_required' }),
              result('10.0.0.2', 5432, 'postgres', { auth: 'inconclusive', product: 'PostgreSQL' }),
              result('2001:db8::1', 11211, 'memcached', { product: 'memcached' }),
              result('10.0.0.9', 3306, 'mysql', { status: 'protocol-error', auth: undefined, product: undefined, version: undefined }),
            ],
          }),
        );
        await store.recordBatch(batch(s2.id, { results: [result('10.0.0.2', 6379, 'redis', { auth: 'auth_required', startedAt: iso(100) }), result('10.0.0.77', 6379, 'redis', { startedAt: iso(100) })] }));

        const key = (fs: { host: string; port: number }[]) => fs.map((f) => `${f.host}:${f.port}`);
        assert.deepEqual(key(await store.listFindings()), ['10.0.0.2:5432', '10.0.0.2:6379', '10.0.0.9:3306', '10.0.0.10:6379', '10.0.0.77:6379', '2001:db8::1:11211']);
        assert.deepEqual(key(await store.listFindings({ auth: ['open'] })), ['10.0.0.10:6379', '10.0.0.77:6379', '2001:db8::1:11211']);
        assert.deepEqual(key(await store.listFindings({ auth: ['auth_required', 'inconclusive'] })), ['10.0.0.2:5432', '10.0.0.2:6379']);
        assert.deepEqual(key(await store.listFindings({ auth: [] })), []);
        assert.deepEqual(key(await store.listFindings({ module: ['memcached', 'mysql'] })), ['10.0.0.9:3306', '2001:db8::1:11211']);
        assert.deepEqual(key(await store.listFindings({ host: '10.0.0.2' })), ['10.0.0.2:5432', '10.0.0.2:6379']);
        assert.deepEqual(key(await store.listFindings({ scanId: s2.id })), ['10.0.0.2:6379', '10.0.0.77:6379']);
        // Scan 1 saw 10.0.0.2:6379 too, although scan 2 has seen it since.
        assert.deepEqual(key(await store.listFindings({ scanId: s1.id, module: ['redis'] })), ['10.0.0.2:6379', '10.0.0.10:6379']);
        assert.deepEqual(key(await store.listFindings({ scanId: s1.id, auth: ['open'], module: ['redis'] })), ['10.0.0.10:6379']);
        assert.deepEqual(key(await store.listFindings({ limit: 2 })), ['10.0.0.2:5432', '10.0.0.2:6379']);
        assert.deepEqual(key(await store.listFindings({ scanId: 's-none' })), []);

        const mysql = (await store.listFindings({ module: ['mysql'] }))[0];
        assert.equal(mysql?.auth, null);
        assert.equal(mysql?.status, 'protocol-error');
        assert.equal(mysql?.product, null);
      } finally {
        await store.close();
      }
    });

    it('getHost returns the host with its findings, or undefined', async () => {
      const { store } = await fresh();
      try {
        const scan = await store.createScan(newScan);
        await store.recordBatch(batch(scan.id, { results: [result('192.0.2.7', 27017, 'mongodb'), result('192.0.2.7', 6379, 'redis'), result('192.0.2.8', 6379, 'redis')] }));
        const got = await store.getHost('192.0.2.7');
        assert.deepEqual(got?.host, { host: '192.0.2.7', hostname: null, firstSeen: iso(0), lastSeen: iso(0), honeypot: null });
        assert.deepEqual(got?.findings.map((f) => f.port), [6379, 27017]);
        assert.ok(got?.findings.every((f) => f.host === '192.0.2.7'));
        assert.equal(await store.getHost('192.0.2.99'), undefined);
      } finally {
        await store.close();
      }
    });

    it('writes an audit row for every result, with the operator of the scan, newest first', async () => {
      const { store } = await fresh();
      try {
        const alice = await store.createScan(newScan);
        const bob = await store.createScan({ ...newScan, operator: 'bob' });
        await store.recordBatch(
          batch(alice.id, {
            results: [
              result('10.0.0.1', 6379, 'redis', { commands: ['CLIENT SETNAME', 'INFO'], bytesSent: 60, bytesRead: 4100, durationMs: 33.6, startedAt: iso(1) }),
              result('10.0.0.1', 6379, 'redis', { startedAt: iso(2), status: 'io-timeout', auth: undefined, commands: ['INFO'] }),
            ],
          }),
        );
        await store.recordBatch(batch(bob.id, { results: [result('10.0.0.2', 5432, 'postgres', { commands: ['StartupMessage'], startedAt: iso(3), auth: 'auth_required' })] }));

        const all = await store.listAudit();
        assert.deepEqual(all.map((a) => `${a.operator} ${a.host}:${a.port} ${a.at}`), [
          `bob 10.0.0.2:5432 ${iso(3)}`,
          `alice 10.0.0.1:6379 ${iso(2)}`,
          `alice 10.0.0.1:6379 ${iso(1)}`,
        ]);
        const first = all[2];
        assert.deepEqual(first, {
          id: first?.id,
          at: iso(1),
          scanId: alice.id,
          operator: 'alice',
          host: '10.0.0.1',
          port: 6379,
          module: 'redis',
          commands: ['CLIENT SETNAME', 'INFO'],
          bytesSent: 60,
          bytesRead: 4100,
          status: 'success',
          auth: 'open',
          durationMs: 34,
        });
        assert.equal(all[1]?.auth, null);
        assert.equal(all[1]?.status, 'io-timeout');
        assert.ok((all[0]?.id ?? 0) > (all[1]?.id ?? 0));

        assert.deepEqual((await store.listAudit({ scanId: bob.id })).map((a) => a.module), ['postgres']);
        assert.deepEqual((await store.listAudit({ host: '10.0.0.1' })).map((a) => a.at), [iso(2), iso(1)]);
        assert.deepEqual((await store.listAudit({ host: '10.0.0.1', scanId: bob.id })), []);
        assert.deepEqual((await store.listAudit({ limit: 1 })).map((a) => a.host), ['10.0.0.2']);
      } finally {
        await store.close();
      }
    });

    it('rejects a batch for an unknown scan or with bad input, writing nothing', async () => {
      const { db, store } = await fresh();
      try {
        const scan = await store.createScan(newScan);
        await assert.rejects(
          store.recordBatch(batch('s-unknown', { results: [result('10.0.0.1', 6379, 'redis')] })),
          (err: unknown) => err instanceof LockdownError && err.code === ErrorCode.notFound && /s-unknown/.test(err.message),
        );
        await assert.rejects(
          store.recordBatch(batch(scan.id, { results: [result('10.0.0.1', 6379, 'redis', { startedAt: 'yesterday' })], doneDelta: 1 })),
          (err: unknown) => err instanceof StoreError && /record a batch for scan/.test(err.message) && /yesterday/.test(err.message),
        );
        await assert.rejects(store.recordBatch(batch(scan.id, { watermark: -1 })), StoreError);
        // A result whose metadata cannot become JSON fails mid-way through building rows: nothing written.
        await assert.rejects(store.recordBatch(batch(scan.id, { results: [result('10.0.0.1', 6379, 'redis', { metadata: { n: 1n } })] })), StoreError);

        const k = db.inspect();
        for (const table of ['hosts', 'findings', 'observations', 'audit_log', 'scan_done'] as const) {
          assert.equal(await count(k, table), 0, table);
        }
        assert.equal((await store.getScan(scan.id))?.doneCount, 0);
      } finally {
        await store.close();
      }
    });

    it('refuses calls after close with a StoreError', async () => {
      const { store } = await fresh();
      await store.close();
      await store.close(); // closing twice is harmless
      await assert.rejects(store.listScans(), (err: unknown) => err instanceof StoreError && /closed/.test(err.message));
    });

    it('commits 5,000-result batches (new, updated, new) and reports how long they took', async (t) => {
      const { db, store } = await fresh();
      try {
        const scan = await store.createScan({ ...newScan, totalItems: 20_000 });
        const make = (offset: number, seconds: number): ProbeResult[] =>
          Array.from({ length: 5000 }, (_, i) =>
            result(`10.${(i >> 8) & 255}.${i & 255}.${offset}`, 6379, 'redis', {
              startedAt: iso(seconds),
              metadata: { keyspace: { db0: { keys: i, expires: 0 } }, role: 'master', usedMemory: 1_000_000 + i },
              commands: ['CLIENT SETNAME', 'INFO'],
            }),
          );
        const timings: number[] = [];
        for (const [n, results] of [make(1, 1), make(1, 2), make(2, 3)].entries()) {
          const positions = Array.from({ length: 5000 }, (_, i) => n * 5000 + i);
          const started = performance.now();
          await store.recordBatch(batch(scan.id, { results, donePositions: positions, watermark: (n + 1) * 5000 - 10, doneDelta: 5000, answeredDelta: 5000, openDelta: 5000 }));
          timings.push(performance.now() - started);
        }
        // new rows, the same 5,000 services updated, then 5,000 more new ones
        t.diagnostic(`${factory.name}: 5,000-result batches committed in ${timings.map((t) => `${t.toFixed(0)} ms`).join(', ')}`);
        // Timing is reported, not asserted (speed is measured by `npm run bench`, not by a timed test);
        // only a pathological slowdown (e.g. a lost index turning upserts into scans) fails here.
        for (const t of timings) assert.ok(t < 20_000, `batch took ${t.toFixed(0)} ms`);
        const k = db.inspect();
        assert.equal(await count(k, 'findings'), 10_000);
        assert.equal(await count(k, 'audit_log'), 15_000);
        assert.equal((await store.getScan(scan.id))?.doneCount, 15_000);
        assert.equal(await count(k, 'scan_done'), 10);
      } finally {
        await store.close();
      }
    });
  });
}

for (const factory of factories) describeStore(factory);
