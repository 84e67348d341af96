import { type Command } from 'commander';
import { type PortSpec } from '../../core/types.js';
import { type Store } from '../../store/store.js';
import { ExclusionSet } from '../../targets/exclusion.js';
import { parsePositiveInt, withStore, type CommonOptions } from '../context.js';
import { log, outputFormat, writeJson, writeNdjson, writeOut } from '../output.js';
import { auditTable } from '../render.js';

interface AuditOptions extends CommonOptions {
  scan?: string;
  host?: string;
  limit?: string;
  json?: boolean;
  ndjson?: boolean;
}

interface Covering {
  id: string;
  createdAt: string;
  operator: string;
  state: string;
  ports: string;
}

/** Scans whose target space included `host` (whether or not anything answered there). */
async function scansCovering(store: Store, host: string): Promise<Covering[]> {
  const out: Covering[] = [];
  for (const scan of await store.listScans(1000)) {
    const spec = scan.spec as { space?: { ranges?: string[]; ports?: PortSpec[] } } | null;
    const ranges = spec?.space?.ranges;
    if (!Array.isArray(ranges)) continue;
    let covered = false;
    try {
      covered = ExclusionSet.fromSpecs(ranges.map((text, i) => ({ text, source: `scan ${scan.id} range ${i + 1}` }))).has(host);
    } catch {
      continue;
    }
    if (covered) {
      const ports = (spec?.space?.ports ?? []).map((p) => `${p.module}:${p.port}`).join(', ');
      out.push({ id: scan.id, createdAt: scan.createdAt, operator: scan.operator, state: scan.state, ports });
    }
  }
  return out;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('The audit trail: every probe that reached a service — who, when, what was sent, what came back')
    .option('--scan <scan-id>', 'only this scan')
    .option('--host <ip>', 'only this host')
    .option('--limit <n>', 'at most n records', '1000')
    .option('--json', 'one JSON array')
    .option('--ndjson', 'one JSON object per line (for export)')
    .option('--db <path>', 'SQLite store')
    .action(async (opts: AuditOptions) => {
      const format = outputFormat(opts);
      const limit = parsePositiveInt(opts.limit, '--limit');
      const rows = await withStore(opts, (store) =>
        store.listAudit({ ...(opts.scan ? { scanId: opts.scan } : {}), ...(opts.host ? { host: opts.host } : {}), ...(limit ? { limit } : {}) }),
      );
      if (format === 'json') writeJson(rows);
      else if (format === 'ndjson') writeNdjson(rows);
      else if (rows.length === 0) log('No audit records match.');
      else writeOut(auditTable(rows));
      // Connection attempts where nothing answered are not logged one by one; say which scans covered
      // the address, so an operator can still answer "did you probe me, and when?".
      if (opts.host && format === 'table') {
        const covering = await withStore(opts, (store) => scansCovering(store, opts.host!));
        for (const s of covering) {
          log(`${opts.host} was in the targets of scan ${s.id} (${s.createdAt} by ${s.operator}, ${s.state}); ports probed: ${s.ports}`);
        }
      }
    });
}
