import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { StoreError } from '../core/errors.js';
import { createKyselyStore, type KyselyStoreOptions } from './kysely-store.js';
import { createSqliteBatchWriter } from './sqlite-batch-writer.js';
import { migrateToLatest } from './migrations.js';
import { SafeRollbackSqliteDialect } from './sqlite-dialect.js';
import { type Database } from './schema.js';
import { type Store } from './store.js';
import { toStoreError } from './store-error.js';

/** How long a writer waits for another process's lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the SQLite database at `path` and brings its schema up to date.
 * `:memory:` gives a private in-memory database. Failures (unwritable directory, a file that is not
 * a database, a full disk) become a `StoreError` naming the path.
 */
export async function openSqliteStore(path: string, options: Omit<KyselyStoreOptions, 'label'> = {}): Promise<Store> {
  const inMemory = path === ':memory:';
  const label = inMemory ? ':memory:' : resolve(path);
  let database: BetterSqlite3.Database;
  try {
    if (!inMemory) mkdirSync(dirname(label), { recursive: true });
    database = new BetterSqlite3(path);
  } catch (err) {
    throw toStoreError(err, `open database ${label}`);
  }
  return sqliteStoreFromDatabase(database, { ...options, label });
}

/**
 * The store over an already open better-sqlite3 handle: sets the connection pragmas, migrates, and
 * takes ownership (closing the store closes the handle, also when this fails). Exposed so a caller can
 * set its own pragmas first (tests cap `max_page_count` to make the disk "full").
 */
export async function sqliteStoreFromDatabase(database: BetterSqlite3.Database, options: KyselyStoreOptions): Promise<Store> {
  const { label } = options;
  try {
    // WAL: readers (the dashboard, `lockdown findings`) never block the scanner's writes.
    // synchronous=NORMAL is safe in WAL mode: a killed process loses nothing committed;
    // only a power cut can lose the last commits, never corrupt the file.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.pragma('foreign_keys = ON');
  } catch (err) {
    database.close();
    throw toStoreError(err, `open database ${label}`);
  }
  const db = new Kysely<Database>({ dialect: new SafeRollbackSqliteDialect(database) });
  try {
    await migrateToLatest(db, 'sqlite', label);
  } catch (err) {
    await db.destroy();
    throw err instanceof StoreError ? err : toStoreError(err, `migrate database ${label}`);
  }
  return createKyselyStore(db, { batchWriter: createSqliteBatchWriter(database, label), ...options });
}
