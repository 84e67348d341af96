import { type Command } from 'commander';
import { commonConfig, failsOn, parseFailOn, parsePositiveInt, parseSeverity, parseVerdicts, withStore, type CommonOptions } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { log, outputFormat, writeJson, writeNdjson, writeOut } from '../output.js';
import { findingsTable } from '../render.js';

interface FindingsOptions extends CommonOptions {
  auth?: string;
  module?: string;
  host?: string;
  scan?: string;
  minSeverity?: string;
  compromised?: boolean;
  limit?: string;
  json?: boolean;
  ndjson?: boolean;
  failOn?: string;
}

export function registerFindings(program: Command, setExit: (code: number) => void): void {
  program
    .command('findings')
    .description('List stored findings: every service that answered, newest state per host, port and module')
    .option('--auth <verdicts>', 'only these verdicts: open,auth_required,inconclusive')
    .option('--module <names>', 'only these modules (comma-separated)')
    .option('--host <ip>', 'only this host')
    .option('--scan <scan-id>', 'only services this scan observed')
    .option('--min-severity <level>', 'only findings at this severity or above: critical|high|medium|low|info')
    .option('--compromised', 'only findings with compromise signs (ransom notes, wiped data, planted keys)')
    .option('--limit <n>', 'at most n findings')
    .option('--json', 'one JSON array')
    .option('--ndjson', 'one JSON object per line')
    .option('--fail-on <verdict>', 'exit 1 on a listed finding with this verdict (open|inconclusive|auth_required) or severity (critical|high|medium|low|info) or worse', 'none')
    .option('--db <path>', 'SQLite store')
    .option('--config <file>', 'config file')
    .addHelpText('after', '\nExamples:\n  lockdown findings --auth open\n  lockdown findings --min-severity high\n  lockdown findings --module redis --json\n  lockdown findings --fail-on open   # exit 1 if anything is open (for CI/cron)')
    .action(async (opts: FindingsOptions) => {
      const format = outputFormat(opts);
      const failOn = parseFailOn(opts.failOn);
      commonConfig(opts);
      const auth = parseVerdicts(opts.auth, '--auth');
      const limit = parsePositiveInt(opts.limit, '--limit');
      const minSeverity = parseSeverity(opts.minSeverity, '--min-severity');
      const findings = await withStore(opts, (store) =>
        store.listFindings({
          ...(auth ? { auth } : {}),
          ...(opts.module ? { module: opts.module.split(',').map((s) => s.trim()) } : {}),
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.scan ? { scanId: opts.scan } : {}),
          ...(minSeverity ? { minSeverity } : {}),
          ...(opts.compromised ? { compromised: true } : {}),
          ...(limit ? { limit } : {}),
        }),
      );
      if (format === 'json') writeJson(findings);
      else if (format === 'ndjson') writeNdjson(findings);
      else if (findings.length === 0) log('No findings match.');
      else writeOut(findingsTable(findings));
      setExit(failsOn(failOn, findings) ? ExitCode.findings : ExitCode.ok);
    });
}
