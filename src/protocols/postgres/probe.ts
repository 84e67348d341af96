/**
 * PostgreSQL probe: does the server let `postgres` in without a password, and if so, what does it hold?
 *
 * Conversation: SSLRequest ('S' → TLS upgrade, 'N' → plaintext) → StartupMessage (user `postgres`,
 * database `postgres`, `default_transaction_read_only=on` so even a mistaken write would be refused, and a
 * statement_timeout so the server stops working once we have given up) → on AuthenticationOk, fixed catalog
 * queries from queries.ts → Terminate. It never answers an authentication request: no password is ever sent.
 *
 * Result fields and where they come from:
 * - `auth`: `open` when the server sent AuthenticationOk and ReadyForQuery (trust: no credentials asked);
 *   `auth_required` on any authentication request (MD5, SASL/SCRAM, cleartext, GSS, SSPI, Kerberos…) or a
 *   startup ErrorResponse of class 28 before AuthenticationOk (pg_hba.conf has no entry for / rejects us);
 *   `inconclusive` for other startup errors (too many connections 53300, starting up 57P03, role missing or not
 *   allowed to log in after AuthenticationOk, unsupported protocol…) and for a pre-3.0 server.
 * - `product`: `PostgreSQL`, or the first word of `SELECT version()` when that names another product
 *   (e.g. CockroachDB, which speaks the same protocol).
 * - `version`: the `server_version` ParameterStatus. PostgreSQL only sends it after authentication, so when
 *   authentication is required there is no version.
 * - `evidence`: the authentication request (e.g. `AuthenticationSASL [SCRAM-SHA-256]`), the startup error
 *   (`FATAL 28000: no pg_hba.conf entry for host …`) or `AuthenticationOk; ReadyForQuery; server_version=…`.
 * - `metadata`:
 *   `tls` (the SSLRequest was accepted and TLS is in use), `protocol` (`3.0`, or `2.0` for a pre-7.4 server),
 *   `authMethod` (`trust` for AuthenticationOk — also what an ident/cert rule that accepted us looks like —,
 *   `md5`, `scram-sha-256`, `sasl`, `password`, `gss`, `sspi`, `kerberos`, `scm`, or `hba-reject`),
 *   `authRequest` (the message name), `saslMechanisms`, `startupError` (severity, SQLSTATE code, message,
 *   detail, hint), `database` (the database logged in to: `postgres`, or `template1` when `postgres` is
 *   missing), `parameters` (every ParameterStatus: server_version, server_encoding, TimeZone…),
 *   `versionString` (SELECT version()), `currentUser`, `superuser`, `inRecovery` (a standby),
 *   `databases` ([{ name, sizeBytes }] biggest first, at most 200; sizeBytes null where we may not connect),
 *   `databaseCount` (all non-template databases).
 * - `inventory`: the databases listed (kind `database`, bytes = pg_database_size where known), bytes = their sum,
 *   `truncated` when more exist than the 200 listed; with sampling, also each table listed for sampling
 *   ([db, schema, table], kind `table`, bytes, estimated rows, column names of the sampled ones).
 * - `sample`: only with `ctx.sample` (inside `scope.authorized`): the redacted result of reading the first rows
 *   of the largest tables, one extra connection per database (sample.ts); `metadata.sampling` its counts.
 * - `peers`: standbys from pg_stat_replication (role `replica`, host = client_addr as the primary sees it)
 *   and, on a standby, the primary from pg_stat_wal_receiver (role `primary`).
 */
import { errorMessage, LockdownError, ProtocolError } from '../../core/errors.js';
import { AuthVerdict, type Inventory, type Probe, type ProbeContext, type ProbeResult, type Target } from '../../core/types.js';
import { runProbe, type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import {
  AuthCode,
  type BackendMessage,
  decodeBackendMessage,
  decodeSslResponse,
  decodeStartupReply,
  describeAuth,
  describeError,
  encodeQuery,
  encodeSslRequest,
  encodeStartupMessage,
  encodeTerminate,
  type ErrorFields,
  MAX_MESSAGE,
} from './codec.js';
import {
  parseDatabases,
  parseSession,
  primaryPeers,
  QUERIES,
  QUERY_COMMANDS,
  type QueryName,
  replicaPeers,
  type Row,
  type DatabaseInfo,
} from './queries.js';
import { SAMPLE_QUERY_COMMANDS, samplePostgres } from './sample.js';

const PRODUCT = 'PostgreSQL';
const USER = 'postgres';
/** `postgres` exists on every default install; `template1` on every install at all. */
const DATABASES = ['postgres', 'template1'] as const;
/** Rows kept per query; every query also has its own LIMIT. */
const MAX_ROWS = 1000;
/** ParameterStatus entries kept (a server sends ~15). */
const MAX_PARAMETERS = 64;

/** The sampling queries (`Query:sample_tables`, `Query:sample_rows`) go out only with `ctx.sample`. */
const ALLOWED = ['SSLRequest', 'StartupMessage', ...Object.values(QUERY_COMMANDS), ...Object.values(SAMPLE_QUERY_COMMANDS), 'Terminate'] as const;

type AuthRequest = Extract<BackendMessage, { type: 'authentication' }>;

/** How the startup phase ended. */
type Startup =
  | { kind: 'ready'; params: Record<string, string> }
  | { kind: 'auth-request'; msg: AuthRequest }
  | { kind: 'error'; fields: ErrorFields; afterAuthOk: boolean }
  | { kind: 'legacy'; text: string };

export const postgresProbe: Probe = {
  name: 'postgres',
  defaultPorts: [5432],
  transport: 'tcp',
  description: 'PostgreSQL: SSLRequest + StartupMessage as postgres; trust → read-only catalog queries (version, databases, replication)',
  allowedCommands: ALLOWED,
  probe(target: Target, ctx: ProbeContext): Promise<ProbeResult> {
    return runProbe(postgresProbe, target, ctx, (run) => probePostgres(run));
  },
};

async function probePostgres(run: ProbeRun): Promise<void> {
  const r = run.result;
  for (const database of DATABASES) {
    const session = await openSession(run);
    const startup = await startSession(run, session, database);
    r.product = PRODUCT;
    r.metadata.protocol = startup.kind === 'legacy' ? '2.0' : '3.0';

    switch (startup.kind) {
      case 'legacy':
        r.auth = AuthVerdict.inconclusive;
        run.setEvidence(startup.text);
        r.errors.push('Server speaks only the pre-3.0 protocol (PostgreSQL older than 7.4)');
        return;
      case 'auth-request':
        // No Terminate here: mid-authentication the server expects a password message and would log a
        // protocol violation; closing the socket is what libpq does when it has no password to give.
        recordAuthRequest(run, startup.msg);
        return;
      case 'error': {
        const f = startup.fields;
        r.metadata.startupError = { ...f };
        const text = describeError(f);
        run.setEvidence(startup.afterAuthOk ? `AuthenticationOk, then ${text}` : text);
        if (startup.afterAuthOk) {
          r.metadata.authMethod = 'trust';
          // AuthenticationOk for postgres, then no such database: the role is in; try the other database.
          if (f.code === '3D000' && database !== DATABASES[DATABASES.length - 1]) {
            session.close();
            continue;
          }
          // 28000 after AuthenticationOk: role missing or not allowed to log in. No password was asked,
          // but nothing could be read: not proven open.
          r.auth = AuthVerdict.inconclusive;
        } else if (f.code?.startsWith('28')) {
          // 28000 before any authentication request: pg_hba.conf has no entry for us or says reject.
          r.auth = AuthVerdict.authRequired;
          r.metadata.authMethod = 'hba-reject';
        } else {
          r.auth = AuthVerdict.inconclusive;
        }
        return;
      }
      case 'ready': {
        // A `postgres`-database-missing error from the first attempt is history once template1 let us in.
        delete r.metadata.startupError;
        r.metadata.database = database;
        r.metadata.parameters = startup.params;
        await readCatalog(run, session);
        terminate(session);
        session.close();
        const databases = r.metadata.databases as DatabaseInfo[] | undefined;
        if (run.ctx.sample && databases) await samplePostgres(run, databases, (db) => sampleSession(run, db));
        return;
      }
    }
  }
}

/** A session on `database` for sampling, or undefined (error noted) when it does not let us in. */
async function sampleSession(run: ProbeRun, database: string): Promise<Session | undefined> {
  const session = await openSession(run, true);
  const startup = await startSession(run, session, database);
  if (startup.kind === 'ready') return session;
  session.close();
  const why = startup.kind === 'error' ? `SQLSTATE ${startup.fields.code ?? '?'}` : startup.kind === 'auth-request' ? startup.msg.name : 'legacy protocol';
  run.result.errors.push(`Sampling ${database}: not let in (${why})`);
  return undefined;
}

/**
 * Connect and negotiate TLS. Returns a session ready for the StartupMessage. `quiet` (sampling connections):
 * the TLS outcome and retries were already recorded by the probe's own connection.
 */
async function openSession(run: ProbeRun, quiet = false): Promise<Session> {
  const note = (text: string, tls: boolean): void => {
    if (quiet) return;
    if (text !== '') run.result.errors.push(text);
    run.result.metadata.tls = tls;
  };
  const session = await run.connect();
  session.send('SSLRequest', encodeSslRequest());
  const answer = await session.read(decodeSslResponse);
  if (answer === 'E') {
    // Servers older than 7.1 do not know SSLRequest and answer with an error: start over without it.
    note(`Server answered SSLRequest with an error (${JSON.stringify(session.peek(200).toString('latin1'))}); retried without TLS`, false);
    session.close();
    return run.connect();
  }
  // A real server says nothing more until we speak. Bytes already here are someone else's banner
  // (SSH-2.0… starts with 'S') or an injection before the TLS handshake (CVE-2021-23222).
  if (session.peek(1).length > 0) throw new ProtocolError(`Server sent unexpected bytes after answering SSLRequest with '${answer}'`);
  if (answer === 'N') {
    note('', false);
    return session;
  }
  try {
    await session.upgradeTls(run.target.hostname);
    note('', true);
    return session;
  } catch (err) {
    if (run.aborted || err instanceof LockdownError) throw err;
    // OpenSSL messages carry source paths and newlines; the code (ERR_SSL_WRONG_VERSION_NUMBER …) says it better.
    const code = (err as NodeJS.ErrnoException).code;
    const why = code ?? errorMessage(err).replace(/\s+/g, ' ').trim();
    note(`TLS handshake failed after the server accepted SSLRequest (${why}); retried in plaintext`, false);
    session.close();
    return run.connect();
  }
}

async function startSession(run: ProbeRun, session: Session, database: string): Promise<Startup> {
  const ctx = run.ctx;
  session.send(
    'StartupMessage',
    encodeStartupMessage({
      user: USER,
      database,
      application_name: ctx.clientName,
      client_encoding: 'UTF8',
      options: `-c default_transaction_read_only=on -c statement_timeout=${Math.max(100, Math.floor(ctx.timeoutMs))}`,
    }),
  );
  const maxLength = Math.min(MAX_MESSAGE, ctx.readCap);
  const params: Record<string, string> = {};
  let authOk = false;
  for (;;) {
    const msg = await session.read((buf) => decodeStartupReply(buf, maxLength));
    switch (msg.type) {
      case 'legacy-error':
        return { kind: 'legacy', text: msg.text };
      case 'authentication':
        if (msg.code !== AuthCode.ok) return { kind: 'auth-request', msg };
        authOk = true;
        break;
      case 'error':
        return { kind: 'error', fields: msg.fields, afterAuthOk: authOk };
      case 'parameter-status':
        if (Object.keys(params).length < MAX_PARAMETERS) params[msg.name] = msg.value.slice(0, 256);
        break;
      case 'ready-for-query':
        if (!authOk) throw new ProtocolError('Server sent ReadyForQuery without authenticating the client');
        return { kind: 'ready', params };
      default:
        break; // BackendKeyData, NoticeResponse, NegotiateProtocolVersion: nothing to decide on
    }
  }
}

function recordAuthRequest(run: ProbeRun, msg: AuthRequest): void {
  const m = run.result.metadata;
  run.result.auth = AuthVerdict.authRequired;
  run.setEvidence(describeAuth(msg));
  m.authRequest = msg.name;
  if (msg.mechanisms) m.saslMechanisms = msg.mechanisms;
  m.authMethod = authMethodName(msg);
}

function authMethodName(msg: AuthRequest): string {
  switch (msg.code) {
    case AuthCode.cleartextPassword:
      return 'password';
    case AuthCode.md5Password:
      return 'md5';
    case AuthCode.sasl:
      return msg.mechanisms?.some((x) => x.startsWith('SCRAM-SHA-256')) ? 'scram-sha-256' : 'sasl';
    case AuthCode.gss:
    case AuthCode.gssContinue:
      return 'gss';
    case AuthCode.sspi:
      return 'sspi';
    case AuthCode.kerberosV5:
      return 'kerberos';
    case AuthCode.scmCredential:
      return 'scm';
    default:
      return 'sasl';
  }
}

/** Logged in without a password: the verdict is `open`; then read what an attacker would see first. */
async function readCatalog(run: ProbeRun, session: Session): Promise<void> {
  const r = run.result;
  const m = r.metadata;
  const params = (m.parameters ?? {}) as Record<string, string>;
  r.auth = AuthVerdict.open;
  m.authMethod = 'trust';
  if (params.server_version) r.version = params.server_version;
  run.setEvidence(`AuthenticationOk; ReadyForQuery${params.server_version ? `; server_version=${params.server_version}` : ''}`);

  const version = await query(run, session, 'version');
  const banner = version?.[0]?.[0];
  if (banner) {
    m.versionString = banner;
    const first = /^[A-Za-z][\w.-]*/.exec(banner)?.[0];
    if (first && first !== PRODUCT) r.product = first;
  }

  const sessionRows = await query(run, session, 'session');
  const info = sessionRows ? parseSession(sessionRows) : {};
  Object.assign(m, info);

  const dbRows = await query(run, session, 'databases');
  if (dbRows) {
    const { databases, total } = parseDatabases(dbRows);
    m.databases = databases;
    m.databaseCount = total;
    r.inventory = inventoryOf(databases, total);
  }

  const replicas = await query(run, session, 'replication');
  if (replicas) r.peers.push(...replicaPeers(replicas));
  // Only a standby has a WAL receiver; skip the round trip on a known primary.
  if (info.inRecovery !== false) {
    const upstream = await query(run, session, 'walReceiver');
    if (upstream) r.peers.push(...primaryPeers(upstream));
  }
}

/** The database list as the normalised inventory (names and sizes). */
function inventoryOf(databases: readonly DatabaseInfo[], total: number): Inventory {
  const inventory: Inventory = {
    namespaces: databases.map((d) => ({ path: [d.name], kind: 'database' as const, ...(d.sizeBytes !== null ? { bytes: d.sizeBytes } : {}) })),
  };
  const sized = databases.filter((d) => d.sizeBytes !== null);
  if (sized.length > 0) inventory.bytes = sized.reduce((sum, d) => sum + (d.sizeBytes ?? 0), 0);
  if (total > databases.length) inventory.truncated = true;
  return inventory;
}

/**
 * Run one fixed query with the simple-query protocol and collect its rows (text format). A server-side
 * ERROR (permission denied, missing view on an old version) is recorded in `errors` and yields `undefined`;
 * the session stays usable because the server still ends the cycle with ReadyForQuery.
 */
async function query(run: ProbeRun, session: Session, name: QueryName): Promise<Row[] | undefined> {
  session.send(QUERY_COMMANDS[name], encodeQuery(QUERIES[name]));
  const maxLength = Math.min(MAX_MESSAGE, run.ctx.readCap);
  const rows: Row[] = [];
  let failure: ErrorFields | undefined;
  for (;;) {
    const msg = await session.read((buf) => decodeBackendMessage(buf, maxLength));
    switch (msg.type) {
      case 'data-row':
        if (rows.length < MAX_ROWS) rows.push(msg.values);
        break;
      case 'error':
        failure = msg.fields;
        break;
      case 'ready-for-query':
        if (failure) {
          run.result.errors.push(`${QUERY_COMMANDS[name]} failed: ${describeError(failure)}`);
          return undefined;
        }
        return rows;
      case 'row-description':
      case 'command-complete':
      case 'empty-query-response':
      case 'notice':
      case 'parameter-status':
      case 'other':
        break;
      default:
        throw new ProtocolError(`Unexpected PostgreSQL message '${msg.type}' in reply to ${QUERY_COMMANDS[name]}`);
    }
  }
}

/** Say goodbye politely so the server logs a clean disconnect rather than an EOF. */
function terminate(session: Session): void {
  try {
    session.send('Terminate', encodeTerminate());
  } catch {
    // The server already closed: nothing to terminate.
  }
}
