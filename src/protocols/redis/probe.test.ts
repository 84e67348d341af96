/**
 * The Redis probe against real redis-server processes (start them with `bash test/servers/redis.sh start`)
 * and against hostile peers (silent, garbage, flood). Nothing here mocks Redis.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type ProbeResult } from '../../core/types.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, recordingProxy, silentPeer, sourceRelay, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { env, requireServer } from '../../../test/helpers/servers.js';
import { clearValues, syntheticPeople } from '../../../test/helpers/synthetic-people.js';
import { decodeResp, parseInfo, type RespValue } from './codec.js';
import { REDIS_COMMANDS, classifyRedisError, productFromInfo, redisProbe } from './probe.js';

const OPEN = env('REDIS_OPEN_HOST');
const AUTH = env('REDIS_AUTH_HOST');
const PORT = Number(env('REDIS_PORT'));
// Same defaults as test/servers/redis.sh (not in servers.env).
const REPLICA_PORT = Number(process.env.REDIS_REPLICA_PORT ?? 6380);
const PROTECTED_PORT = Number(process.env.REDIS_PROTECTED_PORT ?? 6381);
const NOINFO_PORT = Number(process.env.REDIS_NOINFO_PORT ?? 6382);
/** A loopback source address other than 127.0.0.1: Redis's protected mode treats it as a remote client. */
const REMOTE_LOOKING_SOURCE = '127.0.10.250';

function cli(host: string, port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-h', host, '-p', String(port), ...args], { encoding: 'utf8' });
}

/** Every command in a client byte stream, as RESP arrays of bulk strings decoded with our own codec. */
function decodeCommands(bytes: Buffer): string[][] {
  const out: string[][] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const r = decodeResp(rest);
    assert.ok(r, `client sent an incomplete RESP frame: ${rest.toString('latin1')}`);
    const v: RespValue = r.value;
    assert.equal(v.type, 'array');
    out.push(
      (v.value ?? []).map((arg) => {
        assert.equal(arg.type, 'bulk');
        return (arg.value ?? Buffer.alloc(0)).toString('utf8');
      }),
    );
    rest = rest.subarray(r.consumed);
  }
  return out;
}

/** The allow-list name of a decoded command (`CLIENT SETNAME` keeps its subcommand). */
function commandName(args: string[]): string {
  const head = (args[0] ?? '').toUpperCase();
  return head === 'CLIENT' ? `${head} ${(args[1] ?? '').toUpperCase()}` : head;
}

function assertAllowListed(result: ProbeResult, sent: Buffer): string[][] {
  const commands = decodeCommands(sent);
  const allowed = new Set(redisProbe.allowedCommands);
  for (const c of commands) assert.ok(allowed.has(commandName(c)), `sent ${JSON.stringify(c)}, not on the allow-list`);
  for (const c of result.commands) assert.ok(allowed.has(c), `result.commands has ${c}`);
  assert.deepEqual(commands.map(commandName), result.commands, 'what went on the wire is what the result says');
  return commands;
}

describe('redis probe on real servers', () => {
  let serverVersion = '';

  before(async () => {
    await requireServer(OPEN, PORT, 'redis-open');
    await requireServer(AUTH, PORT, 'redis-auth');
    await requireServer(OPEN, REPLICA_PORT, 'redis-replica');
    await requireServer(AUTH, PROTECTED_PORT, 'redis-protected');
    await requireServer(AUTH, NOINFO_PORT, 'redis-noinfo');
    // Seed a known keyspace with the real client: 3 keys in db0 (one expiring), 2 in db1.
    cli(OPEN, PORT, 'FLUSHALL');
    cli(OPEN, PORT, 'SET', 'lockdown:a', '1');
    cli(OPEN, PORT, 'SET', 'lockdown:b', '2');
    cli(OPEN, PORT, 'SET', 'lockdown:c', '3', 'EX', '3600');
    cli(OPEN, PORT, '-n', '1', 'SET', 'lockdown:d', '4');
    cli(OPEN, PORT, '-n', '1', 'SET', 'lockdown:e', '5');
    serverVersion = /^redis_version:(.+)\r?$/m.exec(cli(OPEN, PORT, 'INFO', 'server'))?.[1] ?? '';
    assert.ok(serverVersion, 'redis-cli INFO server names a version');
    // Wait until the replica has the seeded keys, so both sides report the same keyspace.
    for (let i = 0; i < 100; i++) {
      if (cli(OPEN, REPLICA_PORT, '-n', '1', 'DBSIZE').trim() === '2' && cli(OPEN, REPLICA_PORT, 'DBSIZE').trim() === '3') break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('open server: verdict open, metadata as seeded, replica named as a peer', async () => {
    const r = await redisProbe.probe({ host: OPEN, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'Redis');
    assert.equal(r.version, serverVersion);
    assert.deepEqual(r.metadata.keyspace, { db0: { keys: 3, expires: 1 }, db1: { keys: 2, expires: 0 } });
    assert.equal(r.metadata.totalKeys, 5);
    // The normalised inventory: one entry per database, keys as records, the data set's memory as bytes.
    assert.deepEqual(r.inventory?.namespaces, [
      { path: ['db0'], kind: 'database', records: 3 },
      { path: ['db1'], kind: 'database', records: 2 },
    ]);
    assert.equal(r.inventory?.records, 5);
    assert.ok(Number.isInteger(r.inventory?.bytes) && (r.inventory?.bytes ?? 0) > 0);
    assert.equal(r.sample, undefined, 'no ctx.sample, no sample');
    assert.equal(r.metadata.role, 'master');
    assert.equal(r.metadata.mode, 'standalone');
    assert.match(String(r.metadata.os), /Linux/);
    assert.ok(Number.isInteger(r.metadata.usedMemory) && (r.metadata.usedMemory as number) > 100_000);
    assert.ok(Number.isInteger(r.metadata.connectedClients) && (r.metadata.connectedClients as number) >= 1);
    assert.ok(Number.isInteger(r.metadata.uptimeSeconds));
    assert.equal(r.metadata.clientNameSet, true);
    assert.deepEqual(r.peers, [{ host: OPEN, port: REPLICA_PORT, role: 'replica', source: 'INFO replication: slave0' }]);
    assert.match(r.evidence ?? '', /INFO answered without credentials.*redis_version:.*db0:keys=3/);
    assert.deepEqual(r.commands, [REDIS_COMMANDS.clientSetName, REDIS_COMMANDS.info]);
    assert.deepEqual(r.errors, []);
  });

  it('the server itself saw only INFO and CLIENT SETNAME with our identity (MONITOR)', async () => {
    const monitor = spawn('redis-cli', ['-h', OPEN, '-p', String(PORT), 'MONITOR']);
    let log = '';
    monitor.stdout.on('data', (d: Buffer) => (log += d.toString('utf8')));
    try {
      for (let i = 0; i < 100 && !log.startsWith('OK'); i++) await new Promise((r) => setTimeout(r, 20));
      const ctx = probeCtx({ clientName: 'lockdown-monitor-check' });
      const r = await redisProbe.probe({ host: OPEN, port: PORT }, ctx);
      assert.equal(r.auth, 'open');
      for (let i = 0; i < 100 && !log.includes('SETNAME'); i++) await new Promise((r) => setTimeout(r, 20));
      // MONITOR lines look like: 1795610371.6 [0 127.0.0.1:41874] "CLIENT" "SETNAME" "lockdown-test"
      const lines = log.split('\n').map((l) => /^[0-9.]+ (\[[^\]]+\]) (.*)$/.exec(l.trim())).filter((m) => m !== null);
      const client = lines.find((m) => m[2]!.includes('lockdown-monitor-check'))?.[1];
      assert.ok(client, `MONITOR saw our CLIENT SETNAME: ${log}`);
      assert.deepEqual(
        lines.filter((m) => m[1] === client).map((m) => m[2]),
        ['"CLIENT" "SETNAME" "lockdown-monitor-check"', '"INFO"'],
      );
    } finally {
      monitor.kill();
    }
  });

  it('replica: verdict open, its master named as a peer, same keyspace', async () => {
    const r = await redisProbe.probe({ host: OPEN, port: REPLICA_PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.role, 'slave');
    assert.deepEqual(r.peers, [{ host: OPEN, port: PORT, role: 'master', source: 'INFO replication: master_host' }]);
    assert.deepEqual(r.metadata.keyspace, { db0: { keys: 3, expires: 1 }, db1: { keys: 2, expires: 0 } });
  });

  it('password set: auth_required with the NOAUTH line; the refused CLIENT SETNAME is expected, not an error', async () => {
    const r = await redisProbe.probe({ host: AUTH, port: PORT }, probeCtx());
    assert.equal(r.status, 'success');
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.evidence, '-NOAUTH Authentication required.');
    assert.deepEqual(r.commands, [REDIS_COMMANDS.clientSetName, REDIS_COMMANDS.info]);
    assert.deepEqual(r.errors, []);
    assert.equal(r.metadata.clientNameSet, undefined);
    assert.deepEqual(r.peers, []);
    assert.equal(r.metadata.keyspace, undefined);
    assert.equal(r.inventory, undefined);
  });

  it('protected mode, seen from a non-127.0.0.1 source: auth_required with protectedMode', async () => {
    const relay = await sourceRelay(AUTH, PROTECTED_PORT, REMOTE_LOOKING_SOURCE);
    try {
      const r = await redisProbe.probe({ host: '127.0.0.1', port: relay.port }, probeCtx());
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.equal(r.auth, 'auth_required');
      assert.equal(r.metadata.protectedMode, true);
      assert.match(r.evidence ?? '', /^-DENIED Redis is running in protected mode/);
      assert.ok((r.evidence ?? '').length <= 1024);
      // Both went out in one packet; the server refused the first and closed.
      assert.deepEqual(r.commands, [REDIS_COMMANDS.clientSetName, REDIS_COMMANDS.info]);
    } finally {
      await relay.close();
    }
    // The same server from 127.0.0.1 is open: protected mode only refuses remote clients.
    const local = await redisProbe.probe({ host: AUTH, port: PROTECTED_PORT }, probeCtx());
    assert.equal(local.auth, 'open');
  });

  it('INFO renamed away: PING proves commands run anonymously, verdict open', async () => {
    const r = await redisProbe.probe({ host: AUTH, port: NOINFO_PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.infoAvailable, false);
    assert.match(r.evidence ?? '', /^INFO: -ERR unknown command 'INFO'.*; PING: \+PONG$/);
    assert.deepEqual(r.commands, [REDIS_COMMANDS.clientSetName, REDIS_COMMANDS.info, REDIS_COMMANDS.ping]);
  });

  it('allow-list: every byte sent to the open and the auth server decodes to allow-listed commands', async () => {
    for (const [host, port, expected] of [
      [OPEN, PORT, [['CLIENT', 'SETNAME', 'lockdown-test'], ['INFO']]],
      [AUTH, PORT, [['CLIENT', 'SETNAME', 'lockdown-test'], ['INFO']]],
      [AUTH, NOINFO_PORT, [['CLIENT', 'SETNAME', 'lockdown-test'], ['INFO'], ['PING']]],
    ] as const) {
      const proxy = await recordingProxy(host, port);
      try {
        const r = await redisProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx());
        assert.equal(r.status, 'success');
        assert.deepEqual(assertAllowListed(r, proxy.clientBytes()), expected);
        assert.equal(r.bytesSent, proxy.clientBytes().length);
      } finally {
        await proxy.close();
      }
    }
  });
});

describe('redis error classification (documented replies of versions not installed here)', () => {
  it('maps each refusal to its verdict class', () => {
    // Redis >= 6 without AUTH; Redis 6 ACL after a bad AUTH; Redis < 6 with requirepass; Redis 2.x/3.x text.
    assert.equal(classifyRedisError('NOAUTH Authentication required.'), 'auth');
    assert.equal(classifyRedisError('WRONGPASS invalid username-password pair or user is disabled.'), 'auth');
    assert.equal(classifyRedisError('ERR operation not permitted'), 'auth');
    assert.equal(classifyRedisError('ERR NOAUTH Authentication required.'), 'auth');
    assert.equal(classifyRedisError('DENIED Redis is running in protected mode because protected mode is enabled'), 'protected-mode');
    assert.equal(classifyRedisError("ERR unknown command 'INFO', with args beginning with: "), 'unknown-command');
    assert.equal(classifyRedisError("ERR unknown command `INFO`, with args beginning with: "), 'unknown-command');
    assert.equal(classifyRedisError('LOADING Redis is loading the dataset in memory'), 'other');
    assert.equal(classifyRedisError("NOPERM this user has no permissions to run the 'info' command"), 'other');
  });
});

describe('redis product detection (documented INFO of forks not installed here)', () => {
  it('names Valkey, Dragonfly and KeyDB from their own INFO fields, else Redis', () => {
    // From valkey-doc commands/info.md.
    const valkey = parseInfo('# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\nserver_mode:standalone\r\n');
    assert.deepEqual(productFromInfo(valkey), { product: 'Valkey', version: '8.0.1' });
    const dragonfly = parseInfo('# Server\r\nredis_version:7.4.0\r\ndragonfly_version:df-v1.21.2\r\nredis_mode:standalone\r\n');
    assert.deepEqual(productFromInfo(dragonfly), { product: 'Dragonfly', version: 'df-v1.21.2' });
    const keydb = parseInfo('# Server\r\nredis_version:6.3.4\r\nexecutable:/usr/bin/keydb-server\r\n');
    assert.deepEqual(productFromInfo(keydb), { product: 'KeyDB', version: '6.3.4' });
    assert.deepEqual(productFromInfo(parseInfo('# Server\r\nredis_version:7.0.15\r\n')), { product: 'Redis', version: '7.0.15' });
  });
});

describe('redis probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => redisProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /deadline of 500 ms/);
    assert.ok(ms >= 450 && ms < 3900, `took ${ms} ms`);
  });

  it('garbage peer: protocol-error naming the bad byte', async () => {
    peer = await garbagePeer(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), { afterRequest: true });
    const { result, ms } = await timed(() => redisProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /Not a RESP reply: first byte 0x48/);
    assert.ok(ms < 4000, `took ${ms} ms`);
  });

  it('100 MB flood of non-RESP bytes: protocol-error at once', async () => {
    peer = await floodPeer();
    const { result, ms } = await timed(() => redisProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.match(result.errors[0] ?? '', /first byte 0x41/);
    assert.ok(result.bytesRead <= 1024 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood inside one RESP line: read-limit at the read cap', async () => {
    // '+' starts a simple string; with a cap below the 64 KiB line bound, the cap must end it.
    peer = await floodPeer(100 * 1024 * 1024, 0x2b, { afterRequest: true });
    const { result, ms } = await timed(() =>
      redisProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ readCap: 16 * 1024 })),
    );
    await peer.close();
    assert.equal(result.status, 'read-limit');
    assert.match(result.errors[0] ?? '', /read cap of 16384 bytes/);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood behind a legal 512 MB bulk header: read-limit at the default cap, bounded memory', async () => {
    peer = await floodPeer(100 * 1024 * 1024, 0x61, { afterRequest: true, prefix: '$536870000\r\n' });
    const { result, ms, grew } = await timedWithMemory(() => redisProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'read-limit');
    assert.equal(result.auth, 'inconclusive');
    assert.ok(result.bytesRead <= 1024 * 1024 + 256 * 1024, `read ${result.bytesRead} bytes`);
    assertMemoryBounded(grew);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('closed port: connection-refused, no verdict', async () => {
    const r = await probeClosedPort(redisProbe);
    assert.deepEqual(r.commands, []);
  });
});

describe('redis value sampling (ctx.sample, inside the authorized scope) on the real server', () => {
  // Twelve synthetic people; which of them sit where is the layout below.
  const people = syntheticPeople(12, 11);
  const json = (i: number): string => JSON.stringify(people[i]);
  const SAMPLE = { perCollection: 50, maxBytes: 1_000_000, maxCollections: 10 };
  const BIG = 300 * 1024;

  before(async () => {
    await requireServer(OPEN, PORT, 'redis-open');
    cli(OPEN, PORT, 'FLUSHALL');
    // db0: three people as JSON strings, two as hashes, a chat list, a raw JPEG, a string too big to read, a set.
    for (const i of [0, 1, 2]) cli(OPEN, PORT, 'SET', `person:${i}`, json(i));
    for (const i of [3, 4]) {
      const p = people[i]!;
      cli(OPEN, PORT, 'HSET', `profile:${i}`, 'name', p.name, 'id_card', p.id_card, 'phone', p.phone, 'email', p.email,
        'location', `${p.location.lat},${p.location.lng}`, 'avatar', p.avatar, 'chat_message', p.chat_message);
    }
    cli(OPEN, PORT, 'RPUSH', 'room:42:chat', people[5]!.chat_message, people[6]!.chat_message, people[7]!.chat_message);
    execFileSync('redis-cli', ['-h', OPEN, '-p', String(PORT), '-x', 'SET', 'avatar:raw:8'], { input: Buffer.from(people[8]!.avatar, 'base64') });
    execFileSync('redis-cli', ['-h', OPEN, '-p', String(PORT), '-x', 'SET', 'blob:big'], { input: `${'x'.repeat(BIG)} ${people[9]!.email}` });
    cli(OPEN, PORT, 'SADD', 'tags:9', people[9]!.phone);
    // db2: two more people.
    for (const i of [10, 11]) cli(OPEN, PORT, '-n', '2', 'SET', `person:${i}`, json(i));
    assert.equal(cli(OPEN, PORT, 'STRLEN', 'avatar:raw:8').trim(), String(Buffer.from(people[8]!.avatar, 'base64').length), 'raw bytes stored as sent');
  });

  after(() => {
    cli(OPEN, PORT, 'FLUSHALL');
  });

  it('with ctx.sample: every category found with the seeded counts, no clear value anywhere in the result', async () => {
    const proxy = await recordingProxy(OPEN, PORT);
    let r: ProbeResult;
    try {
      r = await redisProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx({ authorized: true, sample: SAMPLE }));
    } finally {
      await proxy.close();
    }
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.deepEqual(r.errors, []);
    assert.equal(r.auth, 'open');
    const cats = r.sample?.categories as Record<string, { count: number; fields: { path: string; count: number }[]; example: string }>;
    assert.ok(cats, 'a sample was taken');
    // db0: person:0-2 (JSON), profile:3-4 (hashes), room:42:chat (3 messages), avatar:raw:8 (raw JPEG); db2: person:10-11.
    assert.deepEqual(
      Object.fromEntries(Object.entries(cats).map(([c, v]) => [c, v.count])),
      { national_id: 7, phone: 7, email: 7, location: 7, photo: 8, communication: 10 },
    );
    assert.equal(r.sample?.documents, 9, 'nine keys read: blob:big too large, the set skipped');
    assert.deepEqual(cats.photo!.fields.map((f) => f.path).sort(), ['avatar:raw:{n}', 'person:{n}.avatar', 'profile:{n}.avatar']);
    assert.deepEqual(cats.communication!.fields.find((f) => f.path === 'room:{n}:chat[]'), { path: 'room:{n}:chat[]', count: 3 });
    const text = JSON.stringify(r);
    for (const v of clearValues(people)) assert.ok(!text.includes(v), `the result holds a clear value: ${v}`);
    // Inventory is there as without sampling.
    assert.deepEqual(r.inventory?.namespaces, [
      { path: ['db0'], kind: 'database', records: 9 },
      { path: ['db2'], kind: 'database', records: 2 },
    ]);
    assert.equal(r.inventory?.records, 11);
    assert.equal((r.metadata.sampling as { collections: number }).collections, 2);

    // What went on the wire: allow-listed only, SCAN never KEYS, no GET of the 300 KB string, SELECT 2 for db2.
    const sent = assertAllowListed(r, proxy.clientBytes());
    assert.ok(!sent.some((c) => c[0] === 'KEYS'));
    assert.ok(sent.some((c) => c[0] === 'SCAN'));
    assert.deepEqual(sent.filter((c) => c[0] === 'SELECT'), [['SELECT', '2']]);
    assert.deepEqual(sent.filter((c) => c[0] === 'STRLEN' && c[1] === 'blob:big').length, 1, 'sized');
    assert.ok(!sent.some((c) => c[0] === 'GET' && c[1] === 'blob:big'), 'never read');
    assert.ok(!sent.some((c) => c[1] === 'tags:9' && c[0] !== 'TYPE'), 'the set is only typed');
    assert.deepEqual(sent.filter((c) => c[0] === 'HSCAN').map((c) => c[1]).sort(), ['profile:3', 'profile:4']);
    assert.deepEqual(sent.filter((c) => c[0] === 'LRANGE'), [['LRANGE', 'room:42:chat', '0', '49']]);
    assert.ok(r.bytesRead < BIG, `read ${r.bytesRead} bytes: the big value stayed on the server`);
  });

  it('without ctx.sample: no sampling command on the wire, no sample, inventory still there', async () => {
    const proxy = await recordingProxy(OPEN, PORT);
    try {
      const r = await redisProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx({ authorized: true }));
      assert.equal(r.auth, 'open');
      assert.equal(r.sample, undefined);
      assert.equal(r.metadata.sampling, undefined);
      assert.deepEqual(assertAllowListed(r, proxy.clientBytes()), [['CLIENT', 'SETNAME', 'lockdown-test'], ['INFO']]);
      assert.deepEqual(r.inventory?.namespaces.map((n) => n.path), [['db0'], ['db2']]);
      const text = JSON.stringify(r);
      for (const v of clearValues(people)) assert.ok(!text.includes(v), v);
    } finally {
      await proxy.close();
    }
  });

  it('INFO renamed away: database 0 is sampled without SELECT (the keyspace is unknown)', async () => {
    cli(AUTH, NOINFO_PORT, 'SET', 'person:noinfo', json(9));
    try {
      const r = await redisProbe.probe({ host: AUTH, port: NOINFO_PORT }, probeCtx({ authorized: true, sample: SAMPLE }));
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.equal(r.auth, 'open');
      assert.deepEqual(r.commands.slice(0, 4), [REDIS_COMMANDS.clientSetName, REDIS_COMMANDS.info, REDIS_COMMANDS.ping, 'SCAN']);
      assert.ok(!r.commands.includes('SELECT'));
      assert.equal(r.sample?.documents, 1);
      assert.equal((r.sample?.categories as Record<string, { count: number }>).national_id?.count, 1);
      assert.equal(r.inventory, undefined, 'no keyspace known, no inventory claimed');
      const text = JSON.stringify(r);
      for (const v of clearValues(people)) assert.ok(!text.includes(v), v);
    } finally {
      cli(AUTH, NOINFO_PORT, 'DEL', 'person:noinfo');
    }
  });

  it('password set, ctx.sample given: nothing but the name and INFO is sent, no sample', async () => {
    const proxy = await recordingProxy(AUTH, PORT);
    try {
      const r = await redisProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx({ authorized: true, sample: SAMPLE }));
      assert.equal(r.auth, 'auth_required');
      assert.equal(r.sample, undefined);
      assert.deepEqual(assertAllowListed(r, proxy.clientBytes()), [['CLIENT', 'SETNAME', 'lockdown-test'], ['INFO']]);
    } finally {
      await proxy.close();
    }
  });

  it('bounds: perCollection keys per database, maxCollections databases, GETs sized within maxBytes', async () => {
    const proxy = await recordingProxy(OPEN, PORT);
    let r: ProbeResult;
    try {
      r = await redisProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx({ authorized: true, sample: { perCollection: 3, maxBytes: 5000, maxCollections: 1 } }));
    } finally {
      await proxy.close();
    }
    assert.equal(r.status, 'success', r.errors.join('; '));
    const sent = assertAllowListed(r, proxy.clientBytes());
    assert.ok(!sent.some((c) => c[0] === 'SELECT'), 'one database only');
    assert.ok(sent.filter((c) => c[0] === 'TYPE').length <= 3);
    const gets = sent.filter((c) => c[0] === 'GET').map((c) => c[1]!);
    const requested = gets.reduce((sum, k) => sum + Number(cli(OPEN, PORT, 'STRLEN', k).trim()), 0);
    assert.ok(requested <= 5000, `GET asked for ${requested} bytes`);
    assert.ok((r.sample?.documents ?? 0) <= 3);
    const text = JSON.stringify(r);
    for (const v of clearValues(people)) assert.ok(!text.includes(v), v);
  });
});
