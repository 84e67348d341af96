import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { env, requireServer } from '../helpers/servers.js';
import { runCli } from './cli.js';

/**
 * --follow-peers on real replication: the PostgreSQL standby names its primary (pg_stat_wal_receiver).
 * Inside scope.authorized the primary is probed in a follow-up scan; outside it, it is only listed.
 */
describe('scan --follow-peers', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-peers-'));
  const primary = env('PG_TRUST_HOST');
  const standby = env('PG_STANDBY_HOST');
  const port = env('PG_PORT');
  before(async () => {
    await requireServer(primary, Number(port), 'pg-trust');
    await requireServer(standby, Number(port), 'pg-standby');
  });

  it('probes a peer inside the authorized scope', async () => {
    const cfg = path.join(dir, 'scoped.yaml');
    writeFileSync(cfg, `scope:\n  authorized: [${primary.split('.').slice(0, 3).join('.')}.0/24]\nsample:\n  enabled: false\n`);
    const r = await runCli(['scan', standby, '-p', 'postgres', '--follow-peers', '--json', '--config', cfg, '--db', path.join(dir, 'a.db'), '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { peerScans: string[]; findings: { host: string; auth: string }[] };
    assert.equal(doc.peerScans.length, 1, r.stderr);
    assert.deepEqual(doc.findings.map((f) => f.host).sort(), [primary, standby].sort());
    assert.match(r.stderr, new RegExp(`Peers of s-[\\w-]+: scan s-[\\w-]+ probed 1 postgres peer on port ${port}`));
  });

  it('only lists a peer outside the scope and the targets', async () => {
    const r = await runCli(['scan', standby, '-p', 'postgres', '--follow-peers', '--json', '--db', path.join(dir, 'b.db'), '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { peerScans: string[]; findings: { host: string }[] };
    assert.deepEqual(doc.peerScans, []);
    assert.deepEqual(doc.findings.map((f) => f.host), [standby]);
    assert.match(r.stderr, new RegExp(`peer ${primary.replace(/\./g, '\\.')}.* listed, not probed: outside scope\\.authorized`));
  });
});
