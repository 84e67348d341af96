/**
 * The only CQL the Cassandra probe ever sends: fixed, read-only SELECTs on system tables, each on the
 * module's allow-list as `QUERY:<name>` and each with a page size, so a huge schema costs one bounded page.
 * Nothing user-controlled is ever part of the text. Also the pure functions that turn their rows into
 * metadata and peers.
 *
 * Row counts are deliberately absent: `SELECT COUNT(*)` is a full scan of every replica's data in
 * Cassandra, nothing a probe may cause. `system.size_estimates` (estimated partitions) is not read either:
 * it holds one row per token range per table (256 vnodes × a few hundred tables is 10^5 rows, so one
 * bounded page would give a misleading partial sum), it is only refreshed every `size_recorder_interval`
 * (5 minutes) and it counts flushed SSTables only, so a freshly written table shows 0.
 */
import { type Peer } from '../../core/types.js';
import { type CqlValue, rowObjects, type RowsResult } from './codec.js';

export interface CqlQuery {
  /** Allow-list name, as it appears in `ProbeResult.commands`. */
  command: string;
  cql: string;
  pageSize: number;
}

export const QUERIES = {
  /** This node: version, cluster and placement. One row. */
  local: {
    command: 'QUERY:system.local',
    cql: 'SELECT release_version, cluster_name, data_center, rack, partitioner FROM system.local',
    pageSize: 10,
  },
  /** Keyspaces and their replication (Cassandra 3.0+). */
  keyspaces: {
    command: 'QUERY:keyspaces',
    cql: 'SELECT keyspace_name, replication FROM system_schema.keyspaces',
    pageSize: 1000,
  },
  /** Tables of every keyspace (Cassandra 3.0+). */
  tables: {
    command: 'QUERY:tables',
    cql: 'SELECT keyspace_name, table_name FROM system_schema.tables',
    pageSize: 5000,
  },
  /** Other nodes of the cluster with their CQL address and port (Cassandra 4.0+). */
  peersV2: {
    command: 'QUERY:peers_v2',
    cql: 'SELECT peer, native_address, native_port, data_center, rack, release_version FROM system.peers_v2',
    pageSize: 1000,
  },
  /** Other nodes before 4.0 (no CQL port recorded). */
  peers: {
    command: 'QUERY:peers',
    cql: 'SELECT peer, rpc_address, data_center, rack, release_version FROM system.peers',
    pageSize: 1000,
  },
  /** Keyspaces before 3.0 (no system_schema yet); strategy_options is JSON text. */
  legacyKeyspaces: {
    command: 'QUERY:schema_keyspaces',
    cql: 'SELECT keyspace_name, strategy_class, strategy_options FROM system.schema_keyspaces',
    pageSize: 1000,
  },
  /** Tables before 3.0. */
  legacyTables: {
    command: 'QUERY:schema_columnfamilies',
    cql: 'SELECT keyspace_name, columnfamily_name FROM system.schema_columnfamilies',
    pageSize: 5000,
  },
} as const satisfies Record<string, CqlQuery>;
export type QueryName = keyof typeof QUERIES;

/**
 * Keyspaces that Cassandra, ScyllaDB and DataStax Enterprise create for themselves. Anything else was
 * created by someone using the cluster (including ransom-note keyspaces left by attackers).
 */
const SYSTEM_KEYSPACES: ReadonlySet<string> = new Set(['system', 'solr_admin', 'cfs', 'cfs_archive', 'HiveMetaStore', 'dsefs']);

export function isSystemKeyspace(name: string): boolean {
  return SYSTEM_KEYSPACES.has(name) || name.startsWith('system_') || name.startsWith('dse_');
}

export interface LocalInfo {
  releaseVersion?: string;
  clusterName?: string;
  dataCenter?: string;
  rack?: string;
  partitioner?: string;
}

export function parseLocal(result: RowsResult): LocalInfo {
  const row = rowObjects(result)[0];
  if (!row) return {};
  const out: LocalInfo = {};
  const set = (key: keyof LocalInfo, v: CqlValue | undefined): void => {
    if (typeof v === 'string' && v !== '') out[key] = v;
  };
  set('releaseVersion', row.release_version);
  set('clusterName', row.cluster_name);
  set('dataCenter', row.data_center);
  set('rack', row.rack);
  set('partitioner', row.partitioner);
  return out;
}

export interface KeyspaceInfo {
  name: string;
  /** Replication options, e.g. `{ class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' }`. */
  replication: Record<string, string>;
  /** Created by the server itself (see `isSystemKeyspace`). */
  system: boolean;
}

/** Keyspaces from system_schema.keyspaces (`replication` map) or, legacy, system.schema_keyspaces. Sorted by name. */
export function parseKeyspaces(result: RowsResult): KeyspaceInfo[] {
  const out: KeyspaceInfo[] = [];
  for (const row of rowObjects(result)) {
    const name = row.keyspace_name;
    if (typeof name !== 'string') continue;
    out.push({ name, replication: replicationOf(row), system: isSystemKeyspace(name) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function replicationOf(row: Record<string, CqlValue>): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: unknown): void => {
    if (typeof v === 'string' || typeof v === 'number') Object.defineProperty(out, k, { value: String(v), enumerable: true, writable: true, configurable: true });
  };
  const map = row.replication;
  if (map && typeof map === 'object' && !Array.isArray(map)) for (const [k, v] of Object.entries(map)) put(k, v);
  if (typeof row.strategy_class === 'string') {
    put('class', row.strategy_class);
    if (typeof row.strategy_options === 'string') {
      try {
        const opts: unknown = JSON.parse(row.strategy_options);
        if (opts && typeof opts === 'object' && !Array.isArray(opts)) for (const [k, v] of Object.entries(opts)) put(k, v);
      } catch {
        // Not JSON: keep the class alone.
      }
    }
  }
  return out;
}

export interface TablesInfo {
  /** Table names of each non-system keyspace, sorted. */
  tables: Record<string, string[]>;
  /** Tables in non-system keyspaces. */
  userTableCount: number;
  /** Tables in system keyspaces (counted, not listed). */
  systemTableCount: number;
}

/** Tables from system_schema.tables (`table_name`) or, legacy, system.schema_columnfamilies (`columnfamily_name`). */
export function parseTables(result: RowsResult): TablesInfo {
  const byKeyspace = new Map<string, string[]>();
  let systemTableCount = 0;
  let userTableCount = 0;
  for (const row of rowObjects(result)) {
    const ks = row.keyspace_name;
    const table = row.table_name ?? row.columnfamily_name;
    if (typeof ks !== 'string' || typeof table !== 'string') continue;
    if (isSystemKeyspace(ks)) {
      systemTableCount++;
      continue;
    }
    userTableCount++;
    const list = byKeyspace.get(ks) ?? [];
    list.push(table);
    byKeyspace.set(ks, list);
  }
  const tables = Object.fromEntries([...byKeyspace.keys()].sort().map((ks) => [ks, byKeyspace.get(ks)!.sort()]));
  return { tables, userTableCount, systemTableCount };
}

const ANY_ADDRESS = new Set(['0.0.0.0', '::']);

/**
 * Cluster peers. peers_v2: host `native_address` (the address clients use) with `native_port`; when the
 * node binds its CQL port to the any-address, the gossip address `peer` instead (still with native_port).
 * Legacy peers: `rpc_address` (or `peer`), no port — the table does not record the CQL port.
 */
export function peersFromRows(result: RowsResult, table: 'system.peers_v2' | 'system.peers'): Peer[] {
  const peers: Peer[] = [];
  const addressColumn = table === 'system.peers_v2' ? 'native_address' : 'rpc_address';
  for (const row of rowObjects(result)) {
    const client = row[addressColumn];
    const gossip = row.peer;
    let host: string | undefined;
    let column: string = addressColumn;
    if (typeof client === 'string' && !ANY_ADDRESS.has(client)) host = client;
    else if (typeof gossip === 'string') {
      host = gossip;
      column = 'peer';
    }
    if (host === undefined) continue;
    const peer: Peer = { host, role: 'peer', source: `${table}: ${column}` };
    if (table === 'system.peers_v2' && typeof row.native_port === 'number' && row.native_port > 0) peer.port = row.native_port;
    peers.push(peer);
  }
  return peers;
}
