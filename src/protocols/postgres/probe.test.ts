/**
 * The PostgreSQL probe against real PostgreSQL 15 servers (test/servers/postgres.sh): a trust cluster
 * (open), a SCRAM cluster with TLS (auth on) and a streaming standby of the trust cluster (peers); and
 * against the misbehaving hosts a scanner meets (silent, garbage, flood, closed port).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Peer, type ProbeResult } from '../../core/types.js';
import { floodPeer, garbagePeer, recordingProxy, silentPeer } from '../../../test/helpers/fake-servers.js';
import { probeCtx } from '../../../test/helpers/probe-ctx.js';
import { env, requireServer, servers } from '../../../test/helpers/servers.js';
import { decodeFrontendMessage, type FrontendMessage } from './codec.js';
import { postgresProbe } from './probe.js';
import { QUERIES } from './queries.js';
import { quoteIdent, SAMPLE_TABLES_QUERY, sampleRowsQuery } from './sample.js';
import { clearValues, syntheticPeople, type Person } from '../../../test/helpers/synthetic-people.js';

const TRUST = env('PG_TRUST_HOST');
const SCRAM = env('PG_SCRAM_HOST');
// Not (yet) in servers.env; postgres.sh uses the same default.
const STANDBY = process.env.PG_STANDBY_HOST ?? servers.PG_STANDBY_HOST ?? '127.0.11.3';
const PORT = Number(env('PG_PORT'));
const PASSWORD = env('PG_PASSWORD');
const SEED_ROWS = 20_000;

/** Seed and inspect with the real client. The product itself never writes; the tests do, with psql. */
function psql(host: string, sql: string, opts: { db?: string; user?: string; password?: string } = {}): string {
  return execFileSync(
    'psql',
    ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(PORT), '-U', opts.user ?? 'postgres', '-d', opts.db ?? 'postgres', '-c', sql],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PGPASSWORD: opts.password ?? '', PGCONNECT_TIMEOUT: '5', PGSSLMODE: 'prefer' },
    },
  ).trim();
}

function probe(host: string, port = PORT, ctx = probeCtx()): Promise<ProbeResult> {
  return postgresProbe.probe({ host, port }, ctx);
}

/** Decode everything a client sent: untyped packets until the StartupMessage, typed messages after it. */
function decodeClientStream(buf: Buffer): FrontendMessage[] {
  const out: FrontendMessage[] = [];
  let untyped = true;
  let rest = buf;
  while (rest.length > 0) {
    const r = decodeFrontendMessage(rest, untyped);
    assert.ok(r, `incomplete client message at ${buf.length - rest.length}: ${rest.subarray(0, 16).toString('hex')}`);
    out.push(r.value);
    if (r.value.type === 'startup') untyped = false;
    rest = rest.subarray(r.consumed);
  }
  return out;
}

async function waitFor(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Retry a statement that fails while another backend (autovacuum) touches the database. */
async function retryPsql(host: string, sql: string, opts: { db?: string; user?: string } = {}): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      psql(host, sql, opts);
      return;
    } catch (err) {
      if (i >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('postgres probe on real servers', () => {
  before(async () => {
    await requireServer(TRUST, PORT, 'pg-trust');
    await requireServer(SCRAM, PORT, 'pg-scram');
    await requireServer(STANDBY, PORT, 'pg-standby');
    // Repair what an interrupted earlier run may have left behind (see the startup-error tests).
    try {
      psql(TRUST, 'ALTER ROLE postgres LOGIN', { user: 'lockdown_admin', db: 'template1' });
    } catch {
      // lockdown_admin does not exist yet: nothing to repair.
    }
    if (psql(TRUST, "SELECT count(*) FROM pg_database WHERE datname = 'lockdown_postgres_moved'", { db: 'template1' }) === '1') {
      await retryPsql(TRUST, 'ALTER DATABASE lockdown_postgres_moved RENAME TO postgres', { db: 'template1' });
    }
    psql(TRUST, 'DROP DATABASE IF EXISTS lockdown_seed WITH (FORCE)');
    psql(TRUST, 'CREATE DATABASE lockdown_seed');
    psql(
      TRUST,
      `CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL);
       INSERT INTO customers SELECT g, 'user' || g || '@example.invalid' FROM generate_series(1, ${SEED_ROWS}) g`,
      { db: 'lockdown_seed' },
    );
    psql(TRUST, 'DROP DATABASE IF EXISTS lockdown_private WITH (FORCE)');
    psql(TRUST, 'CREATE DATABASE lockdown_private');
    psql(TRUST, 'REVOKE CONNECT ON DATABASE lockdown_private FROM PUBLIC');
    psql(TRUST, 'DROP ROLE IF EXISTS lockdown_nobody');
    psql(TRUST, 'CREATE ROLE lockdown_nobody LOGIN');
    psql(TRUST, 'DROP ROLE IF EXISTS lockdown_admin');
    psql(TRUST, 'CREATE ROLE lockdown_admin SUPERUSER LOGIN');
    await waitFor('the standby to replay lockdown_seed', () => {
      try {
        return psql(STANDBY, 'SELECT count(*) FROM customers', { db: 'lockdown_seed' }) === String(SEED_ROWS);
      } catch {
        return false;
      }
    });
  });

  it('trust cluster: open, version 15, the seeded database with its size, read-only session', async () => {
    const r = await probe(TRUST);
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'PostgreSQL');
    assert.match(r.version ?? '', /^15\.\d+/);
    assert.match(r.evidence ?? '', /^AuthenticationOk; ReadyForQuery; server_version=15\./);
    assert.deepEqual(r.errors, []);
    const m = r.metadata;
    assert.equal(m.tls, false);
    assert.equal(m.protocol, '3.0');
    assert.equal(m.authMethod, 'trust');
    assert.equal(m.database, 'postgres');
    assert.equal(m.currentUser, 'postgres');
    assert.equal(m.superuser, true);
    assert.equal(m.inRecovery, false);
    assert.match(String(m.versionString), /^PostgreSQL 15\.\d+/);
    const params = m.parameters as Record<string, string>;
    assert.equal(params.server_encoding, 'UTF8');
    assert.equal(params.application_name, 'lockdown-test', 'application_name is ctx.clientName');
    // The server confirms the guard from the startup options: every transaction of this session is read-only.
    assert.equal(params.default_transaction_read_only, 'on');

    const dbs = m.databases as { name: string; sizeBytes: number | null }[];
    const seed = dbs.find((d) => d.name === 'lockdown_seed');
    assert.ok(seed, `lockdown_seed missing from ${JSON.stringify(dbs)}`);
    const actual = Number(psql(TRUST, "SELECT pg_database_size('lockdown_seed')"));
    assert.ok(seed.sizeBytes !== null && seed.sizeBytes > 0);
    assert.ok(Math.abs(seed.sizeBytes - actual) < 1024 * 1024, `size ${seed.sizeBytes} vs psql ${actual}`);
    const sizes = dbs.map((d) => d.sizeBytes ?? -1);
    assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a), 'biggest first');
    assert.ok(!dbs.some((d) => d.name === 'template0' || d.name === 'template1'), 'templates are left out');
    const expectedCount = Number(psql(TRUST, 'SELECT count(*) FROM pg_database WHERE NOT datistemplate'));
    assert.equal(m.databaseCount, expectedCount);
    assert.equal(dbs.length, expectedCount);
    // The normalised inventory: the same databases, sizes as bytes, their sum on top.
    assert.deepEqual(
      r.inventory?.namespaces,
      dbs.map((d) => ({ path: [d.name], kind: 'database', ...(d.sizeBytes !== null ? { bytes: d.sizeBytes } : {}) })),
    );
    assert.equal(r.inventory?.bytes, dbs.reduce((sum, d) => sum + (d.sizeBytes ?? 0), 0));
    assert.equal(r.inventory?.truncated, undefined);
    assert.equal(r.sample, undefined, 'no ctx.sample, no sample');

    // The standby streams from this server: it shows up as a replica peer (its walreceiver names itself after cluster_name).
    assert.deepEqual(
      r.peers.filter((p) => p.role === 'replica').map((p) => p.source),
      ['pg_stat_replication: application_name=lockdown_standby, state=streaming'],
    );
    assert.deepEqual(r.commands, ['SSLRequest', 'StartupMessage', 'Query:version', 'Query:session', 'Query:databases', 'Query:replication', 'Terminate']);
    assert.ok(r.durationMs < 5000);
  });

  it('standby: open, in recovery, names its primary from pg_stat_wal_receiver', async () => {
    const r = await probe(STANDBY);
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.inRecovery, true);
    assert.ok((r.metadata.databases as { name: string }[]).some((d) => d.name === 'lockdown_seed'));
    const primary: Peer = { host: TRUST, port: PORT, role: 'primary', source: 'pg_stat_wal_receiver' };
    assert.deepEqual(r.peers, [primary]);
    assert.ok(r.commands.includes('Query:wal_receiver'));
  });

  it('SCRAM cluster: TLS, then auth_required with the SASL mechanisms as evidence and no version', async () => {
    const r = await probe(SCRAM);
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'PostgreSQL');
    assert.equal(r.version, undefined, 'PostgreSQL reports server_version only after authentication');
    assert.match(r.evidence ?? '', /^AuthenticationSASL \[.*\bSCRAM-SHA-256\b.*\]$/);
    assert.equal(r.metadata.tls, true);
    assert.equal(r.metadata.authMethod, 'scram-sha-256');
    assert.equal(r.metadata.authRequest, 'AuthenticationSASL');
    // Over TLS the server also offers channel binding.
    assert.deepEqual(r.metadata.saslMechanisms, ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']);
    assert.deepEqual(r.commands, ['SSLRequest', 'StartupMessage'], 'no password, no query');
    assert.equal(r.metadata.databases, undefined);
    // The password works for the real client: the server is healthy, the probe just has none.
    assert.equal(psql(SCRAM, 'SELECT 1', { password: PASSWORD }), '1');
  });

  it('the databases query survives a role that may not connect to every database (names listed, size NULL)', () => {
    const out = psql(TRUST, QUERIES.databases, { user: 'lockdown_nobody' });
    const rows = new Map(out.split('\n').map((l) => [l.split('|')[0], l.split('|')[1]]));
    assert.equal(rows.get('lockdown_private'), '', 'listed without a size');
    assert.ok(Number(rows.get('lockdown_seed')) > 0, 'sized where CONNECT is allowed');
    // Why the CASE matters: the naive query fails as a whole for the same role.
    assert.throws(
      () => psql(TRUST, 'SELECT datname, pg_database_size(datname) FROM pg_database', { user: 'lockdown_nobody' }),
      /permission denied for database lockdown_private/,
    );
  });

  it('AuthenticationOk then "not permitted to log in" (28000): inconclusive, trust noted', async () => {
    psql(TRUST, 'ALTER ROLE postgres NOLOGIN', { user: 'lockdown_admin' });
    let r: ProbeResult;
    try {
      r = await probe(TRUST);
    } finally {
      psql(TRUST, 'ALTER ROLE postgres LOGIN', { user: 'lockdown_admin' });
    }
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'inconclusive');
    assert.equal(r.metadata.authMethod, 'trust');
    assert.equal((r.metadata.startupError as { code: string }).code, '28000');
    assert.match(r.evidence ?? '', /^AuthenticationOk, then FATAL 28000: role "postgres" is not permitted to log in/);
    assert.deepEqual(r.commands, ['SSLRequest', 'StartupMessage']);
  });

  it('no database "postgres" (3D000 after AuthenticationOk): retries with template1 and is open', async () => {
    await retryPsql(TRUST, 'ALTER DATABASE postgres RENAME TO lockdown_postgres_moved', { user: 'lockdown_admin', db: 'template1' });
    let r: ProbeResult;
    try {
      r = await probe(TRUST);
    } finally {
      await retryPsql(TRUST, 'ALTER DATABASE lockdown_postgres_moved RENAME TO postgres', { user: 'lockdown_admin', db: 'template1' });
      // The standby replays the rename too; later tests expect `postgres` there.
      await waitFor('the standby to replay the rename', () => {
        try {
          return psql(STANDBY, "SELECT count(*) FROM pg_database WHERE datname = 'postgres'", { db: 'template1' }) === '1';
        } catch {
          return false;
        }
      });
    }
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.database, 'template1');
    assert.equal(r.metadata.startupError, undefined);
    assert.deepEqual(r.commands.slice(0, 5), ['SSLRequest', 'StartupMessage', 'SSLRequest', 'StartupMessage', 'Query:version']);
    assert.ok((r.metadata.databases as { name: string }[]).some((d) => d.name === 'lockdown_postgres_moved'));
  });

  for (const [label, host, withWalReceiver] of [
    ['trust cluster', TRUST, false],
    ['standby', STANDBY, true],
  ] as const) {
    it(`allow-list (${label}): the recorded client stream is SSLRequest, StartupMessage, the module's constant queries, Terminate`, async () => {
      const proxy = await recordingProxy(host, PORT);
      try {
        const r = await probe('127.0.0.1', proxy.port);
        assert.equal(r.auth, 'open');
        // The relay sees the last bytes (Terminate) a moment after the probe has returned.
        await waitFor('Terminate at the proxy', () => proxy.clientBytes().subarray(-5).equals(Buffer.from('5800000004', 'hex')), 2000);
        const sent = decodeClientStream(proxy.clientBytes());
        assert.deepEqual(
          sent.map((m) => m.type),
          ['ssl-request', 'startup', 'query', 'query', 'query', 'query', ...(withWalReceiver ? ['query'] : []), 'terminate'],
        );
        const startup = sent[1] as Extract<FrontendMessage, { type: 'startup' }>;
        assert.equal(startup.protocol, 196608);
        assert.deepEqual(Object.keys(startup.params), ['user', 'database', 'application_name', 'client_encoding', 'options']);
        assert.equal(startup.params.user, 'postgres');
        assert.equal(startup.params.database, 'postgres');
        assert.match(startup.params.options ?? '', /^-c default_transaction_read_only=on -c statement_timeout=\d+$/);
        const texts = sent.filter((m): m is Extract<FrontendMessage, { type: 'query' }> => m.type === 'query').map((m) => m.sql);
        const expected = [QUERIES.version, QUERIES.session, QUERIES.databases, QUERIES.replication, ...(withWalReceiver ? [QUERIES.walReceiver] : [])];
        assert.deepEqual(texts, expected);
        // And the result's command log names exactly what was on the wire, one to one.
        assert.equal(r.commands.length, sent.length);
      } finally {
        await proxy.close();
      }
    });
  }

  it('allow-list (SCRAM, TLS): only the SSLRequest is plaintext, everything after it is a TLS stream', async () => {
    const proxy = await recordingProxy(SCRAM, PORT);
    try {
      const r = await probe('127.0.0.1', proxy.port);
      assert.equal(r.auth, 'auth_required');
      const bytes = proxy.clientBytes();
      assert.deepEqual(decodeFrontendMessage(bytes, true), { value: { type: 'ssl-request' }, consumed: 8 });
      assert.equal(bytes[8], 0x16, 'a TLS handshake record follows');
      assert.equal(bytes[9], 0x03);
      assert.equal(bytes.indexOf('SELECT'), -1);
      assert.equal(bytes.indexOf('postgres'), -1, 'the StartupMessage went inside TLS');
    } finally {
      await proxy.close();
    }
  });
});

/**
 * A misbehaving host that answers the n-th client packet with `replies[n]` (or, given a function, the
 * replies for the k-th connection), and after the last reply optionally streams `flood` repeatedly
 * (respecting back-pressure) up to `flood.total` bytes.
 * Not a mock of PostgreSQL: replies are protocol bytes a hostile or ancient server could send.
 */
function scriptedPeer(
  script: Buffer[] | ((connection: number) => Buffer[]),
  flood?: { message: Buffer; total: number },
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    const replies = typeof script === 'function' ? script(connections++) : script;
    let n = 0;
    s.on('data', () => {
      const reply = replies[n++];
      if (reply) s.write(reply);
      if (n === replies.length && flood) {
        let sent = 0;
        const pump = (): void => {
          while (sent < flood.total && !s.destroyed) {
            sent += flood.message.length;
            if (!s.write(flood.message)) {
              s.once('drain', pump);
              return;
            }
          }
        };
        pump();
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

function backend(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

describe('postgres probe on misbehaving hosts', () => {
  it('silent peer: io-timeout and inconclusive within the deadline', async () => {
    const peer = await silentPeer();
    try {
      const r = await probe('127.0.0.1', peer.port, probeCtx({ timeoutMs: 800 }));
      assert.equal(r.status, 'io-timeout');
      assert.equal(r.auth, 'inconclusive');
      assert.ok(r.durationMs < 800 + 3000, `took ${r.durationMs} ms`);
      assert.deepEqual(r.commands, ['SSLRequest']);
    } finally {
      await peer.close();
    }
  });

  it('garbage peer (an HTTP reply): protocol-error', async () => {
    const peer = await garbagePeer(Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'), { afterRequest: true });
    try {
      const r = await probe('127.0.0.1', peer.port);
      assert.equal(r.status, 'protocol-error');
      assert.equal(r.auth, 'inconclusive');
      assert.equal(r.product, undefined);
    } finally {
      await peer.close();
    }
  });

  it('an SSH banner (starts with "S") is not mistaken for an SSL yes: protocol-error, no TLS attempt', async () => {
    const peer = await garbagePeer(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'));
    try {
      const r = await probe('127.0.0.1', peer.port);
      assert.equal(r.status, 'protocol-error');
      assert.match(r.errors.join(';'), /unexpected bytes after answering SSLRequest/);
      assert.equal(r.metadata.tls, undefined);
    } finally {
      await peer.close();
    }
  });

  it('100 MB flood of one byte: rejected as protocol-error at the first byte, without reading it all', async () => {
    const peer = await floodPeer(100 * 1024 * 1024, 0x41, { afterRequest: true });
    try {
      const r = await probe('127.0.0.1', peer.port);
      assert.equal(r.status, 'protocol-error');
      assert.ok(r.bytesRead <= 1024 * 1024 + 64 * 1024, `read ${r.bytesRead} bytes`);
    } finally {
      await peer.close();
    }
  });

  it('100 MB flood of well-formed ParameterStatus messages after AuthenticationOk: read-limit at the cap', async () => {
    const param = backend('S', Buffer.concat([Buffer.from('x\0'), Buffer.alloc(64 * 1024, 0x61), Buffer.from([0])]));
    const authOk = backend('R', Buffer.from([0, 0, 0, 0]));
    const peer = await scriptedPeer([Buffer.from('N'), authOk], { message: param, total: 100 * 1024 * 1024 });
    const readCap = 1024 * 1024;
    try {
      const r = await probe('127.0.0.1', peer.port, probeCtx({ readCap }));
      assert.equal(r.status, 'read-limit');
      assert.equal(r.auth, 'inconclusive');
      assert.ok(r.bytesRead > readCap && r.bytesRead < readCap + 1024 * 1024, `read ${r.bytesRead} bytes`);
      assert.ok(r.durationMs < 5000);
    } finally {
      await peer.close();
    }
  });

  it('a message longer than the read cap is refused from its header', async () => {
    const huge = Buffer.alloc(5);
    huge.write('S', 0, 'latin1');
    huge.writeInt32BE(8 * 1024 * 1024, 1);
    const peer = await scriptedPeer([Buffer.from('N'), Buffer.concat([backend('R', Buffer.alloc(4)), huge])]);
    try {
      const r = await probe('127.0.0.1', peer.port, probeCtx({ readCap: 1024 * 1024 }));
      assert.equal(r.status, 'protocol-error');
      assert.match(r.errors.join(';'), /more than the cap of 1048576/);
    } finally {
      await peer.close();
    }
  });

  it('a pre-3.0 server (v2 error text to a 3.0 StartupMessage): PostgreSQL, inconclusive, protocol 2.0', async () => {
    const peer = await scriptedPeer([Buffer.from('N'), Buffer.from('EFATAL:  unsupported frontend protocol\n\0', 'latin1')]);
    try {
      const r = await probe('127.0.0.1', peer.port);
      assert.equal(r.status, 'success');
      assert.equal(r.auth, 'inconclusive');
      assert.equal(r.product, 'PostgreSQL');
      assert.equal(r.metadata.protocol, '2.0');
      assert.match(r.evidence ?? '', /unsupported frontend protocol/);
    } finally {
      await peer.close();
    }
  });

  it('SSLRequest answered with an error (servers before 7.1): reconnects without it and reads the startup answer', async () => {
    // Such a server answers both the SSLRequest and the 3.0 StartupMessage with a v2 error text.
    const v2 = Buffer.from('EFATAL:  unsupported frontend protocol\n\0', 'latin1');
    const peer = await scriptedPeer([v2]);
    try {
      const r = await probe('127.0.0.1', peer.port);
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.deepEqual(r.commands, ['SSLRequest', 'StartupMessage']);
      assert.match(r.errors[0] ?? '', /answered SSLRequest with an error.*unsupported frontend protocol.*retried without TLS/);
      assert.equal(r.metadata.tls, false);
      assert.equal(r.metadata.protocol, '2.0');
      assert.equal(r.auth, 'inconclusive');
    } finally {
      await peer.close();
    }
  });

  it('TLS handshake fails after "S": retries in plaintext and still reaches a verdict', async () => {
    const sasl = backend('R', Buffer.concat([Buffer.from([0, 0, 0, 10]), Buffer.from('SCRAM-SHA-256\0\0')]));
    // First connection: yes to SSL, then garbage instead of a ServerHello. Second: a plaintext server asking for SCRAM.
    const peer = await scriptedPeer((k) => (k === 0 ? [Buffer.from('S'), Buffer.from('this is not TLS\r\n')] : [sasl]));
    try {
      const r = await probe('127.0.0.1', peer.port);
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.match(r.errors[0] ?? '', /TLS handshake failed .*retried in plaintext/);
      assert.equal(r.metadata.tls, false);
      assert.equal(r.auth, 'auth_required');
      assert.equal(r.evidence, 'AuthenticationSASL [SCRAM-SHA-256]');
      assert.deepEqual(r.commands, ['SSLRequest', 'StartupMessage']);
    } finally {
      await peer.close();
    }
  });

  it('closed port: connection-refused, no verdict', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const r = await probe('127.0.0.1', port);
    assert.equal(r.status, 'connection-refused');
    assert.equal(r.auth, undefined);
    assert.deepEqual(r.commands, []);
  });
});

/** Every message of a client stream that may hold several connections one after another (each ends with Terminate). */
function decodeConnections(buf: Buffer): FrontendMessage[][] {
  const out: FrontendMessage[][] = [[]];
  let untyped = true;
  let rest = buf;
  while (rest.length > 0) {
    const r = decodeFrontendMessage(rest, untyped);
    assert.ok(r, `incomplete client message: ${rest.subarray(0, 16).toString('hex')}`);
    out[out.length - 1]!.push(r.value);
    if (r.value.type === 'startup') untyped = false;
    if (r.value.type === 'terminate') {
      untyped = true;
      out.push([]);
    }
    rest = rest.subarray(r.consumed);
  }
  return out.filter((c) => c.length > 0);
}

describe('postgres value sampling (ctx.sample, inside the authorized scope) on the real trust cluster', () => {
  const people = syntheticPeople(11, 41);
  const WEIRD = 'x"; DROP TABLE y; --';
  // Enough tables for every database on the shared cluster (the demo leaves one behind): ours are always reached.
  const SAMPLE = { perCollection: 50, maxBytes: 1_000_000, maxCollections: 100 };
  const MINE = 'lockdown_people.';
  const lit = (v: string): string => `'${v.replace(/'/g, "''")}'`;
  const row = (id: number, p: Person): string =>
    `(${id}, ${lit(p.name)}, ${lit(p.id_card)}, ${lit(p.phone)}, ${lit(p.email)}, ${lit(`${p.location.lat},${p.location.lng}`)}, ${lit(p.avatar)}, ${lit(p.chat_message)})`;
  const COLUMNS = 'id int, name text, id_card text, phone text, email text, location text, avatar text, chat_message text';

  before(async () => {
    await requireServer(TRUST, PORT, 'pg-trust');
    // Only this test's data on the cluster: the seed database of the tests above holds 20,000 e-mail rows.
    psql(TRUST, 'DROP DATABASE IF EXISTS lockdown_seed WITH (FORCE)');
    psql(TRUST, 'DROP DATABASE IF EXISTS lockdown_people WITH (FORCE)');
    psql(TRUST, 'CREATE DATABASE lockdown_people');
    psql(
      TRUST,
      `CREATE TABLE customers (${COLUMNS}, photo bytea);
       INSERT INTO customers VALUES ${people.slice(0, 6).map((p, i) => row(i + 1, p)).join(', ')};
       UPDATE customers SET photo = decode(avatar, 'base64');
       CREATE TABLE chats (id int, room text, chat_message text);
       INSERT INTO chats VALUES ${people.slice(6, 10).map((p, i) => `(${i + 1}, 'r1', ${lit(p.chat_message)})`).join(', ')};
       CREATE TABLE app_logs (id int, level text);
       INSERT INTO app_logs SELECT g, 'info' FROM generate_series(1, 60) g;
       CREATE TABLE y (v text);
       INSERT INTO y VALUES ('keep me');
       CREATE TABLE ${quoteIdent(WEIRD)} (${COLUMNS});
       INSERT INTO ${quoteIdent(WEIRD)} VALUES ${row(1, people[10]!)};`,
      { db: 'lockdown_people' },
    );
  });

  after(() => {
    psql(TRUST, 'DROP DATABASE IF EXISTS lockdown_people WITH (FORCE)');
  });

  it('identifier quoting: a table named like an injection is one quoted name, and psql reads it through that text', () => {
    assert.equal(quoteIdent(WEIRD), '"x""; DROP TABLE y; --"');
    assert.equal(sampleRowsQuery('public', WEIRD, 5), 'SELECT * FROM "public"."x""; DROP TABLE y; --" LIMIT 5');
    assert.throws(() => quoteIdent('a\0b'), /NUL/);
    assert.throws(() => sampleRowsQuery('public', 't', 0), /limit/);
    // The server parses the generated text as one SELECT on that table.
    assert.equal(psql(TRUST, `SELECT count(*) FROM (${sampleRowsQuery('public', WEIRD, 5)}) s`, { db: 'lockdown_people' }), '1');
    assert.equal(psql(TRUST, 'SELECT count(*) FROM y', { db: 'lockdown_people' }), '1');
    // The table list query is a constant and runs as is.
    assert.match(psql(TRUST, SAMPLE_TABLES_QUERY, { db: 'lockdown_people' }), /public\|customers\|/);
  });

  it('with ctx.sample: every category with the seeded counts, no clear value in the result, read-only allow-listed stream', async () => {
    const proxy = await recordingProxy(TRUST, PORT);
    let r: ProbeResult;
    try {
      r = await probe('127.0.0.1', proxy.port, probeCtx({ authorized: true, sample: SAMPLE }));
      // The relay sees the last Terminate a moment after the probe has returned.
      await waitFor('Terminate at the proxy', () => proxy.clientBytes().subarray(-5).equals(Buffer.from('5800000004', 'hex')), 2000);
    } finally {
      await proxy.close();
    }
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.deepEqual(r.errors, []);
    const cats = r.sample?.categories as Record<string, { count: number; fields: { path: string; count: number }[] }>;
    assert.ok(cats, 'a sample was taken');
    // Counted in this test's database (other databases on the cluster are sampled too, and counted apart):
    // customers: 6 people (avatar text and photo bytea both JPEG); chats: 4 messages; the oddly named table: 1 person.
    const mine = (c: string): number => (cats[c]?.fields ?? []).filter((f) => f.path.startsWith(MINE)).reduce((sum, f) => sum + f.count, 0);
    assert.deepEqual(
      Object.fromEntries(['national_id', 'phone', 'email', 'location', 'photo', 'communication'].map((c) => [c, mine(c)])),
      { national_id: 7, phone: 7, email: 7, location: 7, photo: 13, communication: 11 },
    );
    assert.ok((r.sample?.documents ?? 0) >= 6 + 4 + 50 + 1 + 1, 'app_logs capped at perCollection');
    assert.ok(cats.photo!.fields.some((f) => f.path === 'lockdown_people.public.customers.photo' && f.count === 6), 'bytea read as bytes');
    const text = JSON.stringify(r);
    for (const v of clearValues(people)) assert.ok(!text.includes(v), `the result holds a clear value: ${v}`);
    assert.equal(psql(TRUST, 'SELECT count(*) FROM y', { db: 'lockdown_people' }), '1', 'table y is still there');

    // Inventory: the databases, plus the tables listed for sampling with their columns.
    const tables = r.inventory!.namespaces.filter((n) => n.kind === 'table' && n.path[0] === 'lockdown_people');
    assert.deepEqual(tables.map((t) => t.path[2]).sort(), ['app_logs', 'chats', 'customers', WEIRD, 'y'].sort());
    assert.deepEqual(tables.find((t) => t.path[2] === 'customers')?.fields, ['id', 'name', 'id_card', 'phone', 'email', 'location', 'avatar', 'chat_message', 'photo']);
    assert.ok(r.inventory!.namespaces.some((n) => n.kind === 'database' && n.path[0] === 'lockdown_people'));

    // On the wire: the probe's connection, then one per database, each read-only, only allow-listed messages.
    const connections = decodeConnections(proxy.clientBytes());
    const flat = connections.flat();
    const names = flat.map((m) => (m.type === 'ssl-request' ? 'SSLRequest' : m.type === 'startup' ? 'StartupMessage' : m.type === 'terminate' ? 'Terminate' : m.type));
    assert.equal(names.length, r.commands.length);
    for (const [i, m] of flat.entries()) {
      if (m.type === 'query') assert.match(r.commands[i]!, /^Query:/);
      else assert.equal(r.commands[i], names[i]);
      assert.ok(postgresProbe.allowedCommands.includes(r.commands[i]!), r.commands[i]);
    }
    for (const c of connections) {
      const startup = c.find((m): m is Extract<FrontendMessage, { type: 'startup' }> => m.type === 'startup');
      assert.match(startup?.params.options ?? '', /^-c default_transaction_read_only=on -c statement_timeout=\d+$/);
      assert.equal(c[c.length - 1]!.type, 'terminate');
    }
    const sampled = connections.slice(1).map((c) => (c.find((m) => m.type === 'startup') as { params: Record<string, string> }).params.database);
    assert.ok(sampled.includes('lockdown_people'), sampled.join());
    const queries = (c: FrontendMessage[]): string[] => c.filter((m): m is Extract<FrontendMessage, { type: 'query' }> => m.type === 'query').map((m) => m.sql);
    const ours = connections.find((c) => c.some((m) => m.type === 'startup' && m.params.database === 'lockdown_people'))!;
    const rows = queries(ours).filter((t) => t.startsWith('SELECT * FROM'));
    assert.deepEqual(queries(ours), [SAMPLE_TABLES_QUERY, ...rows]);
    assert.deepEqual(rows.slice().sort(), ['app_logs', 'chats', 'customers', WEIRD, 'y'].map((t) => sampleRowsQuery('public', t, 50)).sort());
    assert.ok(rows.includes('SELECT * FROM "public"."x""; DROP TABLE y; --" LIMIT 50'));
    // Every query on every connection: a catalog constant, the table list, or a quoted SELECT … LIMIT 50.
    for (const t of queries(flat)) {
      assert.ok(t === SAMPLE_TABLES_QUERY || /^SELECT \* FROM "(?:[^"]|"")+"\."(?:[^"]|"")+" LIMIT 50$/.test(t) || Object.values(QUERIES).includes(t as never), t);
    }
  });

  it('without ctx.sample: one connection, the constant catalog queries only, no sample, the database in the inventory', async () => {
    const proxy = await recordingProxy(TRUST, PORT);
    try {
      const r = await probe('127.0.0.1', proxy.port, probeCtx({ authorized: true }));
      await waitFor('Terminate at the proxy', () => proxy.clientBytes().subarray(-5).equals(Buffer.from('5800000004', 'hex')), 2000);
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.equal(r.sample, undefined);
      assert.equal(r.metadata.sampling, undefined);
      assert.deepEqual(r.commands, ['SSLRequest', 'StartupMessage', 'Query:version', 'Query:session', 'Query:databases', 'Query:replication', 'Terminate']);
      const connections = decodeConnections(proxy.clientBytes());
      assert.equal(connections.length, 1);
      const texts = connections[0]!.filter((m): m is Extract<FrontendMessage, { type: 'query' }> => m.type === 'query').map((m) => m.sql);
      assert.deepEqual(texts, [QUERIES.version, QUERIES.session, QUERIES.databases, QUERIES.replication]);
      assert.ok(r.inventory!.namespaces.some((n) => n.path[0] === 'lockdown_people'));
      assert.ok(!r.inventory!.namespaces.some((n) => n.kind === 'table'));
    } finally {
      await proxy.close();
    }
  });

  it('bounds: at most maxCollections tables in all, perCollection rows each', async () => {
    const r = await probe(TRUST, PORT, probeCtx({ authorized: true, sample: { perCollection: 2, maxBytes: 1_000_000, maxCollections: 2 } }));
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.commands.filter((c) => c === 'Query:sample_rows').length, 2);
    assert.ok((r.sample?.documents ?? 0) <= 4);
  });

  it('SCRAM cluster, ctx.sample given: no password, no query, no sample', async () => {
    const r = await probe(SCRAM, PORT, probeCtx({ authorized: true, sample: SAMPLE }));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.sample, undefined);
    assert.deepEqual(r.commands, ['SSLRequest', 'StartupMessage']);
  });
});
