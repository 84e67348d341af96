/**
 * MongoDB probe over OP_MSG — what MongoDB 3.6+ speaks and the only command format 6.0+ accepts (nmap's and
 * zgrab2's OP_QUERY probes get no answer from a modern server) — with the legacy OP_QUERY `isMaster` only as a
 * fallback for servers too old for OP_MSG.
 *
 * Conversation, one TCP connection (two when the fallback reconnects):
 * 1. `hello` (OP_MSG, `$db: admin`) carrying MongoDB's handshake metadata `client: { application: { name:
 *    ctx.clientName }, driver: { name: 'lockdown', version }, os: { type } }`, so the server's log names us.
 *    - No valid reply (the connection closes — or stays silent, as MongoDB ≤ 3.4 does for an unknown opcode —
 *      within half the probe's time, at most 5 s) or a legacy OP_REPLY: reconnect and send `isMaster` as OP_QUERY
 *      on `admin.$cmd`. If that server's maxWireVersion is below 6 (no OP_MSG, MongoDB ≤ 3.4), `listDatabases`
 *      goes as an OP_QUERY command too and decides the verdict; collections are not listed on those servers.
 *    - `ok: 0` CommandNotFound (MongoDB 3.6 – 4.4.1 have OP_MSG but no `hello`): `isMaster` as OP_QUERY on the
 *      same connection, then on with OP_MSG.
 * 2. `buildInfo` (needs no authentication on MongoDB): product and version.
 * 3. `listDatabases` (`nameOnly: false`): its answer alone decides the verdict.
 * 4. Only when open, bounded: `listCollections` (`nameOnly`, first batch ≤ 50, never a getMore) for the 10
 *    largest non-system databases, then `count` (no query: answered from collection metadata) for each plain
 *    collection listed. Both are pipelined: all requests go out, then the replies are read in order.
 * 5. Only with `ctx.sample` (the caller sets it only inside `scope.authorized`): a bounded `find` on the largest
 *    counted collections (sample.ts), run through the value scanner; only the redacted result is kept.
 * Nothing else is ever sent (`MONGODB_COMMANDS`); without `ctx.sample`, never `find`.
 *
 * Result fields and their sources:
 * - `auth`: `open` when listDatabases answered `ok: 1` without credentials (also with zero databases: that is
 *   "open and empty", which zgrab2 cannot tell from "auth required"); `auth_required` when it answered `ok: 0`
 *   with code 13 Unauthorized / 18 AuthenticationFailed or a "requires authentication" / "not authorized"
 *   errmsg (over OP_MSG, or over OP_QUERY for servers that predate it); `inconclusive` on any other error.
 * - `evidence`: the refusal as the server sent it, `{"ok":0,"errmsg":…,"code":13,"codeName":"Unauthorized"}`,
 *   or the listDatabases summary that proves openness.
 * - `product`/`version`: buildInfo — `MongoDB` + `version`; `FerretDB` + `ferretdbVersion`; `Percona Server for
 *   MongoDB` + `psmdbVersion` (then `metadata.build.mongodbVersion` is the MongoDB version they claim).
 * - `metadata`:
 *   `handshake` (`hello` or `isMaster (OP_QUERY)`), `opMsgFailure` (why the OP_MSG hello failed, when it did),
 *   `legacyOnly` (server without OP_MSG); from hello: `isWritablePrimary`, `secondary`, `arbiterOnly`, `hidden`,
 *   `passive`, `setName`, `setVersion`, `me`, `primary`, `mongos` (msg `isdbgrid`), `minWireVersion`,
 *   `maxWireVersion`, `maxBsonObjectSize`, `maxMessageSizeBytes`, `readOnly`, `logicalSessionTimeoutMinutes`;
 *   `build` (buildInfo: gitVersion, modules, allocator, javascriptEngine, bits, debug, openssl, storageEngines,
 *   mongodbVersion); `buildInfoError`; `listDatabasesError` ({ ok, code, codeName, errmsg }); when open:
 *   `databases` ([{ name, sizeOnDisk, empty }] biggest first, at most 1000; the enumerated ones also carry
 *   `collections` [{ name, type, count }] sorted by name and `collectionsTruncated`), `databaseCount` (all
 *   databases listed), `totalSize`, `documentCount` (sum of the counts taken).
 * - `inventory`: every listed database (kind `database`, bytes = sizeOnDisk, records = the sum of its counted
 *   collections), and each enumerated collection (path [db, collection], kind `collection`, records = count);
 *   totals records = documentCount, bytes = totalSize; `truncated` when databases or collections were left out.
 * - `sample`: with `ctx.sample` only, the redacted value sample (see sample.ts); `metadata.sampling` its counts.
 * - `peers`: hello's `hosts` (role `member`, or `primary` for the one hello names primary), `passives`
 *   (`passive`), `arbiters` (`arbiter`) and `primary` (`primary`), without the server itself (`me`, or the
 *   probed address when hello has no `me`).
 */
import os from 'node:os';
import { errorMessage } from '../../core/errors.js';
import { AuthVerdict, ProbeStatus, type Inventory, type InventoryEntry, type Probe, type ProbeResult } from '../../core/types.js';
import { VERSION } from '../../core/version.js';
import { runProbe, type ProbeRun } from '../../net/probe-run.js';
import { statusFromError } from '../../net/status.js';
import { MONGO_LIMITS, type Document } from './codec.js';
import { LegacyReplyError, MongoConnection } from './connection.js';
import {
  classifyCommandError,
  commandError,
  countable,
  describeCommandError,
  isOk,
  parseBuildInfo,
  parseCollections,
  parseCount,
  parseDatabases,
  parseHello,
  type CollectionEntry,
  type DatabaseEntry,
} from './replies.js';
import { MONGODB_SAMPLE_COMMANDS, sampleMongo, type SampleCandidate } from './sample.js';

/** The allow-list: every command this module may put on the wire. */
export const MONGODB_COMMANDS = {
  hello: 'hello',
  isMasterLegacy: 'isMaster (OP_QUERY)',
  /** Servers too old for OP_MSG (3.4 and older): the same read-only command as an OP_QUERY on admin.$cmd. */
  listDatabasesLegacy: 'listDatabases (OP_QUERY)',
  buildInfo: 'buildInfo',
  listDatabases: 'listDatabases',
  listCollections: 'listCollections',
  count: 'count',
  /** Sampling only (`ctx.sample`): `find` with limit/batchSize/singleBatch. */
  ...MONGODB_SAMPLE_COMMANDS,
} as const;

/** Bounds on the work an open server can make us do. */
export const MONGODB_LIMITS = {
  /** Databases whose collections are listed (largest first, system databases skipped). */
  maxDatabases: 10,
  /** Collections listed (and counted) per database. */
  maxCollectionsPerDatabase: 50,
  /** Longest wait for the OP_MSG hello before falling back to OP_QUERY (also capped at half the probe's time). */
  helloWaitMs: 5000,
  /** MongoDB caps the application name of the handshake metadata at 128 bytes. */
  maxAppNameBytes: 128,
} as const;

/** maxWireVersion 6 = MongoDB 3.6, the first with OP_MSG. */
const OP_MSG_WIRE_VERSION = 6;
/** admin, local and config hold users, the oplog and cluster state, not application data. */
const SYSTEM_DATABASES: ReadonlySet<string> = new Set(['admin', 'local', 'config']);

export const mongodbProbe: Probe = {
  name: 'mongodb',
  defaultPorts: [27017],
  transport: 'tcp',
  description: 'MongoDB and wire-compatible servers (FerretDB, Percona): OP_MSG hello, buildInfo, listDatabases without credentials',
  allowedCommands: Object.values(MONGODB_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(mongodbProbe, target, ctx, probeMongo),
};

interface Handshake {
  conn: MongoConnection;
  hello: Document;
  via: typeof MONGODB_COMMANDS.hello | typeof MONGODB_COMMANDS.isMasterLegacy;
}

async function probeMongo(run: ProbeRun): Promise<void> {
  const maxMessageBytes = Math.min(MONGO_LIMITS.maxMessageBytes, run.ctx.readCap);
  const client = clientMetadata(run.ctx.clientName);
  const hs = await handshake(run, client, maxMessageBytes);
  // Any valid reply proves a MongoDB-protocol server; buildInfo names the product precisely.
  run.result.product = 'MongoDB';
  const maxWireVersion = recordHello(run, hs);

  if (hs.via === MONGODB_COMMANDS.isMasterLegacy && (maxWireVersion ?? 0) < OP_MSG_WIRE_VERSION) {
    // MongoDB 3.4 and older: no OP_MSG, so listDatabases goes as an OP_QUERY command. These old servers
    // (no authentication by default) are the ones the ransom waves of 2017 emptied.
    run.result.metadata.legacyOnly = true;
    const { document: listing } = await hs.conn.legacyCommand(MONGODB_COMMANDS.listDatabasesLegacy, { listDatabases: 1 });
    const listed = recordListing(run, listing, ` (OP_QUERY, maxWireVersion ${maxWireVersion ?? 'absent'})`);
    // Collections are not listed on these old servers: the inventory holds databases only (truncated).
    if (listed) run.result.inventory = inventoryOf(listed.databases, listed.total, listed.totalSize, undefined);
    return;
  }

  await buildInfo(run, hs.conn);

  const listing = await hs.conn.command(MONGODB_COMMANDS.listDatabases, { listDatabases: 1, nameOnly: false, $db: 'admin' });
  const listed = recordListing(run, listing);
  if (!listed) return;
  const { databases, total, totalSize } = listed;
  const enumerated = await enumerate(run, hs.conn, databases);
  run.result.inventory = inventoryOf(databases, total, totalSize, run.result.metadata.documentCount);
  if (run.ctx.sample) await sampleMongo(run, hs.conn, enumerated);
}

/**
 * The verdict from a listDatabases reply (OP_MSG or legacy OP_QUERY alike): a refusal is kept as evidence
 * and classified; a listing makes the server `open`. Returns the listing, or undefined when refused.
 */
function recordListing(run: ProbeRun, listing: Document, evidenceSuffix = ''): ReturnType<typeof parseDatabases> | undefined {
  if (!isOk(listing)) {
    const err = commandError(listing);
    run.result.metadata.listDatabasesError = err;
    run.result.auth = classifyCommandError(err) === 'auth' ? AuthVerdict.authRequired : AuthVerdict.inconclusive;
    run.setEvidence(describeCommandError(err));
    return undefined;
  }
  const parsed = parseDatabases(listing);
  run.result.auth = AuthVerdict.open;
  run.result.metadata.databases = parsed.databases;
  run.result.metadata.databaseCount = parsed.total;
  if (parsed.totalSize !== undefined) run.result.metadata.totalSize = parsed.totalSize;
  run.setEvidence(openEvidence(parsed.databases, parsed.total, parsed.totalSize) + evidenceSuffix);
  return parsed;
}

/** listDatabases plus the enumerated collections as the normalised inventory (names, counts, sizes only). */
function inventoryOf(databases: readonly EnumeratedDatabase[], total: number, totalSize: number | undefined, documents: unknown): Inventory {
  const namespaces: InventoryEntry[] = [];
  let truncated = total > databases.length;
  for (const db of databases) {
    const entry: InventoryEntry = { path: [db.name], kind: 'database' };
    if (db.sizeOnDisk !== undefined) entry.bytes = db.sizeOnDisk;
    namespaces.push(entry);
    if (db.collections === undefined) {
      // Listed but not enumerated (beyond the largest few); system databases hold no application data.
      if (!SYSTEM_DATABASES.has(db.name)) truncated = true;
      continue;
    }
    if (db.collectionsTruncated) truncated = true;
    let records: number | undefined;
    for (const c of db.collections) {
      const child: InventoryEntry = { path: [db.name, c.name], kind: 'collection' };
      if (c.count !== undefined) {
        child.records = c.count;
        records = (records ?? 0) + c.count;
      }
      namespaces.push(child);
    }
    if (records !== undefined) entry.records = records;
  }
  const inventory: Inventory = { namespaces };
  if (typeof documents === 'number') inventory.records = documents;
  if (totalSize !== undefined) inventory.bytes = totalSize;
  if (truncated) inventory.truncated = true;
  return inventory;
}

/** MongoDB's handshake metadata (the driver handshake spec's `client` document); mongod logs it per connection. */
export function clientMetadata(clientName: string): Document {
  return {
    application: { name: truncateUtf8(clientName, MONGODB_LIMITS.maxAppNameBytes) },
    driver: { name: 'lockdown', version: VERSION },
    os: { type: os.type() },
  };
}

async function handshake(run: ProbeRun, client: Document, maxMessageBytes: number): Promise<Handshake> {
  const conn = new MongoConnection(await run.connect(), maxMessageBytes);
  const waitMs = Math.min(MONGODB_LIMITS.helloWaitMs, Math.floor(run.ctx.timeoutMs / 2));
  let waited = false;
  const timer = setTimeout(() => {
    waited = true;
    conn.close();
  }, waitMs);
  let hello: Document;
  try {
    hello = await conn.command(MONGODB_COMMANDS.hello, { hello: 1, client, $db: 'admin' });
  } catch (err) {
    // Our own deadline or a cancel: not a reason to try OP_QUERY.
    if (run.aborted) throw err;
    const legacy = waited || err instanceof LegacyReplyError || statusFromError(err) === ProbeStatus.connectionClosed;
    if (!legacy) throw err;
    conn.close();
    run.result.metadata.opMsgFailure = waited ? `No reply to the OP_MSG hello within ${waitMs} ms` : errorMessage(err);
    const retry = new MongoConnection(await run.connect(), maxMessageBytes);
    return { conn: retry, hello: await legacyIsMaster(retry, client), via: MONGODB_COMMANDS.isMasterLegacy };
  } finally {
    clearTimeout(timer);
  }
  if (!isOk(hello) && classifyCommandError(commandError(hello)) === 'command-not-found') {
    // MongoDB 3.6 – 4.4.1 speak OP_MSG but predate `hello`; the client metadata was not recorded, so send it again.
    run.result.metadata.helloError = commandError(hello);
    return { conn, hello: await legacyIsMaster(conn, client), via: MONGODB_COMMANDS.isMasterLegacy };
  }
  return { conn, hello, via: MONGODB_COMMANDS.hello };
}

async function legacyIsMaster(conn: MongoConnection, client: Document): Promise<Document> {
  const { document } = await conn.legacyCommand(MONGODB_COMMANDS.isMasterLegacy, { isMaster: 1, client });
  return document;
}

function recordHello(run: ProbeRun, hs: Handshake): number | undefined {
  const facts = parseHello(hs.hello, hs.via === MONGODB_COMMANDS.hello ? 'hello' : 'isMaster');
  run.result.metadata.handshake = hs.via;
  Object.assign(run.result.metadata, facts.metadata);
  if (!isOk(hs.hello)) run.result.errors.push(`${hs.via} was refused: ${describeCommandError(commandError(hs.hello))}`);
  // Without `me` (FerretDB, a standalone), the probed address itself may appear in `hosts`.
  const { host, port } = run.target;
  run.result.peers.push(...facts.peers.filter((p) => !(p.host === host && (p.port ?? 27017) === port)));
  return facts.maxWireVersion;
}

async function buildInfo(run: ProbeRun, conn: MongoConnection): Promise<void> {
  const reply = await conn.command(MONGODB_COMMANDS.buildInfo, { buildInfo: 1, $db: 'admin' });
  if (!isOk(reply)) {
    const err = commandError(reply);
    run.result.metadata.buildInfoError = err;
    run.result.errors.push(`buildInfo was refused: ${describeCommandError(err)}`);
    return;
  }
  const build = parseBuildInfo(reply);
  run.result.product = build.product;
  if (build.version !== undefined) run.result.version = build.version;
  run.result.metadata.build = build.metadata;
}

type EnumeratedDatabase = DatabaseEntry & {
  collections?: (CollectionEntry & { count?: number })[];
  collectionsTruncated?: boolean;
};

/**
 * listCollections for the largest databases, then count for their plain collections; both pipelined.
 * Returns the countable collections (the ones sampling may read).
 */
async function enumerate(run: ProbeRun, conn: MongoConnection, databases: EnumeratedDatabase[]): Promise<SampleCandidate[]> {
  const chosen = databases.filter((d) => !SYSTEM_DATABASES.has(d.name)).slice(0, MONGODB_LIMITS.maxDatabases);
  const max = MONGODB_LIMITS.maxCollectionsPerDatabase;
  const listings = chosen.map((db) =>
    conn.send(MONGODB_COMMANDS.listCollections, { listCollections: 1, nameOnly: true, cursor: { batchSize: max }, $db: db.name }),
  );
  for (const [i, db] of chosen.entries()) {
    const reply = await conn.reply(listings[i]!);
    if (!isOk(reply)) {
      run.result.errors.push(`listCollections on ${db.name} was refused: ${describeCommandError(commandError(reply))}`);
      continue;
    }
    const { collections, truncated } = parseCollections(reply, max);
    db.collections = collections.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    db.collectionsTruncated = truncated;
  }

  const counts: { pending: ReturnType<MongoConnection['send']>; db: string; entry: CollectionEntry & { count?: number } }[] = [];
  for (const db of chosen) {
    for (const entry of db.collections ?? []) {
      if (!countable(entry)) continue;
      counts.push({ pending: conn.send(MONGODB_COMMANDS.count, { count: entry.name, $db: db.name }), db: db.name, entry });
    }
  }
  let documents = 0;
  const candidates: SampleCandidate[] = [];
  for (const c of counts) {
    const reply = await conn.reply(c.pending);
    const n = isOk(reply) ? parseCount(reply) : undefined;
    candidates.push({ db: c.db, collection: c.entry.name, count: n });
    if (n === undefined) {
      run.result.errors.push(`count on ${c.db}.${c.entry.name} failed: ${describeCommandError(commandError(reply))}`);
      continue;
    }
    c.entry.count = n;
    documents += n;
    run.result.metadata.documentCount = documents;
  }
  if (counts.length === 0) run.result.metadata.documentCount = 0;
  return candidates;
}

function openEvidence(databases: DatabaseEntry[], total: number, totalSize: number | undefined): string {
  const names = databases.slice(0, 20).map((d) => `${d.name} (${d.sizeOnDisk ?? '?'} bytes${d.empty ? ', empty' : ''})`);
  const more = total > names.length ? `, … ${total - names.length} more` : '';
  return (
    `listDatabases answered without credentials: ok: 1, ${total} database${total === 1 ? '' : 's'}` +
    (totalSize !== undefined ? `, totalSize ${totalSize}` : '') +
    (names.length > 0 ? `: ${names.join(', ')}${more}` : '')
  );
}

function truncateUtf8(s: string, maxBytes: number): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= maxBytes) return s;
  // Cut on a character boundary: drop continuation bytes (10xxxxxx) at the cut.
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}

