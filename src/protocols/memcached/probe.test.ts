/**
 * The memcached probe against real memcached processes (start them with `bash test/servers/memcached.sh start`)
 * and against hostile peers (silent, garbage, flood, hang-up). Nothing here mocks memcached.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ProbeResult } from '../../core/types.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, listen, recordingProxy, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { env, requireServer } from '../../../test/helpers/servers.js';
import { BINARY, decodeUdpFrame } from './codec.js';
import { MEMCACHED_COMMANDS, memcachedProbe } from './probe.js';

const OPEN = env('MEMCACHED_OPEN_HOST');
const AUTH = env('MEMCACHED_AUTH_HOST');
const PORT = Number(env('MEMCACHED_PORT'));
// Same default as test/servers/memcached.sh (not in servers.env).
const SASL_PORT = Number(process.env.MEMCACHED_SASL_PORT ?? 11212);

/** Send raw text to a server and collect the reply until `done` matches (the test's own client, independent of the codec). */
function rawText(host: string, port: number, request: string, done: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`No complete reply from ${host}:${port}: ${got.slice(0, 200)}`));
    }, 3000);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (done.test(got)) {
        clearTimeout(timer);
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.write(request);
  });
}

async function rawStats(host: string, port: number): Promise<Map<string, string>> {
  const text = await rawText(host, port, 'stats\r\n', /\r\nEND\r\n$/);
  return new Map([...text.matchAll(/^STAT (\S+) (.*)\r$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]));
}

function statNum(stats: Map<string, string>, name: string): number {
  const v = stats.get(name);
  assert.ok(v !== undefined, `stats has ${name}`);
  return Number(v);
}

/**
 * Split what the client sent over TCP into command names: text lines (trailing spaces ignored, as the
 * server's tokenizer does) and binary packets (24-byte header + body).
 */
function decodeTcpCommands(bytes: Buffer): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes[pos] === BINARY.requestMagic) {
      assert.ok(bytes.length - pos >= BINARY.headerLength, 'truncated binary request');
      const opcode = bytes[pos + 1];
      const body = bytes.readUInt32BE(pos + 8);
      const name = opcode === BINARY.opVersion ? 'version (binary)' : opcode === BINARY.opStat ? 'stats (binary)' : `binary opcode ${opcode}`;
      assert.equal(body, 0, `${name} carries no key or value`);
      out.push(name);
      pos += BINARY.headerLength + body;
      continue;
    }
    const nl = bytes.indexOf(0x0a, pos);
    assert.ok(nl !== -1, `unterminated text line: ${bytes.subarray(pos).toString('latin1')}`);
    out.push(bytes.toString('latin1', pos, nl).replace(/\r$/, '').trimEnd());
    pos = nl + 1;
  }
  return out;
}

/** A UDP relay on 127.0.0.1:`port` that records every datagram and forwards it (and the replies) to a real server. */
async function udpRecordingRelay(port: number, upstreamHost: string, upstreamPort: number): Promise<{ datagrams: Buffer[]; close: () => void }> {
  const datagrams: Buffer[] = [];
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  let client: dgram.RemoteInfo | undefined;
  front.on('message', (msg, rinfo) => {
    datagrams.push(Buffer.from(msg));
    client = rinfo;
    back.send(msg, upstreamPort, upstreamHost);
  });
  back.on('message', (msg) => {
    if (client) front.send(msg, client.port, client.address);
  });
  back.on('error', () => undefined);
  await new Promise<void>((resolve) => front.bind(port, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', resolve));
  return {
    datagrams,
    close: () => {
      front.close();
      back.close();
    },
  };
}

function assertAllowListed(result: ProbeResult, tcp: Buffer, udp: Buffer[] | undefined): void {
  const allowed = new Set(memcachedProbe.allowedCommands);
  const tcpCommands = decodeTcpCommands(tcp);
  for (const c of tcpCommands) assert.ok(allowed.has(c), `sent ${JSON.stringify(c)} over TCP, not on the allow-list`);
  const udpCommands = (udp ?? []).map((d) => {
    const line = decodeUdpFrame(d).payload.toString('latin1');
    assert.equal(line, 'stats\r\n', 'the UDP datagram carries exactly one stats command');
    return MEMCACHED_COMMANDS.statsUdp;
  });
  for (const c of result.commands) assert.ok(allowed.has(c), `result.commands has ${c}`);
  const expected = udp ? [...tcpCommands, ...udpCommands] : tcpCommands;
  const recorded = udp ? result.commands : result.commands.filter((c) => c !== MEMCACHED_COMMANDS.statsUdp);
  assert.deepEqual(recorded, expected, 'what went on the wire is what the result says');
}

/** A hostile peer that answers with valid-looking `STAT` lines (8 KiB each) forever: up to `total` bytes. */
function statsFloodPeer(total: number): Promise<FakePeer> {
  const line = Buffer.from(`STAT x ${'v'.repeat(8000)}\r\n`, 'latin1');
  return floodPeer(total, 0, { afterRequest: true, chunk: Buffer.concat(Array.from({ length: 8 }, () => line)) });
}

/** A peer that hangs up as soon as the client sends anything. */
function hangUpPeer(): Promise<FakePeer> {
  return listen((s) => s.once('data', () => s.destroy()));
}

describe('memcached probe on real servers', () => {
  before(async () => {
    await requireServer(OPEN, PORT, 'memcached-open');
    await requireServer(AUTH, PORT, 'memcached-auth');
    await requireServer(AUTH, SASL_PORT, 'memcached-sasl');
  });

  it('open server: verdict open, stats exactly as seeded, UDP exposed', async () => {
    // flush_all does not lower curr_items (it only invalidates lazily), so the test measures deltas instead:
    // N fresh keys without expiry, and no flushed items the LRU crawler could reclaim in between.
    const N = 7;
    const beforeStats = await rawStats(OPEN, PORT);
    const tag = `lockdown:${process.pid}:${Date.now()}`;
    let request = '';
    for (let i = 0; i < N; i++) request += `set ${tag}:${i} 0 0 5\r\nvalue\r\n`;
    const stored = await rawText(OPEN, PORT, request, new RegExp(`^(STORED\\r\\n){${N}}$`));
    assert.equal(stored, 'STORED\r\n'.repeat(N));

    const r = await memcachedProbe.probe({ host: OPEN, port: PORT }, probeCtx());
    const afterStats = await rawStats(OPEN, PORT);

    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'Memcached');
    assert.equal(r.version, afterStats.get('version'));
    assert.equal(statNum(afterStats, 'curr_items'), statNum(beforeStats, 'curr_items') + N);
    assert.equal(r.metadata.currItems, statNum(afterStats, 'curr_items'));
    assert.equal(r.metadata.totalItems, statNum(beforeStats, 'total_items') + N);
    assert.equal(r.metadata.bytes, statNum(afterStats, 'bytes'));
    // The normalised inventory: the cache as one namespace, items and bytes as stats reports them.
    const items = statNum(afterStats, 'curr_items');
    const bytes = statNum(afterStats, 'bytes');
    assert.deepEqual(r.inventory, { records: items, bytes, namespaces: [{ path: ['cache'], kind: 'bucket', records: items, bytes }] });
    assert.equal(r.metadata.limitMaxbytes, 16 * 1024 * 1024); // -m 16 in memcached.sh
    assert.equal(r.metadata.threads, 2); // -t 2 in memcached.sh
    assert.ok(Number.isInteger(r.metadata.currConnections) && (r.metadata.currConnections as number) >= 1);
    assert.ok(Number.isInteger(r.metadata.uptimeSeconds));
    assert.match(r.evidence ?? '', /^stats answered without credentials\\nSTAT version /);
    assert.deepEqual(r.commands, [MEMCACHED_COMMANDS.version, MEMCACHED_COMMANDS.stats, MEMCACHED_COMMANDS.statsUdp]);

    const udp = r.metadata.udp as Record<string, unknown>;
    assert.equal(udp.exposed, true);
    assert.equal(udp.requestBytes, 8 + 'stats\r\n'.length);
    // memcached splits UDP replies into datagrams of at most 1400 payload bytes; a full stats reply needs two or more.
    assert.ok((udp.responseBytes as number) > 1000 && (udp.responseBytes as number) <= 1400 + 8, `responseBytes ${String(udp.responseBytes)}`);
    assert.ok((udp.datagrams as number) >= 2);
    assert.equal(udp.amplificationFactor, Math.round(((udp.responseBytes as number) / 15) * 10) / 10);
    assert.ok((udp.amplificationFactor as number) > 50);
    assert.match(String(udp.replyStart), /^STAT pid /);
    assert.deepEqual(r.errors, []);
  });

  it('ASCII auth (-Y): auth_required with the CLIENT_ERROR line, UDP not exposed', async () => {
    const r = await memcachedProbe.probe({ host: AUTH, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'Memcached');
    assert.equal(r.evidence, 'CLIENT_ERROR unauthenticated');
    assert.equal(r.metadata.authMode, 'ascii');
    assert.equal(r.metadata.currItems, undefined);
    assert.deepEqual(r.metadata.udp, { exposed: false });
    assert.deepEqual(r.commands, [MEMCACHED_COMMANDS.version, MEMCACHED_COMMANDS.statsUdp]);
  });

  it('SASL (-S, binary only): auth_required from the binary stats refusal, version still read', async () => {
    const openVersion = (await rawStats(OPEN, PORT)).get('version');
    const { result: r, ms } = await timed(() => memcachedProbe.probe({ host: AUTH, port: SASL_PORT }, probeCtx()));
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.metadata.authMode, 'sasl');
    assert.equal(r.metadata.textProtocol, false);
    assert.equal(r.version, openVersion); // same Debian binary
    assert.equal(r.evidence, 'Text command closed the connection; binary stats: status 0x0020 Auth failure.');
    assert.deepEqual(r.metadata.udp, { exposed: false });
    assert.deepEqual(r.commands, [
      MEMCACHED_COMMANDS.version,
      MEMCACHED_COMMANDS.versionBinary,
      MEMCACHED_COMMANDS.statsBinary,
      MEMCACHED_COMMANDS.statsUdp,
    ]);
    // The padded text command makes the binary-only server hang up at once instead of waiting for more bytes.
    assert.ok(ms < 4500, `took ${ms} ms`);
  });

  it('allow-list: every TCP byte and UDP datagram sent decodes to allow-listed commands', async () => {
    // Open server, with the UDP side relayed too (same port number as the TCP proxy, on 127.0.0.1).
    const proxy = await recordingProxy(OPEN, PORT);
    const relay = await udpRecordingRelay(proxy.port, OPEN, PORT);
    try {
      const r = await memcachedProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx());
      assert.equal(r.auth, 'open');
      assert.equal((r.metadata.udp as { exposed: boolean }).exposed, true);
      assert.equal(relay.datagrams.length, 1);
      assertAllowListed(r, proxy.clientBytes(), relay.datagrams);
      assert.deepEqual(decodeTcpCommands(proxy.clientBytes()), ['version', 'stats']);
    } finally {
      relay.close();
      await proxy.close();
    }
    for (const [port, expected] of [
      [PORT, ['version']],
      [SASL_PORT, ['version', 'version (binary)', 'stats (binary)']],
    ] as const) {
      const p = await recordingProxy(AUTH, port);
      try {
        const r = await memcachedProbe.probe({ host: '127.0.0.1', port: p.port }, probeCtx());
        assert.equal(r.auth, 'auth_required');
        assertAllowListed(r, p.clientBytes(), undefined);
        assert.deepEqual(decodeTcpCommands(p.clientBytes()), expected);
      } finally {
        await p.close();
      }
    }
  });
});

describe('memcached probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => memcachedProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /deadline of 500 ms/);
    assert.ok(ms >= 450 && ms < 3900, `took ${ms} ms`);
  });

  it('garbage peer: protocol-error naming what came back', async () => {
    peer = await garbagePeer(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), { afterRequest: true });
    const { result, ms } = await timed(() => memcachedProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /Not a memcached reply: "HTTP\/1.1 400 "/);
    assert.ok(!result.commands.includes(MEMCACHED_COMMANDS.statsUdp), 'no UDP check for something that is not memcached');
    assert.ok(ms < 4000, `took ${ms} ms`);
  });

  it('peer that hangs up on any byte: connection-closed after the binary retry, inconclusive', async () => {
    peer = await hangUpPeer();
    const r = await memcachedProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx());
    await peer.close();
    assert.equal(r.status, 'connection-closed');
    assert.equal(r.auth, 'inconclusive');
    assert.deepEqual(r.commands, [MEMCACHED_COMMANDS.version, MEMCACHED_COMMANDS.versionBinary]);
  });

  it('100 MB flood of non-memcached bytes: protocol-error at once', async () => {
    peer = await floodPeer();
    const { result, ms } = await timed(() => memcachedProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.ok(result.bytesRead <= 1024 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood of valid-looking STAT lines: read-limit at the default cap, bounded memory', async () => {
    peer = await statsFloodPeer(100 * 1024 * 1024);
    const { result, ms, grew } = await timedWithMemory(() => memcachedProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'read-limit');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /read cap of 1048576 bytes/);
    assert.ok(result.bytesRead <= 1024 * 1024 + 256 * 1024, `read ${result.bytesRead} bytes`);
    assertMemoryBounded(grew);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('closed port: connection-refused, no verdict', async () => {
    const r = await probeClosedPort(memcachedProbe);
    assert.deepEqual(r.commands, []);
  });
});
