import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ProbeResult } from '../core/types.js';
import { probeResult } from '../../test/helpers/probe-result.js';
import { eachFinding } from './paging.js';
import { openSqliteStore } from './sqlite-store.js';

const result = (host: string, port: number, module: string): ProbeResult => probeResult({ host, port, module, auth: 'open' });

describe('eachFinding', () => {
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
    } finally {
      await store.close();
    }
  });
});
