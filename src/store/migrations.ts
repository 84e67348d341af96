import { type CreateTableBuilder, type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { attributionCacheMigration } from './attribution-cache.js';
import { casesMigration } from './cases-store.js';
import { StoreError, errorMessage } from '../core/errors.js';

/**
 * Schema migrations, in code so the built CLI needs no migration files on disk.
 * Names sort in the order they run (Kysely's Migrator orders them by name); never rename or edit a
 * released migration, add a new one.
 *
 * The only thing the two dialects spell differently is the auto-numbered id column, so the migrations
 * take a `SqlFlavor`; everything else is SQL both share (text, integer, bigint columns; JSON and times as text).
 */
export type SqlFlavor = 'sqlite' | 'postgres';

/**
 * The auto-numbered id: SQLite's `integer primary key autoincrement` (64-bit, never reuses a deleted id;
 * SQLite allows AUTOINCREMENT only on the exact type `integer`), PostgreSQL's `bigint` identity.
 */
function addId<T extends CreateTableBuilder<any, any>>(table: T, flavor: SqlFlavor): T {
  return (
    flavor === 'sqlite'
      ? table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      : table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
  ) as T;
}

function initial(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('scans')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('total_items', 'bigint', (c) => c.notNull())
        .addColumn('watermark', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('done_count', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('answered_count', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('open_count', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('operator', 'text', (c) => c.notNull())
        .addColumn('command_line', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('scans_created_at').on('scans').column('created_at').execute();

      await db.schema
        .createTable('scan_done')
        .addColumn('scan_id', 'text', (c) => c.notNull().references('scans.id').onDelete('cascade'))
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('scan_done_pk', ['scan_id', 'position'])
        .execute();

      await db.schema
        .createTable('hosts')
        .addColumn('host', 'text', (c) => c.primaryKey())
        .addColumn('host_key', 'text', (c) => c.notNull())
        .addColumn('hostname', 'text')
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('hosts_host_key').on('hosts').column('host_key').execute();

      await addId(db.schema.createTable('findings'), flavor)
        .addColumn('host', 'text', (c) => c.notNull().references('hosts.host'))
        .addColumn('host_key', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('module', 'text', (c) => c.notNull())
        .addColumn('hostname', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('auth', 'text')
        .addColumn('product', 'text')
        .addColumn('version', 'text')
        .addColumn('evidence', 'text')
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('peers', 'text', (c) => c.notNull())
        .addColumn('errors', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('last_scan_id', 'text', (c) => c.references('scans.id').onDelete('set null'))
        .addUniqueConstraint('findings_service', ['host', 'port', 'module'])
        .execute();
      // The unique constraint already indexes (host, port, module), which serves filters by host.
      await db.schema.createIndex('findings_auth').on('findings').columns(['auth', 'module']).execute();
      await db.schema.createIndex('findings_module').on('findings').column('module').execute();
      await db.schema.createIndex('findings_order').on('findings').columns(['host_key', 'port', 'module']).execute();
      await db.schema.createIndex('findings_last_scan').on('findings').column('last_scan_id').execute();

      await db.schema
        .createTable('observations')
        .addColumn('scan_id', 'text', (c) => c.notNull().references('scans.id').onDelete('cascade'))
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('module', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('auth', 'text')
        .addColumn('product', 'text')
        .addColumn('version', 'text')
        .addColumn('observed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('observations_pk', ['scan_id', 'host', 'port', 'module'])
        .execute();
      // For "which scans saw this service" (diffs, history of one host).
      await db.schema.createIndex('observations_service').on('observations').columns(['host', 'port', 'module']).execute();

      await addId(db.schema.createTable('audit_log'), flavor)
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('scan_id', 'text', (c) => c.references('scans.id').onDelete('set null'))
        .addColumn('operator', 'text', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('module', 'text', (c) => c.notNull())
        .addColumn('commands', 'text', (c) => c.notNull())
        .addColumn('bytes_sent', 'bigint', (c) => c.notNull())
        .addColumn('bytes_read', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('auth', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_scan').on('audit_log').columns(['scan_id', 'id']).execute();
      await db.schema.createIndex('audit_log_host').on('audit_log').columns(['host', 'id']).execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      for (const table of ['audit_log', 'observations', 'findings', 'hosts', 'scan_done', 'scans']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

/**
 * Imported candidates: one `imports` row per file and one `candidates` row per service it asserted.
 * `candidates_service` serves verification: the first candidate of each (host, port, module) is probed
 * once and the verdict is written onto every candidate naming that service.
 */
function imports(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('imports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('file_path', 'text', (c) => c.notNull())
        .addColumn('file_size', 'bigint')
        .addColumn('gzip', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('lines', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('candidates', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('skipped', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('malformed', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('malformed_samples', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('operator', 'text', (c) => c.notNull())
        .addColumn('command_line', 'text', (c) => c.notNull())
        .addColumn('verify_scan_id', 'text', (c) => c.references('scans.id').onDelete('set null'))
        .execute();
      await db.schema.createIndex('imports_started_at').on('imports').column('started_at').execute();

      await db.schema
        .createTable('candidates')
        .addColumn('import_id', 'text', (c) => c.notNull().references('imports.id').onDelete('cascade'))
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('host_key', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('module', 'text')
        .addColumn('product', 'text')
        .addColumn('version', 'text')
        .addColumn('claim_auth', 'text')
        .addColumn('claim', 'text', (c) => c.notNull())
        .addColumn('line', 'bigint', (c) => c.notNull())
        .addColumn('verified_scan_id', 'text', (c) => c.references('scans.id').onDelete('set null'))
        .addColumn('verify_status', 'text')
        .addColumn('verdict', 'text')
        .addColumn('verified_at', 'text')
        .addColumn('stale', 'integer')
        .addPrimaryKeyConstraint('candidates_pk', ['import_id', 'position'])
        .execute();
      await db.schema
        .createIndex('candidates_service')
        .on('candidates')
        .columns(['import_id', 'host', 'port', 'module', 'position'])
        .execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('candidates').execute();
      await db.schema.dropTable('imports').execute();
    },
  };
}

/** 0003: what the assessment stage adds to a finding (severity, compromise, inventory, redacted sample). */
function assessment(): Migration {
  const columns = [
    ['severity', 'text'],
    ['severity_score', 'integer'],
    ['compromised', 'integer'],
    ['assessment', 'text'],
    ['inventory', 'text'],
    ['sample', 'text'],
  ] as const;
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const [name, type] of columns) await db.schema.alterTable('findings').addColumn(name, type).execute();
      await db.schema.createIndex('findings_severity').on('findings').column('severity_score').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('findings_severity').execute();
      for (const [name] of columns) await db.schema.alterTable('findings').dropColumn(name).execute();
    },
  };
}

/** 0004: likely-honeypot suspicions per host (JSON), so findings can be flagged instead of reported. */
function honeypot(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('hosts').addColumn('honeypot', 'text').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('hosts').dropColumn('honeypot').execute();
    },
  };
}

/** Every migration, by name. Later stages keep theirs beside their repository (attribution-cache.ts …). */
export function migrations(flavor: SqlFlavor): Record<string, Migration> {
  return {
    '0001_initial': initial(flavor),
    '0002_imports': imports(),
    '0003_assessment': assessment(),
    '0004_honeypot': honeypot(),
    '0005_attribution_cache': attributionCacheMigration,
    '0006_cases': casesMigration,
  };
}

/** Name of the newest migration: what a migrated database reports as applied last. */
export const LATEST_MIGRATION: string = Object.keys(migrations('sqlite')).sort().at(-1) ?? '';

export function migrationProvider(flavor: SqlFlavor): MigrationProvider {
  return { getMigrations: async () => migrations(flavor) };
}

/**
 * Brings the schema up to date. Running it on an up-to-date database does nothing.
 * `label` names the database in the error (a file path, or a redacted connection string).
 */
export async function migrateToLatest(db: Kysely<any>, flavor: SqlFlavor, label: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(flavor) });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const what = failed ? `migration ${failed}` : 'migrations';
    throw new StoreError(`Could not apply ${what} to database ${label}: ${errorMessage(error)}`, { cause: error });
  }
}
