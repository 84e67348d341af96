/**
 * MySQL / MariaDB probe.
 *
 * The server speaks first: its greeting names the product, version, capabilities and auth plugin, and
 * the probe reads it without sending a byte. A MySQL server always runs an authentication handshake,
 * so the greeting alone gives `auth_required`; telling whether an account has an empty password means
 * trying one, which is a login attempt. That happens only when the operator asked for it
 * (`checkDefaultCredentials`) AND the target is inside the authorized scope (`authorized`): one try,
 * `root` with an empty password, then — if it is accepted — three read-only queries and COM_QUIT.
 *
 * Result fields and where they come from:
 * - `product`, `version`: the greeting's server version string (MariaDB's `5.5.5-` prefix removed).
 * - `auth`: `auth_required` from the greeting (or an ERR greeting refusing this host); `open` only when
 *   the empty-password login was answered with an OK packet.
 * - `evidence`: the greeting's auth plugin, the ERR packet text, or the accepted login and databases.
 * - `metadata.protocolVersion|serverVersion|connectionId|capabilities|capabilityFlags|mariaDbCapabilities|
 *   authPlugin|characterSet|characterSetName|statusFlags|tls`: greeting fields; `tls` is CLIENT_SSL offered.
 * - `metadata.defaultCredentialCheck`: what the login attempt found (only when it ran).
 * - `metadata.defaultCredentials`, `metadata.databases`, `metadata.versionComment`: after an accepted login,
 *   from SHOW DATABASES, information_schema.tables and `@@version_comment`.
 * - `inventory` (after an accepted login only): one entry per database/schema (kind `database`, records = the
 *   sum of table_rows — an estimate for InnoDB —, bytes = data + index length); totals over all of them.
 * - `sample` (after a login, and only with `ctx.sample`): the redacted first rows of the largest tables
 *   (sample.ts); `metadata.sampling` its counts.
 */
import { ProtocolError } from '../../core/errors.js';
import { AuthVerdict, type Inventory, type InventoryEntry, type Probe, type ProbeContext, type ProbeResult, type Target } from '../../core/types.js';
import { runProbe, type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import {
  authReplyDecoder,
  Capability,
  capabilityNames,
  COLLATIONS,
  decodeGreeting,
  decodeQueryReply,
  encodeHandshakeResponse41,
  encodePacket,
  encodeQuery,
  encodeQuit,
  formatErr,
  mariaDbCapabilityNames,
  PROBE_CLIENT_CAPABILITIES,
  type AuthReply,
  type ErrPacket,
  type Greeting,
  type HandshakeV10,
  type QueryReply,
} from './codec.js';
import { MYSQL_SAMPLE_COMMANDS, sampleMysql } from './sample.js';

/** Names of everything this module may put on the wire. */
export const MysqlCommand = {
  handshakeResponse: 'HandshakeResponse',
  authSwitchResponse: 'AuthSwitchResponse',
  showDatabases: 'Query:show_databases',
  schemaSizes: 'Query:schema_sizes',
  version: 'Query:version',
  quit: 'COM_QUIT',
  /** Sampling only (`ctx.sample`, after a login): see sample.ts. */
  sampleTables: MYSQL_SAMPLE_COMMANDS.tables,
  sampleRows: MYSQL_SAMPLE_COMMANDS.rows,
} as const;
type QueryCommand = typeof MysqlCommand.showDatabases | typeof MysqlCommand.schemaSizes | typeof MysqlCommand.version;

/** The only SQL this module ever sends (constants; never built from input). All read-only. */
export const MYSQL_QUERIES: Readonly<Record<QueryCommand, string>> = {
  [MysqlCommand.showDatabases]: 'SHOW DATABASES',
  [MysqlCommand.schemaSizes]:
    'SELECT table_schema, COUNT(*), SUM(table_rows), SUM(data_length + index_length) FROM information_schema.tables GROUP BY table_schema',
  [MysqlCommand.version]: 'SELECT @@version, @@version_comment',
};

export const DEFAULT_USER = 'root';
/** Plugins whose response for an empty password is empty, so answering an AuthSwitchRequest sends no secret. */
const EMPTY_RESPONSE_PLUGINS = new Set(['mysql_native_password', 'caching_sha2_password']);
const CHARSET_UTF8MB4_GENERAL_CI = 45;
const MAX_PACKET_SIZE = 16 * 1024 * 1024;
/** Host-level refusals at greeting time: 1129 host blocked, 1130 host not allowed to connect. */
const HOST_REFUSED_CODES = new Set([1129, 1130]);

export interface DatabaseInfo {
  name: string;
  /** Tables and views in the schema (information_schema.tables). */
  tables: number;
  /** Sum of table_rows (an estimate for InnoDB); null when the server reports none. */
  rows: number | null;
  /** Sum of data_length + index_length in bytes; null when the server reports none. */
  bytes: number | null;
}

export const mysqlProbe: Probe = {
  name: 'mysql',
  defaultPorts: [3306],
  transport: 'tcp',
  description: 'MySQL and MariaDB: reads the server greeting; with authorization, checks root with an empty password',
  allowedCommands: Object.values(MysqlCommand),
  probe(target: Target, ctx: ProbeContext): Promise<ProbeResult> {
    return runProbe(this, target, ctx, async (run) => {
      const session = await run.connect();
      let greeting: Greeting;
      try {
        greeting = await session.read(decodeGreeting);
      } catch (err) {
        if (err instanceof ProtocolError) run.setEvidence(session.peek());
        throw err;
      }
      if (greeting.kind === 'err') {
        recordErrGreeting(run, greeting);
        return;
      }
      run.result.product = greeting.product;
      run.result.version = greeting.version;
      run.result.metadata.protocolVersion = greeting.protocolVersion;
      run.result.metadata.serverVersion = greeting.rawServerVersion;
      run.result.metadata.connectionId = greeting.connectionId;
      if (greeting.protocolVersion === 9) {
        run.result.auth = AuthVerdict.authRequired;
        run.setEvidence('greeting: protocol 9, pre-4.1 password scramble');
        return;
      }
      recordHandshake(run, greeting);
      run.result.auth = AuthVerdict.authRequired;
      run.setEvidence(greetingEvidence(greeting));
      // Both switches, or not a byte is sent: the session closes without even COM_QUIT.
      if (!(ctx.checkDefaultCredentials && ctx.authorized)) return;
      const loggedIn = await tryEmptyRootPassword(run, session, greeting);
      if (!loggedIn) return;
      await readInventory(run, session);
      if (ctx.sample) await sampleMysql(run, session);
      try {
        session.send(MysqlCommand.quit, encodeQuit());
      } catch {
        // A sampling read that hit the read cap closed the connection already.
      }
    });
  },
};

function recordErrGreeting(run: ProbeRun, err: ErrPacket): void {
  if (/mariadb/i.test(err.message)) run.result.product = 'MariaDB';
  else if (/mysql/i.test(err.message)) run.result.product = 'MySQL';
  run.result.metadata.greetingError = { code: err.code, message: err.message };
  // "Host … is not allowed to connect" refuses this client; "Too many connections" and others say nothing about auth.
  run.result.auth = HOST_REFUSED_CODES.has(err.code) ? AuthVerdict.authRequired : AuthVerdict.inconclusive;
  run.setEvidence(`greeting: ${formatErr(err)}`);
}

function recordHandshake(run: ProbeRun, g: HandshakeV10): void {
  const m = run.result.metadata;
  m.capabilities = capabilityNames(g.capabilities);
  m.capabilityFlags = g.capabilities;
  if (g.mariaDbCapabilities !== undefined) m.mariaDbCapabilities = mariaDbCapabilityNames(g.mariaDbCapabilities);
  if (g.authPluginName !== undefined) m.authPlugin = g.authPluginName;
  m.characterSet = g.characterSet;
  const collation = COLLATIONS[g.characterSet];
  if (collation) m.characterSetName = collation;
  m.statusFlags = g.statusFlags;
  m.tls = (g.capabilities & Capability.SSL) !== 0;
}

function greetingEvidence(g: HandshakeV10): string {
  if (g.authPluginName) return `greeting: auth plugin ${g.authPluginName}`;
  if (g.capabilities & Capability.SECURE_CONNECTION) return 'greeting: 4.1 password authentication (no auth plugin named)';
  return 'greeting: pre-4.1 password authentication';
}

/**
 * One login attempt: `root`, empty password, as mysql_native_password (empty auth response). Follows one
 * AuthSwitchRequest only to a plugin whose empty-password response is empty; anything needing a real
 * secret (caching_sha2 full auth, ed25519, PAM dialog, cleartext) stops the attempt. Returns true on OK.
 */
async function tryEmptyRootPassword(run: ProbeRun, session: Session, g: HandshakeV10): Promise<boolean> {
  const m = run.result.metadata;
  const needed = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION;
  if ((g.capabilities & needed) !== needed) {
    m.defaultCredentialCheck = 'skipped: server predates the 4.1 protocol';
    return false;
  }
  session.send(
    MysqlCommand.handshakeResponse,
    encodeHandshakeResponse41({
      clientCapabilities: PROBE_CLIENT_CAPABILITIES,
      serverCapabilities: g.capabilities,
      username: DEFAULT_USER,
      authResponse: new Uint8Array(0),
      authPluginName: 'mysql_native_password',
      characterSet: CHARSET_UTF8MB4_GENERAL_CI,
      maxPacketSize: MAX_PACKET_SIZE,
      connectAttributes: { _client_name: 'lockdown', program_name: run.ctx.clientName },
      sequenceId: 1,
    }),
  );
  let seq = 2;
  let reply: AuthReply = await session.read(authReplyDecoder(seq++));
  if (reply.kind === 'auth-switch') {
    if (!EMPTY_RESPONSE_PLUGINS.has(reply.pluginName)) return stopLogin(run, `server asked for auth plugin ${reply.pluginName}`);
    session.send(MysqlCommand.authSwitchResponse, encodePacket(seq++, new Uint8Array(0)));
    reply = await session.read(authReplyDecoder(seq++));
  }
  if (reply.kind === 'auth-more-data') {
    // caching_sha2_password: 0x03 = fast auth succeeded (an OK follows), 0x04 = full auth, which needs the password.
    if (reply.data[0] !== 0x03) return stopLogin(run, 'server asked for caching_sha2_password full authentication');
    reply = await session.read(authReplyDecoder(seq++));
  }
  switch (reply.kind) {
    case 'ok':
      run.result.auth = AuthVerdict.open;
      m.defaultCredentials = `${DEFAULT_USER} with empty password`;
      m.defaultCredentialCheck = 'accepted';
      run.setEvidence(`login as ${DEFAULT_USER} with empty password: OK`);
      return true;
    case 'err':
      // 1045 is "access denied"; anything else (e.g. 3159 insecure transport prohibited) is kept as the evidence too.
      m.defaultCredentialCheck = reply.code === 1045 ? 'refused' : `failed: ERR ${reply.code}`;
      run.setEvidence(formatErr(reply));
      return false;
    default:
      return stopLogin(run, `unexpected ${reply.kind} during login`);
  }
}

function stopLogin(run: ProbeRun, why: string): false {
  run.result.metadata.defaultCredentialCheck = `stopped: ${why}`;
  run.setEvidence(`login as ${DEFAULT_USER} with empty password: ${why}`);
  return false;
}

async function query(run: ProbeRun, session: Session, command: QueryCommand): Promise<QueryReply> {
  session.send(command, encodeQuery(MYSQL_QUERIES[command]));
  const reply = await session.read(decodeQueryReply);
  if (reply.kind === 'err') run.result.errors.push(`${command} failed: ${formatErr(reply)}`);
  return reply;
}

function count(v: string | null | undefined): number | null {
  if (v === null || v === undefined || !/^\d+(\.\d+)?$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(Math.trunc(n)) ? Math.trunc(n) : null;
}

/** The database list as the normalised inventory. Table counts stay in metadata (an entry has no field for them). */
export function inventoryOf(databases: readonly DatabaseInfo[]): Inventory {
  const namespaces: InventoryEntry[] = databases.map((d) => ({
    path: [d.name],
    kind: 'database' as const,
    ...(d.rows !== null ? { records: d.rows } : {}),
    ...(d.bytes !== null ? { bytes: d.bytes } : {}),
  }));
  const inventory: Inventory = { namespaces };
  const rows = databases.filter((d) => d.rows !== null);
  const bytes = databases.filter((d) => d.bytes !== null);
  if (rows.length > 0) inventory.records = rows.reduce((s, d) => s + (d.rows ?? 0), 0);
  if (bytes.length > 0) inventory.bytes = bytes.reduce((s, d) => s + (d.bytes ?? 0), 0);
  return inventory;
}

/** After an accepted login: the database list with table counts and sizes, and the version comment. */
async function readInventory(run: ProbeRun, session: Session): Promise<void> {
  const byName = new Map<string, DatabaseInfo>();
  const names = await query(run, session, MysqlCommand.showDatabases);
  if (names.kind === 'resultset') {
    for (const [name] of names.rows) if (name != null) byName.set(name, { name, tables: 0, rows: 0, bytes: 0 });
  }
  const sizes = await query(run, session, MysqlCommand.schemaSizes);
  if (sizes.kind === 'resultset') {
    for (const [name, tables, rows, bytes] of sizes.rows) {
      if (name == null) continue;
      byName.set(name, { name, tables: count(tables) ?? 0, rows: count(rows), bytes: count(bytes) });
    }
  }
  const databases = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  run.result.metadata.databases = databases;
  run.result.inventory = inventoryOf(databases);
  const version = await query(run, session, MysqlCommand.version);
  if (version.kind === 'resultset' && version.rows[0]) {
    const [v, comment] = version.rows[0];
    if (v) run.result.metadata.versionVariable = v;
    if (comment) run.result.metadata.versionComment = comment;
  }
  run.setEvidence(
    `login as ${DEFAULT_USER} with empty password: OK; SHOW DATABASES: ${databases.map((d) => d.name).join(', ') || '(none)'}`,
  );
}
