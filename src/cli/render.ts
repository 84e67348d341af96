import { type ProbeResult } from '../core/types.js';
import { type AuditRecord, type FindingRecord, type ScanRecord } from '../store/store.js';
import { renderTable } from './output.js';
import { summarize } from './summary.js';

export function findingsTable(findings: FindingRecord[]): string {
  return renderTable(
    ['HOST', 'PORT', 'MODULE', 'AUTH', 'SEVERITY', 'PRODUCT', 'VERSION', 'EXPOSES', 'LAST SEEN'],
    findings.map((f) => [
      f.hostname ? `${f.host} (${f.hostname})` : f.host,
      f.port,
      f.module,
      f.auth ?? f.status,
      (f.severity ?? '') + (f.assessment?.compromised ? ' ⚠ compromised' : '') + (f.honeypot ? ' (honeypot?)' : ''),
      f.product ?? '',
      f.version ?? '',
      summarize(f),
      f.lastSeen.replace('T', ' ').slice(0, 19),
    ]),
  );
}

export function scansTable(scans: ScanRecord[]): string {
  return renderTable(
    ['ID', 'STATE', 'DONE', 'ANSWERED', 'OPEN', 'CREATED', 'COMMAND'],
    scans.map((s) => [
      s.id,
      s.state,
      `${s.doneCount}/${s.totalItems}`,
      s.answeredCount,
      s.openCount,
      s.createdAt.replace('T', ' ').slice(0, 19),
      s.commandLine.length > 60 ? s.commandLine.slice(0, 59) + '…' : s.commandLine,
    ]),
  );
}

export function auditTable(rows: AuditRecord[]): string {
  return renderTable(
    ['AT', 'OPERATOR', 'TARGET', 'MODULE', 'COMMANDS SENT', 'BYTES OUT/IN', 'STATUS', 'AUTH'],
    rows.map((a) => [
      a.at.replace('T', ' ').slice(0, 23),
      a.operator,
      `${a.host}:${a.port}`,
      a.module,
      a.commands.join(', ') || '(none)',
      `${a.bytesSent}/${a.bytesRead}`,
      a.status,
      a.auth ?? '',
    ]),
  );
}

/** A probe result as streamed by `scan --ndjson`: flat and stable. */
export function resultToJson(r: ProbeResult): Record<string, unknown> {
  return {
    host: r.target.host,
    port: r.target.port,
    ...(r.target.hostname ? { hostname: r.target.hostname } : {}),
    module: r.module,
    status: r.status,
    auth: r.auth ?? null,
    product: r.product ?? null,
    version: r.version ?? null,
    evidence: r.evidence ?? null,
    metadata: r.metadata,
    peers: r.peers,
    errors: r.errors,
    commands: r.commands,
    startedAt: r.startedAt,
    durationMs: r.durationMs,
  };
}
