import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ProbeResult } from '../core/types.js';
import { probeResult } from '../../test/helpers/probe-result.js';
import { eachFinding, eachServiceSummary } from './paging.js';
import { openSqliteStore } from './sqlite-store.js';

const result = (host: string, port: number, module: string): ProbeResult =>
  probeResult({ host, port, module, auth: 'open', product: module, version: `${port}.0`, metadata: { port, module } });

describe('eachFinding and eachServiceSummary', () => {
  it('keyset pages give every finding once, in order, across pages that split a host and a port', async () => {
    const store = await openSqliteStore(':memory:');
    try {
      const scan = await store.createScan({ spec: {}, totalItems: 0, operator: 'test', commandLine: 'test' });
      // Hosts whose text order differs from address order, several ports and modules each.
      const results: ProbeResult[] = [];
      for (const host of ['10.0.0.10', '10.0.0.9', '9.255.255.255', '2001:db8::1', '10.0.0.100'])
        for (const port of [6379, 80, 9200]) for (const module of ['redis', 'banner']) results.push(result(host, port, module));
      await store.recordBatch({ scanId: scan.id, results, donePositions: [], watermark: 0, doneDelta: 0, answeredDelta: 0, openDelta: 0 });
      const all = await store.listFindings({ scanId: scan.id });
      assert.equal(all.length, 30);
      for (const pageSize of [1, 4, 6, 7, 30, 31]) {
        const paged = [];
        for await (const f of eachFinding(store, { scanId: scan.id }, pageSize)) paged.push(f);
        assert.deepEqual(
          paged.map((f) => `${f.host} ${f.port} ${f.module}`),
          all.map((f) => `${f.host} ${f.port} ${f.module}`),
          `page size ${pageSize}`,
        );
      }
      assert.deepEqual(all.slice(0, 2).map((f) => f.host), ['9.255.255.255', '9.255.255.255']);

      // The summaries walk the same services in the same order, with the same facts.
      await store.setHostHoneypot('10.0.0.9', [{ ruleId: 'multi-product', reason: 'test', reference: 'test' }]);
      for (const pageSize of [1, 7, 31]) {
        const summaries = [];
        for await (const s of eachServiceSummary(store, scan.id, pageSize)) summaries.push(s);
        assert.deepEqual(
          summaries,
          all.map((f) => ({ host: f.host, port: f.port, module: f.module, auth: f.auth, product: f.product, version: f.version, metadata: f.metadata, honeypot: f.host === '10.0.0.9' })),
          `page size ${pageSize}`,
        );
      }
    } finally {
      await store.close();
    }
  });
});
