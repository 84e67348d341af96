import { type Generated, type Insertable, type Selectable } from 'kysely';

/**
 * Kysely table types. Column types are the ones both SQLite and PostgreSQL give back:
 * JSON is stored as text, times as ISO 8601 UTC text (`Date#toISOString()`, so text order is time order),
 * booleans (none yet) as integers. Counters are `bigint` columns in the schema because a scan of a large
 * range can pass 2^31 work items; the `pg` driver returns those as strings, hence `number | string` on the
 * select side and a `Number()` in the mappers.
 */
export interface Database {
  scans: ScansTable;
  scan_done: ScanDoneTable;
  hosts: HostsTable;
  findings: FindingsTable;
  observations: ObservationsTable;
  audit_log: AuditLogTable;
  imports: ImportsTable;
  candidates: CandidatesTable;
}

/** A column the database may give back as a string (PostgreSQL int8) although we always write numbers. */
type BigIntColumn = number | string;

export interface ScansTable {
  /** Sortable id, e.g. `s-20261125-123456-ab12`. */
  id: string;
  state: string;
  /** JSON text: everything needed to rebuild the same work list. */
  spec: string;
  total_items: BigIntColumn;
  watermark: BigIntColumn;
  done_count: BigIntColumn;
  answered_count: BigIntColumn;
  open_count: BigIntColumn;
  operator: string;
  command_line: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** Positions done at or above the scan's watermark; rows below it are deleted when it advances. */
export interface ScanDoneTable {
  scan_id: string;
  position: BigIntColumn;
}

export interface HostsTable {
  /** IP literal as the scanner gave it. */
  host: string;
  /** Sort and range key: 32 hex digits of the 16-byte address (IPv4 as ::ffff:a.b.c.d); see `hostKey`. */
  host_key: string;
  hostname: string | null;
  first_seen: string;
  last_seen: string;
  /** Added by 0004_honeypot: JSON text of the honeypot suspicions for this host, or null. */
  honeypot: string | null;
}

export interface FindingsTable {
  id: Generated<number>;
  host: string;
  host_key: string;
  port: number;
  module: string;
  hostname: string | null;
  status: string;
  auth: string | null;
  product: string | null;
  version: string | null;
  evidence: string | null;
  /** JSON text of an object. */
  metadata: string;
  /** JSON text of `Peer[]`. */
  peers: string;
  /** JSON text of `string[]`. */
  errors: string;
  first_seen: string;
  last_seen: string;
  last_scan_id: string | null;
  /** Added by 0003_assessment: the assessment stage's level, score and full result (JSON). */
  severity: string | null;
  severity_score: number | null;
  compromised: number | null;
  /** JSON text of `FindingAssessment`. */
  assessment: string | null;
  /** JSON text of `Inventory` (names, counts, sizes). */
  inventory: string | null;
  /** JSON text of the redacted sample (never clear values). */
  sample: string | null;
}

/** What one scan saw on one service: the per-scan history that diffs are computed from. */
export interface ObservationsTable {
  scan_id: string;
  host: string;
  port: number;
  module: string;
  status: string;
  auth: string | null;
  product: string | null;
  version: string | null;
  observed_at: string;
}

/** One row per probe that went on the wire and was kept: what was sent, to whom, by whom. */
export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  scan_id: string | null;
  operator: string;
  host: string;
  port: number;
  module: string;
  /** JSON text of `string[]`: allow-listed command names in the order sent. */
  commands: string;
  bytes_sent: BigIntColumn;
  bytes_read: BigIntColumn;
  status: string;
  auth: string | null;
  duration_ms: number;
}

export type ScanRow = Selectable<ScansTable>;
export type FindingRow = Selectable<FindingsTable>;
export type NewFindingRow = Insertable<FindingsTable>;
export type HostRow = Selectable<HostsTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type NewAuditRow = Insertable<AuditLogTable>;
export type NewObservationRow = Insertable<ObservationsTable>;
export type NewHostRow = Insertable<HostsTable>;

/** One imported file (Shodan, Censys, masscan, nmap, zgrab2 export). Counters always match the stored candidates. */
export interface ImportsTable {
  /** Sortable id, e.g. `i-20261125-123456-ab12`. */
  id: string;
  format: string;
  file_path: string;
  file_size: BigIntColumn | null;
  /** 1 when the file was gzip-compressed (detected by its magic bytes). */
  gzip: number;
  state: string;
  started_at: string;
  finished_at: string | null;
  lines: BigIntColumn;
  candidates: BigIntColumn;
  skipped: BigIntColumn;
  malformed: BigIntColumn;
  /** JSON text of `MalformedLine[]` (the first few). */
  malformed_samples: string;
  error: string | null;
  operator: string;
  command_line: string;
  verify_scan_id: string | null;
}

/** One service an import asserted, with what the source claimed and, once verified, what we saw. */
export interface CandidatesTable {
  import_id: string;
  /** 0..n-1 in file order within the import; the resume position when verifying. */
  position: BigIntColumn;
  host: string;
  /** See `hostKey`: sorts and range-queries like the address. */
  host_key: string;
  port: number;
  transport: string;
  module: string | null;
  product: string | null;
  version: string | null;
  /** open | auth_required | inconclusive, or null when the source asserted nothing about auth. */
  claim_auth: string | null;
  /** JSON text of an object: tags, org, asn, location, hostnames, capped evidence … */
  claim: string;
  line: BigIntColumn;
  verified_scan_id: string | null;
  /** ProbeStatus of our probe. */
  verify_status: string | null;
  /** AuthVerdict of our probe, when it answered in protocol. */
  verdict: string | null;
  verified_at: string | null;
  /** 1 stale, 0 still true, null unknown / not verified. */
  stale: number | null;
}

export type ImportRow = Selectable<ImportsTable>;
export type CandidateRow = Selectable<CandidatesTable>;
export type NewCandidateRow = Insertable<CandidatesTable>;
