import { type ExpressionBuilder, type Kysely, type Transaction, sql } from 'kysely';
import { NotFoundError, StoreError } from '../core/errors.js';
import { SEVERITY_LEVELS, type AuthVerdict, type ProbeStatus } from '../core/types.js';
import { hostKey } from './host-key.js';
import { batchRows, integer } from './batch-rows.js';
import { type PreparedBatch } from './sqlite-batch-writer.js';
import { toAuditRecord, toFindingRecord, toHostRecord, toScanRecord } from './row-mappers.js';
import { newScanId } from './scan-id.js';
import {
  type CandidateRow,
  type Database,
  type ImportRow,
  type NewAuditRow,
  type NewCandidateRow,
  type NewFindingRow,
  type NewHostRow,
} from './schema.js';
import {
  type AuditFilter,
  type AuditRecord,
  type CandidateBatch,
  type CandidateFilter,
  type CandidateRecord,
  type CandidateSummaryRow,
  type ImportFinish,
  type ImportRecord,
  type ImportState,
  type MalformedLine,
  type NewImport,
  type VerificationEntry,
  type VerifyTarget,
  type FindingFilter,
  type FindingRecord,
  type HoneypotFlag,
  type HostRecord,
  type NewScan,
  type ScanBatch,
  type ScanRecord,
  type ScanState,
  type ServiceSummary,
  type Store,
  type NewCandidate,
} from './store.js';
import { toStoreError } from './store-error.js';

export interface KyselyStoreOptions {
  /** Names the database in error messages: a file path, or a connection string without its password. */
  label: string;
  /** Source of "now" for created/updated times and scan ids; tests pass a fixed clock. */
  clock?: () => Date;
  /**
   * A dialect's own writer for `recordBatch` (SQLite: prepared statements); without one the batch is
   * written with Kysely queries, which work on every dialect. (`undefined` given explicitly: use those.)
   */
  batchWriter?: ((batch: PreparedBatch) => void) | undefined;
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

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  kysely(): Kysely<any> {
    return this.#db;
  }

  get label(): string {
    return this.#label;
  }
  readonly #label: string;
  readonly #clock: () => Date;
  readonly #batchWriter: ((batch: PreparedBatch) => void) | undefined;
  #closed = false;

  constructor(db: Kysely<Database>, options: KyselyStoreOptions) {
    this.#db = db;
    this.#label = options.label;
    this.#clock = options.clock ?? (() => new Date());
    this.#batchWriter = options.batchWriter;
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

      const writer = this.#batchWriter;
      if (writer) {
        // Holding Kysely's connection keeps every other query off the handle while the writer runs.
        await this.#db.connection().execute(async () => writer({ scanId: batch.scanId, rows, positions, watermark, deltas, updatedAt }));
        return;
      }
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
      let query = this.#db
        .selectFrom('findings')
        .leftJoin('hosts', 'hosts.host', 'findings.host')
        .selectAll('findings')
        .select('hosts.honeypot as host_honeypot');
      if (filter.auth !== undefined) {
        if (filter.auth.length === 0) return [];
        query = query.where('findings.auth', 'in', filter.auth);
      }
      if (filter.module !== undefined) {
        if (filter.module.length === 0) return [];
        query = query.where('findings.module', 'in', filter.module);
      }
      if (filter.host !== undefined) query = query.where('findings.host', '=', filter.host);
      if (filter.minSeverity !== undefined) {
        query = query.where('findings.severity', 'in', SEVERITY_LEVELS.slice(0, SEVERITY_LEVELS.indexOf(filter.minSeverity) + 1));
      }
      if (filter.compromised) query = query.where('findings.compromised', '=', 1);
      if (filter.scanId !== undefined) query = query.where(seenBy(filter.scanId));
      if (filter.after !== undefined) query = query.where(after(filter.after));
      query = query.orderBy('findings.host_key').orderBy('findings.port').orderBy('findings.module');
      if (filter.limit !== undefined) query = query.limit(integer(filter.limit, 'limit'));
      if (filter.offset !== undefined) query = query.offset(integer(filter.offset, 'offset'));
      return (await query.execute()).map(toFindingRecord);
    });
  }

  listServiceSummaries(filter: { scanId: string; limit?: number; after?: FindingFilter['after'] }): Promise<ServiceSummary[]> {
    return this.#run(`list the services of scan ${filter.scanId}`, async () => {
      let query = this.#db
        .selectFrom('findings')
        .leftJoin('hosts', 'hosts.host', 'findings.host')
        .select([
          'findings.host',
          'findings.port',
          'findings.module',
          'findings.auth',
          'findings.product',
          'findings.version',
          'findings.metadata',
          'hosts.honeypot as host_honeypot',
        ])
        .where(seenBy(filter.scanId));
      if (filter.after !== undefined) query = query.where(after(filter.after));
      query = query.orderBy('findings.host_key').orderBy('findings.port').orderBy('findings.module');
      if (filter.limit !== undefined) query = query.limit(integer(filter.limit, 'limit'));
      return (await query.execute()).map((row) => ({
        host: row.host,
        port: Number(row.port),
        module: row.module,
        auth: row.auth as AuthVerdict | null,
        product: row.product,
        version: row.version,
        metadata: parseStoredJson(row.metadata, `metadata of finding ${row.host}:${row.port}/${row.module}`) as Record<string, unknown>,
        honeypot: row.host_honeypot !== null && row.host_honeypot !== undefined,
      }));
    });
  }

  setHostHoneypot(host: string, flags: HoneypotFlag[] | null): Promise<void> {
    return this.#run(`flag host ${host}`, async () => {
      await this.#db
        .updateTable('hosts')
        .set({ honeypot: flags && flags.length > 0 ? JSON.stringify(flags) : null })
        .where('host', '=', host)
        .execute();
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
      return { host: toHostRecord(row), findings: findings.map((f) => toFindingRecord({ ...f, host_honeypot: row.honeypot })) };
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

  // ---- imports ----

  createImport(imp: NewImport): Promise<ImportRecord> {
    return this.#run(`record the import of ${imp.filePath}`, async () => {
      const now = this.#clock();
      const at = now.toISOString();
      for (let attempt = 0; attempt < 8; attempt++) {
        const id = `i-${newScanId(now).slice(2)}`;
        const result = await this.#db
          .insertInto('imports')
          .values({
            id,
            format: imp.format,
            file_path: imp.filePath,
            file_size: imp.fileSize === null ? null : integer(imp.fileSize, 'fileSize'),
            gzip: imp.gzip ? 1 : 0,
            state: 'running',
            started_at: at,
            finished_at: null,
            lines: 0,
            candidates: 0,
            skipped: 0,
            malformed: 0,
            malformed_samples: '[]',
            error: null,
            operator: imp.operator,
            command_line: imp.commandLine,
            verify_scan_id: null,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .executeTakeFirst();
        if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 1) {
          const row = await this.#db.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
          return toImportRecord(row);
        }
      }
      throw new Error('no free import id after 8 attempts');
    });
  }

  addCandidates(batch: CandidateBatch): Promise<void> {
    return this.#run(`store candidates of import ${batch.importId}`, async () => {
      // Rows are built before the transaction opens, so the write lock is held only for the writes.
      const rows = batch.candidates.map((c) => toCandidateRow(batch.importId, c));
      const counters = {
        lines: integer(batch.lines, 'lines'),
        skipped: integer(batch.skipped, 'skipped'),
        malformed: integer(batch.malformed, 'malformed'),
        malformed_samples: JSON.stringify(batch.malformedSamples),
      };
      await this.#db.transaction().execute(async (trx) => {
        // Write first (takes the write lock), then read: see recordBatch.
        const touched = await trx
          .updateTable('imports')
          .set((eb) => ({ ...counters, candidates: eb('candidates', '+', rows.length) }))
          .where('id', '=', batch.importId)
          .where('state', '=', 'running')
          .executeTakeFirst();
        if (Number(touched.numUpdatedRows) === 0) {
          throw new NotFoundError(`No running import ${batch.importId} in database ${this.#label}`);
        }
        const { candidates } = await trx.selectFrom('imports').select('candidates').where('id', '=', batch.importId).executeTakeFirstOrThrow();
        // Positions must continue the import's sequence exactly: a replayed or interleaved batch fails whole.
        const first = Number(candidates) - rows.length;
        rows.forEach((r, i) => {
          if (Number(r.position) !== first + i) {
            throw new RangeError(`candidate position ${String(r.position)} does not follow the import's ${first + i - 1}`);
          }
        });
        for (const part of chunks(rows)) await trx.insertInto('candidates').values(part).execute();
      });
    });
  }

  finishImport(importId: string, finish: ImportFinish): Promise<ImportRecord> {
    return this.#run(`finish import ${importId}`, async () => {
      const result = await this.#db
        .updateTable('imports')
        .set({
          state: finish.state,
          finished_at: this.#clock().toISOString(),
          lines: integer(finish.lines, 'lines'),
          skipped: integer(finish.skipped, 'skipped'),
          malformed: integer(finish.malformed, 'malformed'),
          malformed_samples: JSON.stringify(finish.malformedSamples),
          error: finish.error ?? null,
        })
        .where('id', '=', importId)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new NotFoundError(`No import ${importId} in database ${this.#label}`);
      return toImportRecord(await this.#db.selectFrom('imports').selectAll().where('id', '=', importId).executeTakeFirstOrThrow());
    });
  }

  getImport(importId: string): Promise<ImportRecord | undefined> {
    return this.#run(`read import ${importId}`, async () => {
      const row = await this.#db.selectFrom('imports').selectAll().where('id', '=', importId).executeTakeFirst();
      return row === undefined ? undefined : toImportRecord(row);
    });
  }

  listImports(limit?: number): Promise<ImportRecord[]> {
    return this.#run('list imports', async () => {
      let query = this.#db.selectFrom('imports').selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc');
      if (limit !== undefined) query = query.limit(integer(limit, 'limit'));
      return (await query.execute()).map(toImportRecord);
    });
  }

  listCandidates(importId: string, filter: CandidateFilter = {}): Promise<CandidateRecord[]> {
    return this.#run(`list candidates of import ${importId}`, async () => {
      let query = this.#db.selectFrom('candidates').selectAll().where('import_id', '=', importId);
      if (filter.from !== undefined) query = query.where('position', '>=', integer(filter.from, 'from'));
      if (filter.hasModule !== undefined) query = query.where('module', filter.hasModule ? 'is not' : 'is', null);
      if (filter.verified !== undefined) query = query.where('verified_scan_id', filter.verified ? 'is not' : 'is', null);
      query = query.orderBy('position');
      if (filter.limit !== undefined) query = query.limit(integer(filter.limit, 'limit'));
      return (await query.execute()).map(toCandidateRecord);
    });
  }

  countCandidates(importId: string, filter: Omit<CandidateFilter, 'from' | 'limit'> = {}): Promise<number> {
    return this.#run(`count candidates of import ${importId}`, async () => {
      let query = this.#db
        .selectFrom('candidates')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('import_id', '=', importId);
      if (filter.hasModule !== undefined) query = query.where('module', filter.hasModule ? 'is not' : 'is', null);
      if (filter.verified !== undefined) query = query.where('verified_scan_id', filter.verified ? 'is not' : 'is', null);
      const row = await query.executeTakeFirstOrThrow();
      return Number(row.n);
    });
  }

  summarizeCandidates(importId: string): Promise<CandidateSummaryRow[]> {
    return this.#run(`summarize candidates of import ${importId}`, async () => {
      const rows = await this.#db
        .selectFrom('candidates')
        .select(['module', 'claim_auth', (eb) => eb.fn.countAll<number | string>().as('n')])
        .where('import_id', '=', importId)
        .groupBy(['module', 'claim_auth'])
        .orderBy('module')
        .orderBy('claim_auth')
        .execute();
      return rows.map((r) => ({ module: r.module, claimAuth: r.claim_auth as AuthVerdict | null, count: Number(r.n) }));
    });
  }

  listVerifyTargets(
    importId: string,
    options: { from?: number; limit?: number; modules?: string[]; transport?: string } = {},
  ): Promise<VerifyTarget[]> {
    return this.#run(`list the services to verify for import ${importId}`, async () => {
      const modules = options.modules;
      if (modules !== undefined && modules.length === 0) return [];
      let query = this.#db
        .selectFrom('candidates as c')
        .select(['c.position', 'c.host', 'c.port', 'c.transport', 'c.module'])
        .where('c.import_id', '=', importId)
        .where('c.transport', '=', options.transport ?? 'tcp')
        .where('c.module', 'is not', null)
        // Only the first candidate of each service: later ones share its verdict.
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('candidates as d')
                .select('d.position')
                .whereRef('d.import_id', '=', 'c.import_id')
                .whereRef('d.host', '=', 'c.host')
                .whereRef('d.port', '=', 'c.port')
                .whereRef('d.transport', '=', 'c.transport')
                .whereRef('d.module', '=', 'c.module')
                .whereRef('d.position', '<', 'c.position'),
            ),
          ),
        );
      if (modules !== undefined) query = query.where('c.module', 'in', modules);
      if (options.from !== undefined) query = query.where('c.position', '>=', integer(options.from, 'from'));
      query = query.orderBy('c.position');
      if (options.limit !== undefined) query = query.limit(integer(options.limit, 'limit'));
      const rows = await query.execute();
      return rows.map((r) => ({
        position: Number(r.position),
        host: r.host,
        port: Number(r.port),
        transport: r.transport,
        module: r.module as string,
      }));
    });
  }

  setImportVerifyScan(importId: string, scanId: string): Promise<void> {
    return this.#run(`link import ${importId} to scan ${scanId}`, async () => {
      const result = await this.#db.updateTable('imports').set({ verify_scan_id: scanId }).where('id', '=', importId).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new NotFoundError(`No import ${importId} in database ${this.#label}`);
    });
  }

  recordVerification(importId: string, scanId: string, entries: VerificationEntry[]): Promise<void> {
    return this.#run(`record verification of import ${importId}`, async () => {
      if (entries.length === 0) return;
      const flag = (v: boolean | null): number | null => (v === null ? null : v ? 1 : 0);
      await this.#db.transaction().execute(async (trx) => {
        for (const e of entries) {
          const s = e.staleByClaim;
          // Candidates of one service may carry different claims (a source's history): staleness per claim.
          // The casts give PostgreSQL a type for parameters that may all be null.
          const stale = sql<number | null>`CASE claim_auth
            WHEN 'open' THEN CAST(${flag(s.open)} AS integer)
            WHEN 'auth_required' THEN CAST(${flag(s.auth_required)} AS integer)
            WHEN 'inconclusive' THEN CAST(${flag(s.inconclusive)} AS integer)
            ELSE CAST(${flag(s.none)} AS integer) END`;
          await trx
            .updateTable('candidates')
            .set({
              verified_scan_id: scanId,
              verify_status: e.status,
              verdict: e.verdict,
              verified_at: e.verifiedAt,
              stale,
            })
            .where('import_id', '=', importId)
            .where('host', '=', e.host)
            .where('port', '=', e.port)
            .where('transport', '=', e.transport)
            .where('module', '=', e.module)
            .execute();
        }
      });
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

// ---- shared filters of listFindings and listServiceSummaries ----

/** Services the scan saw (its observations), even if a later scan has seen them since; the finding carries the newest state. */
function seenBy(scanId: string) {
  return (eb: ExpressionBuilder<Database, 'findings'>) =>
    eb.exists(
      eb
        .selectFrom('observations as o')
        .select('o.scan_id')
        .where('o.scan_id', '=', scanId)
        .whereRef('o.host', '=', 'findings.host')
        .whereRef('o.port', '=', 'findings.port')
        .whereRef('o.module', '=', 'findings.module'),
    );
}

/** Keyset paging: rows after this one in (address, port, module) order. */
function after(last: NonNullable<FindingFilter['after']>) {
  return (eb: ExpressionBuilder<Database, 'findings'>) =>
    eb(eb.refTuple('findings.host_key', 'findings.port', 'findings.module'), '>', eb.tuple(hostKey(last.host), last.port, last.module));
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
            severity: eb.ref('excluded.severity'),
            severity_score: eb.ref('excluded.severity_score'),
            compromised: eb.ref('excluded.compromised'),
            assessment: eb.ref('excluded.assessment'),
            inventory: eb.ref('excluded.inventory'),
            sample: eb.ref('excluded.sample'),
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

// ---- imports: rows ↔ records ----

function toCandidateRow(importId: string, c: NewCandidate): NewCandidateRow {
  return {
    import_id: importId,
    position: integer(c.position, 'position'),
    host: c.host,
    host_key: hostKey(c.host),
    port: c.port,
    transport: c.transport,
    module: c.module,
    product: c.product,
    version: c.version,
    claim_auth: c.claimAuth,
    claim: JSON.stringify(c.claim),
    line: integer(c.line, 'line'),
  };
}

function toImportRecord(row: ImportRow): ImportRecord {
  return {
    id: row.id,
    format: row.format,
    filePath: row.file_path,
    fileSize: row.file_size === null ? null : Number(row.file_size),
    gzip: Number(row.gzip) === 1,
    state: row.state as ImportState,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    lines: Number(row.lines),
    candidates: Number(row.candidates),
    skipped: Number(row.skipped),
    malformed: Number(row.malformed),
    malformedSamples: parseStoredJson(row.malformed_samples, `malformed samples of import ${row.id}`) as MalformedLine[],
    error: row.error,
    operator: row.operator,
    commandLine: row.command_line,
    verifyScanId: row.verify_scan_id,
  };
}

function toCandidateRecord(row: CandidateRow): CandidateRecord {
  return {
    importId: row.import_id,
    position: Number(row.position),
    host: row.host,
    port: Number(row.port),
    transport: row.transport,
    module: row.module,
    product: row.product,
    version: row.version,
    claimAuth: row.claim_auth as AuthVerdict | null,
    claim: parseStoredJson(row.claim, `claim of candidate ${row.import_id}#${String(row.position)}`) as Record<string, unknown>,
    line: Number(row.line),
    verifiedScanId: row.verified_scan_id,
    verifyStatus: row.verify_status as ProbeStatus | null,
    verdict: row.verdict as AuthVerdict | null,
    verifiedAt: row.verified_at,
    stale: row.stale === null ? null : Number(row.stale) === 1,
  };
}

function parseStoredJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`stored ${what} is not valid JSON`, { cause: err });
  }
}
