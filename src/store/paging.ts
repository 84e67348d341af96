import { type FindingFilter, type FindingRecord, type Store } from './store.js';

/**
 * Walk the findings that match `filter` page by page, in the store's order (address, port, module),
 * so a scan with a million answered services never has them all in memory at once.
 */
export async function* eachFinding(store: Store, filter: Omit<FindingFilter, 'limit' | 'offset'>, pageSize = 2000): AsyncGenerator<FindingRecord> {
  for (let offset = 0; ; offset += pageSize) {
    const page = await store.listFindings({ ...filter, limit: pageSize, offset });
    yield* page;
    if (page.length < pageSize) return;
  }
}
