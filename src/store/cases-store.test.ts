import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator } from 'kysely';
import { openSqliteCaseStores } from '../disclose/cases/open-stores.js';
import { casesMigration, CASES_MIGRATION_NAME } from './cases-store.js';
import { migrations } from './migrations.js';
import { SafeRollbackSqliteDialect } from './sqlite-dialect.js';
import { openSqliteStore } from './sqlite-store.js';

describe('cases store: migration', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-cases-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a database with cases still opens for every other command (the store migrator is not upset)', async () => {
    const file = path.join(dir, 'a.db');
    const stores = await openSqliteCaseStores(file);
    await stores.close();
    const store = await openSqliteStore(file);
    assert.deepEqual(await store.listFindings(), []);
    await store.close();
    // And the case tables are still there when opened again.
    const again = await openSqliteCaseStores(file);
    assert.deepEqual(await again.cases.list(), []);
    await again.close();
  });

  it(`${CASES_MIGRATION_NAME} is in the main migration list and migrating again changes nothing`, async () => {
    const file = path.join(dir, 'b.db');
    const stores = await openSqliteCaseStores(file);
    await stores.close();
    const database = new BetterSqlite3(file);
    const db = new Kysely<any>({ dialect: new SafeRollbackSqliteDialect(database) });
    try {
      assert.equal(migrations('sqlite')[CASES_MIGRATION_NAME], casesMigration);
      const { error, results } = await new Migrator({ db, provider: { getMigrations: async () => migrations('sqlite') } }).migrateToLatest();
      assert.equal(error, undefined);
      assert.deepEqual(results, []);
      const tables = (await db.selectFrom('sqlite_master').select('name').where('type', '=', 'table').execute()).map((r) => r.name as string);
      assert.ok(tables.includes('cases') && tables.includes('case_events'));
    } finally {
      await db.destroy();
    }
  });
});
