import { type Kysely } from 'kysely';
import {
  type AuthVerdict,
  type FindingAssessment,
  type Inventory,
  type Peer,
  type ProbeResult,
  type ProbeStatus,
  type RedactedSample,
  type Severity,
} from '../core/types.js';

/**
 * The storage interface every stage uses. The embedded default is SQLite (better-sqlite3 via Kysely);
 * the same Kysely schema and queries are meant to run on PostgreSQL, so nothing here is SQLite-specific.
 * All times are ISO 8601 strings (UTC).
 */

export type ScanState = 'running' | 'interrupted' | 'completed' | 'failed';

export interface NewScan {
  /** Everything needed to rebuild the exact same work list on resume (targets, ports, seed, options), as JSON. */
  spec: unknown;
  totalItems: number;
  operator: string;
  /** The command line, for the audit trail. */
  commandLine: string;
}

export interface ScanRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  state: ScanState;
  spec: unknown;
  totalItems: number;
  /** Every position below this one in the permuted order is done. */
  watermark: number;
  doneCount: number;
  /** Probes that connected (something listened). */
  answeredCount: number;
  /** Services with verdict `open`. */
  openCount: number;
  operator: string;
  commandLine: string;
}

/** What one batch of finished work adds; written in one transaction so a kill loses nothing half-written. */
export interface ScanBatch {
  scanId: string;
  /** Results to keep: every probe that connected (status other than refused/timeout/unreachable/cancelled). */
  results: ProbeResult[];
  /** Positions (in the scan's permuted order) finished by this batch, stored or not. */
  donePositions: number[];
  /** New low watermark after this batch: all positions below are done. */
  watermark: number;
  /** Counters to add to the scan row. */
  doneDelta: number;
  answeredDelta: number;
  openDelta: number;
}

export interface FindingRecord {
  id: number;
  host: string;
  port: number;
  module: string;
  hostname: string | null;
  status: ProbeStatus;
  auth: AuthVerdict | null;
  product: string | null;
  version: string | null;
  evidence: string | null;
  metadata: Record<string, unknown>;
  peers: Peer[];
  errors: string[];
  firstSeen: string;
  lastSeen: string;
  lastScanId: string | null;
  /** From the assessment stage; null for findings stored before it ran. */
  severity: Severity | null;
  assessment: FindingAssessment | null;
  inventory: Inventory | null;
  /** Redacted sample (categories, counts, masked examples) — only for targets in the authorized scope. */
  sample: RedactedSample | null;
  /** Why this finding's host looks like a honeypot (from its host record), or null. */
  honeypot: HoneypotFlag[] | null;
}

export interface ServiceSummary {
  host: string;
  port: number;
  module: string;
  auth: AuthVerdict | null;
  product: string | null;
  version: string | null;
  metadata: Record<string, unknown>;
  /** True when the host is flagged as a likely honeypot. */
  honeypot: boolean;
}

export interface HoneypotFlag {
  ruleId: string;
  reason: string;
  reference: string;
}

export interface FindingFilter {
  auth?: AuthVerdict[];
  module?: string[];
  host?: string;
  scanId?: string;
  /** Only findings at this severity or above. */
  minSeverity?: Severity;
  /** Only findings with compromise signs. */
  compromised?: boolean;
  limit?: number;
  /** Skip this many (with `limit`). */
  offset?: number;
  /** Only findings after this one in the store's order (address, port, module): keyset paging, whose cost does not grow with the page number. */
  after?: { host: string; port: number; module: string };
}

export interface AuditRecord {
  id: number;
  at: string;
  scanId: string | null;
  operator: string;
  host: string;
  port: number;
  module: string;
  commands: string[];
  bytesSent: number;
  bytesRead: number;
  status: ProbeStatus;
  auth: AuthVerdict | null;
  durationMs: number;
}

export interface AuditFilter {
  scanId?: string;
  host?: string;
  limit?: number;
}

export interface HostRecord {
  host: string;
  hostname: string | null;
  firstSeen: string;
  lastSeen: string;
  honeypot: HoneypotFlag[] | null;
}

export interface Store extends ImportStore {
  /** The database's name for messages (path or `:memory:`). */
  readonly label: string;
  /**
   * The Kysely handle, for the repositories of later stages that share this database and its
   * migrations (attribution cache, cases). Everything else goes through the methods below.
   */
  kysely(): Kysely<any>;
  createScan(scan: NewScan): Promise<ScanRecord>;
  getScan(id: string): Promise<ScanRecord | undefined>;
  listScans(limit?: number): Promise<ScanRecord[]>;
  setScanState(id: string, state: ScanState): Promise<void>;
  /** Positions at or above the watermark that are already done (needed to resume without probing twice). */
  donePositionsAboveWatermark(scanId: string): Promise<number[]>;
  /** Atomically: upsert hosts and findings, append audit rows, mark positions done, advance counters. */
  recordBatch(batch: ScanBatch): Promise<void>;
  listFindings(filter?: FindingFilter): Promise<FindingRecord[]>;
  /**
   * The services a scan saw with only what a pass over a whole scan needs (no evidence, assessment,
   * inventory or sample to parse), in the order and with the keyset paging of `listFindings`.
   */
  listServiceSummaries(filter: { scanId: string; limit?: number; after?: FindingFilter['after'] }): Promise<ServiceSummary[]>;
  getHost(host: string): Promise<{ host: HostRecord; findings: FindingRecord[] } | undefined>;
  listAudit(filter?: AuditFilter): Promise<AuditRecord[]>;
  /** Record (or clear, with null/empty) why a host looks like a honeypot. */
  setHostHoneypot(host: string, flags: HoneypotFlag[] | null): Promise<void>;
  close(): Promise<void>;
}

// ---- imported candidates (Shodan, Censys, masscan, nmap, zgrab2 exports) ----

/** `running` while the file is read; `completed` when every line was read; `failed` when reading stopped early. */
export type ImportState = 'running' | 'completed' | 'failed';

export interface NewImport {
  /** Source format: `shodan`, `censys`, `masscan`, `nmap` or `zgrab2`. */
  format: string;
  /** The file as the user named it. */
  filePath: string;
  /** Size of the file on disk (compressed size when gzipped), when known. */
  fileSize: number | null;
  gzip: boolean;
  operator: string;
  commandLine: string;
}

/** A line that could not be imported, and why (for the first few of them). */
export interface MalformedLine {
  line: number;
  reason: string;
}

export interface ImportRecord {
  /** Sortable id, e.g. `i-20261125-123456-ab12`. */
  id: string;
  format: string;
  filePath: string;
  fileSize: number | null;
  gzip: boolean;
  state: ImportState;
  startedAt: string;
  finishedAt: string | null;
  /** Lines (or, for XML, lines of the document) read so far. */
  lines: number;
  /** Candidates stored: always exactly the rows in `candidates` for this import. */
  candidates: number;
  /** Well-formed records that assert nothing to import (a closed port, a failed connect, a host down). */
  skipped: number;
  /** Lines or records that could not be parsed. */
  malformed: number;
  /** The first malformed lines with their reasons (capped; `malformed` has the total). */
  malformedSamples: MalformedLine[];
  /** Why the import failed, when it did. */
  error: string | null;
  operator: string;
  commandLine: string;
  /** The latest scan that verified this import's candidates (`lockdown import --verify`). */
  verifyScanId: string | null;
}

/** One service a source asserted, as imported. */
export interface NewCandidate {
  /** 0..n-1 in file order within its import. */
  position: number;
  /** IP literal (canonical text) when the source gave one; otherwise the name it gave. */
  host: string;
  port: number;
  /** `tcp` or `udp` (whatever the source said, lower-cased). */
  transport: string;
  /** Our module name (`redis`, `mongodb` …) when the source's product/service/port maps to one; else null. */
  module: string | null;
  /** Product and version as the source reported them. */
  product: string | null;
  version: string | null;
  /**
   * What the source asserted about authentication: `open` (it read data), `auth_required` (it met an auth
   * error), `inconclusive`, or null when it said nothing about it (e.g. masscan: only "port open").
   */
  claimAuth: AuthVerdict | null;
  /** Everything else the source said (tags, org, asn, location, hostnames, capped evidence …), plain JSON. */
  claim: Record<string, unknown>;
  /** 1-based line of the file the candidate came from. */
  line: number;
}

export interface CandidateRecord extends NewCandidate {
  importId: string;
  /** The scan that last probed this service for the import (`--verify`), or null when not verified. */
  verifiedScanId: string | null;
  /** Our own probe's outcome: its transport status … */
  verifyStatus: ProbeStatus | null;
  /** … and its auth verdict when the service answered in protocol. */
  verdict: AuthVerdict | null;
  verifiedAt: string | null;
  /**
   * Whether the imported claim no longer holds (claimed open, now auth_required or closed …); null when
   * not verified or when the two cannot be compared (see src/discover/importers/staleness.ts).
   */
  stale: boolean | null;
}

/** One batch of an import, written in one transaction together with the import's counters. */
export interface CandidateBatch {
  importId: string;
  /** Positions continue the import's sequence: the first is the import's current candidate count. */
  candidates: NewCandidate[];
  /** Running totals after this batch (absolute values, not deltas). */
  lines: number;
  skipped: number;
  malformed: number;
  malformedSamples: MalformedLine[];
}

export interface ImportFinish {
  state: Exclude<ImportState, 'running'>;
  lines: number;
  skipped: number;
  malformed: number;
  malformedSamples: MalformedLine[];
  error?: string;
}

export interface CandidateFilter {
  /** First position to return (positions are 0-based, in file order). */
  from?: number;
  limit?: number;
  /** Only candidates that map to a module (`true`) or that do not (`false`). */
  hasModule?: boolean;
  /** Only candidates that a verification reached (`verified_scan_id` set). */
  verified?: boolean;
}

/** A service to verify: the first candidate of each distinct (host, port, module) of an import. */
export interface VerifyTarget {
  position: number;
  host: string;
  port: number;
  transport: string;
  module: string;
}

/** Our probe's outcome for one service, to be written on every candidate of the import naming it. */
export interface VerificationEntry {
  host: string;
  port: number;
  transport: string;
  module: string;
  status: ProbeStatus;
  verdict: AuthVerdict | null;
  verifiedAt: string;
  /** Staleness for each possible imported claim (candidates of one service may claim different things). */
  staleByClaim: Record<AuthVerdict | 'none', boolean | null>;
}

export interface CandidateSummaryRow {
  module: string | null;
  claimAuth: AuthVerdict | null;
  count: number;
}

/** The import half of the store: kept apart so the scan half reads as it did. */
export interface ImportStore {
  createImport(imp: NewImport): Promise<ImportRecord>;
  /** Atomically: insert the batch's candidates and set the import's counters. */
  addCandidates(batch: CandidateBatch): Promise<void>;
  finishImport(importId: string, finish: ImportFinish): Promise<ImportRecord>;
  getImport(importId: string): Promise<ImportRecord | undefined>;
  listImports(limit?: number): Promise<ImportRecord[]>;
  listCandidates(importId: string, filter?: CandidateFilter): Promise<CandidateRecord[]>;
  countCandidates(importId: string, filter?: Omit<CandidateFilter, 'from' | 'limit'>): Promise<number>;
  /** Candidate counts grouped by module and claim. */
  summarizeCandidates(importId: string): Promise<CandidateSummaryRow[]>;
  /**
   * First candidate of each distinct service (host, port, transport, module) with a module, position ≥ `from`,
   * in position order; only `transport` (default `tcp`) and, when given, only `modules`.
   */
  listVerifyTargets(
    importId: string,
    options?: { from?: number; limit?: number; modules?: string[]; transport?: string },
  ): Promise<VerifyTarget[]>;
  /** Remember which scan verifies the import (the latest wins). */
  setImportVerifyScan(importId: string, scanId: string): Promise<void>;
  /** Atomically write our verdicts onto every candidate of the import naming each service. */
  recordVerification(importId: string, scanId: string, entries: VerificationEntry[]): Promise<void>;
}
