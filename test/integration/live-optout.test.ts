import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/config.js';
import { startScan, prepareScan, type NewScanRequest } from '../../src/discover/scan-job.js';
import { PROBES } from '../../src/protocols/registry.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { TargetSpace } from '../../src/targets/target-space.js';
import { env, requireServer } from '../helpers/servers.js';

/**
 * The exclusion file is a live opt-out: an address appended while a scan runs is not probed afterwards.
 * The scan order is a keyed permutation, so with a fixed seed the test knows when the scan will reach
 * the open Redis server, and appends it to the file well before that moment.
 */
describe('live opt-out through the exclusion file', { timeout: 60_000 }, () => {
  it('never probes an address appended to the exclusion file mid-scan', async () => {
    const host = env('REDIS_OPEN_HOST');
    const port = Number(env('REDIS_PORT'));
    await requireServer(host, port, 'redis (open)');
    const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-optout-'));
    const optout = path.join(dir, 'optout.txt');
    writeFileSync(optout, '# opt-outs\n');

    const targets = [{ text: '127.0.10.0/24', source: 'test' }];
    const ports = [{ module: 'redis', port }];
    // Choose a seed that puts the open server late in the order.
    let seed = 1;
    let position = -1;
    for (; seed < 1000; seed++) {
      const space = await TargetSpace.build({ targets, excludes: [], ports, seed });
      position = [...space.items()].findIndex((it) => it.host === host);
      if (position > 200) break;
    }
    assert.ok(position > 200);

    const config = defaultConfig();
    const request: NewScanRequest = {
      targets,
      excludes: [],
      excludeFiles: [optout],
      ports: [{ module: 'redis', port }],
      seed,
      allowLargeIpv6: false,
      checkDefaultCredentials: false,
      settings: { rate: 100, concurrency: 16, connectTimeoutMs: 500, timeoutMs: 2000, readCapBytes: 1 << 20 },
      config,
      identity: 'lockdown-test',
      commandLine: 'test',
    };
    const store = await openSqliteStore(':memory:');
    try {
      let done = 0;
      let appendedAt = -1;
      const run = await startScan(store, request, await prepareScan(request), PROBES, {
        signal: new AbortController().signal,
        onResult: () => {
          done++;
          if (done === 50) {
            appendedAt = done;
            appendFileSync(optout, `${host}\n`);
          }
        },
      });
      assert.ok(appendedAt > 0 && appendedAt < position - 100, 'the opt-out arrived well before the scan reached the host');
      assert.equal(run.scan.state, 'completed');
      const found = await store.listFindings({ host });
      assert.deepEqual(found, [], 'the opted-out server was not probed');
      const audit = await store.listAudit({ host });
      assert.deepEqual(audit, []);
      // Control: the same scan without the opt-out does find it.
      writeFileSync(optout, '');
      const control = await startScan(store, request, await prepareScan(request), PROBES, { signal: new AbortController().signal });
      assert.equal(control.scan.state, 'completed');
      assert.equal((await store.listFindings({ host })).length, 1);
    } finally {
      await store.close();
    }
  });
});
