import { type AuthVerdict, type Peer, type ProbeResult, type ProbeStatus } from '../core/types.js';

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
}

export interface FindingFilter {
  auth?: AuthVerdict[];
  module?: string[];
  host?: string;
  scanId?: string;
  limit?: number;
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
}

export interface Store {
  createScan(scan: NewScan): Promise<ScanRecord>;
  getScan(id: string): Promise<ScanRecord | undefined>;
  listScans(limit?: number): Promise<ScanRecord[]>;
  setScanState(id: string, state: ScanState): Promise<void>;
  /** Positions at or above the watermark that are already done (needed to resume without probing twice). */
  donePositionsAboveWatermark(scanId: string): Promise<number[]>;
  /** Atomically: upsert hosts and findings, append audit rows, mark positions done, advance counters. */
  recordBatch(batch: ScanBatch): Promise<void>;
  listFindings(filter?: FindingFilter): Promise<FindingRecord[]>;
  getHost(host: string): Promise<{ host: HostRecord; findings: FindingRecord[] } | undefined>;
  listAudit(filter?: AuditFilter): Promise<AuditRecord[]>;
  close(): Promise<void>;
}
