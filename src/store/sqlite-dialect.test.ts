import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { SafeRollbackSqliteDialect } from './sqlite-dialect.js';

interface Db {
  t: { id: number };
}

/** A transaction whose failing statement makes SQLite roll the whole transaction back by itself. */
async function failInsideTransaction(db: Kysely<Db>): Promise<void> {
  await sql`create table t (id integer primary key)`.execute(db);
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('t').values({ id: 1 }).execute();
    await sql`insert or rollback into t (id) values (1)`.execute(trx);
  });
}

describe('SafeRollbackSqliteDialect', () => {
  it("reports SQLite's own error when SQLite already rolled the transaction back", async () => {
    const database = new BetterSqlite3(':memory:');
    const db = new Kysely<Db>({ dialect: new SafeRollbackSqliteDialect(database) });
    try {
      await assert.rejects(failInsideTransaction(db), (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'SQLITE_CONSTRAINT_PRIMARYKEY');
        return true;
      });
      assert.equal(database.inTransaction, false);
      assert.deepEqual(await db.selectFrom('t').selectAll().execute(), [], 'the first insert was rolled back too');
      // The single connection is free again.
      await db.insertInto('t').values({ id: 2 }).execute();
    } finally {
      await db.destroy();
    }
  });

  it("is needed: Kysely's own dialect hides that error behind a failed ROLLBACK", async () => {
    const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
    try {
      await assert.rejects(failInsideTransaction(db), /cannot rollback - no transaction is active/);
    } finally {
      await db.destroy();
    }
  });

  it('still rolls back a transaction that is open', async () => {
    const database = new BetterSqlite3(':memory:');
    const db = new Kysely<Db>({ dialect: new SafeRollbackSqliteDialect(database) });
    try {
      await sql`create table t (id integer primary key)`.execute(db);
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('t').values({ id: 1 }).execute();
          await trx.insertInto('t').values({ id: 1 }).execute(); // plain conflict: only the statement fails
        }),
        /UNIQUE constraint failed/,
      );
      assert.equal(database.inTransaction, false);
      assert.deepEqual(await db.selectFrom('t').selectAll().execute(), []);
    } finally {
      await db.destroy();
    }
  });
});
