import type BetterSqlite3 from 'better-sqlite3';
import { NotFoundError } from '../core/errors.js';
import { type BatchRows } from './batch-rows.js';

/** One scan batch, with its rows already derived (see `batchRows`). */
export interface PreparedBatch {
  scanId: string;
  rows: BatchRows;
  positions: readonly number[];
  watermark: number;
  deltas: { done: number; answered: number; open: number };
  updatedAt: string;
}

const FINDING_COLUMNS = [
  'host',
  'host_key',
  'port',
  'module',
  'hostname',
  'status',
  'auth',
  'product',
  'version',
  'evidence',
  'metadata',
  'peers',
  'errors',
  'first_seen',
  'last_seen',
  'last_scan_id',
  'severity',
  'severity_score',
  'compromised',
  'assessment',
  'inventory',
  'sample',
] as const;
/** Everything but the key and first_seen comes from the newest result. */
const FINDING_UPDATED = FINDING_COLUMNS.filter((c) => !['host', 'host_key', 'port', 'module', 'first_seen', 'hostname'].includes(c));
const OBSERVATION_COLUMNS = ['scan_id', 'host', 'port', 'module', 'status', 'auth', 'product', 'version', 'observed_at'] as const;
const AUDIT_COLUMNS = ['at', 'scan_id', 'host', 'port', 'module', 'commands', 'bytes_sent', 'bytes_read', 'status', 'auth', 'duration_ms'] as const;

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * `recordBatch` for SQLite as prepared statements run row by row inside one synchronous transaction:
 * the same statements and the same meaning as the dialect-neutral Kysely path (kysely-store.ts), without
 * building and compiling a query per batch. At scan speed (thousands of results a second) the query
 * builder cost more than SQLite itself. Called with Kysely's single connection held, so nothing else
 * runs on the handle meanwhile.
 */
export function createSqliteBatchWriter(database: BetterSqlite3.Database, label: string): (batch: PreparedBatch) => void {
  let statements: ReturnType<typeof prepare> | undefined;

  function prepare() {
    return {
      touch: database.prepare('UPDATE scans SET updated_at = ? WHERE id = ?'),
      read: database.prepare('SELECT operator, watermark FROM scans WHERE id = ?'),
      host: database.prepare(
        `INSERT INTO hosts (host, host_key, hostname, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (host) DO UPDATE SET
           hostname = coalesce(excluded.hostname, hosts.hostname),
           first_seen = CASE WHEN excluded.first_seen < hosts.first_seen THEN excluded.first_seen ELSE hosts.first_seen END,
           last_seen = CASE WHEN excluded.last_seen > hosts.last_seen THEN excluded.last_seen ELSE hosts.last_seen END`,
      ),
      finding: database.prepare(
        `INSERT INTO findings (${FINDING_COLUMNS.join(', ')}) VALUES (${placeholders(FINDING_COLUMNS.length)})
         ON CONFLICT (host, port, module) DO UPDATE SET
           hostname = coalesce(excluded.hostname, findings.hostname),
           ${FINDING_UPDATED.map((c) => `${c} = excluded.${c}`).join(', ')}
         WHERE excluded.last_seen >= findings.last_seen`,
      ),
      observation: database.prepare(
        `INSERT INTO observations (${OBSERVATION_COLUMNS.join(', ')}) VALUES (${placeholders(OBSERVATION_COLUMNS.length)})
         ON CONFLICT (scan_id, host, port, module) DO NOTHING`,
      ),
      audit: database.prepare(`INSERT INTO audit_log (operator, ${AUDIT_COLUMNS.join(', ')}) VALUES (?, ${placeholders(AUDIT_COLUMNS.length)})`),
      done: database.prepare('INSERT INTO scan_done (scan_id, position) VALUES (?, ?) ON CONFLICT (scan_id, position) DO NOTHING'),
      prune: database.prepare('DELETE FROM scan_done WHERE scan_id = ? AND position < ?'),
      advance: database.prepare(
        'UPDATE scans SET watermark = ?, done_count = done_count + ?, answered_count = answered_count + ?, open_count = open_count + ? WHERE id = ?',
      ),
    };
  }

  const write = (b: PreparedBatch): void => {
    const s = (statements ??= prepare());
    // Write first, read second (see recordBatch): the write lock is taken before the watermark is read.
    if (s.touch.run(b.updatedAt, b.scanId).changes === 0) throw new NotFoundError(`No scan ${b.scanId} in database ${label}`);
    const scan = s.read.get(b.scanId) as { operator: string; watermark: number | bigint };
    const watermark = Math.max(Number(scan.watermark), b.watermark);
    for (const h of b.rows.hosts) s.host.run(h.host, h.host_key, h.hostname ?? null, h.first_seen, h.last_seen);
    for (const f of b.rows.findings) s.finding.run(...FINDING_COLUMNS.map((c) => f[c] ?? null));
    for (const o of b.rows.observations) s.observation.run(...OBSERVATION_COLUMNS.map((c) => o[c] ?? null));
    for (const a of b.rows.audit) s.audit.run(scan.operator, ...AUDIT_COLUMNS.map((c) => a[c] ?? null));
    for (const p of new Set(b.positions)) if (p >= watermark) s.done.run(b.scanId, p);
    s.prune.run(b.scanId, watermark);
    s.advance.run(watermark, b.deltas.done, b.deltas.answered, b.deltas.open, b.scanId);
  };
  return database.transaction(write);
}
