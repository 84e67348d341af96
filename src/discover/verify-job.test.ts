import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultConfig, type ScanDefaults } from '../config/config.js';
import { PROBES } from '../protocols/registry.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { type CandidateRecord, type Store } from '../store/store.js';
import { env, requireServer } from '../../test/helpers/servers.js';
import { runImport } from './importers/run-import.js';
import { isVerifySpec, prepareVerify, resumeVerify, startVerify, type VerifySpec } from './verify-job.js';

/**
 * `import --verify` against the project's real Redis servers (test/servers/redis.sh): one open, one
 * with requirepass. What a Shodan export claimed is compared with what our probe sees now.
 */

const OPEN = env('REDIS_OPEN_HOST');
const AUTH = env('REDIS_AUTH_HOST');
const PORT = Number(env('REDIS_PORT'));
/** Loopback addresses where nothing listens: one excluded, one not. */
const EXCLUDED = '127.0.10.77';
const GONE = '127.0.10.78';

const SETTINGS: ScanDefaults = { rate: 200, concurrency: 8, connectTimeoutMs: 1000, timeoutMs: 4000, readCapBytes: 1024 * 1024 };

const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-verify-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const banner = (ip: string, port: number, over: Record<string, unknown>): string =>
  JSON.stringify({ ip_str: ip, port, transport: 'tcp', product: 'Redis key-value store', _shodan: { module: 'redis' }, ...over });

/** What Shodan saw a while ago. */
const EXPORT = [
  banner(OPEN, PORT, { timestamp: '2026-01-01T00:00:00', redis: { keyspace: { db0: { keys: 7 } } } }), // 1: open, still open
  banner(AUTH, PORT, { timestamp: '2026-01-01T00:00:00', redis: { server: { redis_version: '6.0.0' } } }), // 2: open, now requires auth
  banner(EXCLUDED, PORT, { timestamp: '2026-01-01T00:00:00', redis: { keyspace: { db0: { keys: 1 } } } }), // 3: excluded
  banner(GONE, PORT, { timestamp: '2026-01-01T00:00:00', redis: { keyspace: { db0: { keys: 1 } } } }), // 4: open, now nothing listens
  banner(AUTH, PORT, { timestamp: '2025-06-01T00:00:00', data: '-NOAUTH Authentication required.\r\n' }), // 5: an older banner of 2
  JSON.stringify({ ip_str: OPEN, port: 11211, transport: 'udp', product: 'Memcache', memcache: { pid: 1 } }), // 6: udp, not verified
  JSON.stringify({ ip_str: OPEN, port: 80, transport: 'tcp', product: 'nginx' }), // 7: no module
].join('\n');

async function importExport(store: Store): Promise<string> {
  const file = path.join(dir, `shodan-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, EXPORT + '\n');
  const record = await runImport(store, { path: file, operator: 'tester', commandLine: 'lockdown import' });
  assert.equal(record.candidates, 7);
  return record.id;
}

async function spec(importId: string): Promise<VerifySpec> {
  const config = defaultConfig();
  config.identity.operator = 'tester';
  return prepareVerify(
    {
      importId,
      excludes: [{ text: EXCLUDED, source: '--exclude 1' }],
      excludeFiles: [],
      checkDefaultCredentials: false,
      settings: SETTINGS,
      config,
      identity: 'lockdown-test',
    },
    PROBES,
  );
}

const byLine = (cs: CandidateRecord[]): Map<number, CandidateRecord> => new Map(cs.map((c) => [c.line, c]));

describe('import --verify against real Redis servers', { timeout: 60_000 }, () => {
  before(async () => {
    await requireServer(OPEN, PORT, 'redis (open)');
    await requireServer(AUTH, PORT, 'redis (requirepass)');
  });

  it('confirms the open server, marks the claim of the one that now requires auth as stale, and never probes an excluded one', async () => {
    const store = await openSqliteStore(path.join(dir, 'verify.db'));
    try {
      const importId = await importExport(store);
      const run = await startVerify(store, await spec(importId), 'lockdown import x --verify', 'tester', PROBES, {
        signal: new AbortController().signal,
      });
      assert.equal(run.scan.state, 'completed');
      assert.ok(isVerifySpec(run.scan.spec), 'the scan says what it is, for resume');
      assert.equal(run.scan.totalItems, 4, 'one probe per distinct TCP service with a module (excluded one included in the list)');
      assert.equal(run.scan.doneCount, 3, 'the excluded service was not probed');
      assert.equal((await store.getImport(importId))?.verifyScanId, run.scan.id);

      const c = byLine(await store.listCandidates(importId));
      const seen = (n: number) => {
        const x = c.get(n) as CandidateRecord;
        return { claim: x.claimAuth, status: x.verifyStatus, verdict: x.verdict, stale: x.stale, scan: x.verifiedScanId };
      };
      assert.deepEqual(seen(1), { claim: 'open', status: 'success', verdict: 'open', stale: false, scan: run.scan.id });
      assert.deepEqual(seen(2), { claim: 'open', status: 'success', verdict: 'auth_required', stale: true, scan: run.scan.id });
      assert.deepEqual(seen(3), { claim: 'open', status: null, verdict: null, stale: null, scan: null });
      assert.deepEqual(seen(4), { claim: 'open', status: 'connection-refused', verdict: null, stale: true, scan: run.scan.id });
      // The older banner of the same service claimed auth_required: for it, that still holds.
      assert.deepEqual(seen(5), { claim: 'auth_required', status: 'success', verdict: 'auth_required', stale: false, scan: run.scan.id });
      assert.deepEqual(seen(6), { claim: 'open', status: null, verdict: null, stale: null, scan: null }, 'udp is not verified');
      assert.deepEqual(seen(7), { claim: null, status: null, verdict: null, stale: null, scan: null }, 'no module, no probe');

      // The normal pipeline recorded the probes: findings and one audit entry per answered service.
      const audit = await store.listAudit({ scanId: run.scan.id });
      assert.deepEqual(audit.map((a) => `${a.host}:${a.port}/${a.module}`).sort(), [`${OPEN}:${PORT}/redis`, `${AUTH}:${PORT}/redis`].sort());
      assert.ok(!audit.some((a) => a.host === EXCLUDED));
      const findings = await store.listFindings({ scanId: run.scan.id });
      assert.deepEqual(findings.map((f) => `${f.host}=${f.auth}`).sort(), [`${AUTH}=auth_required`, `${OPEN}=open`].sort());
    } finally {
      await store.close();
    }
  });

  it('resumes an interrupted verification without probing a service twice', async () => {
    const store = await openSqliteStore(path.join(dir, 'resume.db'));
    try {
      const importId = await importExport(store);
      const controller = new AbortController();
      const first = await startVerify(store, { ...(await spec(importId)), settings: { ...SETTINGS, concurrency: 1, rate: 5 } }, 'x', 'tester', PROBES, {
        signal: controller.signal,
        onResult: () => controller.abort(new Error('Interrupted')),
      });
      assert.equal(first.scan.state, 'interrupted');
      assert.equal(first.scan.doneCount, 1, 'stopped after the first probe');

      const second = await resumeVerify(store, first.scan.id, PROBES, { signal: new AbortController().signal });
      assert.equal(second.scan.state, 'completed');
      assert.equal(second.scan.doneCount, 3);
      const audit = await store.listAudit({ scanId: first.scan.id });
      const keys = audit.map((a) => `${a.host}:${a.port}`);
      assert.equal(new Set(keys).size, keys.length, 'each service probed once');
      assert.equal(keys.length, 2);
      const c = byLine(await store.listCandidates(importId));
      assert.equal(c.get(1)?.stale, false);
      assert.equal(c.get(2)?.stale, true);
      assert.equal(c.get(4)?.stale, true);
      assert.equal(c.get(3)?.verifiedScanId, null);
      await assert.rejects(resumeVerify(store, first.scan.id, PROBES, { signal: new AbortController().signal }), /already completed/);
    } finally {
      await store.close();
    }
  });
});
