/**
 * ZooKeeper probe over TCP, in two parts:
 *
 * 1. Four-letter words, each on its own connection (the protocol: four bytes in, text out, server closes):
 *    `srvr` (version, mode, node count — the one word ZooKeeper ≥ 3.5 allows by default), then `stat`
 *    (connected clients), `mntr` (monitoring counters), `envi` (host, JVM, OS user) and `conf` (data dir,
 *    ensemble members), which answer only where `4lw.commands.whitelist` lets them; a refusal ("… is not
 *    executed because it is not in the whitelist.") is recorded per word, not an error.
 * 2. One read-only session: ConnectRequest (new session, readOnly=true) → ConnectResponse; `getChildren2 /`
 *    (the verdict: can an anonymous client list the tree?); when it answered, `exists` on at most
 *    `ZK_LIMITS.statChildren` root children (their Stat: child count and data size, never their data);
 *    then `closeSession`, so the session does not linger until it times out.
 * Nothing else is sent (see `ZK_COMMANDS`): no data reads, no watches, no auth packets, no writes.
 *
 * Result fields and their sources:
 * - `auth`: `open` when `getChildren2 /` answered OK without credentials; `auth_required` when it answered
 *   NoAuth (-102: a digest/sasl ACL on the root), AuthFailed (-115: `enforce.auth.enabled`, 3.7+) or
 *   SessionClosedRequireSaslAuth (-124: `sessionRequireClientSASLAuth`, 3.6+); `inconclusive` otherwise
 *   (other errors, a refused session, a server that is not serving).
 * - `evidence`: the getChildren outcome (`getChildren / answered without credentials: 2 children: …` or
 *   `getChildren /: NoAuth (-102)`), else the most telling four-letter reply.
 * - `product`: `ZooKeeper` once a four-letter reply or a ConnectResponse came back in ZooKeeper's format;
 *   `version`: srvr/stat `Zookeeper version` up to the first `-`/`,` (full string in `metadata.build`).
 * - `metadata`: `fourLetterWords` (per word: answered / not-whitelisted / not-serving / empty); from srvr:
 *   `build`, `mode`, `nodeCount`, `zxid`, `connections`, `outstanding`; from stat: `clients`, `clientCount`;
 *   from mntr: `monitor` (selected counters as numbers, `zk_server_state`); from envi: `environment`
 *   (host, JVM, OS and user); from conf: `config` (selected settings) and `ensemble` (every `server.N`);
 *   from the session: `sessionTimeoutMs`, `readOnlySession`, `rootChildCount` (root Stat numChildren),
 *   `rootChildren` (names, bounded), `rootZnodes` (per child: numChildren, dataLength, ephemeral),
 *   `enforcedAuth` (-115/-124 seen).
 * - `inventory`: `records` = srvr/mntr node count; each root child as a `znode` entry with its child count
 *   as `records` and data size as `bytes`.
 * - `peers`: each `conf` `server.N` line other than this server's own `serverId`, role `participant` or
 *   `observer`, at its client address when the line names one (else its quorum host, no port).
 */
import { ConnectionClosedError, ProtocolError, errorMessage } from '../../core/errors.js';
import { AuthVerdict, type Inventory, type Peer, type Probe, type ProbeResult } from '../../core/types.js';
import { printable, runProbe, type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import {
  FOUR_LETTER_WORDS,
  NOTIFICATION_XID,
  PING_XID,
  ZK_AUTH_FAILED,
  ZK_NO_AUTH,
  ZK_SESSION_REQUIRES_SASL,
  checkFourLetterStart,
  classifyFourLetterReply,
  decodeConnectResponse,
  decodeFrame,
  decodeGetChildren2Response,
  decodeReply,
  decodeStat,
  encodeCloseSession,
  encodeConnectRequest,
  encodeExists,
  encodeFourLetterWord,
  encodeGetChildren2,
  errorName,
  isZnodeName,
  parseConfMembers,
  parseKeyValues,
  parseMntr,
  parseSrvr,
  parseStatClients,
  type FourLetterOutcome,
  type FourLetterWord,
  type ReplyHeader,
} from './codec.js';

/** The allow-list: every command this module may put on the wire. */
export const ZK_COMMANDS = {
  srvr: '4lw:srvr',
  stat: '4lw:stat',
  mntr: '4lw:mntr',
  envi: '4lw:envi',
  conf: '4lw:conf',
  connect: 'connect (read-only)',
  getChildren: 'getChildren /',
  exists: 'exists /{child}',
  closeSession: 'closeSession',
} as const;

export const ZK_LIMITS = {
  /** Root children whose Stat the probe reads with `exists`. */
  statChildren: 20,
  /** Session timeout asked for: ZooKeeper's smallest default (2 × tickTime), so an abandoned session ends soon. */
  sessionTimeoutMs: 4000,
  /** Server-initiated frames (pings, notifications) skipped while waiting for one reply. */
  skippedFrames: 8,
} as const;

/** mntr counters kept in `metadata.monitor`. */
const MNTR_KEPT = [
  'zk_znode_count',
  'zk_ephemerals_count',
  'zk_approximate_data_size',
  'zk_num_alive_connections',
  'zk_watch_count',
  'zk_outstanding_requests',
  'zk_followers',
  'zk_synced_followers',
  'zk_pending_syncs',
  'zk_learners',
  'zk_quorum_size',
  'zk_auth_failed_count',
  'zk_uptime',
  'zk_global_sessions',
  'zk_open_file_descriptor_count',
] as const;
const ENVI_KEPT = ['host.name', 'java.version', 'java.vendor', 'java.home', 'os.name', 'os.arch', 'os.version', 'user.name', 'user.home', 'user.dir'] as const;
const CONF_KEPT = ['clientPort', 'secureClientPort', 'dataDir', 'dataLogDir', 'tickTime', 'maxClientCnxns', 'minSessionTimeout', 'maxSessionTimeout', 'serverId', 'electionPort', 'quorumPort', 'peerType'] as const;

export const zookeeperProbe: Probe = {
  name: 'zookeeper',
  defaultPorts: [2181],
  transport: 'tcp',
  description: 'Apache ZooKeeper: four-letter words and a read-only session listing the root znode without credentials',
  allowedCommands: Object.values(ZK_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(zookeeperProbe, target, ctx, probeZookeeper),
};

async function probeZookeeper(run: ProbeRun): Promise<void> {
  const outcomes: Partial<Record<FourLetterWord, FourLetterOutcome>> = {};
  run.result.metadata.fourLetterWords = outcomes;
  for (const word of FOUR_LETTER_WORDS) {
    let text: string;
    try {
      text = await fourLetter(run, word);
    } catch (err) {
      // The first word decides whether this is ZooKeeper at all; later ones only add detail.
      if (word === 'srvr' || run.aborted) throw err;
      run.result.errors.push(`${word}: ${errorMessage(err)}`);
      continue;
    }
    const outcome = classifyFourLetterReply(word, text);
    outcomes[word] = outcome;
    if (outcome !== 'empty') identify(run);
    if (outcome === 'answered') record(run, word, text);
    if (word === 'srvr' && outcome !== 'answered' && outcome !== 'empty') run.setEvidence(text);
  }
  await session(run);
}

/** A known ZooKeeper reply arrived: name the product, and let a later failure count as a partial result. */
function identify(run: ProbeRun): void {
  run.result.product = 'ZooKeeper';
  run.result.auth ??= AuthVerdict.inconclusive;
}

/** One four-letter word on its own connection: the whole reply up to the server's close. */
async function fourLetter(run: ProbeRun, word: FourLetterWord): Promise<string> {
  const s = await run.connect();
  try {
    s.send(ZK_COMMANDS[word], encodeFourLetterWord(word));
    try {
      // The decoder never completes: it only vets the start of the text while the reply streams in.
      await s.read<never>((buf) => {
        checkFourLetterStart(word, buf);
        return undefined;
      });
    } catch (err) {
      if (!(err instanceof ConnectionClosedError)) throw err;
    }
    return s.peek(Number.MAX_SAFE_INTEGER).toString('utf8');
  } finally {
    s.close();
  }
}

function record(run: ProbeRun, word: FourLetterWord, text: string): void {
  const meta = run.result.metadata;
  switch (word) {
    case 'srvr':
    case 'stat': {
      const info = parseSrvr(text);
      if (info.version !== undefined) run.result.version = info.version;
      meta.build = info.build;
      for (const key of ['mode', 'nodeCount', 'zxid', 'connections', 'outstanding'] as const) {
        if (info[key] !== undefined) meta[key] = info[key];
      }
      if (info.nodeCount !== undefined) inventory(run).records = info.nodeCount;
      if (word === 'stat') {
        const { clients, count } = parseStatClients(text);
        meta.clients = clients;
        meta.clientCount = count;
      }
      return;
    }
    case 'mntr': {
      const m = parseMntr(text);
      const monitor: Record<string, number | string> = {};
      const state = m.get('zk_server_state');
      if (state !== undefined) monitor.zk_server_state = state;
      for (const key of MNTR_KEPT) {
        const v = m.get(key);
        if (v !== undefined && /^-?[0-9]{1,15}$/.test(v)) monitor[key] = Number(v);
      }
      meta.monitor = monitor;
      if (typeof monitor.zk_znode_count === 'number') inventory(run).records = monitor.zk_znode_count;
      return;
    }
    case 'envi':
      meta.environment = pick(parseKeyValues(text), ENVI_KEPT);
      return;
    case 'conf': {
      const conf = parseKeyValues(text);
      meta.config = pick(conf, CONF_KEPT);
      const members = parseConfMembers(conf);
      if (members.length > 0) {
        meta.ensemble = members;
        const self = conf.get('serverId');
        run.result.peers.push(...peersOf(members, self));
      }
      return;
    }
  }
}

function pick(map: Map<string, string>, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = map.get(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function peersOf(members: ReturnType<typeof parseConfMembers>, selfId: string | undefined): Peer[] {
  const peers: Peer[] = [];
  for (const m of members) {
    if (selfId !== undefined && String(m.id) === selfId) continue;
    // A wildcard client address (0.0.0.0, ::) says "every interface": the quorum host is the reachable one.
    const wildcard = m.clientHost === undefined || m.clientHost === '0.0.0.0' || m.clientHost === '::' || m.clientHost === '0:0:0:0:0:0:0:0';
    const peer: Peer = { host: wildcard ? m.host : m.clientHost!, role: m.role, source: `conf: server.${m.id}` };
    if (m.clientPort !== undefined) peer.port = m.clientPort;
    peers.push(peer);
  }
  return peers;
}

function inventory(run: ProbeRun): Inventory {
  return (run.result.inventory ??= { namespaces: [] });
}

/** The read-only session: connect, getChildren2 /, exists on root children, closeSession. */
async function session(run: ProbeRun): Promise<void> {
  const s = await run.connect();
  s.send(ZK_COMMANDS.connect, encodeConnectRequest(ZK_LIMITS.sessionTimeoutMs));
  const connected = decodeConnectResponse(await s.read(decodeFrame));
  identify(run);
  const meta = run.result.metadata;
  if (connected.timeOut === 0) {
    run.result.auth = AuthVerdict.inconclusive;
    run.setEvidence(`connect: the server refused a new session (timeout 0, session ${connected.sessionId})`);
    return;
  }
  meta.sessionTimeoutMs = connected.timeOut;
  if (connected.readOnly !== undefined) meta.readOnlySession = connected.readOnly;

  let xid = 1;
  s.send(ZK_COMMANDS.getChildren, encodeGetChildren2(xid, '/'));
  const { header, body } = await readReply(s, xid, 'getChildren / reply');
  if (header.err !== 0) {
    classifyRefusal(run, header);
    // After -115/-124 the server has already closed the session; otherwise end it ourselves.
    if (header.err !== ZK_AUTH_FAILED && header.err !== ZK_SESSION_REQUIRES_SASL) await closeSession(run, s, ++xid);
    return;
  }
  const children = decodeGetChildren2Response(body);
  run.result.auth = AuthVerdict.open;
  meta.rootChildCount = children.stat.numChildren;
  meta.rootChildren = children.children;
  if (children.count > children.children.length) meta.rootChildrenTruncated = true;
  const shown = children.children.slice(0, 20).map((n) => printable(n, 64));
  run.setEvidence(
    `getChildren / answered without credentials: ${children.count} children` +
      (shown.length > 0 ? `: ${shown.join(', ')}${children.count > shown.length ? ', ...' : ''}` : ''),
  );
  const inv = inventory(run);
  inv.namespaces = children.children.filter(isZnodeName).map((name) => ({ path: [name], kind: 'znode' as const }));
  if (children.count > children.children.length) inv.truncated = true;

  xid = await statChildren(run, s, children.children, xid);
  await closeSession(run, s, xid + 1);
}

/** Pipelined `exists` on the first root children: per child its Stat (child count, data size, ephemeral). */
async function statChildren(run: ProbeRun, s: Session, names: string[], xid: number): Promise<number> {
  const picked = names.filter(isZnodeName).slice(0, ZK_LIMITS.statChildren);
  const sent: { xid: number; name: string }[] = [];
  for (const name of picked) {
    s.send(ZK_COMMANDS.exists, encodeExists(++xid, `/${name}`));
    sent.push({ xid, name });
  }
  const znodes: { name: string; numChildren?: number; dataLength?: number; ephemeral?: boolean; error?: string }[] = [];
  const inv = inventory(run);
  for (const { xid: want, name } of sent) {
    const { header, body } = await readReply(s, want, `exists /${name} reply`);
    if (header.err !== 0) {
      // NoNode: deleted between the two requests.
      znodes.push({ name, error: `${errorName(header.err)} (${header.err})` });
      continue;
    }
    const stat = decodeStat(body);
    znodes.push({ name, numChildren: stat.numChildren, dataLength: stat.dataLength, ephemeral: stat.ephemeralOwner !== '0' });
    const entry = inv.namespaces.find((e) => e.path[0] === name);
    if (entry) {
      entry.records = stat.numChildren;
      entry.bytes = stat.dataLength;
    }
  }
  if (znodes.length > 0) run.result.metadata.rootZnodes = znodes;
  return xid;
}

/** The reply to `xid`, skipping the few ping replies and notifications a server may interleave. */
async function readReply(s: Session, xid: number, what: string): Promise<ReturnType<typeof decodeReply>> {
  for (let i = 0; i <= ZK_LIMITS.skippedFrames; i++) {
    const reply = decodeReply(await s.read(decodeFrame), what);
    if (reply.header.xid === xid) return reply;
    if (reply.header.xid !== NOTIFICATION_XID && reply.header.xid !== PING_XID) {
      throw new ProtocolError(`${what}: xid ${reply.header.xid}, expected ${xid}`);
    }
  }
  throw new ProtocolError(`${what}: more than ${ZK_LIMITS.skippedFrames} unrequested frames before the reply`);
}

function classifyRefusal(run: ProbeRun, header: ReplyHeader): void {
  const text = `getChildren /: ${errorName(header.err)} (${header.err})`;
  run.setEvidence(text);
  if (header.err === ZK_NO_AUTH) {
    run.result.auth = AuthVerdict.authRequired;
    run.result.metadata.rootAcl = 'restricted';
    return;
  }
  if (header.err === ZK_AUTH_FAILED || header.err === ZK_SESSION_REQUIRES_SASL) {
    run.result.auth = AuthVerdict.authRequired;
    run.result.metadata.enforcedAuth = true;
    run.setEvidence(`${text}; the server closed the session`);
    return;
  }
  run.result.auth = AuthVerdict.inconclusive;
  run.result.errors.push(`${text}: cannot tell whether the tree is readable`);
}

/** End the session at once. The server answers and closes; a close without the answer is fine too. */
async function closeSession(run: ProbeRun, s: Session, xid: number): Promise<void> {
  s.send(ZK_COMMANDS.closeSession, encodeCloseSession(xid));
  try {
    const { header } = await readReply(s, xid, 'closeSession reply');
    if (header.err !== 0) run.result.errors.push(`closeSession: ${errorName(header.err)} (${header.err})`);
  } catch (err) {
    if (!(err instanceof ConnectionClosedError)) throw err;
  }
}
