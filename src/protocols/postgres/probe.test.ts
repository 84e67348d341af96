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
      assert.ok(r.durationMs < 800 + 500, `took ${r.durationMs} ms`);
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
