/**
 * Opening the case repository next to the store, on the store's own Kysely handle: the `0006_cases`
 * migration for stores whose migration list does not name it yet. Kept out of src/store/cases-store.ts so
 * that module stays free of imports migrations.ts would cycle through.
 */
import { type Kysely, Migrator } from 'kysely';
import { StoreError, errorMessage } from '../../core/errors.js';
import { CASES_MIGRATION_NAME, CasesRepository, casesMigration } from '../../store/cases-store.js';
import { migrations, type SqlFlavor } from '../../store/migrations.js';
import { openSqliteStore } from '../../store/sqlite-store.js';
import { type Store } from '../../store/store.js';
import { toStoreError } from '../../store/store-error.js';

/**
 * Makes sure the case tables exist on a store that `migrateToLatest` brought up. Once `migrations()` lists
 * `0006_cases` this does nothing (the store's own migration ran it). Until then the migration runs here,
 * recorded in a migration table of its own: the store's table must not name a migration its list lacks
 * (Kysely's Migrator would call that corrupted, and every other command would fail on this database).
 */
export async function migrateCases(db: Kysely<any>, flavor: SqlFlavor, label: string): Promise<void> {
  if (CASES_MIGRATION_NAME in migrations(flavor)) return;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ [CASES_MIGRATION_NAME]: casesMigration }) },
    migrationTableName: 'lockdown_cases_migration',
    migrationLockTableName: 'lockdown_cases_migration_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new StoreError(`Could not apply migration ${CASES_MIGRATION_NAME} to database ${label}: ${errorMessage(error)}`, { cause: error });
  }
}

export interface SqliteCaseStores {
  store: Store;
  cases: CasesRepository;
  close(): Promise<void>;
}

/** The case repository on a store's own Kysely handle (any dialect), its tables made sure of first. */
export async function caseRepositoryFor(store: Store, options: { flavor?: SqlFlavor; clock?: () => Date } = {}): Promise<CasesRepository> {
  const db = store.kysely();
  await migrateCases(db, options.flavor ?? 'sqlite', store.label);
  return new CasesRepository(db, { label: store.label, ...(options.clock ? { clock: options.clock } : {}) });
}

/** Opens the SQLite store at `path` (`:memory:` for a private in-memory one) with the case repository on it. */
export async function openSqliteCaseStores(path: string, options: { clock?: () => Date } = {}): Promise<SqliteCaseStores> {
  const store = await openSqliteStore(path, options.clock ? { clock: options.clock } : {});
  try {
    const cases = await caseRepositoryFor(store, { flavor: 'sqlite', ...(options.clock ? { clock: options.clock } : {}) });
    return { store, cases, close: () => store.close() };
  } catch (err) {
    await store.close();
    throw err instanceof StoreError ? err : toStoreError(err, `open the cases in database ${store.label}`);
  }
}
