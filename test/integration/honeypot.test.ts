import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/config.js';
import { prepareScan, startScan, type NewScanRequest } from '../../src/discover/scan-job.js';
import { PROBES } from '../../src/protocols/registry.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { env } from '../helpers/servers.js';

/**
 * A host that answers as four different database products at once is flagged as a likely honeypot
 * instead of being reported as four real exposures. The test makes such a host from real servers
 * (Redis, memcached, PouchDB Server, FerretDB) on one loopback address, started and stopped by PID here.
 */
const HOST = '127.0.30.1';
const cache = process.env.LOCKDOWN_CACHE_DIR ?? path.join(homedir(), '.cache', 'lockdown');
const ferretdb = path.join(cache, 'ferretdb-v1.24.2', 'bin', 'ferretdb');
const pouchdb = path.join(cache, 'pouchdb-server-4.2.0', 'node_modules', 'pouchdb-server', 'bin', 'pouchdb-server');

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function waitFor(port: number, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await listening(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on ${HOST}:${port}`);
}

describe('honeypot flag', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-honeypot-'));
  const children: ChildProcess[] = [];
  const start = (cmd: string, args: string[], cwd = dir): void => {
    children.push(spawn(cmd, args, { cwd, stdio: 'ignore' }));
  };

  before(async () => {
    assert.ok(existsSync(ferretdb), `FerretDB is not built at ${ferretdb}; run scripts/install-ferretdb.sh`);
    assert.ok(existsSync(pouchdb), `PouchDB Server is not installed at ${pouchdb}; run scripts/install-couchdb.sh`);
    start('redis-server', ['--bind', HOST, '--port', '6379', '--save', '', '--protected-mode', 'no', '--dir', dir]);
    start('memcached', ['-u', 'root', '-l', HOST, '-p', '11211', '-U', '0']);
    writeFileSync(path.join(dir, 'pouch.json'), JSON.stringify({ log: { file: path.join(dir, 'pouch.log') } }));
    start(process.execPath, [pouchdb, '--in-memory', '--no-color', '--host', HOST, '--port', '5984', '--config', path.join(dir, 'pouch.json')]);
    start(ferretdb, ['--handler=sqlite', `--sqlite-url=file:${dir}/`, `--listen-addr=${HOST}:27017`, `--state-dir=${dir}`, '--telemetry=disable', '--debug-addr=-']);
    await Promise.all([waitFor(6379, 'redis'), waitFor(11211, 'memcached'), waitFor(5984, 'pouchdb-server'), waitFor(27017, 'ferretdb')]);
  });

  after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('flags a host that answers as four database products, and not an ordinary one', async () => {
    const ordinary = env('REDIS_OPEN_HOST');
    const config = defaultConfig();
    const request: NewScanRequest = {
      targets: [{ text: HOST, source: 'test' }, { text: ordinary, source: 'test' }],
      excludes: [],
      excludeFiles: [],
      ports: ['redis', 'memcached', 'couchdb', 'mongodb'].flatMap((module) => PROBES.find((p) => p.name === module)!.defaultPorts.map((port) => ({ module, port }))),
      allowLargeIpv6: false,
      checkDefaultCredentials: false,
      settings: { rate: 1000, concurrency: 16, connectTimeoutMs: 1000, timeoutMs: 5000, readCapBytes: 1 << 20 },
      config,
      identity: 'lockdown-test',
      commandLine: 'test',
    };
    const store = await openSqliteStore(':memory:');
    try {
      const run = await startScan(store, request, await prepareScan(request), PROBES, { signal: new AbortController().signal });
      assert.equal(run.scan.state, 'completed');
      const pot = await store.getHost(HOST);
      assert.ok(pot, 'the honeypot host was stored');
      assert.equal(pot.findings.filter((f) => f.auth === 'open').length, 4, JSON.stringify(pot.findings.map((f) => [f.module, f.auth, f.status])));
      assert.equal(pot.host.honeypot?.[0]?.ruleId, 'multi-product');
      assert.match(pot.host.honeypot?.[0]?.reason ?? '', /4 different database products/);
      const listed = await store.listFindings({ host: HOST });
      assert.ok(listed.every((f) => f.honeypot && f.honeypot.length > 0), 'every finding of the host carries the flag');
      const normal = await store.getHost(ordinary);
      assert.equal(normal?.host.honeypot, null, 'an ordinary open Redis is not flagged');
    } finally {
      await store.close();
    }
  });
});
