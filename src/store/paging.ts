import { type FindingFilter, type FindingRecord, type ServiceSummary, type Store } from './store.js';

/**
 * Walk the findings that match `filter` page by page, in the store's order (address, port, module),
 * so a scan with a million answered services never has them all in memory at once.
 */
export function eachFinding(store: Store, filter: Omit<FindingFilter, 'limit' | 'offset' | 'after'>, pageSize = 2000): AsyncGenerator<FindingRecord> {
  return keysetPages((after) => store.listFindings({ ...filter, limit: pageSize, ...(after ? { after } : {}) }), pageSize);
}

/** The same walk over a scan's services with only what a whole-scan pass needs (see `listServiceSummaries`). */
export function eachServiceSummary(store: Store, scanId: string, pageSize = 2000): AsyncGenerator<ServiceSummary> {
  return keysetPages((after) => store.listServiceSummaries({ scanId, limit: pageSize, ...(after ? { after } : {}) }), pageSize);
}

/** Keyset paging: each page starts after the last one's final row, so page 500 costs what page 1 does. */
async function* keysetPages<T extends { host: string; port: number; module: string }>(
  page: (after: FindingFilter['after']) => Promise<T[]>,
  pageSize: number,
): AsyncGenerator<T> {
  let after: FindingFilter['after'];
  for (;;) {
    const rows = await page(after);
    yield* rows;
    const last = rows[rows.length - 1];
    if (rows.length < pageSize || last === undefined) return;
    after = { host: last.host, port: last.port, module: last.module };
  }
}
