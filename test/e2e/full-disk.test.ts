import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { env, requireServer } from '../helpers/servers.js';
import { finished, runCli, startCli } from './cli.js';

/**
 * A real full disk: the store lives on a 4 MiB tmpfs that the test fills up mid-scan. The scan must
 * stop with a clear error, keep everything committed before, and resume to the same result once space
 * is back. Mounting needs root (CI runs as root); elsewhere the test says why it cannot run.
 */
const TARGETS = '127.0.10.0-127.0.13.255';
const ARGS = ['-p', 'redis,postgres,mysql,memcached', '--rate', '1000', '--seed', '7', '--timeout', '4000', '--no-progress'];
const isRoot = process.getuid?.() === 0;

/** Write to `file` until the filesystem says ENOSPC, in ever smaller chunks, so not a block is left. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe('a full disk during a scan', { timeout: 120_000, skip: isRoot ? false : 'needs root to mount a small tmpfs' }, () => {
  const mnt = mkdtempSync(path.join(tmpdir(), 'lockdown-fulldisk-'));
  let mounted = false;
  after(() => {
    if (mounted) execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it('stops with a clear error, loses nothing committed, and resumes once space is back', async () => {
    await requireServer(env('REDIS_OPEN_HOST'), Number(env('REDIS_PORT')), 'redis (open)');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
    mounted = true;
    const db = path.join(mnt, 'lockdown.db');

    // A first, small scan fills the store with something that must survive.
    const first = await runCli(['scan', env('REDIS_OPEN_HOST'), '-p', 'redis', '--db', db, '--no-progress']);
    assert.equal(first.code, 0, first.stderr);

    // Start the second scan, and fill the disk to the last byte once it is under way.
    const child = startCli(['scan', TARGETS, ...ARGS, '--db', db]);
    child.stdin!.end();
    const done = finished(child);
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/Scan s-/.test(stderr)) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 500));
    fillDisk(path.join(mnt, 'filler'));
    const full = await done;
    assert.equal(full.code, 2, `exit code; stderr: ${full.stderr}`);
    assert.match(full.stderr, /disk is full|SQLITE_FULL/i, full.stderr);
    const scanId = /Scan (s-[\w-]+):/.exec(full.stderr)?.[1];
    assert.ok(scanId, 'the scan id was printed before the failure');

    // Space comes back: the earlier scan is intact and the failed one resumes to completion.
    rmSync(path.join(mnt, 'filler'));
    const resumed = await runCli(['scan', '--resume', scanId, '--db', db, '--no-progress']);
    assert.equal(resumed.code, 0, resumed.stderr);

    const store = await openSqliteStore(db);
    try {
      const scans = await store.listScans();
      assert.equal(scans.length, 2);
      assert.ok(scans.every((s) => s.state === 'completed'), JSON.stringify(scans.map((s) => s.state)));
      const resumedScan = scans.find((s) => s.id === scanId)!;
      assert.equal(resumedScan.doneCount, resumedScan.totalItems, 'every position done exactly once');
      const found = (await store.listFindings({ scanId })).map((f) => `${f.host}:${f.port}/${f.module}=${f.auth}`);
      assert.ok(found.includes(`${env('REDIS_OPEN_HOST')}:${env('REDIS_PORT')}/redis=open`), found.join('\n'));
      assert.ok(found.includes(`${env('REDIS_AUTH_HOST')}:${env('REDIS_PORT')}/redis=auth_required`), found.join('\n'));
      const audit = await store.listAudit({ scanId, limit: 100_000 });
      const keys = audit.map((a) => `${a.host}:${a.port}/${a.module}`);
      assert.equal(new Set(keys).size, keys.length, 'no probe audited twice');
    } finally {
      await store.close();
    }
  });
});
