/**
 * MongoDB value sampling, only inside the authorized scope (`ctx.sample` set): a bounded `find` on the largest
 * collections the probe already counted, run through the value scanner, keeping only the redacted result.
 *
 * For at most `maxCollections` plain collections (largest document count first; views, time-series and
 * `system.*` collections are never read, and neither are `admin`, `local`, `config`), one at a time on the
 * probe's own connection:
 *   `find: <coll>, filter: {}, limit: N, batchSize: N, singleBatch: true, maxTimeMS` on `$db`
 * with N = `perCollection`. `singleBatch` closes the cursor with the first batch, so there is never a
 * `getMore` (not on the allow-list) and no cursor left open on the server. Collections are read one after the
 * other so the byte budget can stop the next `find` before it is sent.
 * The documents go straight into `redactSample` and are dropped; a refused `find` is noted by code only.
 */
import { type SampleCollection } from '../../assess/index.js';
import { type ProbeRun } from '../../net/probe-run.js';
import { redactSample, SampleBudget, sampleLimits, samplingError, type SamplingFacts } from '../sampling.js';
import { type Document } from './codec.js';
import { type MongoConnection } from './connection.js';
import { commandError, isOk, num } from './replies.js';

export const MONGODB_SAMPLE_COMMANDS = {
  find: 'find',
} as const;

/** A collection the probe listed and counted, candidate for sampling. */
export interface SampleCandidate {
  db: string;
  collection: string;
  count: number | undefined;
}

/** Server-side time limit of one sampling `find`. */
const FIND_MAX_TIME_MS = 2000;

/** Largest first (unknown counts last), empty collections skipped. */
export function pickCollections(candidates: readonly SampleCandidate[], max: number): SampleCandidate[] {
  return candidates
    .filter((c) => c.count !== 0)
    .slice()
    .sort((a, b) => (b.count ?? -1) - (a.count ?? -1) || a.db.localeCompare(b.db) || a.collection.localeCompare(b.collection))
    .slice(0, max);
}

export async function sampleMongo(run: ProbeRun, conn: MongoConnection, candidates: readonly SampleCandidate[]): Promise<void> {
  const plan = run.ctx.sample;
  if (plan === undefined) return;
  const limits = sampleLimits(plan);
  const budget = new SampleBudget(limits.maxBytes);
  const collections: SampleCollection[] = [];
  const started = conn.session.bytesRead;
  let read = 0;
  for (const c of pickCollections(candidates, limits.maxCollections)) {
    if (budget.exhausted || run.aborted) break;
    const before = conn.session.bytesRead;
    let reply: Document;
    try {
      reply = await conn.command(MONGODB_SAMPLE_COMMANDS.find, {
        find: c.collection,
        filter: {},
        limit: limits.perCollection,
        batchSize: limits.perCollection,
        singleBatch: true,
        maxTimeMS: FIND_MAX_TIME_MS,
        $db: c.db,
      });
    } catch (err) {
      if (run.aborted) throw err;
      run.result.errors.push(samplingError(`${c.db}.${c.collection}`, err));
      break; // the connection is gone (read cap, closed)
    } finally {
      budget.spend(conn.session.bytesRead - before);
    }
    if (!isOk(reply)) {
      const e = commandError(reply);
      // Code and name only: an errmsg could quote what it failed on.
      run.result.errors.push(`Sampling ${c.db}.${c.collection} refused: code ${e.code ?? '?'}${e.codeName ? ` ${e.codeName}` : ''}`);
      continue;
    }
    const cursor: unknown = reply.cursor;
    const batch: unknown = typeof cursor === 'object' && cursor !== null ? (cursor as Document).firstBatch : undefined;
    if (!Array.isArray(batch)) {
      run.result.errors.push(`Sampling ${c.db}.${c.collection}: find reply has no cursor.firstBatch`);
      continue;
    }
    // A server that ignores limit still gives us no more than perCollection documents to look at.
    collections.push({ name: `${c.db}.${c.collection}`, documents: batch.slice(0, limits.perCollection) });
    read++;
    if ((num((cursor as Document).id) ?? 0) !== 0) run.result.errors.push(`Sampling ${c.db}.${c.collection}: server kept a cursor open despite singleBatch`);
  }
  const { sample, truncated } = redactSample({ collections }, limits, limits.perCollection, 'mongodb');
  collections.length = 0;
  run.result.sample = sample;
  const facts: SamplingFacts = { collections: read, bytesRead: conn.session.bytesRead - started, limits, truncated };
  run.result.metadata.sampling = facts;
}
