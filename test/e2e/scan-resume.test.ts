import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { env, requireServer } from '../helpers/servers.js';
import { finished, runCli, startCli } from './cli.js';

/**
 * Kill a scan half-way (SIGINT, then SIGKILL), resume it, and compare with a clean scan of the same
 * targets: same findings, every position done exactly once, no duplicate observation or audit row.
 */
const TARGETS = '127.0.10.0-127.0.13.255'; // covers the redis, postgres, mysql and memcached test servers
const PORTS = 'redis,postgres,mysql,memcached';
const COMMON = ['-p', PORTS, '--rate', '700', '--seed', '12345', '--timeout', '4000', '--connect-timeout', '1000', '--no-progress'];

async function findingKeys(db: string): Promise<string[]> {
  const store = await openSqliteStore(db);
  try {
    return (await store.listFindings()).map((f) => `${f.host}:${f.port}/${f.module}=${f.auth}`).sort();
  } finally {
    await store.close();
  }
}

async function scanInfo(db: string) {
  const store = await openSqliteStore(db);
  try {
    const [scan] = await store.listScans(10);
    assert.ok(scan, 'a scan was recorded');
    const audit = await store.listAudit({ scanId: scan.id, limit: 100_000 });
    return { scan, audit };
  } finally {
    await store.close();
  }
}

function assertNoDuplicateAudit(audit: { host: string; port: number; module: string }[]): void {
  const keys = audit.map((a) => `${a.host}:${a.port}/${a.module}`);
  assert.equal(new Set(keys).size, keys.length, 'each answered probe is audited exactly once');
}

async function interruptAndResume(signal: 'SIGINT' | 'SIGKILL', dir: string): Promise<string> {
  const db = path.join(dir, `${signal}.db`);
  const child = startCli(['scan', TARGETS, ...COMMON, '--db', db]);
  child.stdin!.end();
  await new Promise((r) => setTimeout(r, 2500));
  child.kill(signal);
  const first = await finished(child);
  if (signal === 'SIGINT') {
    assert.equal(first.code, 130, `interrupted scan exits 130; stderr: ${first.stderr}`);
    assert.match(first.stderr, /Resume it with: lockdown scan --resume s-/);
  } else {
    assert.equal(first.signal, 'SIGKILL');
  }
  const { scan } = await scanInfo(db);
  assert.ok(scan.doneCount > 0 && scan.doneCount < scan.totalItems, `killed half-way: ${scan.doneCount}/${scan.totalItems}`);
  if (signal === 'SIGINT') assert.equal(scan.state, 'interrupted');

  const resumed = await runCli(['scan', '--resume', scan.id, '--db', db, '--no-progress']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const after = await scanInfo(db);
  assert.equal(after.scan.state, 'completed');
  assert.equal(after.scan.doneCount, after.scan.totalItems, 'every position done exactly once, none twice');
  assertNoDuplicateAudit(after.audit);
  return db;
}

describe('scan interruption and resume', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-resume-'));
  let clean: string[] = [];

  it('a clean scan finds the test servers', async () => {
    await requireServer(env('REDIS_OPEN_HOST'), Number(env('REDIS_PORT')), 'redis (open)');
    const db = path.join(dir, 'clean.db');
    const r = await runCli(['scan', TARGETS, ...COMMON, '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    clean = await findingKeys(db);
    assert.ok(clean.includes(`${env('REDIS_OPEN_HOST')}:${env('REDIS_PORT')}/redis=open`), clean.join('\n'));
    assert.ok(clean.includes(`${env('REDIS_AUTH_HOST')}:${env('REDIS_PORT')}/redis=auth_required`), clean.join('\n'));
    const { scan, audit } = await scanInfo(db);
    assert.equal(scan.doneCount, scan.totalItems);
    assertNoDuplicateAudit(audit);
  });

  it('SIGINT half-way, then --resume, equals the clean scan', async () => {
    const db = await interruptAndResume('SIGINT', dir);
    assert.deepEqual(await findingKeys(db), clean);
  });

  it('SIGKILL half-way, then --resume, equals the clean scan', async () => {
    const db = await interruptAndResume('SIGKILL', dir);
    assert.deepEqual(await findingKeys(db), clean);
  });
});
