#!/usr/bin/env node
// `npm test`: type-check, start the real test servers (those not already running), run every
// test file with node's test runner, then stop the servers this run started — by PID.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts }).status ?? 1;

const filter = process.argv.slice(2);
const files = ['src', 'test']
  .flatMap((dir) => readdirSync(path.join(root, dir), { recursive: true }).map((f) => path.join(dir, String(f))))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();

if (filter.length === 0) {
  console.error('[test] type-checking');
  if (run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']) !== 0) process.exit(1);
}
// The end-to-end tests run the built CLI (bin/lockdown.js picks dist/ when it is fresh).
console.error('[test] building');
if (run(process.execPath, ['scripts/build.mjs']) !== 0) process.exit(1);

const startedFile = path.join(mkdtempSync(path.join(tmpdir(), 'lockdown-test-')), 'started');
console.error('[test] starting test servers');
if (run('bash', ['test/servers/start-all.sh'], { env: { ...process.env, LOCKDOWN_SERVERS_STARTED: startedFile } }) !== 0) {
  console.error('[test] a test server failed to start; see the log above');
  process.exit(1);
}
const started = existsSync(startedFile) ? readFileSync(startedFile, 'utf8').split('\n').filter(Boolean) : [];

let status = 1;
try {
  console.error(`[test] running ${files.length} test files`);
  status = run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=3', '--test-timeout=300000', ...files]);
} finally {
  if (started.length > 0) run('bash', ['test/servers/stop-all.sh', ...started]);
}
process.exit(status);
