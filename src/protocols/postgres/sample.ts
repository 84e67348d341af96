/**
 * PostgreSQL value sampling, only inside the authorized scope (`ctx.sample` set): the first rows of the
 * largest tables, run through the value scanner, keeping only the redacted result.
 *
 * A PostgreSQL session sees one database, so sampling opens one more connection per database (largest first,
 * only those the probe's role may connect to), each with the same read-only StartupMessage as the probe
 * (`default_transaction_read_only=on`, a statement_timeout) and `database=<name>` from the server's own list.
 * On each, while the plan's table and byte budgets last:
 * 1. `Query:sample_tables` (constant text): the tables this role may SELECT from, largest first.
 * 2. `Query:sample_rows` for each table: `SELECT * FROM "schema"."table" LIMIT N` with N = `perCollection`.
 *    The only query text built from server-provided names; both names are quoted as SQL identifiers (every
 *    `"` doubled, NUL refused), so a table named `x"; DROP TABLE y; --` is read as that table, never executed.
 * 3. Terminate.
 * Rows are decoded as text; `bytea` columns become bytes (so a stored JPEG is recognised), json/jsonb text is
 * parsed by the scanner. The rows go straight into `redactSample` and are dropped. What the table list says
 * (names, sizes, estimated rows) and the column names of sampled tables go into the inventory: names only.
 */
import { ProtocolError } from '../../core/errors.js';
import { type InventoryEntry } from '../../core/types.js';
import { type SampleCollection } from '../../assess/index.js';
import { type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import { redactSample, SampleBudget, sampleLimits, samplingError, type SamplingFacts } from '../sampling.js';
import { decodeBackendMessage, encodeQuery, encodeTerminate, MAX_MESSAGE, type ErrorFields, type RowField } from './codec.js';

export const SAMPLE_QUERY_COMMANDS = {
  tables: 'Query:sample_tables',
  rows: 'Query:sample_rows',
} as const;

/**
 * Tables of the current database this role may read, largest first (at most 100, the most any plan may
 * sample). information_schema.tables lists only tables the role has a privilege on; partitions are read
 * through their parent, views never (reading one runs its query).
 */
export const SAMPLE_TABLES_QUERY =
  'SELECT t.table_schema, t.table_name, c.reltuples::bigint, pg_total_relation_size(c.oid) ' +
  'FROM information_schema.tables t ' +
  'JOIN pg_namespace n ON n.nspname = t.table_schema ' +
  'JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.table_name ' +
  "WHERE t.table_type = 'BASE TABLE' AND t.table_schema NOT IN ('pg_catalog', 'information_schema') " +
  "AND has_table_privilege(c.oid, 'SELECT') " +
  'ORDER BY 4 DESC, 1, 2 LIMIT 100';

const BYTEA_OID = 17;

/** A SQL identifier, quoted: `"` doubled inside double quotes. NUL cannot be sent in a query at all. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new ProtocolError('Identifier contains a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

/** The one query built from names: `SELECT * FROM "schema"."table" LIMIT n`. */
export function sampleRowsQuery(schema: string, table: string, limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ProtocolError(`Invalid row limit ${limit}`);
  return `SELECT * FROM ${quoteIdent(schema)}.${quoteIdent(table)} LIMIT ${limit}`;
}

export interface SampleDatabase {
  name: string;
  /** pg_database_size, null where the role may not connect. */
  sizeBytes: number | null;
}

interface QueryResult {
  fields: RowField[];
  rows: (string | null)[][];
  error?: ErrorFields;
}

/** One simple query; rows kept up to `maxRows` (the LIMIT already bounds them). */
async function runQuery(session: Session, command: string, sql: string, maxLength: number, maxRows: number): Promise<QueryResult> {
  session.send(command, encodeQuery(sql));
  const out: QueryResult = { fields: [], rows: [] };
  for (;;) {
    const msg = await session.read((buf) => decodeBackendMessage(buf, maxLength));
    switch (msg.type) {
      case 'row-description':
        out.fields = msg.fields;
        break;
      case 'data-row':
        if (out.rows.length < maxRows) out.rows.push(msg.values);
        break;
      case 'error':
        out.error = msg.fields;
        break;
      case 'ready-for-query':
        return out;
      case 'command-complete':
      case 'empty-query-response':
      case 'notice':
      case 'parameter-status':
      case 'other':
        break;
      default:
        throw new ProtocolError(`Unexpected PostgreSQL message '${msg.type}' in reply to ${command}`);
    }
  }
}

/** A row as a document the scanner walks; bytea text (`\x…`) as bytes. */
function rowDocument(fields: readonly RowField[], values: readonly (string | null)[]): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    const v = values[i];
    if (v === null || v === undefined) return;
    const value = f.typeOid === BYTEA_OID && /^\\x(?:[0-9a-fA-F]{2})*$/.test(v) ? Buffer.from(v.slice(2), 'hex') : v;
    // defineProperty: a column named __proto__ stays a column.
    Object.defineProperty(doc, f.name, { value, enumerable: true, configurable: true, writable: true });
  });
  return doc;
}

function count(v: string | null | undefined): number | undefined {
  if (v == null || !/^-?\d{1,18}$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Sample the databases (largest first) through sessions opened by `connect` (already past StartupMessage and
 * ReadyForQuery for that database, or `undefined` when it could not log in). Sets `result.sample` and adds
 * the tables seen to `result.inventory`.
 */
export async function samplePostgres(
  run: ProbeRun,
  databases: readonly SampleDatabase[],
  connect: (database: string) => Promise<Session | undefined>,
): Promise<void> {
  const plan = run.ctx.sample;
  if (plan === undefined) return;
  const limits = sampleLimits(plan);
  const budget = new SampleBudget(limits.maxBytes);
  const maxLength = Math.min(MAX_MESSAGE, run.ctx.readCap);
  const collections: SampleCollection[] = [];
  const tables: InventoryEntry[] = [];
  let tablesLeft = limits.maxCollections;
  let databasesRead = 0;

  for (const db of databases) {
    if (tablesLeft <= 0 || budget.exhausted || run.aborted) break;
    if (db.sizeBytes === null || db.name.includes('\0')) continue;
    let session: Session | undefined;
    try {
      session = await connect(db.name);
      if (session === undefined) continue;
      const list = await runQuery(session, SAMPLE_QUERY_COMMANDS.tables, SAMPLE_TABLES_QUERY, maxLength, 100);
      if (list.error) {
        run.result.errors.push(`Sampling ${db.name}: ${SAMPLE_QUERY_COMMANDS.tables} failed (SQLSTATE ${list.error.code ?? '?'})`);
        continue;
      }
      databasesRead++;
      for (const [schema, table, estimate, size] of list.rows) {
        if (tablesLeft <= 0 || budget.exhausted) break;
        if (schema == null || table == null || schema.includes('\0') || table.includes('\0')) continue;
        tablesLeft--;
        const entry: InventoryEntry = { path: [db.name, schema, table], kind: 'table' };
        const rows = count(estimate);
        const bytes = count(size);
        if (rows !== undefined) entry.records = rows;
        if (bytes !== undefined) entry.bytes = bytes;
        tables.push(entry);
        const before = session.bytesRead;
        const res = await runQuery(session, SAMPLE_QUERY_COMMANDS.rows, sampleRowsQuery(schema, table, limits.perCollection), maxLength, limits.perCollection);
        budget.spend(session.bytesRead - before);
        if (res.error) {
          // SQLSTATE only: an error message could quote a value it failed on.
          run.result.errors.push(`Sampling ${db.name}.${schema}.${table}: ${SAMPLE_QUERY_COMMANDS.rows} failed (SQLSTATE ${res.error.code ?? '?'})`);
          continue;
        }
        entry.fields = res.fields.map((f) => f.name).slice(0, 200);
        collections.push({ name: `${db.name}.${schema}.${table}`, documents: res.rows.map((r) => rowDocument(res.fields, r)) });
      }
    } catch (err) {
      if (run.aborted) throw err;
      run.result.errors.push(samplingError(db.name, err));
    } finally {
      if (session !== undefined) {
        try {
          session.send('Terminate', encodeTerminate());
        } catch {
          // Already closed.
        }
        session.close();
      }
    }
  }

  const sampledTables = collections.length;
  const { sample, truncated } = redactSample({ collections }, limits, limits.perCollection, 'postgres');
  collections.length = 0;
  run.result.sample = sample;
  if (run.result.inventory !== undefined) run.result.inventory.namespaces.push(...tables);
  const facts: SamplingFacts & { databases: number } = { collections: sampledTables, databases: databasesRead, bytesRead: budget.spent, limits, truncated };
  run.result.metadata.sampling = facts;
}
