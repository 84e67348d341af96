import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteStore } from '../../store/sqlite-store.js';
import { type NewCandidate, type Store } from '../../store/store.js';
import { stalenessByClaim } from './staleness.js';

/** The store's import half on a real SQLite database: ids, atomic batches, filters, verification writes. */

const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-import-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function fresh(clock?: () => Date): Promise<Store> {
  return openSqliteStore(path.join(dir, `db-${++n}.sqlite`), clock ? { clock } : {});
}

const newImport = { format: 'shodan', filePath: 'x.json.gz', fileSize: 123, gzip: true, operator: 'op', commandLine: 'lockdown import x.json.gz' };

function cand(position: number, host: string, port: number, module: string | null, over: Partial<NewCandidate> = {}): NewCandidate {
  return { position, host, port, transport: 'tcp', module, product: null, version: null, claimAuth: null, claim: {}, line: position + 1, ...over };
}

const counts = { lines: 10, skipped: 1, malformed: 2, malformedSamples: [{ line: 3, reason: 'not JSON' }] };

describe('import store', () => {
  it('names imports i-YYYYMMDD-HHMMSS-xxxx and lists them newest first', async () => {
    let t = Date.parse('2026-03-04T05:06:07.000Z');
    const store = await fresh(() => new Date((t += 1000)));
    try {
      const a = await store.createImport(newImport);
      const b = await store.createImport({ ...newImport, format: 'nmap', gzip: false, fileSize: null });
      assert.match(a.id, /^i-20260304-050608-[0-9a-f]{4}$/);
      assert.deepEqual(
        { state: a.state, lines: a.lines, candidates: a.candidates, gzip: a.gzip, fileSize: a.fileSize, samples: a.malformedSamples },
        { state: 'running', lines: 0, candidates: 0, gzip: true, fileSize: 123, samples: [] },
      );
      assert.deepEqual(
        (await store.listImports()).map((i) => i.id),
        [b.id, a.id],
      );
      assert.equal((await store.getImport(b.id))?.fileSize, null);
      assert.equal(await store.getImport('i-nope'), undefined);
    } finally {
      await store.close();
    }
  });

  it('writes a batch and the counters together, and refuses a batch whose positions do not follow, whole', async () => {
    const store = await fresh();
    try {
      const imp = await store.createImport(newImport);
      await store.addCandidates({ importId: imp.id, candidates: [cand(0, '10.0.0.1', 6379, 'redis', { claim: { tags: ['database'], evidence: { redis: '{"a":1}' } } })], ...counts });
      await assert.rejects(
        store.addCandidates({ importId: imp.id, candidates: [cand(1, '10.0.0.2', 6379, 'redis'), cand(5, '10.0.0.3', 6379, 'redis')], ...counts, lines: 99 }),
        /candidate position 5 does not follow/,
      );
      const after1 = await store.getImport(imp.id);
      assert.equal(after1?.candidates, 1, 'the failed batch changed nothing');
      assert.equal(after1?.lines, 10);
      assert.equal(await store.countCandidates(imp.id), 1);
      assert.deepEqual((await store.listCandidates(imp.id))[0]?.claim, { tags: ['database'], evidence: { redis: '{"a":1}' } });

      const done = await store.finishImport(imp.id, { state: 'completed', ...counts, lines: 11 });
      assert.equal(done.state, 'completed');
      assert.ok(done.finishedAt);
      assert.deepEqual(done.malformedSamples, counts.malformedSamples);
      await assert.rejects(store.addCandidates({ importId: imp.id, candidates: [cand(1, '10.0.0.2', 6379, 'redis')], ...counts }), /No running import/);
    } finally {
      await store.close();
    }
  });

  it('lists services to verify once each (first candidate, TCP, known modules) and writes verdicts per claim', async () => {
    const store = await fresh();
    try {
      const imp = await store.createImport(newImport);
      await store.addCandidates({
        importId: imp.id,
        candidates: [
          cand(0, '10.0.0.1', 6379, 'redis', { claimAuth: 'open' }),
          cand(1, '10.0.0.2', 6379, 'redis', { claimAuth: 'open' }),
          cand(2, '10.0.0.1', 6379, 'redis', { claimAuth: 'auth_required' }), // the same service, another claim
          cand(3, '10.0.0.1', 80, null),
          cand(4, '10.0.0.1', 11211, 'memcached', { transport: 'udp' }),
          cand(5, '10.0.0.3', 27017, 'mongodb', { claimAuth: 'open' }),
          cand(6, '10.0.0.1', 11211, 'memcached'),
        ],
        ...counts,
      });
      const targets = await store.listVerifyTargets(imp.id);
      assert.deepEqual(
        targets.map((t) => `${t.position}:${t.host}:${t.port}/${t.module}`),
        ['0:10.0.0.1:6379/redis', '1:10.0.0.2:6379/redis', '5:10.0.0.3:27017/mongodb', '6:10.0.0.1:11211/memcached'],
      );
      assert.deepEqual(
        (await store.listVerifyTargets(imp.id, { modules: ['redis', 'memcached'], from: 1 })).map((t) => t.position),
        [1, 6],
      );
      assert.deepEqual(
        (await store.listVerifyTargets(imp.id, { limit: 1, from: 2 })).map((t) => t.position),
        [5],
      );

      const scan = await store.createScan({ spec: { kind: 'import-verify' }, totalItems: 4, operator: 'op', commandLine: 'c' });
      await store.recordVerification(imp.id, scan.id, [
        {
          host: '10.0.0.1',
          port: 6379,
          transport: 'tcp',
          module: 'redis',
          status: 'success',
          verdict: 'auth_required',
          verifiedAt: '2026-03-04T05:06:07.000Z',
          staleByClaim: stalenessByClaim('success', 'auth_required'),
        },
      ]);
      const all = await store.listCandidates(imp.id);
      const v = all.map((c) => [c.position, c.verifiedScanId === scan.id, c.verifyStatus, c.verdict, c.stale]);
      assert.deepEqual(v, [
        [0, true, 'success', 'auth_required', true],
        [1, false, null, null, null],
        [2, true, 'success', 'auth_required', false],
        [3, false, null, null, null],
        [4, false, null, null, null],
        [5, false, null, null, null],
        [6, false, null, null, null],
      ]);
      assert.equal(await store.countCandidates(imp.id, { verified: true }), 2);
      assert.equal(await store.countCandidates(imp.id, { hasModule: false }), 1);
      assert.deepEqual(
        (await store.listCandidates(imp.id, { hasModule: true, verified: false, from: 2, limit: 2 })).map((c) => c.position),
        [4, 5],
      );
      assert.deepEqual(await store.summarizeCandidates(imp.id), [
        { module: null, claimAuth: null, count: 1 },
        { module: 'memcached', claimAuth: null, count: 2 },
        { module: 'mongodb', claimAuth: 'open', count: 1 },
        { module: 'redis', claimAuth: 'auth_required', count: 1 },
        { module: 'redis', claimAuth: 'open', count: 2 },
      ]);
      await store.setImportVerifyScan(imp.id, scan.id);
      assert.equal((await store.getImport(imp.id))?.verifyScanId, scan.id);
    } finally {
      await store.close();
    }
  });
});
