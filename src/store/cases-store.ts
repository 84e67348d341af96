/**
 * Disclosure cases in the store: table types, the `0006_cases` migration and a repository over any
 * `Kysely<any>` whose schema has it (SQLite or PostgreSQL: only SQL both share — text, integer, bigint;
 * JSON and times as text, like the rest of the store).
 *
 * The migration needs no dialect flavour: case ids are text and events are keyed by (case_id, seq).
 * This module imports nothing else of the store at run time, so migrations.ts can import `casesMigration`
 * without an import cycle (`migrateCases` and `openSqliteCaseStores` live in src/disclose/cases/open-stores.ts).
 */
import { type Kysely, type Migration, type Transaction } from 'kysely';
import { NotFoundError, StoreError } from '../core/errors.js';
import { type Severity, SEVERITY_LEVELS } from '../core/types.js';
import { type Attribution, type CaseEvent, type CaseEventKind, type CaseRecord, type CaseState, type Contact } from '../disclose/cases/types.js';
import { newScanId } from './scan-id.js';
import { type FindingRecord } from './store.js';
import { toStoreError } from './store-error.js';

// ---- table types ----

export interface CasesTable {
  id: string;
  /** findings.id of the service (unique: one case per host, port and module; a fixed-then-reexposed service reopens it). */
  finding_id: number;
  host: string;
  port: number;
  module: string;
  state: string;
  severity: string | null;
  /** 0 critical … 4 info, for ordering and `--min-severity`; null when unknown. */
  severity_rank: number | null;
  detected_at: string;
  opened_at: string;
  updated_at: string;
  notified_at: string | null;
  acknowledged_at: string | null;
  remediated_at: string | null;
  closed_at: string | null;
  opened_by: string;
  /** JSON text of `Contact[]`. */
  contacts: string;
  /** JSON text of `Attribution`, or null. */
  attribution: string | null;
  locale: string;
  /** JSON text of the `FindingRecord` the notice reports (redacted data only). */
  snapshot: string;
  next_reverify_at: string | null;
  reverify_attempts: number;
  last_reverified_at: string | null;
  notice_count: number;
}

export interface CaseEventsTable {
  case_id: string;
  seq: number;
  at: string;
  kind: string;
  from_state: string | null;
  to_state: string | null;
  operator: string;
  reason: string | null;
  /** JSON text, or null. */
  evidence: string | null;
}

export interface CasesDatabase {
  cases: CasesTable;
  case_events: CaseEventsTable;
  /** Read only here: to find a finding's host by its id (the Store interface looks findings up by host). */
  findings: { id: number; host: string };
}

// ---- migration ----

/**
 * `0006_cases`, for the main migration list. Idempotent (`if not exists`), because a store may already have
 * the tables from `migrateCases` running it on its own before the main list named it.
 */
export const casesMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('cases')
      .ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('finding_id', 'integer', (c) => c.notNull().unique().references('findings.id'))
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('module', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('severity', 'text')
      .addColumn('severity_rank', 'integer')
      .addColumn('detected_at', 'text', (c) => c.notNull())
      .addColumn('opened_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('notified_at', 'text')
      .addColumn('acknowledged_at', 'text')
      .addColumn('remediated_at', 'text')
      .addColumn('closed_at', 'text')
      .addColumn('opened_by', 'text', (c) => c.notNull())
      .addColumn('contacts', 'text', (c) => c.notNull())
      .addColumn('attribution', 'text')
      .addColumn('locale', 'text', (c) => c.notNull())
      .addColumn('snapshot', 'text', (c) => c.notNull())
      .addColumn('next_reverify_at', 'text')
      .addColumn('reverify_attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_reverified_at', 'text')
      .addColumn('notice_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('cases_state').ifNotExists().on('cases').columns(['state', 'severity_rank']).execute();
    // The re-verification schedule: "open cases due before now".
    await db.schema.createIndex('cases_due').ifNotExists().on('cases').column('next_reverify_at').execute();
    await db.schema.createIndex('cases_host').ifNotExists().on('cases').columns(['host', 'port']).execute();

    await db.schema
      .createTable('case_events')
      .ifNotExists()
      .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('from_state', 'text')
      .addColumn('to_state', 'text')
      .addColumn('operator', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('evidence', 'text')
      .addPrimaryKeyConstraint('case_events_pk', ['case_id', 'seq'])
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('case_events').ifExists().execute();
    await db.schema.dropTable('cases').ifExists().execute();
  },
};

export const CASES_MIGRATION_NAME = '0006_cases';

// ---- repository ----

export interface NewCaseData {
  findingId: number;
  host: string;
  port: number;
  module: string;
  severity: Severity | null;
  detectedAt: string;
  openedBy: string;
  contacts: Contact[];
  attribution: Attribution | null;
  locale: string;
  snapshot: FindingRecord;
  nextReverifyAt: string | null;
}

export interface CaseFilter {
  states?: readonly CaseState[];
  minSeverity?: Severity;
  module?: string;
  host?: string;
  /** Only cases whose next re-verification is due at or before this time. */
  dueBy?: string;
  ids?: readonly string[];
  limit?: number;
}

/** Changes a transition or an event makes to the case row. */
export type CasePatch = Partial<
  Pick<
    CaseRecord,
    | 'state'
    | 'notifiedAt'
    | 'acknowledgedAt'
    | 'remediatedAt'
    | 'closedAt'
    | 'contacts'
    | 'attribution'
    | 'locale'
    | 'snapshot'
    | 'severity'
    | 'nextReverifyAt'
    | 'reverifyAttempts'
    | 'lastReverifiedAt'
    | 'noticeCount'
  >
>;

export interface NewEvent {
  kind: CaseEventKind;
  fromState?: CaseState | null;
  toState?: CaseState | null;
  operator: string;
  reason?: string | null;
  evidence?: unknown;
}

export class CasesRepository {
  readonly #db: Kysely<CasesDatabase>;
  readonly #label: string;
  readonly #clock: () => Date;

  constructor(db: Kysely<any>, options: { label?: string; clock?: () => Date } = {}) {
    this.#db = db as Kysely<CasesDatabase>;
    this.#label = options.label ?? 'store';
    this.#clock = options.clock ?? (() => new Date());
  }

  now(): Date {
    return this.#clock();
  }

  async #run<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err, `${action} in database ${this.#label}`);
    }
  }

  /** Insert a case and its `opened` event. Returns undefined when the finding already has a case. */
  create(data: NewCaseData, event: NewEvent): Promise<CaseRecord | undefined> {
    return this.#run(`open a case for finding ${data.findingId}`, async () => {
      const now = this.#clock();
      const at = now.toISOString();
      for (let attempt = 0; attempt < 8; attempt++) {
        const id = newScanId(now).replace(/^s-/, 'c-');
        const created = await this.#db.transaction().execute(async (trx) => {
          const taken = await trx
            .selectFrom('cases')
            .select('id')
            .where((eb) => eb.or([eb('id', '=', id), eb('finding_id', '=', data.findingId)]))
            .execute();
          if (taken.some((r) => r.id !== id)) return 'exists' as const;
          if (taken.length > 0) return 'collision' as const;
          await trx
            .insertInto('cases')
            .values({
              id,
              finding_id: data.findingId,
              host: data.host,
              port: data.port,
              module: data.module,
              state: 'new',
              severity: data.severity,
              severity_rank: severityRank(data.severity),
              detected_at: data.detectedAt,
              opened_at: at,
              updated_at: at,
              notified_at: null,
              acknowledged_at: null,
              remediated_at: null,
              closed_at: null,
              opened_by: data.openedBy,
              contacts: JSON.stringify(data.contacts),
              attribution: data.attribution ? JSON.stringify(data.attribution) : null,
              locale: data.locale,
              snapshot: JSON.stringify(data.snapshot),
              next_reverify_at: data.nextReverifyAt,
              reverify_attempts: 0,
              last_reverified_at: null,
              notice_count: 0,
            })
            .execute();
          await insertEvent(trx, id, 1, at, { ...event, toState: 'new' });
          return 'created' as const;
        });
        if (created === 'exists') return undefined;
        if (created === 'created') return (await this.get(id)) as CaseRecord;
      }
      throw new Error('no free case id after 8 attempts');
    });
  }

  get(id: string): Promise<CaseRecord | undefined> {
    return this.#run(`read case ${id}`, async () => {
      const row = await this.#db.selectFrom('cases').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toCaseRecord(row) : undefined;
    });
  }

  getByFinding(findingId: number): Promise<CaseRecord | undefined> {
    return this.#run(`read the case of finding ${findingId}`, async () => {
      const row = await this.#db.selectFrom('cases').selectAll().where('finding_id', '=', findingId).executeTakeFirst();
      return row ? toCaseRecord(row) : undefined;
    });
  }

  list(filter: CaseFilter = {}): Promise<CaseRecord[]> {
    return this.#run('list cases', async () => {
      let q = this.#db.selectFrom('cases').selectAll();
      if (filter.states) {
        if (filter.states.length === 0) return [];
        q = q.where('state', 'in', [...filter.states]);
      }
      if (filter.ids) {
        if (filter.ids.length === 0) return [];
        q = q.where('id', 'in', [...filter.ids]);
      }
      if (filter.minSeverity) q = q.where('severity_rank', '<=', severityRank(filter.minSeverity) as number);
      if (filter.module) q = q.where('module', '=', filter.module);
      if (filter.host) q = q.where('host', '=', filter.host);
      if (filter.dueBy) q = q.where('next_reverify_at', 'is not', null).where('next_reverify_at', '<=', filter.dueBy);
      q = filter.dueBy ? q.orderBy('next_reverify_at').orderBy('id') : q.orderBy('opened_at', 'desc').orderBy('id', 'desc');
      if (filter.limit !== undefined) q = q.limit(filter.limit);
      return (await q.execute()).map(toCaseRecord);
    });
  }

  /** The host of finding `id`, to look it up through `Store.getHost`; undefined when there is no such finding. */
  findingHost(id: number): Promise<string | undefined> {
    return this.#run(`read finding ${id}`, async () => {
      const row = await this.#db.selectFrom('findings').select('host').where('id', '=', id).executeTakeFirst();
      return row?.host;
    });
  }

  events(caseId: string): Promise<CaseEvent[]> {
    return this.#run(`read the history of case ${caseId}`, async () => {
      const rows = await this.#db.selectFrom('case_events').selectAll().where('case_id', '=', caseId).orderBy('seq').execute();
      return rows.map(toCaseEvent);
    });
  }

  /** Events of many cases at once (for statistics), grouped by case id. */
  eventsOf(caseIds: readonly string[]): Promise<Map<string, CaseEvent[]>> {
    return this.#run('read case histories', async () => {
      const out = new Map<string, CaseEvent[]>();
      for (let i = 0; i < caseIds.length; i += 500) {
        const part = caseIds.slice(i, i + 500);
        const rows = await this.#db.selectFrom('case_events').selectAll().where('case_id', 'in', part).orderBy('case_id').orderBy('seq').execute();
        for (const r of rows) {
          const list = out.get(r.case_id) ?? [];
          list.push(toCaseEvent(r));
          out.set(r.case_id, list);
        }
      }
      return out;
    });
  }

  /**
   * Apply `patch` and append `event` in one transaction, only if the case is still in `expectedState`
   * (compare-and-set: two operators, or an operator and a re-verification, cannot both move it).
   * Throws NotFoundError for an unknown case; returns undefined when the state changed meanwhile.
   */
  update(id: string, expectedState: CaseState, patch: CasePatch, event: NewEvent | undefined): Promise<CaseRecord | undefined> {
    return this.#run(`update case ${id}`, async () => {
      const at = this.#clock().toISOString();
      const done = await this.#db.transaction().execute(async (trx) => {
        const set = patchRow(patch);
        const result = await trx
          .updateTable('cases')
          .set({ ...set, updated_at: at })
          .where('id', '=', id)
          .where('state', '=', expectedState)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) {
          const exists = await trx.selectFrom('cases').select('id').where('id', '=', id).executeTakeFirst();
          if (!exists) throw new NotFoundError(`No case ${id}; \`lockdown case list\` lists them`);
          return false;
        }
        if (event) {
          const last = await trx.selectFrom('case_events').select((eb) => eb.fn.max('seq').as('seq')).where('case_id', '=', id).executeTakeFirst();
          await insertEvent(trx, id, Number(last?.seq ?? 0) + 1, at, event);
        }
        return true;
      });
      return done ? ((await this.get(id)) as CaseRecord) : undefined;
    });
  }
}

async function insertEvent(trx: Transaction<CasesDatabase>, caseId: string, seq: number, at: string, e: NewEvent): Promise<void> {
  await trx
    .insertInto('case_events')
    .values({
      case_id: caseId,
      seq,
      at,
      kind: e.kind,
      from_state: e.fromState ?? null,
      to_state: e.toState ?? null,
      operator: e.operator,
      reason: e.reason ?? null,
      evidence: e.evidence === undefined || e.evidence === null ? null : JSON.stringify(e.evidence),
    })
    .execute();
}

export function severityRank(s: Severity | null | undefined): number | null {
  if (!s) return null;
  const i = SEVERITY_LEVELS.indexOf(s);
  return i < 0 ? null : i;
}

function patchRow(p: CasePatch): Partial<CasesTable> {
  const out: Partial<CasesTable> = {};
  if (p.state !== undefined) out.state = p.state;
  if (p.notifiedAt !== undefined) out.notified_at = p.notifiedAt;
  if (p.acknowledgedAt !== undefined) out.acknowledged_at = p.acknowledgedAt;
  if (p.remediatedAt !== undefined) out.remediated_at = p.remediatedAt;
  if (p.closedAt !== undefined) out.closed_at = p.closedAt;
  if (p.contacts !== undefined) out.contacts = JSON.stringify(p.contacts);
  if (p.attribution !== undefined) out.attribution = p.attribution ? JSON.stringify(p.attribution) : null;
  if (p.locale !== undefined) out.locale = p.locale;
  if (p.snapshot !== undefined) out.snapshot = JSON.stringify(p.snapshot);
  if (p.severity !== undefined) {
    out.severity = p.severity;
    out.severity_rank = severityRank(p.severity);
  }
  if (p.nextReverifyAt !== undefined) out.next_reverify_at = p.nextReverifyAt;
  if (p.reverifyAttempts !== undefined) out.reverify_attempts = p.reverifyAttempts;
  if (p.lastReverifiedAt !== undefined) out.last_reverified_at = p.lastReverifiedAt;
  if (p.noticeCount !== undefined) out.notice_count = p.noticeCount;
  return out;
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StoreError(`Stored ${what} is not valid JSON`, { cause: err });
  }
}

function toCaseRecord(r: CasesTable): CaseRecord {
  return {
    id: r.id,
    findingId: Number(r.finding_id),
    host: r.host,
    port: Number(r.port),
    module: r.module,
    state: r.state as CaseState,
    severity: (r.severity as Severity | null) ?? null,
    detectedAt: r.detected_at,
    openedAt: r.opened_at,
    updatedAt: r.updated_at,
    notifiedAt: r.notified_at,
    acknowledgedAt: r.acknowledged_at,
    remediatedAt: r.remediated_at,
    closedAt: r.closed_at,
    openedBy: r.opened_by,
    contacts: parse(r.contacts, `contacts of case ${r.id}`) as Contact[],
    attribution: r.attribution ? (parse(r.attribution, `attribution of case ${r.id}`) as Attribution) : null,
    locale: r.locale,
    snapshot: parse(r.snapshot, `snapshot of case ${r.id}`) as FindingRecord,
    nextReverifyAt: r.next_reverify_at,
    reverifyAttempts: Number(r.reverify_attempts),
    lastReverifiedAt: r.last_reverified_at,
    noticeCount: Number(r.notice_count),
  };
}

function toCaseEvent(r: CaseEventsTable): CaseEvent {
  return {
    caseId: r.case_id,
    seq: Number(r.seq),
    at: r.at,
    kind: r.kind as CaseEventKind,
    fromState: (r.from_state as CaseState | null) ?? null,
    toState: (r.to_state as CaseState | null) ?? null,
    operator: r.operator,
    reason: r.reason,
    evidence: r.evidence === null ? null : parse(r.evidence, `evidence of event ${r.seq} of case ${r.case_id}`),
  };
}
