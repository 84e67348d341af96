/**
 * Redis probe: one TCP connection; `CLIENT SETNAME <identity>` and `INFO` pipelined in one packet (INFO's
 * reply alone decides open vs auth; the name lets an admin running CLIENT LIST see who is looking), and
 * `PING` only when INFO was renamed away. Nothing else is ever sent (see `REDIS_COMMANDS`).
 *
 * Why INFO first rather than PING then INFO: on every Redis version INFO is refused with the same
 * `-NOAUTH`/`-DENIED` error PING would get, so PING adds a round trip without adding a fact; and the
 * bulk INFO reply is itself the proof of exposure (version, keyspace, replication peers).
 *
 * Result fields and their sources:
 * - `auth`: `open` when INFO (or, INFO renamed, PING) answered without credentials; `auth_required` on
 *   `-NOAUTH`, `-WRONGPASS`, `-ERR operation not permitted` (Redis < 6), an `-ERR` naming NOAUTH, or
 *   `-DENIED` (protected mode); `inconclusive` on any other error reply.
 * - `evidence`: the error line (auth_required/inconclusive) or the INFO lines that prove openness.
 * - `product`/`version`: INFO `server_name`/`valkey_version`/`dragonfly_version`/`redis_version`.
 * - `metadata`: INFO server/clients/memory/keyspace fields (see `openMetadata`); `protectedMode` on -DENIED.
 * - `peers`: INFO replication `master_host`/`master_port` (role `master`) and `slaveN` (role `replica`).
 * - `inventory`: INFO keyspace, one entry per database (`['db0']`, kind `database`, records = keys); totals:
 *   records = keys of all databases, bytes = `used_memory_dataset` (memory held by data, not overhead).
 *   Absent when INFO is hidden.
 * - `sample`: only with `ctx.sample` (inside `scope.authorized`): the redacted result of a bounded value sample,
 *   see sample.ts for the commands (SELECT, SCAN, TYPE, STRLEN, GET, HSCAN, LRANGE) and bounds; without
 *   `ctx.sample` none of them is ever sent.
 */
import { AuthVerdict, type Inventory, type InventoryEntry, type Peer, type Probe, type ProbeResult } from '../../core/types.js';
import { printable, runProbe, type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import {
  decodeResp,
  encodeCommand,
  infoField,
  infoInt,
  parseInfo,
  parseKeyspace,
  parseReplication,
  type InfoSections,
  type RespValue,
} from './codec.js';
import { REDIS_SAMPLE_COMMANDS, sampleRedis } from './sample.js';

/** The allow-list: every command this module may put on the wire (the sampling ones only with `ctx.sample`). */
export const REDIS_COMMANDS = {
  info: 'INFO',
  ping: 'PING',
  clientSetName: 'CLIENT SETNAME',
  ...REDIS_SAMPLE_COMMANDS,
} as const;

/** Error replies that mean "credentials needed" (the text after the leading `-`). */
const AUTH_ERRORS: readonly RegExp[] = [
  /^NOAUTH\b/,
  /^WRONGPASS\b/,
  /^ERR operation not permitted/i,
  /^ERR\b.*\bNOAUTH\b/,
  /^ERR\b.*\bauthentication required/i,
];
const PROTECTED_MODE = /^DENIED\b/;
/** INFO renamed away (`rename-command INFO ""`) or unsupported: fall back to PING to learn whether commands run. */
const UNKNOWN_COMMAND = /^ERR unknown command\b/i;

/** Client names must be one token of printable ASCII (Redis refuses spaces and newlines). */
const CLIENT_NAME = /^[\x21-\x7e]{1,128}$/;

export const redisProbe: Probe = {
  name: 'redis',
  defaultPorts: [6379],
  transport: 'tcp',
  description: 'Redis and RESP-compatible servers (Valkey, KeyDB, Dragonfly): INFO without credentials',
  allowedCommands: Object.values(REDIS_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(redisProbe, target, ctx, probeRedis),
};

async function probeRedis(run: ProbeRun): Promise<void> {
  const session = await run.connect();
  // CLIENT SETNAME first, in the same packet as INFO: one round trip, and an admin reading CLIENT LIST or
  // MONITOR sees the scanner's name on the connection that asked for INFO. A server that wants a password
  // refuses the name just as it refuses INFO; that refusal is expected and not reported.
  const name = clientNameCommand(run);
  const info: readonly [string, Uint8Array] = [REDIS_COMMANDS.info, encodeCommand(['INFO'])];
  session.sendAll(name ? [name, info] : [info]);
  const nameReply = name ? await session.read(decodeResp) : undefined;
  // Any RESP reply proves a Redis-protocol server; INFO names the product precisely when readable.
  run.result.product = 'Redis';
  // Protected mode answers the first command with -DENIED and closes the connection.
  if (nameReply?.type === 'error' && classifyRedisError(nameReply.value) === 'protected-mode') {
    classifyError(run, nameReply.value);
    return;
  }
  const reply = await session.read(decodeResp);

  if (reply.type === 'bulk' && reply.value !== null) {
    const sections = parseInfo(reply.value.toString('utf8'));
    recordOpen(run, sections);
    noteClientName(run, nameReply);
    if (run.ctx.sample) await sampleRedis(run, session, databasesLargestFirst(sections));
    return;
  }
  if (reply.type !== 'error') {
    run.result.auth = AuthVerdict.inconclusive;
    run.setEvidence(describe(reply));
    run.result.errors.push(`INFO answered with a ${reply.type} reply instead of a bulk string`);
    return;
  }
  if (classifyError(run, reply.value)) return;
  if (classifyRedisError(reply.value) !== 'unknown-command') {
    run.result.auth = AuthVerdict.inconclusive;
    run.setEvidence(`-${reply.value}`);
    return;
  }

  const pong = await command(session, REDIS_COMMANDS.ping, ['PING']);
  if (pong.type === 'simple' && pong.value === 'PONG') {
    // Commands run for an anonymous client: the data is readable by key even though INFO is hidden.
    run.result.auth = AuthVerdict.open;
    run.result.metadata.infoAvailable = false;
    run.setEvidence(`INFO: -${reply.value}; PING: +PONG`);
    noteClientName(run, nameReply);
    // Without INFO the keyspace is unknown: database 0, the one every client starts in.
    if (run.ctx.sample) await sampleRedis(run, session, [0]);
    return;
  }
  if (pong.type === 'error' && classifyError(run, pong.value)) return;
  run.result.auth = AuthVerdict.inconclusive;
  run.setEvidence(`INFO: -${reply.value}; PING: ${describe(pong)}`);
}

async function command(session: Session, name: string, args: readonly string[]): Promise<RespValue> {
  session.send(name, encodeCommand(args));
  return session.read(decodeResp);
}

export type RedisErrorClass = 'auth' | 'protected-mode' | 'unknown-command' | 'other';

/** What an error reply (its text after the leading `-`) means for the verdict. */
export function classifyRedisError(error: string): RedisErrorClass {
  if (PROTECTED_MODE.test(error)) return 'protected-mode';
  if (AUTH_ERRORS.some((re) => re.test(error))) return 'auth';
  if (UNKNOWN_COMMAND.test(error)) return 'unknown-command';
  return 'other';
}

/** Set the verdict when `error` is an authentication refusal; false when it is some other error. */
function classifyError(run: ProbeRun, error: string): boolean {
  const kind = classifyRedisError(error);
  if (kind !== 'auth' && kind !== 'protected-mode') return false;
  run.result.auth = AuthVerdict.authRequired;
  if (kind === 'protected-mode') run.result.metadata.protectedMode = true;
  run.setEvidence(`-${error}`);
  return true;
}

function recordOpen(run: ProbeRun, info: InfoSections): void {
  const result = run.result;
  result.auth = AuthVerdict.open;
  const { product, version } = productFromInfo(info);
  result.product = product;
  if (version !== undefined) result.version = version;
  result.metadata = { ...result.metadata, ...openMetadata(info) };
  result.inventory = inventoryOf(info);
  result.peers.push(...peersOf(info));
  run.setEvidence(openEvidence(info));
}

/**
 * Product and version from INFO. Forks keep `redis_version` for client compatibility and add their own
 * fields: Valkey `server_name:valkey` + `valkey_version`, Dragonfly `dragonfly_version`, KeyDB only shows
 * in its executable path.
 */
export function productFromInfo(info: InfoSections): { product: string; version: string | undefined } {
  const valkey = infoField(info, 'valkey_version');
  if (valkey !== undefined || infoField(info, 'server_name') === 'valkey') {
    return { product: 'Valkey', version: valkey ?? infoField(info, 'redis_version') };
  }
  const dragonfly = infoField(info, 'dragonfly_version');
  if (dragonfly !== undefined) return { product: 'Dragonfly', version: dragonfly };
  if (/keydb/i.test(infoField(info, 'executable') ?? '')) return { product: 'KeyDB', version: infoField(info, 'redis_version') };
  return { product: 'Redis', version: infoField(info, 'redis_version') };
}

/** The facts an assessor and a notice need, with INFO's field names translated to camelCase numbers. */
function openMetadata(info: InfoSections): Record<string, unknown> {
  const keyspace = parseKeyspace(info);
  const replication = parseReplication(info);
  const meta: Record<string, unknown> = {
    // Valkey 8 renamed redis_mode to server_mode.
    mode: infoField(info, 'redis_mode') ?? infoField(info, 'server_mode'),
    os: infoField(info, 'os'),
    role: replication.role,
    connectedClients: infoInt(infoField(info, 'connected_clients')),
    usedMemory: infoInt(infoField(info, 'used_memory')),
    keyspace,
    totalKeys: Object.values(keyspace).reduce((sum, db) => sum + db.keys, 0),
    uptimeSeconds: infoInt(infoField(info, 'uptime_in_seconds')),
  };
  const redisVersion = infoField(info, 'redis_version');
  if (redisVersion !== undefined) meta.redisVersion = redisVersion;
  const cluster = infoField(info, 'cluster_enabled');
  if (cluster !== undefined) meta.clusterEnabled = cluster === '1';
  if (replication.replicas.length > 0) meta.connectedReplicas = replication.replicas.length;
  for (const k of Object.keys(meta)) if (meta[k] === undefined) delete meta[k];
  return meta;
}

/** INFO keyspace as the normalised inventory: one database entry per `dbN` line. */
export function inventoryOf(info: InfoSections): Inventory {
  const keyspace = parseKeyspace(info);
  const namespaces: InventoryEntry[] = Object.entries(keyspace).map(([db, e]) => ({ path: [db], kind: 'database', records: e.keys }));
  const inventory: Inventory = { records: namespaces.reduce((sum, n) => sum + (n.records ?? 0), 0), namespaces };
  const dataset = infoInt(infoField(info, 'used_memory_dataset'));
  if (dataset !== undefined) inventory.bytes = dataset;
  return inventory;
}

/** Database numbers from INFO keyspace, most keys first (ties by number). */
function databasesLargestFirst(info: InfoSections): number[] {
  return Object.entries(parseKeyspace(info))
    .map(([db, e]) => ({ n: Number(db.slice(2)), keys: e.keys }))
    .filter((d) => Number.isSafeInteger(d.n) && d.n >= 0)
    .sort((a, b) => b.keys - a.keys || a.n - b.n)
    .map((d) => d.n);
}

function peersOf(info: InfoSections): Peer[] {
  const replication = parseReplication(info);
  const peers: Peer[] = [];
  if (replication.master) {
    const peer: Peer = { host: replication.master.host, role: 'master', source: 'INFO replication: master_host' };
    if (replication.master.port !== undefined) peer.port = replication.master.port;
    peers.push(peer);
  }
  for (const r of replication.replicas) {
    const peer: Peer = { host: r.ip, role: 'replica', source: `INFO replication: ${r.field}` };
    if (r.port !== undefined) peer.port = r.port;
    peers.push(peer);
  }
  return peers;
}

/** The INFO lines that show an anonymous client reads the server: its version, role and keyspace. */
function openEvidence(info: InfoSections): string {
  const lines = ['INFO answered without credentials'];
  for (const field of ['redis_version', 'valkey_version', 'dragonfly_version', 'role']) {
    const v = infoField(info, field);
    if (v !== undefined) lines.push(`${field}:${v}`);
  }
  for (const [db, value] of info.get('keyspace') ?? []) lines.push(`${db}:${value}`);
  return lines.join('\n');
}

/** `CLIENT SETNAME <identity>`, naming the connection after the scanner; undefined (and noted) when the name cannot be sent. */
function clientNameCommand(run: ProbeRun): readonly [string, Uint8Array] | undefined {
  const name = run.ctx.clientName;
  if (!CLIENT_NAME.test(name)) {
    run.result.errors.push(`Client name ${JSON.stringify(name)} is not a single printable token; CLIENT SETNAME skipped`);
    return undefined;
  }
  return [REDIS_COMMANDS.clientSetName, encodeCommand(['CLIENT', 'SETNAME', name])];
}

/** On an open server: record whether the name was taken. A refusal is noted, not fatal. */
function noteClientName(run: ProbeRun, reply: RespValue | undefined): void {
  if (reply === undefined) return;
  if (reply.type === 'simple' && reply.value === 'OK') run.result.metadata.clientNameSet = true;
  else run.result.errors.push(`CLIENT SETNAME was refused: ${describe(reply)}`);
}

/** A short printable rendering of a reply for evidence and errors. */
function describe(reply: RespValue): string {
  return printable(render(reply), 256);
}

function render(reply: RespValue): string {
  switch (reply.type) {
    case 'simple':
      return `+${reply.value}`;
    case 'error':
      return `-${reply.value}`;
    case 'integer':
      return `:${reply.value}`;
    case 'bulk':
      return reply.value === null ? '$-1' : `$${reply.value.length} ${reply.value.subarray(0, 64).toString('latin1')}`;
    case 'array':
      return reply.value === null ? '*-1' : `*${reply.value.length}`;
  }
}
