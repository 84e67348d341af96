import { type ProbeResult } from '../core/types.js';
import { hostKey } from './host-key.js';
import { type NewAuditRow, type NewFindingRow, type NewHostRow, type NewObservationRow } from './schema.js';

/** The rows one `recordBatch` writes, built from the probe results before the transaction opens. */
export interface BatchRows {
  hosts: NewHostRow[];
  findings: NewFindingRow[];
  observations: NewObservationRow[];
  audit: Omit<NewAuditRow, 'operator'>[];
}

/** Rows for one batch. Hosts, findings and observations are de-duplicated (newest result wins), because
 * PostgreSQL refuses an `ON CONFLICT DO UPDATE` that touches the same row twice in one statement. */
export function batchRows(results: readonly ProbeResult[], scanId: string): BatchRows {
  const hosts = new Map<string, NewHostRow>();
  const newest = new Map<string, { result: ProbeResult; at: string }>();
  const audit: Omit<NewAuditRow, 'operator'>[] = [];

  for (const result of results) {
    const at = isoTime(result.startedAt);
    const { host, port, hostname } = result.target;
    const known = hosts.get(host);
    if (known === undefined) {
      hosts.set(host, { host, host_key: hostKey(host), hostname: hostname ?? null, first_seen: at, last_seen: at });
    } else {
      if (at < known.first_seen) known.first_seen = at;
      if (at > known.last_seen) known.last_seen = at;
      if (hostname !== undefined) known.hostname = hostname;
    }
    const key = `${host}\u0000${port}\u0000${result.module}`;
    const seen = newest.get(key);
    if (seen === undefined || at >= seen.at) newest.set(key, { result, at });

    audit.push({
      at,
      scan_id: scanId,
      host,
      port,
      module: result.module,
      commands: JSON.stringify(result.commands),
      bytes_sent: integer(result.bytesSent, 'bytesSent'),
      bytes_read: integer(result.bytesRead, 'bytesRead'),
      status: result.status,
      auth: result.auth ?? null,
      duration_ms: Math.round(result.durationMs),
    });
  }

  const findings: NewFindingRow[] = [];
  const observations: NewObservationRow[] = [];
  for (const { result, at } of newest.values()) {
    const { host, port, hostname } = result.target;
    findings.push({
      host,
      host_key: hostKey(host),
      port,
      module: result.module,
      hostname: hostname ?? null,
      status: result.status,
      auth: result.auth ?? null,
      product: result.product ?? null,
      version: result.version ?? null,
      evidence: result.evidence ?? null,
      metadata: JSON.stringify(result.metadata ?? {}),
      peers: JSON.stringify(result.peers ?? []),
      errors: JSON.stringify(result.errors ?? []),
      first_seen: at,
      last_seen: at,
      last_scan_id: scanId,
      severity: result.assessment?.severity ?? null,
      severity_score: result.assessment?.score ?? null,
      compromised: result.assessment === undefined ? null : result.assessment.compromised ? 1 : 0,
      assessment: result.assessment ? JSON.stringify(result.assessment) : null,
      inventory: result.inventory ? JSON.stringify(result.inventory) : null,
      sample: result.sample ? JSON.stringify(result.sample) : null,
    });
    observations.push({
      scan_id: scanId,
      host,
      port,
      module: result.module,
      status: result.status,
      auth: result.auth ?? null,
      product: result.product ?? null,
      version: result.version ?? null,
      observed_at: at,
    });
  }
  return { hosts: [...hosts.values()], findings, observations, audit };
}

/** Normalises a probe's start time to `toISOString()` form so that text order is time order. */
export function isoTime(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`probe start time ${JSON.stringify(value)} is not a valid date`);
  return new Date(ms).toISOString();
}

export function integer(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}
