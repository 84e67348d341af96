import { type Kysely, type Transaction } from 'kysely';
import { NotFoundError, StoreError } from '../core/errors.js';
import { batchRows, integer } from './batch-rows.js';
import { toAuditRecord, toFindingRecord, toHostRecord, toScanRecord } from './row-mappers.js';
import { newScanId } from './scan-id.js';
import { type Database, type NewAuditRow, type NewFindingRow, type NewHostRow } from './schema.js';
import {
  type AuditFilter,
  type AuditRecord,
  type FindingFilter,
  type FindingRecord,
  type HostRecord,
  type NewScan,
  type ScanBatch,
  type ScanRecord,
  type ScanState,
  type Store,
} from './store.js';
import { toStoreError } from './store-error.js';

export interface KyselyStoreOptions {
  /** Names the database in error messages: a file path, or a connection string without its password. */
  label: string;
  /** Source of "now" for created/updated times and scan ids; tests pass a fixed clock. */
  clock?: () => Date;
}

/**
 * Bound parameters per statement. SQLite allows 32,766 and PostgreSQL 65,535; staying well below both
 * keeps one multi-row statement per few hundred rows, which measured as fast as larger ones.
 */
const MAX_PARAMS_PER_STATEMENT = 8000;

/** States after which a scan is over: they stamp `finished_at`. */
const FINISHED_STATES: ReadonlySet<ScanState> = new Set(['completed', 'failed']);

/**
 * The `Store` on any Kysely dialect whose schema was brought up by `migrateToLatest`. Only SQL that
 * SQLite and PostgreSQL share: `ON CONFLICT … DO UPDATE/NOTHING`, `CASE`, `COALESCE`, `EXISTS`.
 */
export function createKyselyStore(db: Kysely<Database>, options: KyselyStoreOptions): Store {
  return new KyselyStore(db, options);
}

class KyselyStore implements Store {
  readonly #db: Kysely<Database>;
  readonly #label: string;
  readonly #clock: () => Date;
  #closed = false;

  constructor(db: Kysely<Database>, options: KyselyStoreOptions) {
    this.#db = db;
    this.#label = options.label;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Runs `fn`, turning any driver failure into a StoreError naming the action and the database. */
  async #run<T>(action: string, fn: () => Promise<T>): Promise<T> {
    const what = `${action} in database ${this.#label}`;
    if (this.#closed) throw new StoreError(`Could not ${what}: the store is closed`);
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  createScan(scan: NewScan): Promise<ScanRecord> {
    return this.#run('create a scan', async () => {
      const now = this.#clock();
      const at = now.toISOString();
      const spec = JSON.stringify(scan.spec ?? null);
      for (let attempt = 0; attempt < 8; attempt++) {
        const id = newScanId(now);
        // DO NOTHING + row count instead of catching a unique violation: the same on both dialects.
        const result = await this.#db
          .insertInto('scans')
          .values({
            id,
            state: 'running',
            spec,
            total_items: integer(scan.totalItems, 'totalItems'),
            watermark: 0,
            done_count: 0,
            answered_count: 0,
            open_count: 0,
            operator: scan.operator,
            command_line: scan.commandLine,
            created_at: at,
            updated_at: at,
            finished_at: null,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .executeTakeFirst();
        if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 1) {
          const row = await this.#db.selectFrom('scans').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
          return toScanRecord(row);
        }
      }
      throw new Error('no free scan id after 8 attempts');
    });
  }

  getScan(id: string): Promise<ScanRecord | undefined> {
    return this.#run(`read scan ${id}`, async () => {
      const row = await this.#db.selectFrom('scans').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : toScanRecord(row);
    });
  }

  listScans(limit?: number): Promise<ScanRecord[]> {
    return this.#run('list scans', async () => {
      let query = this.#db.selectFrom('scans').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc');
      if (limit !== undefined) query = query.limit(integer(limit, 'limit'));
      return (await query.execute()).map(toScanRecord);
    });
  }

  setScanState(id: string, state: ScanState): Promise<void> {
    return this.#run(`set the state of scan ${id}`, async () => {
      const at = this.#clock().toISOString();
      const result = await this.#db
        .updateTable('scans')
        // A resumed scan (back to running) is no longer finished.
        .set({ state, updated_at: at, finished_at: FINISHED_STATES.has(state) ? at : null })
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new NotFoundError(`No scan ${id} in database ${this.#label}`);
    });
  }

  donePositionsAboveWatermark(scanId: string): Promise<number[]> {
    return this.#run(`read the done positions of scan ${scanId}`, async () => {
      const rows = await this.#db
        .selectFrom('scan_done')
        .innerJoin('scans', 'scans.id', 'scan_done.scan_id')
        .select('scan_done.position')
        .where('scan_done.scan_id', '=', scanId)
        .whereRef('scan_done.position', '>=', 'scans.watermark')
        .orderBy('scan_done.position')
        .execute();
      return rows.map((r) => Number(r.position));
    });
  }

  recordBatch(batch: ScanBatch): Promise<void> {
    return this.#run(`record a batch for scan ${batch.scanId}`, async () => {
      const watermark = integer(batch.watermark, 'watermark');
      const deltas = {
        done: integer(batch.doneDelta, 'doneDelta'),
        answered: integer(batch.answeredDelta, 'answeredDelta'),
        open: integer(batch.openDelta, 'openDelta'),
      };
      const positions = batch.donePositions.map((p) => integer(p, 'donePositions'));
      // Everything derived before the transaction opens, so the write lock is held only for the writes.
      const rows = batchRows(batch.results, batch.scanId);
      const updatedAt = this.#clock().toISOString();

      await this.#db.transaction().execute(async (trx) => {
        // Write first, read second: the write takes SQLite's write lock (waiting out busy_timeout) and
        // PostgreSQL's row lock before the watermark is read, so two writers to one scan cannot interleave,
        // and SQLite never has to upgrade a stale read snapshot (SQLITE_BUSY_SNAPSHOT, which no timeout cures).
        const touched = await trx.updateTable('scans').set({ updated_at: updatedAt }).where('id', '=', batch.scanId).executeTakeFirst();
        if (Number(touched.numUpdatedRows) === 0) throw new NotFoundError(`No scan ${batch.scanId} in database ${this.#label}`);
        const scan = await trx
          .selectFrom('scans')
          .select(['operator', 'watermark'])
          .where('id', '=', batch.scanId)
          .executeTakeFirstOrThrow();
        // The watermark only moves forward, so a late or replayed batch cannot re-open finished work.
        const newWatermark = Math.max(Number(scan.watermark), watermark);

        await upsertHosts(trx, rows.hosts);
        await upsertFindings(trx, rows.findings);
        for (const part of chunks(rows.observations)) {
          await trx
            .insertInto('observations')
            .values(part)
            .onConflict((oc) => oc.columns(['scan_id', 'host', 'port', 'module']).doNothing())
            .execute();
        }
        const audit: NewAuditRow[] = rows.audit.map((a) => ({ ...a, operator: scan.operator }));
        for (const part of chunks(audit)) await trx.insertInto('audit_log').values(part).execute();

        const above = [...new Set(positions.filter((p) => p >= newWatermark))].map((position) => ({
          scan_id: batch.scanId,
          position,
        }));
        for (const part of chunks(above)) {
          await trx
            .insertInto('scan_done')
            .values(part)
            .onConflict((oc) => oc.columns(['scan_id', 'position']).doNothing())
            .execute();
        }
        await trx
          .deleteFrom('scan_done')
          .where('scan_id', '=', batch.scanId)
          .where('position', '<', newWatermark)
          .execute();

        await trx
          .updateTable('scans')
          .set((eb) => ({
            watermark: newWatermark,
            done_count: eb('done_count', '+', deltas.done),
            answered_count: eb('answered_count', '+', deltas.answered),
            open_count: eb('open_count', '+', deltas.open),
          }))
          .where('id', '=', batch.scanId)
          .execute();
      });
    });
  }

  listFindings(filter: FindingFilter = {}): Promise<FindingRecord[]> {
    return this.#run('list findings', async () => {
      let query = this.#db.selectFrom('findings').selectAll('findings');
      if (filter.auth !== undefined) {
        if (filter.auth.length === 0) return [];
        query = query.where('findings.auth', 'in', filter.auth);
      }
      if (filter.module !== undefined) {
        if (filter.module.length === 0) return [];
        query = query.where('findings.module', 'in', filter.module);
      }
      if (filter.host !== undefined) query = query.where('findings.host', '=', filter.host);
      const scanId = filter.scanId;
      if (scanId !== undefined) {
        // Services that scan saw (its observations), even if a later scan has seen them since;
        // the finding itself carries the newest state.
        query = query.where((eb) =>
          eb.exists(
            eb
              .selectFrom('observations as o')
              .select('o.scan_id')
              .where('o.scan_id', '=', scanId)
              .whereRef('o.host', '=', 'findings.host')
              .whereRef('o.port', '=', 'findings.port')
              .whereRef('o.module', '=', 'findings.module'),
          ),
        );
      }
      query = query.orderBy('findings.host_key').orderBy('findings.port').orderBy('findings.module');
      if (filter.limit !== undefined) query = query.limit(integer(filter.limit, 'limit'));
      return (await query.execute()).map(toFindingRecord);
    });
  }

  getHost(host: string): Promise<{ host: HostRecord; findings: FindingRecord[] } | undefined> {
    return this.#run(`read host ${host}`, async () => {
      const row = await this.#db.selectFrom('hosts').selectAll().where('host', '=', host).executeTakeFirst();
      if (row === undefined) return undefined;
      const findings = await this.#db
        .selectFrom('findings')
        .selectAll()
        .where('host', '=', host)
        .orderBy('port')
        .orderBy('module')
        .execute();
      return { host: toHostRecord(row), findings: findings.map(toFindingRecord) };
    });
  }

  listAudit(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    return this.#run('list the audit log', async () => {
      let query = this.#db.selectFrom('audit_log').selectAll();
      if (filter.scanId !== undefined) query = query.where('scan_id', '=', filter.scanId);
      if (filter.host !== undefined) query = query.where('host', '=', filter.host);
      // Newest first, so a limit shows the latest probes.
      query = query.orderBy('id', 'desc');
      if (filter.limit !== undefined) query = query.limit(integer(filter.limit, 'limit'));
      return (await query.execute()).map(toAuditRecord);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#db.destroy();
    } catch (err) {
      throw toStoreError(err, `close database ${this.#label}`);
    }
  }
}

// ---- statements of recordBatch ----

async function upsertHosts(trx: Transaction<Database>, rows: NewHostRow[]): Promise<void> {
  for (const part of chunks(rows)) {
    await trx
      .insertInto('hosts')
      .values(part)
      .onConflict((oc) =>
        oc.column('host').doUpdateSet((eb) => ({
          hostname: eb.fn.coalesce('excluded.hostname', 'hosts.hostname'),
          // Earliest first_seen and latest last_seen win, whatever order batches arrive in.
          first_seen: eb
            .case()
            .when('excluded.first_seen', '<', eb.ref('hosts.first_seen'))
            .then(eb.ref('excluded.first_seen'))
            .else(eb.ref('hosts.first_seen'))
            .end(),
          last_seen: eb
            .case()
            .when('excluded.last_seen', '>', eb.ref('hosts.last_seen'))
            .then(eb.ref('excluded.last_seen'))
            .else(eb.ref('hosts.last_seen'))
            .end(),
        })),
      )
      .execute();
  }
}

async function upsertFindings(trx: Transaction<Database>, rows: NewFindingRow[]): Promise<void> {
  for (const part of chunks(rows)) {
    await trx
      .insertInto('findings')
      .values(part)
      .onConflict((oc) =>
        oc
          .columns(['host', 'port', 'module'])
          // first_seen is left as it is; everything else comes from the newest result.
          .doUpdateSet((eb) => ({
            hostname: eb.fn.coalesce('excluded.hostname', 'findings.hostname'),
            status: eb.ref('excluded.status'),
            auth: eb.ref('excluded.auth'),
            product: eb.ref('excluded.product'),
            version: eb.ref('excluded.version'),
            evidence: eb.ref('excluded.evidence'),
            metadata: eb.ref('excluded.metadata'),
            peers: eb.ref('excluded.peers'),
            errors: eb.ref('excluded.errors'),
            last_seen: eb.ref('excluded.last_seen'),
            last_scan_id: eb.ref('excluded.last_scan_id'),
          }))
          // An older result (a replayed or late batch) never overwrites a newer one.
          .whereRef('excluded.last_seen', '>=', 'findings.last_seen'),
      )
      .execute();
  }
}

/** Splits rows so that no statement binds more than MAX_PARAMS_PER_STATEMENT parameters. */
function* chunks<T extends object>(rows: readonly T[]): Generator<T[]> {
  if (rows.length === 0) return;
  const perRow = Math.max(1, Object.keys(rows[0] as object).length);
  const size = Math.max(1, Math.floor(MAX_PARAMS_PER_STATEMENT / perRow));
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}
