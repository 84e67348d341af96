import { type Command } from 'commander';
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
    });
}
