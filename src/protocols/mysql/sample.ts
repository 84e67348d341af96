/**
 * MySQL/MariaDB value sampling. It can only happen after the probe logged in, which itself needs both
 * `checkDefaultCredentials` and `authorized`; sampling needs `ctx.sample` on top (set only inside
 * `scope.authorized`). On the probe's own connection, before COM_QUIT:
 * 1. `Query:sample_tables` (constant text): base tables outside the server's own schemas, largest first.
 * 2. `Query:sample_rows` for at most `maxCollections` of them while the byte budget lasts:
 *    `SELECT * FROM \`schema\`.\`table\` LIMIT N` with N = `perCollection`. The only query text built from
 *    server-provided names; both are quoted as identifiers (every backtick doubled, NUL refused), so a name
 *    cannot end the identifier and add SQL.
 * Values arrive as text (the text protocol); binary columns are decoded as UTF-8 text, so a raw BLOB image is
 * not recognised (base64 or data-URI images are). The rows go straight into `redactSample` and are dropped.
 */
import { ProtocolError } from '../../core/errors.js';
import { type SampleCollection } from '../../assess/index.js';
import { type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import { redactSample, SampleBudget, sampleLimits, samplingError, type SamplingFacts } from '../sampling.js';
import { decodeQueryReply, encodeQuery, type QueryReply } from './codec.js';

export const MYSQL_SAMPLE_COMMANDS = {
  tables: 'Query:sample_tables',
  rows: 'Query:sample_rows',
} as const;

export const MYSQL_SAMPLE_TABLES_QUERY =
  'SELECT table_schema, table_name FROM information_schema.tables ' +
  "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') " +
  'ORDER BY data_length + index_length DESC, table_schema, table_name LIMIT 100';

/** A MySQL identifier, quoted with backticks (each backtick doubled). NUL is not allowed in identifiers. */
export function quoteMysqlIdent(name: string): string {
  if (name.includes('\0')) throw new ProtocolError('Identifier contains a NUL byte');
  return `\`${name.replace(/`/g, '``')}\``;
}

export function mysqlSampleRowsQuery(schema: string, table: string, limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ProtocolError(`Invalid row limit ${limit}`);
  return `SELECT * FROM ${quoteMysqlIdent(schema)}.${quoteMysqlIdent(table)} LIMIT ${limit}`;
}

async function query(session: Session, command: string, sql: string): Promise<QueryReply> {
  session.send(command, encodeQuery(sql));
  return session.read(decodeQueryReply);
}

export async function sampleMysql(run: ProbeRun, session: Session): Promise<void> {
  const plan = run.ctx.sample;
  if (plan === undefined) return;
  const limits = sampleLimits(plan);
  const budget = new SampleBudget(limits.maxBytes);
  const collections: SampleCollection[] = [];
  const started = session.bytesRead;
  try {
    const list = await query(session, MYSQL_SAMPLE_COMMANDS.tables, MYSQL_SAMPLE_TABLES_QUERY);
    if (list.kind !== 'resultset') {
      run.result.errors.push(`Sampling: ${MYSQL_SAMPLE_COMMANDS.tables} failed${list.kind === 'err' ? ` (ERR ${list.code})` : ''}`);
    } else {
      for (const [schema, table] of list.rows.slice(0, limits.maxCollections)) {
        if (budget.exhausted || run.aborted) break;
        if (schema == null || table == null || schema.includes('\0') || table.includes('\0')) continue;
        const before = session.bytesRead;
        const res = await query(session, MYSQL_SAMPLE_COMMANDS.rows, mysqlSampleRowsQuery(schema, table, limits.perCollection));
        budget.spend(session.bytesRead - before);
        if (res.kind !== 'resultset') {
          // The error code only: a message could quote what it failed on.
          run.result.errors.push(`Sampling ${schema}.${table}: ${MYSQL_SAMPLE_COMMANDS.rows} failed${res.kind === 'err' ? ` (ERR ${res.code})` : ''}`);
          continue;
        }
        const names = res.columns.map((c) => c.name);
        const documents = res.rows.slice(0, limits.perCollection).map((row) => {
          const doc: Record<string, unknown> = {};
          names.forEach((n, i) => {
            const v = row[i];
            if (v != null) Object.defineProperty(doc, n, { value: v, enumerable: true, configurable: true, writable: true });
          });
          return doc;
        });
        collections.push({ name: `${schema}.${table}`, documents });
      }
    }
  } catch (err) {
    if (run.aborted) throw err;
    run.result.errors.push(samplingError('tables', err));
  }
  const read = collections.length;
  const { sample, truncated } = redactSample({ collections }, limits, limits.perCollection, 'mysql');
  collections.length = 0;
  run.result.sample = sample;
  const facts: SamplingFacts = { collections: read, bytesRead: session.bytesRead - started, limits, truncated };
  run.result.metadata.sampling = facts;
}
