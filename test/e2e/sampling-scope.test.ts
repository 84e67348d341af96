import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireServer } from '../helpers/servers.js';
import { runCli } from './cli.js';

/**
 * Sampling happens only inside scope.authorized, end to end through the CLI: the same Redis server,
 * holding synthetic personal data, is scanned once from inside the scope (sensitive categories found,
 * no clear value stored anywhere) and once from outside it (names and counts only; no read command sent).
 */
const HOST = '127.0.43.1';
const PORT = 6379;
const EMAIL = 'li.wei.private@example.org';
const PHONE = '+8613812345678';

describe('value sampling only inside scope.authorized', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-scope-'));
  let redis: ChildProcess;
  before(async () => {
    redis = spawn('redis-server', ['--bind', HOST, '--port', String(PORT), '--save', '', '--protected-mode', 'no', '--dir', dir], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        await requireServer(HOST, PORT, 'redis (sampling test)');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const cli = (...args: string[]): string => execFileSync('redis-cli', ['-h', HOST, '-p', String(PORT), ...args]).toString();
    for (let i = 0; i < 5; i++) cli('HSET', `user:${i}`, 'email', `u${i}.${EMAIL}`, 'mobile', PHONE.replace(/8$/, String(i)), 'name', `User ${i}`);
    cli('SET', 'contact', EMAIL);
  });
  after(() => {
    redis.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const scan = async (name: string, authorized: string[]): Promise<{ db: string; finding: Record<string, unknown>; audit: { commands: string[] }[] }> => {
    const cfg = path.join(dir, `${name}.yaml`);
    writeFileSync(cfg, `scope:\n  authorized: [${authorized.join(', ')}]\n`);
    const db = path.join(dir, `${name}.db`);
    const r = await runCli(['scan', HOST, '-p', 'redis', '--json', '--config', cfg, '--db', db, '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { findings: Record<string, unknown>[] };
    const audit = JSON.parse((await runCli(['audit', '--json', '--db', db])).stdout) as { commands: string[] }[];
    return { db, finding: doc.findings[0]!, audit };
  };

  it('inside the scope: categories from sampled values, and no clear value in the store or the output', async () => {
    const { db, finding, audit } = await scan('inside', ['127.0.43.0/24']);
    const sample = finding.sample as { categories: Record<string, unknown> } | null;
    assert.ok(sample, 'a redacted sample was kept');
    const assessment = finding.assessment as { sensitive: { category: string; source: string }[] };
    const fromValues = assessment.sensitive.filter((s) => s.source === 'sample').map((s) => s.category);
    assert.ok(fromValues.includes('email'), fromValues.join(', '));
    assert.ok(fromValues.includes('phone'), fromValues.join(', '));
    assert.ok(audit[0]!.commands.some((c) => c === 'SCAN'), audit[0]!.commands.join(', '));
    // Nothing in clear: not in the JSON output, not anywhere in the database file (WAL included).
    const show = (await runCli(['show', HOST, '--json', '--db', db])).stdout;
    const files = [db, `${db}-wal`].map((f) => {
      try {
        return readFileSync(f).toString('latin1');
      } catch {
        return '';
      }
    });
    for (const text of [JSON.stringify(finding), show, ...files]) {
      assert.ok(!text.includes(EMAIL), 'the e-mail address is not stored or shown in clear');
      assert.ok(!text.includes('3812345'), 'the phone number is not stored or shown in clear');
    }
  });

  it('outside the scope: names and counts only, and no read command was sent', async () => {
    const { finding, audit } = await scan('outside', []);
    assert.equal(finding.sample, null);
    const inventory = finding.inventory as { records: number };
    assert.equal(inventory.records, 6);
    const sent = audit[0]!.commands;
    for (const c of ['SCAN', 'TYPE', 'GET', 'HSCAN', 'STRLEN', 'LRANGE']) assert.ok(!sent.includes(c), `${c} was not sent (sent: ${sent.join(', ')})`);
  });
});
