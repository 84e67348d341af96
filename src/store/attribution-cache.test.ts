import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { ErrorCode, LockdownError } from '../core/errors.js';
import { attributionCacheMigration, createAttributionCache, type AttributionCache } from './attribution-cache.js';
import { migrations } from './migrations.js';

/** The cache on a real SQLite database, migrated with every released migration plus this one as 0005. */
describe('attribution cache (sqlite)', () => {
  let db: Kysely<any>;
  let cache: AttributionCache;
  const t = (h: number): Date => new Date(Date.parse('2026-03-01T00:00:00Z') + h * 3_600_000);

  before(async () => {
    db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
    assert.equal(migrations('sqlite')['0005_attribution_cache'], attributionCacheMigration);
    const { error, results } = await new Migrator({ db, provider: { getMigrations: async () => migrations('sqlite') } }).migrateToLatest();
    assert.equal(error, undefined);
    assert.ok(results?.some((r) => r.migrationName === '0005_attribution_cache' && r.status === 'Success'));
    cache = createAttributionCache(db, ':memory:');
  });
  after(async () => {
    await db.destroy();
  });

  it('returns unexpired entries in the order asked, with their JSON values', async () => {
    await cache.put([
      { key: 'rdap:192.0.2.0/24', value: { handle: 'NET-1', cidrs: ['192.0.2.0/24'] }, fetchedAt: t(0).toISOString(), expiresAt: t(24).toISOString() },
      { key: 'ptr:192.0.2.10', value: ['db1.example.org'], fetchedAt: t(0).toISOString(), expiresAt: t(24).toISOString() },
      { key: 'ptr:192.0.2.11', value: [], fetchedAt: t(0).toISOString(), expiresAt: t(1).toISOString() },
    ]);
    const got = await cache.get(['ptr:192.0.2.11', 'ptr:192.0.2.10', 'missing:x', 'rdap:192.0.2.0/24'], t(2));
    assert.deepEqual(
      got.map((e) => [e.key, e.value]),
      [
        ['ptr:192.0.2.10', ['db1.example.org']],
        ['rdap:192.0.2.0/24', { handle: 'NET-1', cidrs: ['192.0.2.0/24'] }],
      ],
    );
    assert.equal(got[0]!.fetchedAt, t(0).toISOString());
    assert.equal(got[0]!.expiresAt, t(24).toISOString());
    // Before it expired, the short-lived one was there.
    assert.equal((await cache.get(['ptr:192.0.2.11'], t(0.5))).length, 1);
    const kinds = await db.selectFrom('attribution_cache').select(['key', 'kind']).orderBy('key').execute();
    assert.deepEqual(kinds.map((r) => r.kind), ['ptr', 'ptr', 'rdap']);
  });

  it('replaces an entry with the same key (the last of a batch wins)', async () => {
    await cache.put([
      { key: 'security-txt:192.0.2.10', value: { absent: true }, fetchedAt: t(0).toISOString(), expiresAt: t(5).toISOString() },
      { key: 'security-txt:192.0.2.10', value: { absent: false }, fetchedAt: t(1).toISOString(), expiresAt: t(6).toISOString() },
    ]);
    await cache.put([{ key: 'security-txt:192.0.2.10', value: { file: { contacts: ['mailto:a@example.net'] } }, fetchedAt: t(3).toISOString(), expiresAt: t(30).toISOString() }]);
    const [e] = await cache.get(['security-txt:192.0.2.10'], t(10));
    assert.deepEqual(e?.value, { file: { contacts: ['mailto:a@example.net'] } });
    assert.equal(e?.fetchedAt, t(3).toISOString());
  });

  it('treats a damaged row as a miss', async () => {
    await sql`insert into attribution_cache (key, kind, value, fetched_at, expires_at) values ('ptr:damaged', 'ptr', '{not json', ${t(0).toISOString()}, ${t(99).toISOString()})`.execute(db);
    assert.deepEqual(await cache.get(['ptr:damaged'], t(1)), []);
  });

  it('purges expired rows and reports how many', async () => {
    const before = Number((await db.selectFrom('attribution_cache').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const purged = await cache.purgeExpired(t(25));
    const left = await db.selectFrom('attribution_cache').select('key').orderBy('key').execute();
    assert.equal(purged, before - left.length);
    assert.deepEqual(left.map((r) => r.key), ['ptr:damaged', 'security-txt:192.0.2.10']);
  });

  it('turns a driver failure into a StoreError naming the database', async () => {
    const broken = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
    try {
      const c = createAttributionCache(broken, 'test.db');
      await assert.rejects(c.get(['ptr:x'], t(0)), (err: unknown) => err instanceof LockdownError && err.code === ErrorCode.store && /read the attribution cache in database test\.db: no such table/.test(err.message));
    } finally {
      await broken.destroy();
    }
  });

  it('migrates down cleanly', async () => {
    const d = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
    try {
      await attributionCacheMigration.up(d);
      await attributionCacheMigration.down!(d);
      const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name = 'attribution_cache'`.execute(d);
      assert.deepEqual(tables.rows, []);
    } finally {
      await d.destroy();
    }
  });
});
