/**
 * Cassandra value sampling, only inside the authorized scope (`ctx.sample` set): the first rows of user
 * tables, run through the value scanner, keeping only the redacted result.
 *
 * Cassandra keeps no cheap table sizes (see queries.ts), so tables are taken in the order the schema listing
 * gave them (user keyspaces, by name), at most `maxCollections`, on the probe's own connection:
 *   `QUERY:sample_rows` — `SELECT * FROM "keyspace"."table" LIMIT N` with page size N (= `perCollection`),
 * consistency ONE, one page, never a paging-state follow-up. It is the only CQL built from server-provided
 * names; both are quoted identifiers (every `"` doubled, NUL refused), so a name cannot end the identifier.
 * Blob columns arrive as capped hex (codec), so a raw image in a blob is not recognised; base64 and data URIs are.
 * The rows go straight into `redactSample` and are dropped.
 */
import { ProtocolError } from '../../core/errors.js';
import { type SampleCollection } from '../../assess/index.js';
import { type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import { redactSample, SampleBudget, sampleLimits, samplingError, type SamplingFacts } from '../sampling.js';
import { rowObjects, type RowsResult } from './codec.js';
import { type CqlQuery } from './queries.js';

export const CASSANDRA_SAMPLE_COMMANDS = {
  rows: 'QUERY:sample_rows',
} as const;

/** A CQL identifier, quoted: `"` doubled inside double quotes. */
export function quoteCqlIdent(name: string): string {
  if (name.includes('\0')) throw new ProtocolError('Identifier contains a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

export function cqlSampleRowsQuery(keyspace: string, table: string, limit: number): CqlQuery {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new ProtocolError(`Invalid row limit ${limit}`);
  return { command: CASSANDRA_SAMPLE_COMMANDS.rows, cql: `SELECT * FROM ${quoteCqlIdent(keyspace)}.${quoteCqlIdent(table)} LIMIT ${limit}`, pageSize: limit };
}

type RunQuery = (q: CqlQuery) => Promise<{ rows?: RowsResult; error?: { code: number; message: string } }>;

export async function sampleCassandra(run: ProbeRun, session: Session, tables: Readonly<Record<string, readonly string[]>>, query: RunQuery): Promise<void> {
  const plan = run.ctx.sample;
  if (plan === undefined) return;
  const limits = sampleLimits(plan);
  const budget = new SampleBudget(limits.maxBytes);
  const collections: SampleCollection[] = [];
  const picked = Object.entries(tables)
    .flatMap(([ks, names]) => names.map((t) => [ks, t] as const))
    .filter(([ks, t]) => !ks.includes('\0') && !t.includes('\0'))
    .slice(0, limits.maxCollections);
  for (const [ks, table] of picked) {
    if (budget.exhausted || run.aborted) break;
    const before = session.bytesRead;
    try {
      const outcome = await query(cqlSampleRowsQuery(ks, table, limits.perCollection));
      if (outcome.error) {
        // The error code only: a message could quote a value.
        run.result.errors.push(`Sampling ${ks}.${table}: ${CASSANDRA_SAMPLE_COMMANDS.rows} refused (0x${outcome.error.code.toString(16).padStart(4, '0')})`);
        continue;
      }
      collections.push({ name: `${ks}.${table}`, documents: rowObjects(outcome.rows!).slice(0, limits.perCollection) });
    } catch (err) {
      if (run.aborted) throw err;
      run.result.errors.push(samplingError(`${ks}.${table}`, err));
      break; // the connection is no longer usable
    } finally {
      budget.spend(session.bytesRead - before);
    }
  }
  const read = collections.length;
  const { sample, truncated } = redactSample({ collections }, limits, limits.perCollection, 'cassandra');
  collections.length = 0;
  run.result.sample = sample;
  const facts: SamplingFacts = { collections: read, bytesRead: budget.spent, limits, truncated };
  run.result.metadata.sampling = facts;
}
