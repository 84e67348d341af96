/**
 * The only SQL the PostgreSQL probe ever sends: fixed, read-only catalog queries, each on the module's
 * allow-list as `Query:<name>`. Nothing user-controlled is ever part of the text. Also the pure functions
 * that turn their text-format rows into metadata and peers.
 */
import { type Peer } from '../../core/types.js';

export const QUERIES = {
  /** Full server banner, e.g. `PostgreSQL 15.14 (Debian 15.14-0+deb12u1) on x86_64-pc-linux-gnu, …`. */
  version: 'SELECT version()',
  /** Who we are (the probe logs in as `postgres`), whether that is a superuser, and whether this is a standby. */
  session: "SELECT current_user, current_setting('is_superuser'), pg_is_in_recovery()",
  /**
   * Non-template databases with their sizes, biggest first, and the total count (window count runs before
   * LIMIT). pg_database_size() raises "permission denied" for a database the role may not CONNECT to, which
   * would fail the whole query for a non-superuser; the CASE only sizes databases we may connect to and
   * leaves the others NULL, so the names (public in pg_database anyway) are still listed.
   */
  databases:
    "SELECT datname, CASE WHEN has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid) END, count(*) OVER () " +
    'FROM pg_database WHERE NOT datistemplate ORDER BY 2 DESC NULLS LAST, 1 LIMIT 200',
  /** Standbys streaming from this server (a primary). client_addr is NULL for Unix-socket replicas. */
  replication: 'SELECT client_addr, application_name, state FROM pg_stat_replication LIMIT 100',
  /** The primary this standby streams from (pg_stat_wal_receiver.sender_host/port exist since PostgreSQL 11). */
  walReceiver: 'SELECT sender_host, sender_port FROM pg_stat_wal_receiver',
} as const;
export type QueryName = keyof typeof QUERIES;

/** Allow-list name of a query: stable, readable in `ProbeResult.commands`. */
export const QUERY_COMMANDS: Record<QueryName, string> = {
  version: 'Query:version',
  session: 'Query:session',
  databases: 'Query:databases',
  replication: 'Query:replication',
  walReceiver: 'Query:wal_receiver',
};

export type Row = readonly (string | null)[];

export interface DatabaseInfo {
  name: string;
  /** pg_database_size(); null when the role may not connect to that database. */
  sizeBytes: number | null;
}

export function parseDatabases(rows: readonly Row[]): { databases: DatabaseInfo[]; total: number } {
  const databases: DatabaseInfo[] = [];
  let total = 0;
  for (const r of rows) {
    const name = r[0];
    if (name == null) continue;
    databases.push({ name, sizeBytes: toNumber(r[1]) });
    total = toNumber(r[2]) ?? total;
  }
  return { databases, total: Math.max(total, databases.length) };
}

export interface SessionInfo {
  currentUser?: string;
  superuser?: boolean;
  inRecovery?: boolean;
}

export function parseSession(rows: readonly Row[]): SessionInfo {
  const r = rows[0];
  if (!r) return {};
  const out: SessionInfo = {};
  if (r[0] != null) out.currentUser = r[0];
  if (r[1] != null) out.superuser = r[1] === 'on';
  if (r[2] != null) out.inRecovery = r[2] === 't';
  return out;
}

export function replicaPeers(rows: readonly Row[]): Peer[] {
  const peers: Peer[] = [];
  for (const [addr, app, state] of rows) {
    if (addr == null) continue;
    peers.push({ host: addr, role: 'replica', source: `pg_stat_replication: application_name=${app ?? ''}, state=${state ?? ''}` });
  }
  return peers;
}

export function primaryPeers(rows: readonly Row[]): Peer[] {
  const peers: Peer[] = [];
  for (const [host, port] of rows) {
    if (host == null) continue;
    const p = toNumber(port);
    peers.push({ host, ...(p != null && p > 0 && p < 65536 ? { port: p } : {}), role: 'primary', source: 'pg_stat_wal_receiver' });
  }
  return peers;
}

function toNumber(v: string | null | undefined): number | null {
  if (v == null || !/^-?\d+$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}
