import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { env, requireServer } from '../helpers/servers.js';
import { runCli } from './cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-cli-'));
const REDIS_OPEN = env('REDIS_OPEN_HOST');
const REDIS_AUTH = env('REDIS_AUTH_HOST');
const FAST = ['--timeout', '3000', '--connect-timeout', '1000', '--no-progress'];

describe('lockdown CLI (end to end, real servers)', { timeout: 120_000 }, () => {
  before(async () => {
    await requireServer(REDIS_OPEN, Number(env('REDIS_PORT')), 'redis (open)');
    await requireServer(REDIS_AUTH, Number(env('REDIS_PORT')), 'redis (auth)');
  });

  it('rejects a bad target before probing anything, naming the input and its position', async () => {
    const db = path.join(dir, 'bad.db');
    const r = await runCli(['scan', REDIS_OPEN, '10.0.0.256', '-p', 'redis', '--db', db]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /10\.0\.0\.256/);
    assert.match(r.stderr, /argument 2/);
    assert.equal(r.stdout, '');
    assert.equal(existsSync(db), false, 'no store was even created: nothing ran');
  });

  it('rejects an unknown module with the list of known ones', async () => {
    const r = await runCli(['scan', REDIS_OPEN, '-p', 'nosuchdb', '--db', path.join(dir, 'x.db')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown module "nosuchdb".*known modules: redis/);
  });

  it('scan --json prints one clean JSON document; --fail-on open exits 1', async () => {
    const db = path.join(dir, 'json.db');
    const r = await runCli(['scan', `${REDIS_OPEN},${REDIS_AUTH}`, '-p', 'redis', '--json', '--fail-on', 'open', '--db', db, ...FAST]);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { scan: { id: string; state: string }; findings: { host: string; auth: string; version: string }[] };
    assert.equal(doc.scan.state, 'completed');
    const byHost = new Map(doc.findings.map((f) => [f.host, f]));
    assert.equal(byHost.get(REDIS_OPEN)?.auth, 'open');
    assert.match(byHost.get(REDIS_OPEN)?.version ?? '', /^\d+\.\d+/);
    assert.equal(byHost.get(REDIS_AUTH)?.auth, 'auth_required');
  });

  it('reads targets from stdin and -iL files, and findings/show/scans/audit report them', async () => {
    const db = path.join(dir, 'stdin.db');
    const r1 = await runCli(['scan', '-', '-p', 'redis', '--db', db, ...FAST], { stdin: `${REDIS_OPEN}\n# a comment\n` });
    assert.equal(r1.code, 0, r1.stderr);
    const list = path.join(dir, 'targets.txt');
    writeFileSync(list, `${REDIS_AUTH}\n`);
    const r2 = await runCli(['scan', '-iL', list, '-p', 'redis', '--db', db, ...FAST]);
    assert.equal(r2.code, 0, r2.stderr);

    const open = await runCli(['findings', '--auth', 'open', '--json', '--db', db]);
    const openRows = JSON.parse(open.stdout) as { host: string; auth: string }[];
    assert.deepEqual(openRows.map((f) => f.host), [REDIS_OPEN]);

    const nd = await runCli(['findings', '--ndjson', '--db', db]);
    const lines = nd.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host: string });
    assert.equal(lines.length, 2);

    const table = await runCli(['findings', '--db', db]);
    assert.match(table.stdout, /HOST.*PORT.*MODULE.*AUTH/);
    assert.match(table.stdout, new RegExp(REDIS_OPEN.replace(/\./g, '\\.')));

    const show = await runCli(['show', REDIS_OPEN, '--json', '--db', db]);
    const host = JSON.parse(show.stdout) as { findings: { module: string; metadata: Record<string, unknown> }[] };
    assert.equal(host.findings[0]?.module, 'redis');

    const scans = JSON.parse((await runCli(['scans', '--json', '--db', db])).stdout) as { state: string }[];
    assert.equal(scans.length, 2);
    assert.ok(scans.every((s) => s.state === 'completed'));

    const audit = JSON.parse((await runCli(['audit', '--json', '--db', db])).stdout) as { host: string; commands: string[]; operator: string }[];
    const openAudit = audit.find((a) => a.host === REDIS_OPEN);
    assert.ok(openAudit, 'the probe of the open server is audited');
    assert.ok(openAudit.commands.length > 0 && openAudit.operator.length > 0);
  });

  it('show of an unknown host exits 2 with a hint', async () => {
    const r = await runCli(['show', '192.0.2.1', '--db', path.join(dir, 'json.db')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /No host 192\.0\.2\.1/);
  });

  it('--dry-run counts the work and probes nothing', async () => {
    const r = await runCli(['scan', '10.0.0.0/8', '-p', 'redis,postgres', '--dry-run', '--json', '--db', path.join(dir, 'dry.db')]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as { probes: number; addresses: number };
    assert.equal(plan.addresses, 16_777_216);
    assert.equal(plan.probes, 33_554_432);
  });

  it('--help lists the commands with examples', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['scan', 'findings', 'show', 'scans', 'audit', 'modules']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
    assert.match(r.stdout, /Exit codes/);
  });
});
