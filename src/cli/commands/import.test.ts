import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { env, requireServer } from '../../../test/helpers/servers.js';

/**
 * `lockdown import` as a user runs it: a child process, stdout for data, stderr for messages, exit codes.
 * Runs the CLI's own program (src/cli/main.ts), adding the import command when main.ts does not have it yet.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = path.join(ROOT, 'test/fixtures/import');
const HARNESS = `
import { CommanderError } from 'commander';
import { buildProgram, normaliseArgv } from './src/cli/main.js';
import { registerImport } from './src/cli/commands/import.js';
import { LockdownError } from './src/core/errors.js';
let code = 0;
const setExit = (c) => { code = c; };
const program = await buildProgram(setExit);
if (!program.commands.some((c) => c.name() === 'import')) registerImport(program, setExit);
try {
  await program.parseAsync(normaliseArgv(process.argv.slice(1)), { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) code = err.exitCode === 0 ? 0 : 2;
  else if (err instanceof LockdownError) { process.stderr.write('lockdown: ' + err.message + '\\n'); code = 2; }
  else { process.stderr.write(String(err && err.stack || err) + '\\n'); code = 2; }
}
process.exitCode = code;
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function lockdown(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', HARNESS, '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOCKDOWN_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const OPEN = env('REDIS_OPEN_HOST');
const AUTH = env('REDIS_AUTH_HOST');
const PORT = Number(env('REDIS_PORT'));
const EXCLUDED = '127.0.10.77';
const FAST = ['--timeout', '3000', '--connect-timeout', '1000', '--no-progress'];

const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-import-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A masscan -oL scan (port open only) and a Shodan export claiming both Redis servers are open. */
const shodanFile = path.join(dir, 'shodan.json');
writeFileSync(
  shodanFile,
  [OPEN, AUTH, EXCLUDED]
    .map((ip) => JSON.stringify({ ip_str: ip, port: PORT, transport: 'tcp', product: 'Redis key-value store', timestamp: '2026-01-02T03:04:05', redis: { keyspace: { db0: { keys: 3 } } } }))
    .join('\n') + '\n',
);

describe('lockdown import (CLI)', { timeout: 120_000 }, () => {
  before(async () => {
    await requireServer(OPEN, PORT, 'redis (open)');
    await requireServer(AUTH, PORT, 'redis (requirepass)');
  });

  it('--verify prints CLAIM vs NOW with a STALE column; excluded candidates are not probed', async () => {
    const db = path.join(dir, 'table.db');
    const r = await lockdown(['import', shodanFile, '--verify', '--exclude', EXCLUDED, '--db', db, ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /HOST.*PORT.*MODULE.*CLAIM.*SOURCE SEEN.*NOW.*STALE.*LINE/);
    const row = (host: string): string => r.stdout.split('\n').find((l) => l.includes(` ${host} `)) ?? '';
    assert.match(row(OPEN), /│ open +│ 2026-01-02 03:04:05 │ open +│ no +│/);
    assert.match(row(AUTH), /│ open +│ 2026-01-02 03:04:05 │ auth_required +│ STALE +│/);
    assert.match(row(EXCLUDED), /not probed \(excluded\)/);
    assert.match(r.stderr, /Import i-\d{8}-\d{6}-[0-9a-f]{4}: .*shodan\.json \(shodan/);
    assert.match(r.stderr, /Verified 2 candidates: 1 still as claimed, 1 stale, 0 cannot tell; 1 not probed/);
  });

  it('--verify --json and --ndjson give the same comparison to programs', async () => {
    const json = await lockdown(['import', shodanFile, '--verify', '--exclude', EXCLUDED, '--json', '--db', path.join(dir, 'json.db'), ...FAST]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as {
      import: { id: string; candidates: number };
      scan: { id: string; state: string };
      candidates: { host: string; claim: string; now: { verdict: string; status: string } | null; stale: boolean | null; notProbed: string | null }[];
    };
    assert.equal(doc.import.candidates, 3);
    assert.equal(doc.scan.state, 'completed');
    const byHost = new Map(doc.candidates.map((c) => [c.host, c]));
    assert.deepEqual(
      [byHost.get(OPEN)?.now?.verdict, byHost.get(OPEN)?.stale],
      ['open', false],
    );
    assert.deepEqual([byHost.get(AUTH)?.now?.verdict, byHost.get(AUTH)?.stale], ['auth_required', true]);
    assert.deepEqual([byHost.get(EXCLUDED)?.now, byHost.get(EXCLUDED)?.notProbed], [null, 'excluded']);

    const nd = await lockdown(['import', shodanFile, '--verify', '--exclude', EXCLUDED, '--ndjson', '--db', path.join(dir, 'nd.db'), ...FAST]);
    assert.equal(nd.code, 0, nd.stderr);
    const lines = nd.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host: string; stale: boolean | null });
    assert.deepEqual(
      lines.map((l) => [l.host, l.stale]),
      [
        [OPEN, false],
        [AUTH, true],
        [EXCLUDED, null],
      ],
    );
  });

  it('without --verify: a summary table, malformed lines on stderr with their numbers, --ndjson lists candidates', async () => {
    const db = path.join(dir, 'plain.db');
    const r = await lockdown(['import', path.join(FIXTURES, 'masscan/scan.list'), '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /MODULE.*CANDIDATES.*CLAIMED OPEN/);
    assert.match(r.stdout, /│ redis +│ 1 +│/);
    assert.match(r.stderr, /10 lines, 5 candidates, 1 records with nothing to import .*, 2 malformed/);
    assert.match(r.stderr, /scan\.list:7: not a masscan -oL line/);
    assert.match(r.stderr, /scan\.list:8: port 99999 is out of range/);

    const nd = await lockdown(['import', path.join(FIXTURES, 'nmap/scan.xml'), '--ndjson', '--db', db]);
    assert.equal(nd.code, 0, nd.stderr);
    const c = nd.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host: string; port: number; claim: string | null; line: number });
    assert.equal(c.length, 7);
    assert.deepEqual(c[1], { ...c[1], host: '192.0.2.50', port: 6379, claim: 'open', line: 15 });
  });

  it('exits 2 with a message naming the file on an unreadable file, an unknown format or an unknown --format', async () => {
    const missing = await lockdown(['import', path.join(dir, 'nope.json.gz'), '--db', path.join(dir, 'missing.db')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Cannot read import file .*nope\.json\.gz: no such file/);
    assert.equal(missing.stdout, '');
    assert.equal(existsSync(path.join(dir, 'missing.db')), false, 'no store was created: nothing ran');

    const odd = path.join(dir, 'odd.txt');
    writeFileSync(odd, 'this is not a scan\n');
    const unknown = await lockdown(['import', odd, '--db', path.join(dir, 'e.db')]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Cannot tell which tool wrote .*odd\.txt.*--format/);

    const bad = await lockdown(['import', odd, '--format', 'nessus', '--db', path.join(dir, 'e.db')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown --format "nessus"; use shodan, censys, masscan, nmap, zgrab2/);
  });
});
