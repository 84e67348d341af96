import { type FindingFilter, type FindingRecord, type Store } from './store.js';

/**
 * Walk the findings that match `filter` page by page, in the store's order (address, port, module),
 * so a scan with a million answered services never has them all in memory at once.
 */
export async function* eachFinding(
  store: Store,
  filter: Omit<FindingFilter, 'limit' | 'offset' | 'after'>,
  pageSize = 2000,
): AsyncGenerator<FindingRecord> {
  let after: FindingFilter['after'];
  for (;;) {
    // Keyset paging: each page starts after the last one's final row, so page 500 costs what page 1 does.
    const page = await store.listFindings({ ...filter, limit: pageSize, ...(after ? { after } : {}) });
    yield* page;
    const last = page[page.length - 1];
    if (page.length < pageSize || last === undefined) return;
    after = { host: last.host, port: last.port, module: last.module };
  }
}
