/**
 * The ZooKeeper probe against real ZooKeeper 3.8 servers (start them with `bash test/servers/zookeeper.sh start`):
 * an open one with every four-letter word allowed, one with `enforce.auth.enabled`, one with a digest ACL on
 * the root — and against hostile peers (silent, garbage, floods). The test seeds znodes with the package's
 * own zkCli.sh; the probe only sends four-letter words and a read-only session (connect, getChildren2,
 * exists, closeSession).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ProbeResult } from '../../core/types.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, recordingProxy, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { requireServer, servers } from '../../../test/helpers/servers.js';
import { FOUR_LETTER_WORDS, ZK_OPCODES, decodeClientRequest, decodeConnectRequest, decodeFrame, parseMntr, parseSrvr } from './codec.js';
import { ZK_COMMANDS, zookeeperProbe } from './probe.js';

/** servers.env values, with the defaults of test/servers/zookeeper.sh until they are listed there. */
const envOr = (key: string, fallback: string): string => process.env[key] ?? servers[key] ?? fallback;
const OPEN = envOr('ZOOKEEPER_OPEN_HOST', '127.0.21.1');
const AUTH = envOr('ZOOKEEPER_AUTH_HOST', '127.0.21.2');
const ACL = envOr('ZOOKEEPER_ACL_HOST', '127.0.21.3');
const OBSERVER = envOr('ZOOKEEPER_OBSERVER_HOST', '127.0.21.4');
const PORT = Number(envOr('ZOOKEEPER_PORT', '2181'));
const ACL_USER = envOr('ZOOKEEPER_ACL_USER', 'lockdown');
const ACL_PASSWORD = envOr('ZOOKEEPER_ACL_PASSWORD', 'lockdown-zk-pw');
const SERVERS_DIR = envOr('LOCKDOWN_SERVERS_DIR', path.join(process.env.TMPDIR ?? '/tmp', 'lockdown-servers'));
const ZKCLI = process.env.ZOOKEEPER_CLI ?? '/usr/share/zookeeper/bin/zkCli.sh';

/** The package's zkCli.sh, commands on stdin (one JVM for all of them); its stdout and stderr without the log noise. */
function zkCli(host: string, commands: string[]): string {
  // zkCli exits non-zero after a refused command and prints the refusal on stderr; both are the answer.
  const run = spawnSync(ZKCLI, ['-server', `${host}:${PORT}`], { input: [...commands, 'quit'].join('\n') + '\n', encoding: 'utf8' });
  return `${run.stdout}\n${run.stderr}`
    .split('\n')
    .filter((l) => !/^(SLF4J|WATCHER::|WatchedEvent|Connecting to|Welcome to|JLine support|\s*$)/.test(l))
    .join('\n');
}

/** zkCli's `ls` line `[a, b]` as a list. */
function lsNames(out: string): string[] {
  const line = out.split('\n').find((l) => l.startsWith('['));
  assert.ok(line, `zkCli ls printed a list: ${out}`);
  return line.slice(1, -1).split(', ').filter((n) => n !== '');
}

/** The test's own four-letter word (not the product's). */
function fourLetter(host: string, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(PORT, host, () => s.write(word));
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    s.on('error', reject);
  });
}

async function mntr(host: string): Promise<Map<string, string>> {
  return parseMntr(await fourLetter(host, 'mntr'));
}

interface WireView {
  words: string[];
  connect?: ReturnType<typeof decodeConnectRequest>;
  requests: ReturnType<typeof decodeClientRequest>[];
}

/**
 * Decode every byte the probe sent over all its connections (the proxy records them in order): four-letter
 * words first, each alone on its connection, then the session's length-prefixed Jute frames.
 */
function decodeWire(bytes: Buffer): WireView {
  const view: WireView = { words: [], requests: [] };
  let rest = bytes;
  while (rest.length >= 4 && (FOUR_LETTER_WORDS as readonly string[]).includes(rest.toString('latin1', 0, 4))) {
    view.words.push(rest.toString('latin1', 0, 4));
    rest = rest.subarray(4);
  }
  let first = true;
  while (rest.length > 0) {
    const f = decodeFrame(rest);
    assert.ok(f, `incomplete frame on the wire: ${rest.toString('hex')}`);
    if (first) view.connect = decodeConnectRequest(f.value);
    else view.requests.push(decodeClientRequest(f.value));
    first = false;
    rest = rest.subarray(f.consumed);
  }
  return view;
}

/** The allow-list name of a decoded request. */
function commandOf(req: ReturnType<typeof decodeClientRequest>): string {
  if (req.type === ZK_OPCODES.getChildren2 && req.path === '/') return ZK_COMMANDS.getChildren;
  if (req.type === ZK_OPCODES.exists && /^\/[^/]+$/.test(req.path ?? '')) return ZK_COMMANDS.exists;
  if (req.type === ZK_OPCODES.closeSession && req.path === undefined) return ZK_COMMANDS.closeSession;
  return `unexpected type ${req.type} ${req.path ?? ''}`;
}

async function probeThroughProxy(host: string): Promise<{ r: ProbeResult; wire: WireView; sent: number }> {
  const proxy = await recordingProxy(host, PORT);
  try {
    const r = await zookeeperProbe.probe({ host: '127.0.0.1', port: proxy.port }, probeCtx());
    // The proxy may still be relaying the last bytes when the probe returns.
    await new Promise((res) => setTimeout(res, 50));
    return { r, wire: decodeWire(proxy.clientBytes()), sent: proxy.clientBytes().length };
  } finally {
    await proxy.close();
  }
}

const ALL_WORDS = FOUR_LETTER_WORDS.map((w) => ZK_COMMANDS[w]);

describe('zookeeper probe on real ZooKeeper 3.8', () => {
  let rootNames: string[] = [];

  before(async () => {
    await requireServer(OPEN, PORT, 'zk-open');
    await requireServer(AUTH, PORT, 'zk-auth');
    await requireServer(ACL, PORT, 'zk-acl');
    const out = zkCli(OPEN, [
      'deleteall /lockdown_seed',
      'create /lockdown_seed',
      'create /lockdown_seed/customers',
      'create /lockdown_seed/orders',
      'create /lockdown_seed/config some-bytes',
      'ls /',
    ]);
    rootNames = lsNames(out);
    assert.ok(rootNames.includes('lockdown_seed') && rootNames.includes('zookeeper'), out);
    assert.deepEqual(lsNames(zkCli(OPEN, ['ls /lockdown_seed'])), ['config', 'customers', 'orders']);
  });

  it('open server: open, root children and counts as seeded, every four-letter word, the ensemble peer', async () => {
    const srvr = parseSrvr(await fourLetter(OPEN, 'srvr'));
    const before = await mntr(OPEN);
    const r = await zookeeperProbe.probe({ host: OPEN, port: PORT }, probeCtx());
    const afterStats = await mntr(OPEN);
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'ZooKeeper');
    assert.equal(r.version, srvr.version);
    assert.equal(r.metadata.build, srvr.build);
    assert.equal(r.metadata.mode, 'leader');
    assert.equal(r.metadata.nodeCount, srvr.nodeCount);
    assert.deepEqual(r.metadata.fourLetterWords, { srvr: 'answered', stat: 'answered', mntr: 'answered', envi: 'answered', conf: 'answered' });
    // The root as zkCli lists it (zkCli sorts; the server's order may differ), with its Stat's own count.
    assert.deepEqual([...(r.metadata.rootChildren as string[])].sort(), rootNames);
    assert.equal(r.metadata.rootChildCount, rootNames.length);
    const seed = (r.metadata.rootZnodes as { name: string }[]).find((z) => z.name === 'lockdown_seed');
    assert.deepEqual(seed, { name: 'lockdown_seed', numChildren: 3, dataLength: 0, ephemeral: false });
    assert.deepEqual(
      r.inventory?.namespaces.find((n) => n.path[0] === 'lockdown_seed'),
      { path: ['lockdown_seed'], kind: 'znode', records: 3, bytes: 0 },
    );
    assert.equal(r.inventory?.records, srvr.nodeCount);
    assert.match(r.evidence ?? '', new RegExp(`^getChildren / answered without credentials: ${rootNames.length} children: .*lockdown_seed`));
    // mntr, envi, conf as the server reported them.
    assert.equal((r.metadata.monitor as Record<string, unknown>).zk_server_state, 'leader');
    assert.equal((r.metadata.monitor as Record<string, unknown>).zk_znode_count, srvr.nodeCount);
    assert.equal((r.metadata.environment as Record<string, string>)['user.name'], 'lockdown-test');
    assert.equal((r.metadata.config as Record<string, string>).dataDir, path.join(SERVERS_DIR, 'zk-open', 'data', 'version-2'));
    assert.equal((r.metadata.config as Record<string, string>).serverId, '1');
    assert.equal((r.metadata.ensemble as unknown[]).length, 2);
    assert.deepEqual(r.peers, [{ host: OBSERVER, port: PORT, role: 'observer', source: 'conf: server.2' }]);
    assert.ok((r.metadata.clientCount as number) >= 1, 'stat listed at least the probe itself');
    assert.equal(r.metadata.sessionTimeoutMs, 4000);
    assert.deepEqual(r.commands, [
      ...ALL_WORDS,
      ZK_COMMANDS.connect,
      ZK_COMMANDS.getChildren,
      ...rootNames.map(() => ZK_COMMANDS.exists),
      ZK_COMMANDS.closeSession,
    ]);
    assert.deepEqual(r.errors, []);
    // The server's own counters: the session was closed (not left to expire), nothing was written.
    assert.equal(Number(afterStats.get('zk_cnt_close_session_prep_time')) - Number(before.get('zk_cnt_close_session_prep_time')), 1);
    assert.equal(afterStats.get('zk_global_sessions'), '0');
    // Transactions: only the session's own createSession and closeSession; reads: getChildren2 and each exists.
    const delta = (key: string): number => Number(afterStats.get(key)) - Number(before.get(key));
    assert.equal(delta('zk_cnt_updatelatency'), 2, 'no transaction besides opening and closing the session');
    assert.equal(delta('zk_cnt_readlatency'), 1 + rootNames.length);
    assert.equal(afterStats.get('zk_znode_count'), before.get('zk_znode_count'));
  });

  it('enforce.auth.enabled and the default whitelist: auth_required from the server\'s -124 close; only srvr answers', async () => {
    const r = await zookeeperProbe.probe({ host: AUTH, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'ZooKeeper');
    assert.equal(r.evidence, 'getChildren /: SessionClosedRequireSaslAuth (-124); the server closed the session');
    assert.equal(r.metadata.enforcedAuth, true);
    assert.deepEqual(r.metadata.fourLetterWords, {
      srvr: 'answered',
      stat: 'not-whitelisted',
      mntr: 'not-whitelisted',
      envi: 'not-whitelisted',
      conf: 'not-whitelisted',
    });
    assert.equal(r.metadata.mode, 'standalone');
    assert.equal(r.metadata.rootChildren, undefined);
    assert.deepEqual(r.peers, []);
    // The server closed the session itself: no closeSession after the refusal.
    assert.deepEqual(r.commands, [...ALL_WORDS, ZK_COMMANDS.connect, ZK_COMMANDS.getChildren]);
    assert.deepEqual(r.errors, []);
  });

  it('digest ACL on the root: auth_required with NoAuth (-102), session closed; the owner can list it', async () => {
    const r = await zookeeperProbe.probe({ host: ACL, port: PORT }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.evidence, 'getChildren /: NoAuth (-102)');
    assert.equal(r.metadata.rootAcl, 'restricted');
    assert.equal(r.metadata.fourLetterWords && (r.metadata.fourLetterWords as Record<string, string>).srvr, 'answered');
    assert.deepEqual(r.commands, [...ALL_WORDS, ZK_COMMANDS.connect, ZK_COMMANDS.getChildren, ZK_COMMANDS.closeSession]);
    assert.deepEqual(r.errors, []);
    // The refusal is about credentials: after addauth the same root lists.
    assert.match(zkCli(ACL, ['ls /']), /Insufficient permission : \//);
    assert.ok(lsNames(zkCli(ACL, [`addauth digest ${ACL_USER}:${ACL_PASSWORD}`, 'ls /'])).includes('lockdown_private'));
  });

  it('allow-list: every byte sent decodes to allow-listed four-letter words and read-only requests', async () => {
    for (const host of [OPEN, AUTH, ACL]) {
      const { r, wire, sent } = await probeThroughProxy(host);
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.equal(sent, r.bytesSent, 'what went on the wire is what the result counted');
      assert.deepEqual(wire.words, [...FOUR_LETTER_WORDS]);
      assert.deepEqual(wire.connect, { protocolVersion: 0, timeOut: 4000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: true });
      const names = [...wire.words.map((w) => `4lw:${w}`), ZK_COMMANDS.connect, ...wire.requests.map(commandOf)];
      for (const n of names) assert.ok(zookeeperProbe.allowedCommands.includes(n), `${n} is not on the allow-list`);
      assert.deepEqual(names, r.commands);
      for (const req of wire.requests) assert.notEqual(req.watch, true, 'no watch is ever set');
      const children = (r.metadata.rootChildren as string[] | undefined) ?? [];
      for (const req of wire.requests.filter((q) => q.type === ZK_OPCODES.exists)) assert.ok(children.includes(req.path!.slice(1)), req.path);
    }
  });
});

/** A peer that answers `srvr` like ZooKeeper, then meets the session with `sessionReply`. */
async function halfZooKeeper(sessionReply: Buffer): Promise<FakePeer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => {
      const word = d.toString('latin1', 0, 4);
      if (word === 'srvr') s.end('Zookeeper version: 3.9.2-e454e8c7283100c7caec6dcae2bc82aaecb63023, built on 2024-02-12 20:59 UTC\nMode: standalone\nNode count: 4\n');
      else if ((FOUR_LETTER_WORDS as readonly string[]).includes(word)) s.end(`${word} is not executed because it is not in the whitelist.\n`);
      else s.write(sessionReply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('zookeeper probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => zookeeperProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /deadline of 500 ms/);
    assert.deepEqual(result.commands, [ZK_COMMANDS.srvr]);
    assert.ok(ms >= 450 && ms < 3900, `took ${ms} ms`);
  });

  it('garbage peer (an SSH banner): protocol-error at the first bytes', async () => {
    peer = await garbagePeer(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
    const { result, ms } = await timed(() => zookeeperProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /^Not a ZooKeeper reply to srvr: "SSH-2\.0/);
    assert.equal(result.product, undefined);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood of non-ZooKeeper bytes: protocol-error at once', async () => {
    peer = await floodPeer();
    const { result, ms } = await timed(() => zookeeperProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.match(result.errors[0] ?? '', /"AAAA/);
    assert.ok(result.bytesRead <= 1024 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood behind a valid srvr start: read-limit at the read cap, bounded memory', async () => {
    const sockets = new Set<net.Socket>();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('data', () => {
        s.write('Zookeeper version: ');
        let sent = 0;
        const pump = (): void => {
          while (sent < 100 * 1024 * 1024 && !s.destroyed) {
            sent += chunk.length;
            if (!s.write(chunk)) {
              s.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const { result, ms, grew } = await timedWithMemory(() => zookeeperProbe.probe({ host: '127.0.0.1', port }, probeCtx()));
      assert.equal(result.status, 'read-limit');
      assert.equal(result.auth, 'inconclusive');
      assert.match(result.errors[0] ?? '', /read cap of 1048576 bytes/);
      assert.ok(result.bytesRead <= 1024 * 1024 + 256 * 1024, `read ${result.bytesRead} bytes`);
      assertMemoryBounded(grew);
      assert.ok(ms < 5000, `took ${ms} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('ZooKeeper-looking four-letter replies, then a hostile frame length: the session error is kept, verdict inconclusive', async () => {
    peer = await halfZooKeeper(Buffer.from('7fffffff', 'hex'));
    const r = await zookeeperProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx());
    await peer.close();
    assert.equal(r.status, 'success');
    assert.equal(r.auth, 'inconclusive');
    assert.equal(r.product, 'ZooKeeper');
    assert.equal(r.version, '3.9.2');
    assert.match(r.errors.join('; '), /Partial result: Not a ZooKeeper frame: length 2147483647/);
    assert.deepEqual(r.commands, [...ALL_WORDS, ZK_COMMANDS.connect]);
  });

  it('closed port: connection-refused, no verdict', async () => {
    const r = await probeClosedPort(zookeeperProbe);
    assert.deepEqual(r.commands, []);
  });
});
