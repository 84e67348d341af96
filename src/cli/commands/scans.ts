import { type Command } from 'commander';
import { parsePositiveInt, withStore, type CommonOptions } from '../context.js';
import { log, outputFormat, writeJson, writeNdjson, writeOut } from '../output.js';
import { scansTable } from '../render.js';

interface ScansOptions extends CommonOptions {
  limit?: string;
  json?: boolean;
  ndjson?: boolean;
}

export function registerScans(program: Command): void {
  program
    .command('scans')
    .description('List scans, newest first, with their state (interrupted ones can be resumed)')
    .option('--limit <n>', 'at most n scans', '50')
    .option('--json', 'one JSON array')
    .option('--ndjson', 'one JSON object per line')
    .option('--db <path>', 'SQLite store')
    .action(async (opts: ScansOptions) => {
      const format = outputFormat(opts);
      const scans = await withStore(opts, (store) => store.listScans(parsePositiveInt(opts.limit, '--limit')));
      if (format === 'json') writeJson(scans);
      else if (format === 'ndjson') writeNdjson(scans);
      else if (scans.length === 0) log('No scans yet. Start one with: lockdown scan <targets>');
      else writeOut(scansTable(scans));
    });
}
