import { type AuthVerdict, type FindingAssessment, type Inventory, type Peer, type ProbeStatus, type RedactedSample, type Severity } from '../core/types.js';
import { type AuditRow, type FindingRow, type HostRow, type ScanRow } from './schema.js';
import { type AuditRecord, type FindingRecord, type HoneypotFlag, type HostRecord, type ScanRecord, type ScanState } from './store.js';

/** Database rows back to the `Store` records: JSON text parsed, PostgreSQL's int8 strings made numbers. */

export function toScanRecord(row: ScanRow): ScanRecord {
  return {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    state: row.state as ScanState,
    spec: parseJson(row.spec, `spec of scan ${row.id}`),
    totalItems: Number(row.total_items),
    watermark: Number(row.watermark),
    doneCount: Number(row.done_count),
    answeredCount: Number(row.answered_count),
    openCount: Number(row.open_count),
    operator: row.operator,
    commandLine: row.command_line,
  };
}

export function toFindingRecord(row: FindingRow & { host_honeypot?: string | null }): FindingRecord {
  const where = `finding ${row.host}:${row.port}/${row.module}`;
  return {
    id: Number(row.id),
    host: row.host,
    port: Number(row.port),
    module: row.module,
    hostname: row.hostname,
    status: row.status as ProbeStatus,
    auth: row.auth as AuthVerdict | null,
    product: row.product,
    version: row.version,
    evidence: row.evidence,
    metadata: parseJson(row.metadata, `metadata of ${where}`) as Record<string, unknown>,
    peers: parseJson(row.peers, `peers of ${where}`) as Peer[],
    errors: parseJson(row.errors, `errors of ${where}`) as string[],
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    lastScanId: row.last_scan_id,
    severity: (row.severity as Severity | null) ?? null,
    assessment: row.assessment ? (parseJson(row.assessment, `assessment of ${where}`) as FindingAssessment) : null,
    inventory: row.inventory ? (parseJson(row.inventory, `inventory of ${where}`) as Inventory) : null,
    sample: row.sample ? (parseJson(row.sample, `sample of ${where}`) as RedactedSample) : null,
    honeypot: row.host_honeypot ? (parseJson(row.host_honeypot, `honeypot flags of ${row.host}`) as HoneypotFlag[]) : null,
  };
}

export function toHostRecord(row: HostRow): HostRecord {
  return {
    host: row.host,
    hostname: row.hostname,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    honeypot: row.honeypot ? (parseJson(row.honeypot, `honeypot flags of ${row.host}`) as HoneypotFlag[]) : null,
  };
}

export function toAuditRecord(row: AuditRow): AuditRecord {
  return {
    id: Number(row.id),
    at: row.at,
    scanId: row.scan_id,
    operator: row.operator,
    host: row.host,
    port: Number(row.port),
    module: row.module,
    commands: parseJson(row.commands, `commands of audit entry ${row.id}`) as string[],
    bytesSent: Number(row.bytes_sent),
    bytesRead: Number(row.bytes_read),
    status: row.status as ProbeStatus,
    auth: row.auth as AuthVerdict | null,
    durationMs: Number(row.duration_ms),
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`stored ${what} is not valid JSON`, { cause: err });
  }
}
