import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { ErrorCode, StoreError } from '../core/errors.js';
import { type ProbeResult } from '../core/types.js';
import { LATEST_MIGRATION, migrations } from './migrations.js';
import { openSqliteStore, sqliteStoreFromDatabase } from './sqlite-store.js';
import { type ScanBatch } from './store.js';

/** What only SQLite has: the file, its pragmas, and failures of the file itself. */

const dir = mkdtempSync(join(tmpdir(), 'lockdown-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const newScan = { spec: { version: 1 }, totalItems: 100_000, operator: 'alice', commandLine: 'lockdown scan 10.0.0.0/16' };

function results(n: number, thirdOctet: number): ProbeResult[] {
  return Array.from({ length: n }, (_, i) => ({
    module: 'redis',
    target: { host: `10.0.${thirdOctet}.${i}`, port: 6379 },
    status: 'success',
    auth: 'open',
    product: 'Redis',
    version: '7.0.15',
    evidence: '# Server\r\nredis_version:7.0.15\r\n'.repeat(20),
    metadata: { keyspace: { db0: { keys: i } } },
    peers: [],
    errors: [],
    commands: ['INFO'],
    bytesSent: 14,
    bytesRead: 4000,
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, thirdOctet)).toISOString(),
    durationMs: 3,
  }));
}

function batchOf(scanId: string, rs: ProbeResult[], from: number, watermark: number): ScanBatch {
  return {
    scanId,
    results: rs,
    donePositions: rs.map((_, i) => from + i).concat([watermark + 3]),
    watermark,
    doneDelta: rs.length + 1,
    answeredDelta: rs.length,
    openDelta: rs.length,
  };
}

function tables(path: string): string[] {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return (db.prepare("select name from sqlite_master where type = 'table' order by name").all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}

describe('openSqliteStore', () => {
  it('creates the parent directories and the schema in WAL mode, and migrates only once', async () => {
    const path = join(dir, 'new', 'nested', 'lockdown.db');
    const store = await openSqliteStore(path);
    await store.createScan(newScan);
    await store.close();

    assert.ok(existsSync(path));
    assert.deepEqual(
      tables(path).filter((t) => !t.startsWith('sqlite_')),
      ['attribution_cache', 'audit_log', 'candidates', 'case_events', 'cases', 'findings', 'hosts', 'imports', 'kysely_migration', 'kysely_migration_lock', 'observations', 'scan_done', 'scans'],
    );
    const raw = new BetterSqlite3(path);
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      const migrated = raw.prepare('select name, timestamp from kysely_migration').all();
      assert.deepEqual(migrated.map((m) => (m as { name: string }).name), Object.keys(migrations('sqlite')).sort());
      assert.equal(migrated.at(-1) && (migrated.at(-1) as { name: string }).name, LATEST_MIGRATION);
      const indexes = (raw.prepare("select name from sqlite_master where type = 'index' and name not like 'sqlite_%' order by name").all() as { name: string }[]).map((r) => r.name);
      assert.deepEqual(indexes, ['attribution_cache_expires', 'audit_log_host', 'audit_log_scan', 'candidates_service', 'cases_due', 'cases_host', 'cases_state', 'findings_auth', 'findings_last_scan', 'findings_module', 'findings_order', 'findings_severity', 'hosts_host_key', 'imports_started_at', 'observations_service', 'scans_created_at']);
      raw.close();

      const again = await openSqliteStore(path);
      assert.equal((await again.listScans()).length, 1);
      await again.close();
      const check = new BetterSqlite3(path, { readonly: true });
      assert.deepEqual(check.prepare('select name, timestamp from kysely_migration').all(), migrated, 'nothing re-applied');
      check.close();
    } finally {
      if (raw.open) raw.close();
    }
  });

  it('enforces foreign keys on its connection', async () => {
    const database = new BetterSqlite3(join(dir, 'fk.db'));
    const store = await sqliteStoreFromDatabase(database, { label: 'fk.db' });
    try {
      assert.equal(database.pragma('foreign_keys', { simple: true }), 1);
      assert.throws(() => database.prepare("insert into scan_done (scan_id, position) values ('s-missing', 1)").run(), /FOREIGN KEY/);
    } finally {
      await store.close();
    }
  });

  it('works in memory', async () => {
    const store = await openSqliteStore(':memory:');
    try {
      const scan = await store.createScan(newScan);
      await store.recordBatch(batchOf(scan.id, results(3, 1), 0, 3));
      assert.equal((await store.listFindings()).length, 3);
      assert.deepEqual(await store.donePositionsAboveWatermark(scan.id), [6]);
    } finally {
      await store.close();
    }
  });

  it('refuses a file that is not a database with a StoreError naming it, and leaves the file alone', async () => {
    const path = join(dir, 'notes.db');
    const text = 'These are my notes, not a database. '.repeat(200);
    writeFileSync(path, text);
    await assert.rejects(openSqliteStore(path), (err: unknown) => {
      assert.ok(err instanceof StoreError);
      assert.equal(err.code, ErrorCode.store);
      assert.match(err.message, /^Could not open database .*notes\.db: file is not a database \(SQLITE_NOTADB\)$/);
      return true;
    });
    assert.equal(readFileSync(path, 'utf8'), text);
  });

  it('refuses a path it cannot create with a StoreError naming it', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    await assert.rejects(openSqliteStore(join(file, 'sub', 'lockdown.db')), (err: unknown) => err instanceof StoreError && err.message.includes(join(file, 'sub', 'lockdown.db')) && /ENOTDIR/.test(err.message));
    await assert.rejects(openSqliteStore(dir), (err: unknown) => err instanceof StoreError && /SQLITE_CANTOPEN/.test(err.message));
  });

  it('reads from a read-only handle and refuses writes with a StoreError', async () => {
    const path = join(dir, 'readonly.db');
    const writer = await openSqliteStore(path);
    const scan = await writer.createScan(newScan);
    await writer.recordBatch(batchOf(scan.id, results(2, 1), 0, 2));
    await writer.close();

    const reader = await sqliteStoreFromDatabase(new BetterSqlite3(path, { readonly: true }), { label: path });
    try {
      assert.equal((await reader.listFindings()).length, 2);
      await assert.rejects(reader.recordBatch(batchOf(scan.id, results(2, 2), 2, 4)), (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.ok(err.message.includes(path));
        assert.match(err.message, /readonly database \(SQLITE_READONLY\)$/);
        return true;
      });
      assert.equal((await reader.listFindings()).length, 2);
    } finally {
      await reader.close();
    }
  });

  it('fails a batch on a full disk with a clear StoreError, keeps earlier batches and writes nothing of the failed one', async () => {
    const path = join(dir, 'full.db');
    const database = new BetterSqlite3(path);
    const store = await sqliteStoreFromDatabase(database, { label: path });
    try {
      const scan = await store.createScan(newScan);
      await store.recordBatch(batchOf(scan.id, results(50, 1), 0, 50));
      await store.recordBatch(batchOf(scan.id, results(50, 2), 50, 100));
      const before = {
        scan: await store.getScan(scan.id),
        findings: await store.listFindings(),
        audit: await store.listAudit(),
        done: await store.donePositionsAboveWatermark(scan.id),
        hosts: (database.prepare('select count(*) n from hosts').get() as { n: number }).n,
        observations: (database.prepare('select count(*) n from observations').get() as { n: number }).n,
      };
      assert.equal(before.findings.length, 100);
      assert.deepEqual(before.done, [103]);

      // The database may grow by two pages, far less than 2,000 results need: SQLite answers SQLITE_FULL,
      // exactly as when the disk itself is full.
      const pages = Number(database.pragma('page_count', { simple: true }));
      database.pragma(`max_page_count = ${pages + 2}`);
      const big = batchOf(scan.id, results(250, 3).concat(results(250, 4), results(250, 5), results(250, 6), results(250, 7), results(250, 8), results(250, 9), results(250, 10)), 100, 2100);
      await assert.rejects(store.recordBatch(big), (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.equal(err.code, ErrorCode.store);
        assert.equal(err.message, `Could not record a batch for scan ${scan.id} in database ${path}: database or disk is full (SQLITE_FULL)`);
        assert.equal((err.cause as { code?: string }).code, 'SQLITE_FULL');
        return true;
      });
      assert.equal(database.inTransaction, false, 'no transaction left open');

      assert.deepEqual(await store.getScan(scan.id), before.scan);
      assert.deepEqual(await store.listFindings(), before.findings);
      assert.deepEqual(await store.listAudit(), before.audit);
      assert.deepEqual(await store.donePositionsAboveWatermark(scan.id), before.done);
      assert.equal((database.prepare('select count(*) n from hosts').get() as { n: number }).n, before.hosts);
      assert.equal((database.prepare('select count(*) n from observations').get() as { n: number }).n, before.observations);
      assert.equal(database.pragma('integrity_check', { simple: true }), 'ok');

      // Space is back: the same batch goes through on the same store.
      database.pragma('max_page_count = 1073741823');
      await store.recordBatch(big);
      assert.equal((await store.listFindings()).length, 2100);
      assert.equal((await store.getScan(scan.id))?.watermark, 2100);
    } finally {
      await store.close();
    }
    // And the file reopens cleanly with everything committed.
    const reopened = await openSqliteStore(path);
    try {
      assert.equal((await reopened.listAudit()).length, 2100);
    } finally {
      await reopened.close();
    }
  });
});
