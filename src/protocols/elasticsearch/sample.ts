/**
 * Elasticsearch/OpenSearch value sampling, only inside the authorized scope (`ctx.sample` set): the first
 * documents of the largest indices, run through the value scanner, keeping only the redacted result.
 *
 * For at most `maxCollections` indices from the server's own `GET /_cat/indices` listing (largest store size
 * first; closed, empty and dot-prefixed system indices skipped), one request each, one after the other:
 *   `GET /{index}/_search?size=N&filter_path=hits.hits._source`
 * with N = `perCollection`. A GET with query parameters only — no request body, so no query DSL, no scripts,
 * no aggregations. The index name comes from the listing and must look like a single concrete index name
 * (lowercase letters, digits, `.`, `_`, `-`; no wildcard, comma, colon — a colon would address a remote
 * cluster —, slash or space); it is URL-encoded into the path. On the allow-list the request is named
 * `GET /{index}/_search`. The documents go straight into `redactSample` and are dropped.
 */
import { type SampleCollection } from '../../assess/index.js';
import { type ProbeRun } from '../../net/probe-run.js';
import { redactSample, SampleBudget, sampleLimits, samplingError, type SamplingFacts } from '../sampling.js';
import { parseErrorBody, parseJson, type IndexInfo } from './codec.js';
import { isJsonObject } from '../json-body.js';

export const ES_SAMPLE_COMMANDS = {
  search: 'GET /{index}/_search',
} as const;

/** One concrete index name as Elasticsearch allows it (lowercase, ≤ 255 bytes, not starting with `-_+.`). */
const INDEX_NAME = /^[\p{Ll}\p{Lo}\p{N}][\p{Ll}\p{Lo}\p{N}._-]*$/u;

export function isSampleableIndexName(name: string): boolean {
  return INDEX_NAME.test(name) && Buffer.byteLength(name, 'utf8') <= 255;
}

/** The request path for one index (`name` already checked with `isSampleableIndexName`). */
export function searchPath(name: string, size: number): string {
  return `/${encodeURIComponent(name)}/_search?size=${size}&filter_path=hits.hits._source`;
}

/** Largest first (the listing is already sorted by store size), open and non-empty, valid names only. */
export function pickIndices(indices: readonly IndexInfo[], max: number): IndexInfo[] {
  return indices.filter((i) => i.status !== 'close' && i.docs !== 0 && isSampleableIndexName(i.name)).slice(0, max);
}

export async function sampleElasticsearch(run: ProbeRun, tls: boolean, indices: readonly IndexInfo[]): Promise<void> {
  const plan = run.ctx.sample;
  if (plan === undefined) return;
  const limits = sampleLimits(plan);
  const budget = new SampleBudget(limits.maxBytes);
  const collections: SampleCollection[] = [];
  let read = 0;
  for (const index of pickIndices(indices, limits.maxCollections)) {
    if (budget.exhausted || run.aborted) break;
    let documents: unknown[];
    try {
      const res = await run.http(ES_SAMPLE_COMMANDS.search, { method: 'GET', path: searchPath(index.name, limits.perCollection), tls });
      budget.spend(res.body.length);
      if (res.status !== 200) {
        // Status and error type only: a reason text could quote what it failed on.
        const type = parseErrorBody(res.body).type;
        run.result.errors.push(`Sampling ${index.name} refused: HTTP ${res.status}${type !== undefined ? ` ${type}` : ''}`);
        continue;
      }
      const reply = parseJson(res.body, 'search reply');
      const hits = isJsonObject(reply) && isJsonObject(reply.hits) && Array.isArray(reply.hits.hits) ? reply.hits.hits : [];
      documents = hits.slice(0, limits.perCollection).map((h) => (isJsonObject(h) ? h._source : undefined)).filter((d) => d !== undefined);
    } catch (err) {
      if (run.aborted) throw err;
      run.result.errors.push(samplingError(index.name, err));
      continue;
    }
    collections.push({ name: index.name, documents });
    read++;
  }
  const { sample, truncated } = redactSample({ collections }, limits, limits.perCollection, 'elasticsearch');
  collections.length = 0;
  run.result.sample = sample;
  const facts: SamplingFacts = { collections: read, bytesRead: budget.spent, limits, truncated };
  run.result.metadata.sampling = facts;
}
