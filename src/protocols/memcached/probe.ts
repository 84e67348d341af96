/**
 * Memcached probe. Memcached has no per-item permissions: whoever can run `stats` can also `get` any
 * key it can guess, so a `stats` answer without credentials means the cache is open. The probe never
 * sends `get`/`set` or anything else off `MEMCACHED_COMMANDS`.
 *
 * Sequence:
 * 1. TCP text `version`, then `stats`. `stats` answered → `open`; `CLIENT_ERROR unauthenticated` (ASCII
 *    auth, `-Y`) → `auth_required`.
 * 2. When the server closes the connection on the text command without a byte — what memcached does
 *    when SASL (`-S`) restricts it to the binary protocol — a second connection asks the same two
 *    questions in binary framing (`version (binary)`, `stats (binary)`). Binary `version` is answered
 *    before authentication; `stats` then returns status 0x20 "Auth failure." → `auth_required`.
 *    A binary-only server reads a full 24-byte header before it looks at the magic byte, so the first
 *    text `version` is padded with spaces to 24 bytes: such a server then closes at once instead of
 *    waiting silently for the probe deadline (the text tokenizer ignores the spaces).
 * 3. Once memcached has answered over TCP, one `stats` datagram with the 8-byte UDP frame header to the
 *    same port shows whether UDP is exposed: the 2018 "memcrashed" reflection/amplification vector.
 *
 * Result fields and their sources:
 * - `version`: the `VERSION` line (or `STAT version`, or the binary version reply).
 * - `evidence`: the refusal line/status, or the `stats` lines that prove openness.
 * - `inventory`: one entry, `['cache']` (kind `bucket`: memcached has one flat key space), records = `curr_items`,
 *   bytes = `bytes` (memory held by items); the same totals on top. Keys are never listed.
 * - `metadata`: `stats` fields (curr_items, total_items, bytes, limit_maxbytes, curr_connections, uptime,
 *   threads) as numbers; `authMode` (`ascii` for -Y, `sasl` for -S); `textProtocol` false when only binary
 *   is spoken; `udp` (see `checkUdp`).
 */
import { ConnectionClosedError, ProtocolError } from '../../core/errors.js';
import { AuthVerdict, type Inventory, type InventoryEntry, type Probe, type ProbeResult } from '../../core/types.js';
import { printable, runProbe, type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import {
  BINARY,
  UDP_HEADER_LENGTH,
  decodeBinaryReply,
  decodeTextReply,
  decodeUdpFrame,
  encodeBinaryRequest,
  encodeTextCommand,
  encodeUdpFrame,
  type McBinaryReply,
  type McTextReply,
} from './codec.js';

/** The allow-list: every command this module may put on the wire (TCP text, TCP binary, UDP). */
export const MEMCACHED_COMMANDS = {
  version: 'version',
  stats: 'stats',
  versionBinary: 'version (binary)',
  statsBinary: 'stats (binary)',
  statsUdp: 'stats (udp)',
} as const;

/** The reply memcached's ASCII authentication (-Y) gives to any command before `set <user> <pass>`. */
const UNAUTHENTICATED = /^CLIENT_ERROR unauthenticated/;
/** The UDP check never waits longer than this, and never past the probe's own deadline. */
const UDP_WAIT_MS = 1000;

/** `stats` fields copied into metadata, as numbers: stats name → metadata key. */
const STAT_FIELDS: Readonly<Record<string, string>> = {
  curr_items: 'currItems',
  total_items: 'totalItems',
  bytes: 'bytes',
  limit_maxbytes: 'limitMaxbytes',
  curr_connections: 'currConnections',
  uptime: 'uptimeSeconds',
  threads: 'threads',
};

export const memcachedProbe: Probe = {
  name: 'memcached',
  defaultPorts: [11211],
  transport: 'tcp',
  description: 'Memcached: stats without credentials (text or binary protocol) and UDP amplification exposure',
  allowedCommands: Object.values(MEMCACHED_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(memcachedProbe, target, ctx, probeMemcached),
};

async function probeMemcached(run: ProbeRun): Promise<void> {
  const started = performance.now();
  const session = await run.connect();
  let answered: boolean;
  try {
    answered = await probeText(run, session);
  } catch (err) {
    if (!closedWithoutReply(err, session)) throw err;
    answered = await probeBinary(run);
  }
  if (answered) await checkUdp(run, started);
}

/** A text command met a silent close: memcached with SASL on does exactly that. */
function closedWithoutReply(err: unknown, session: Session): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return session.bytesRead === 0 && (err instanceof ConnectionClosedError || code === 'ECONNRESET' || code === 'EPIPE');
}

/** The text protocol path; true when the reply proved a memcached server. */
async function probeText(run: ProbeRun, session: Session): Promise<boolean> {
  const version = await textCommand(session, 'version', BINARY.headerLength);
  if (version.kind === 'error') return refusal(run, version.line, 'version');
  if (version.kind !== 'version') throw new ProtocolError('Memcached answered version with a stats listing');
  run.result.product = 'Memcached';
  run.result.version = version.version;

  const stats = await textCommand(session, 'stats');
  if (stats.kind === 'error') return refusal(run, stats.line, 'stats');
  if (stats.kind !== 'stats') throw new ProtocolError('Memcached answered stats with a VERSION line');
  recordOpen(run, stats.stats);
  return true;
}

async function textCommand(session: Session, command: 'version' | 'stats', padTo = 0): Promise<McTextReply> {
  session.send(command, encodeTextCommand(command, padTo));
  return session.read(decodeTextReply);
}

/** An error line to a text command: ASCII auth → auth_required, anything else → inconclusive. */
function refusal(run: ProbeRun, line: string, command: string): boolean {
  run.result.product = 'Memcached';
  run.setEvidence(line);
  if (UNAUTHENTICATED.test(line)) {
    run.result.auth = AuthVerdict.authRequired;
    run.result.metadata.authMode = 'ascii';
    return true;
  }
  run.result.auth = AuthVerdict.inconclusive;
  run.result.errors.push(`Memcached refused ${command}: ${line}`);
  return true;
}

/** The binary protocol path, on a fresh connection (the text one was closed). */
async function probeBinary(run: ProbeRun): Promise<boolean> {
  const session = await run.connect();
  const version = await binaryCommand(session, MEMCACHED_COMMANDS.versionBinary, BINARY.opVersion, 1);
  run.result.product = 'Memcached';
  run.result.metadata.textProtocol = false;
  if (version.kind === 'version') run.result.version = version.version;

  const stats = await binaryCommand(session, MEMCACHED_COMMANDS.statsBinary, BINARY.opStat, 2);
  if (stats.kind === 'stats') {
    recordOpen(run, stats.stats);
    return true;
  }
  if (stats.kind === 'error' && stats.status === BINARY.statusAuthError) {
    run.result.auth = AuthVerdict.authRequired;
    run.result.metadata.authMode = 'sasl';
    run.setEvidence(`Text command closed the connection; binary stats: status 0x${hex4(stats.status)} ${stats.message}`);
    return true;
  }
  run.result.auth = AuthVerdict.inconclusive;
  run.setEvidence(stats.kind === 'error' ? `Binary stats: status 0x${hex4(stats.status)} ${stats.message}` : 'Binary stats answered with a version');
  return true;
}

async function binaryCommand(session: Session, name: string, opcode: number, opaque: number): Promise<McBinaryReply> {
  session.send(name, encodeBinaryRequest(opcode, opaque));
  return session.read(decodeBinaryReply);
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function recordOpen(run: ProbeRun, stats: readonly [string, string][]): void {
  const result = run.result;
  const byName = new Map(stats);
  result.auth = AuthVerdict.open;
  result.product = 'Memcached';
  const version = byName.get('version');
  if (result.version === undefined && version) result.version = version;
  for (const [stat, key] of Object.entries(STAT_FIELDS)) {
    const raw = byName.get(stat);
    if (raw !== undefined && /^[0-9]{1,16}$/.test(raw)) result.metadata[key] = Number(raw);
  }
  result.inventory = inventoryOf(result.metadata.currItems, result.metadata.bytes);
  const shown = ['version', 'curr_items', 'total_items', 'bytes', 'curr_connections'].filter((s) => byName.has(s));
  run.setEvidence(['stats answered without credentials', ...shown.map((s) => `STAT ${s} ${byName.get(s)}`)].join('\n'));
}

/** `stats` as the normalised inventory: the cache as one namespace. */
function inventoryOf(items: unknown, bytes: unknown): Inventory {
  const entry: InventoryEntry = { path: ['cache'], kind: 'bucket' };
  const inventory: Inventory = { namespaces: [entry] };
  if (typeof items === 'number') entry.records = inventory.records = items;
  if (typeof bytes === 'number') entry.bytes = inventory.bytes = bytes;
  return inventory;
}

/**
 * One `stats` datagram to the same port. `responseBytes` is the size of the first reply datagram only
 * (the runner returns one); `datagrams` is how many the server said the whole reply has, so the real
 * amplification is larger than `amplificationFactor` (a lower bound).
 */
async function checkUdp(run: ProbeRun, started: number): Promise<void> {
  const remaining = run.ctx.timeoutMs - (performance.now() - started);
  const timeoutMs = Math.floor(Math.min(UDP_WAIT_MS, remaining - 50));
  if (timeoutMs <= 0) {
    run.result.errors.push('No time left for the UDP check');
    return;
  }
  const requestId = 1 + Math.floor(Math.random() * 0xfffe);
  const request = encodeUdpFrame({ requestId, sequence: 0, total: 1, reserved: 0 }, encodeTextCommand('stats'));
  const reply = await run.udpExchange(MEMCACHED_COMMANDS.statsUdp, request, { timeoutMs });
  if (!reply) {
    run.result.metadata.udp = { exposed: false };
    return;
  }
  try {
    const { header, payload } = decodeUdpFrame(reply);
    if (header.requestId !== requestId) throw new ProtocolError(`UDP reply carries request id ${header.requestId}, not ${requestId}`);
    run.result.metadata.udp = {
      exposed: true,
      requestBytes: request.length,
      responseBytes: reply.length,
      datagrams: header.total,
      amplificationFactor: Math.round((reply.length / request.length) * 10) / 10,
      // The first bytes, so a reader sees whether UDP served stats or only an error.
      replyStart: printable(payload.subarray(0, 48), 64),
    };
  } catch (err) {
    run.result.metadata.udp = { exposed: false };
    run.result.errors.push(`UDP reply was not a memcached frame (${reply.length} bytes, header ${UDP_HEADER_LENGTH}): ${(err as Error).message}`);
  }
}
