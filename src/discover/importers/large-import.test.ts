import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

/**
 * A million Shodan banners, gzipped, import in bounded memory: the import runs in a child process
 * whose V8 heap is capped at HEAP_CAP_MB (an import that kept records would die there), and the live
 * heap measured after garbage collection must stay within HEAP_GROWTH_LIMIT_MB of where it started.
 * The figures (time, lines/s, heap, RSS, database size) are printed as test diagnostics.
 */
const RECORDS = 1_000_000;
const HEAP_CAP_MB = 160;
const HEAP_GROWTH_LIMIT_MB = 100;
const CHILD = fileURLToPath(new URL('../../../test/fixtures/import/large-import-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

it(`imports ${RECORDS.toLocaleString('en')} gzipped Shodan records in bounded memory`, { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-1m-'));
  try {
    const child = spawn(
      process.execPath,
      ['--expose-gc', `--max-old-space-size=${HEAP_CAP_MB}`, '--import', 'tsx', CHILD, dir, String(RECORDS)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 0, `the child finished within a ${HEAP_CAP_MB} MB heap; stderr: ${stderr.slice(-2000)}`);
    const result = JSON.parse(stdout) as {
      expected: { candidates: number; malformed: number; redisOpen: number; redisAuth: number; noModule: number };
      record: { state: string; lines: number; candidates: number; malformed: number; malformedSamples: { line: number; reason: string }[] };
      summary: { module: string | null; claimAuth: string | null; count: number }[];
      figures: Record<string, number>;
    };
    const f = result.figures;
    t.diagnostic(
      `${RECORDS} records (${((f.gzipBytes as number) / 2 ** 20).toFixed(1)} MiB gzipped): generated in ${(f.generateSeconds as number).toFixed(1)} s, ` +
        `imported in ${(f.importSeconds as number).toFixed(1)} s (${f.linesPerSecond} lines/s); ` +
        `live heap ${(f.heapBeforeMB as number).toFixed(1)} → peak ${(f.peakHeapAfterGcMB as number).toFixed(1)} MB after GC ` +
        `(growth ${(f.heapGrowthMB as number).toFixed(1)} MB); RSS ${(f.rssBeforeMB as number).toFixed(0)} → ${(f.peakRssMB as number).toFixed(0)} MB; ` +
        `database ${(f.dbMB as number).toFixed(0)} MB`,
    );
    const { record, expected } = result;
    assert.equal(record.state, 'completed');
    assert.equal(record.lines, RECORDS);
    assert.equal(record.candidates, expected.candidates);
    assert.equal(record.malformed, expected.malformed);
    assert.equal(record.malformedSamples[0]?.line, 8, 'the first cut-short line, by number');
    const count = (module: string | null, claim: string | null): number =>
      result.summary.find((s) => s.module === module && s.claimAuth === claim)?.count ?? 0;
    assert.equal(count('redis', 'open'), expected.redisOpen);
    assert.equal(count('redis', 'auth_required'), expected.redisAuth);
    assert.equal(count(null, null), expected.noModule);
    assert.ok((f.heapGrowthMB as number) < HEAP_GROWTH_LIMIT_MB, `live heap grew by ${f.heapGrowthMB} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
