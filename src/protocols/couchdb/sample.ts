/**
 * CouchDB value sampling, only inside the authorized scope (`ctx.sample` set): the first documents of the
 * largest databases the probe inspected, run through the value scanner, keeping only the redacted result.
 *
 * For at most `maxCollections` databases (most documents first; names from the server's own `_all_dbs` that
 * pass CouchDB's naming rule, system databases `_…` never), one request each:
 *   `GET /{db}/_all_docs?limit=N&include_docs=true`
 * with N = `perCollection`; named `GET /{db}/_all_docs` on the allow-list. Design documents (`_design/…`,
 * application code, not records) are left out. The documents go straight into `redactSample` and are dropped.
 */
import { type SampleCollection } from '../../assess/index.js';
import { type ProbeRun } from '../../net/probe-run.js';
import { redactSample, SampleBudget, sampleLimits, samplingError, type SamplingFacts } from '../sampling.js';
import { dbPath, isInspectableDbName, parseErrorReply, parseJson, type CouchDbInfo } from './codec.js';
import { isJsonObject } from '../json-body.js';

export const COUCHDB_SAMPLE_COMMANDS = {
  allDocs: 'GET /{db}/_all_docs',
} as const;

export function allDocsPath(name: string, limit: number): string {
  return `${dbPath(name)}/_all_docs?limit=${limit}&include_docs=true`;
}

/** Most documents first; empty databases, system databases and odd names left out. */
export function pickDatabases(infos: ReadonlyMap<string, CouchDbInfo>, max: number): string[] {
  return [...infos.entries()]
    .filter(([name, info]) => !name.startsWith('_') && isInspectableDbName(name) && info.docCount !== 0)
    .sort((a, b) => (b[1].docCount ?? -1) - (a[1].docCount ?? -1) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, max)
    .map(([name]) => name);
}

export async function sampleCouchdb(run: ProbeRun, infos: ReadonlyMap<string, CouchDbInfo>): Promise<void> {
  const plan = run.ctx.sample;
  if (plan === undefined) return;
  const limits = sampleLimits(plan);
  const budget = new SampleBudget(limits.maxBytes);
  const collections: SampleCollection[] = [];
  for (const name of pickDatabases(infos, limits.maxCollections)) {
    if (budget.exhausted || run.aborted) break;
    try {
      const res = await run.http(COUCHDB_SAMPLE_COMMANDS.allDocs, { method: 'GET', path: allDocsPath(name, limits.perCollection) });
      budget.spend(res.body.length);
      if (res.status !== 200) {
        // Status and CouchDB error name only.
        const error = parseErrorReply(res.body)?.error;
        run.result.errors.push(`Sampling ${name} refused: HTTP ${res.status}${typeof error === 'string' ? ` ${error.slice(0, 64)}` : ''}`);
        continue;
      }
      const reply = parseJson(res.body, '_all_docs reply');
      const rows = isJsonObject(reply) && Array.isArray(reply.rows) ? reply.rows : [];
      const documents = rows
        .slice(0, limits.perCollection)
        .map((row) => (isJsonObject(row) && isJsonObject(row.doc) ? row.doc : undefined))
        .filter((doc): doc is Record<string, unknown> => doc !== undefined && !(typeof doc._id === 'string' && doc._id.startsWith('_design/')));
      collections.push({ name, documents });
    } catch (err) {
      if (run.aborted) throw err;
      run.result.errors.push(samplingError(name, err));
    }
  }
  const read = collections.length;
  const { sample, truncated } = redactSample({ collections }, limits, limits.perCollection, 'couchdb');
  collections.length = 0;
  run.result.sample = sample;
  const facts: SamplingFacts = { collections: read, bytesRead: budget.spent, limits, truncated };
  run.result.metadata.sampling = facts;
}
