import type BetterSqlite3 from 'better-sqlite3';
import { type DatabaseConnection, type Driver, SqliteDialect, SqliteDriver } from 'kysely';

/**
 * Kysely's SQLite dialect over a better-sqlite3 handle, with one change: after some errors (I/O errors,
 * out of memory, a full disk during commit, an `OR ROLLBACK` conflict) SQLite has already rolled the whole
 * transaction back itself, and Kysely's unconditional ROLLBACK then fails with "cannot rollback - no
 * transaction is active", which replaces the error that matters. Here ROLLBACK is sent only if a
 * transaction is still open.
 */
export class SafeRollbackSqliteDialect extends SqliteDialect {
  readonly #database: BetterSqlite3.Database;

  constructor(database: BetterSqlite3.Database) {
    super({ database });
    this.#database = database;
  }

  override createDriver(): Driver {
    return new SafeRollbackSqliteDriver(this.#database);
  }
}

class SafeRollbackSqliteDriver extends SqliteDriver {
  readonly #database: BetterSqlite3.Database;

  constructor(database: BetterSqlite3.Database) {
    super({ database });
    this.#database = database;
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.#database.inTransaction) return;
    await super.rollbackTransaction(connection);
  }
}
