import { type Command } from 'commander';
import { identityString } from '../../config/config.js';
import { UsageError } from '../../core/errors.js';
import { type ProbeResult } from '../../core/types.js';
import { answered } from '../../discover/scanner.js';
import { planPeers } from '../../discover/follow-peers.js';
import { prepareScan, resumeScan, startScan, type NewScanRequest, type ScanRun } from '../../discover/scan-job.js';
import { eachFinding } from '../../store/paging.js';
import { type FindingRecord, type Store } from '../../store/store.js';
import { parsePortSpecs } from '../../protocols/port-specs.js';
import { PROBES } from '../../protocols/registry.js';
import { readSpecFile, readSpecStream } from '../../targets/sources.js';
import { type TargetSpace, type TargetSpecInput } from '../../targets/target-space.js';
import { collect, commonConfig, excludeFlags, failsOn, parseFailOn, scanSettings, withStore, type CommonOptions, type EngineFlags } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { stopOnInterrupt } from '../interrupt.js';
import { LineStream, log, outputFormat, writeJson, writeOut } from '../output.js';
import { Progress } from '../progress.js';
import { findingsTable, resultToJson } from '../render.js';
import { VERSION } from '../version.js';

interface ScanOptions extends CommonOptions, EngineFlags {
  ports?: string;
  inputList?: string[];
  seed?: string;
  allowLargeIpv6?: boolean;
  resume?: string;
  dryRun?: boolean;
  json?: boolean;
  ndjson?: boolean;
  failOn?: string;
  progress?: boolean;
  sample?: boolean;
  followPeers?: boolean;
}

export function registerScan(program: Command, setExit: (code: number) => void): void {
  program
    .command('scan')
    .description('Probe addresses for exposed databases, over each database’s own protocol, and store the findings')
    .argument('[targets...]', 'IPv4/IPv6 addresses, CIDRs, a-b ranges, hostnames; "-" reads targets from stdin')
    .option('-p, --ports <list>', 'modules and/or ports: redis,postgres,6379,redis:6380 (default: every module’s default ports)')
    .option('--input-list <file>', 'read targets from a file, one per line (alias -iL; "-" = stdin)', collect)
    .option('--exclude <specs>', 'never probe these (comma-separated; repeatable)', collect)
    .option('--exclude-file <file>', 'never probe what this file lists; re-read while the scan runs (repeatable)', collect)
    .option('--rate <n>', 'new connections per second (config scan.rate, default 1000)')
    .option('--concurrency <n>', 'probes in flight at once (config scan.concurrency, default 512)')
    .option('--connect-timeout <ms>', 'connect timeout (default 3000)')
    .option('--timeout <ms>', 'deadline for one whole probe (default 10000)')
    .option('--read-cap <bytes>', 'bytes read per connection at most (default 1 MiB, hard limit 16 MiB)')
    .option('--seed <n>', 'seed of the pseudo-random target order (default random)')
    .option('--allow-large-ipv6', 'expand IPv6 blocks larger than 65,536 addresses')
    .option('--check-default-credentials', 'inside scope.authorized only: try empty/default logins where a protocol needs a login to tell')
    .option('--resume <scan-id>', 'continue an interrupted scan where it stopped')
    .option('--dry-run', 'parse targets and ports, print the plan, probe nothing')
    .option('--json', 'print the scan and its findings as one JSON document')
    .option('--ndjson', 'stream every answered probe as one JSON object per line')
    .option('--fail-on <verdict>', 'exit 1 on a finding with this verdict (open|inconclusive|auth_required) or severity (critical|high|medium|low|info) or worse', 'none')
    .option('--no-progress', 'no progress line on stderr')
    .option('--follow-peers', 'also probe the replication peers found, when inside scope.authorized or these targets (up to 3 rounds)')
    .option('--no-sample', 'do not sample values even inside scope.authorized (names and counts only)')
    .option('--db <path>', 'SQLite store (default $LOCKDOWN_DB or the user data directory)')
    .option('--config <file>', 'config file (default ./lockdown.yaml or ~/.config/lockdown/config.yaml)')
    .addHelpText(
      'after',
      `
Examples:
  lockdown scan 127.0.0.0/24 -p redis,postgres,mysql,memcached
  lockdown scan 10.0.0.0/16 -p 6379,redis:6380 --rate 500 --exclude 10.0.5.0/24
  lockdown scan -iL targets.txt --exclude-file optout.txt --ndjson > results.ndjson
  lockdown scan --resume s-20261125-121314-ab12`,
    )
    .action(async (targets: string[], opts: ScanOptions) => {
      setExit(await scanCommand(targets, opts));
    });
}

export async function scanCommand(targetArgs: string[], opts: ScanOptions): Promise<number> {
  const format = outputFormat(opts);
  const failOn = parseFailOn(opts.failOn);
  const config = commonConfig(opts);
  const showProgress = opts.progress !== false && format === 'table';

  const controller = new AbortController();
  const stopHandling = stopOnInterrupt(controller);
  const lines = new LineStream();

  try {
    let run: ScanRun;
    let progress: Progress | undefined;
    let followUp: { request: NewScanRequest; ranges: string[] } | undefined;
    const counts = { done: 0, answered: 0, open: 0 };
    const onResult = (r: ProbeResult): void => {
      if (r.status === 'cancelled') return;
      counts.done++;
      if (answered(r)) {
        counts.answered++;
        if (r.auth === 'open') counts.open++;
        if (format === 'ndjson') lines.write(resultToJson(r));
      }
    };
    const hooks = {
      signal: controller.signal,
      onResult,
      onWarning: (m: string) => log(`warning: ${m}`),
      onStart: (scan: { id: string; totalItems: number }, _space: unknown, alreadyDone: number) => {
        log(`Scan ${scan.id}: ${scan.totalItems} probes${alreadyDone > 0 ? `, ${alreadyDone} already done` : ''}`);
        if (showProgress) {
          progress = new Progress(`[${scan.id}]`, scan.totalItems, alreadyDone, () => counts);
          progress.start();
        }
      },
    };

    if (opts.resume) {
      if (targetArgs.length > 0 || opts.inputList) throw new UsageError('--resume takes no targets: the scan already knows them');
      run = await withStore(opts, (store) => resumeScan(store, opts.resume!, PROBES, hooks)).finally(() => progress?.stop());
    } else {
      const targets = await collectTargets(targetArgs, opts.inputList ?? []);
      const settings = scanSettings(config.scan, opts);
      const request: NewScanRequest = {
        targets,
        excludes: excludeFlags(opts),
        excludeFiles: opts.excludeFile ?? [],
        ports: parsePortSpecs(opts.ports, PROBES),
        ...(opts.seed !== undefined ? { seed: parseSeed(opts.seed) } : {}),
        allowLargeIpv6: Boolean(opts.allowLargeIpv6),
        checkDefaultCredentials: Boolean(opts.checkDefaultCredentials),
        settings,
        config,
        identity: identityString(config, VERSION),
        commandLine: ['lockdown', ...process.argv.slice(2)].join(' '),
        noSample: opts.sample === false,
      };
      if (opts.checkDefaultCredentials && config.scope.authorized.length === 0) {
        log('warning: --check-default-credentials has no effect: config scope.authorized is empty, so no target is authorized');
      }
      const prepared = await prepareScan(request);
      if (opts.dryRun) return dryRun(request, prepared.space, format);
      run = await withStore(opts, (store) => startScan(store, request, prepared, PROBES, hooks)).finally(() => progress?.stop());
      followUp = { request, ranges: prepared.space.toJSON().ranges };
    }

    lines.flush();
    const { scan, outcome } = run;
    const verb = outcome.complete ? 'completed' : 'interrupted';
    log(
      `Scan ${scan.id} ${verb}: ${scan.doneCount}/${scan.totalItems} probes done, ${scan.answeredCount} answered, ${scan.openCount} open`,
    );
    if (!outcome.complete) log(`Resume it with: lockdown scan --resume ${scan.id}${opts.db ? ` --db ${opts.db}` : ''}`);

    // ndjson already streamed every result: do not load the whole scan back into memory for it.
    let findings = format === 'ndjson' ? [] : await withStore(opts, (store) => store.listFindings({ scanId: scan.id }));
    const peerScans: string[] = [];
    if (opts.followPeers) {
      if (!followUp) log('--follow-peers applies to new scans, not to --resume');
      else if (outcome.complete) {
        const more = await followPeers(opts, followUp.request, followUp.ranges, scan.id, findings, config.scope.authorized, controller.signal);
        peerScans.push(...more.scanIds);
        findings = [...findings, ...more.findings];
      }
    }
    if (format === 'json') writeJson({ scan, counters: outcome.counters, findings, ...(opts.followPeers ? { peerScans } : {}) });
    else if (format === 'table') {
      if (findings.length > 0) writeOut(findingsTable(findings));
      else log('No service answered.');
    }
    if (!outcome.complete) return ExitCode.interrupted;
    if (format === 'ndjson' && failOn.kind !== 'none') {
      return (await withStore(opts, (store) => anyFinding(store, [scan.id, ...peerScans], (f) => failsOn(failOn, [f]))))
        ? ExitCode.findings
        : ExitCode.ok;
    }
    return failsOn(failOn, findings) ? ExitCode.findings : ExitCode.ok;
  } finally {
    lines.flush();
    stopHandling();
  }
}

async function anyFinding(store: Store, scanIds: string[], test: (f: FindingRecord) => boolean): Promise<boolean> {
  for (const scanId of scanIds) for await (const f of eachFinding(store, { scanId })) if (test(f)) return true;
  return false;
}

/** Probe the peers the findings name, in follow-up scans, round by round (bounded). */
async function followPeers(
  opts: ScanOptions,
  base: NewScanRequest,
  ranges: string[],
  firstScan: string,
  found: FindingRecord[],
  authorized: string[],
  signal: AbortSignal,
): Promise<{ scanIds: string[]; findings: FindingRecord[] }> {
  const key = (f: { host: string; port: number; module: string }): string => `${f.host}:${f.port}/${f.module}`;
  const probed = new Set(found.map(key));
  const scanIds: string[] = [];
  const findings: FindingRecord[] = [];
  let frontier = [firstScan];
  for (let round = 1; round <= 3 && frontier.length > 0 && !signal.aborted; round++) {
    const next: string[] = [];
    for (const id of frontier) {
      const plan = await withStore(opts, (store) =>
        planPeers(store, id, {
          authorized,
          targetRanges: ranges,
          alreadyProbed: probed,
          defaultPort: (m) => PROBES.find((p) => p.name === m)?.defaultPorts[0],
        }),
      );
      for (const l of plan.listedOnly) log(`peer ${l.peer.host}${l.peer.port ? `:${l.peer.port}` : ''} of ${l.of} listed, not probed: ${l.why}`);
      for (const g of plan.groups) {
        const request: NewScanRequest = {
          ...base,
          targets: g.hosts.map((h) => ({ text: h, source: `peer of ${id}` })),
          ports: [{ module: g.module, port: g.port }],
          commandLine: `${base.commandLine}  # peers of ${id}, round ${round}`,
        };
        const prepared = await prepareScan(request);
        const r = await withStore(opts, (store) => startScan(store, request, prepared, PROBES, { signal }));
        log(`Peers of ${id}: scan ${r.scan.id} probed ${g.hosts.length} ${g.module} peer${g.hosts.length === 1 ? '' : 's'} on port ${g.port}`);
        scanIds.push(r.scan.id);
        next.push(r.scan.id);
        const got = await withStore(opts, (store) => store.listFindings({ scanId: r.scan.id }));
        for (const f of got) probed.add(key(f));
        for (const h of g.hosts) probed.add(`${h}:${g.port}/${g.module}`);
        findings.push(...got);
      }
    }
    frontier = next;
  }
  return { scanIds, findings };
}

function dryRun(request: NewScanRequest, space: TargetSpace, format: string): number {
  const plan = {
    addresses: space.addressCount,
    ports: request.ports,
    probes: space.size,
    settings: request.settings,
    estimatedSeconds: Math.ceil(space.size / request.settings.rate),
  };
  if (format === 'table') {
    writeOut(
      `${plan.addresses} addresses × ${plan.ports.length} module ports = ${plan.probes} probes; ` +
        `at ${plan.settings.rate}/s at least ${plan.estimatedSeconds}s. Ports: ${plan.ports.map((p) => `${p.module}:${p.port}`).join(', ')}`,
    );
  } else writeJson(plan);
  return ExitCode.ok;
}

async function collectTargets(args: string[], lists: string[]): Promise<TargetSpecInput[]> {
  const out: TargetSpecInput[] = [];
  let stdinUsed = false;
  const fromStdin = async (): Promise<TargetSpecInput[]> => {
    if (stdinUsed) throw new UsageError('Standard input can be read only once ("-" given twice)');
    stdinUsed = true;
    return readSpecStream(process.stdin, 'stdin');
  };
  for (const [i, arg] of args.entries()) {
    if (arg === '-') out.push(...(await fromStdin()));
    else out.push({ text: arg, source: `argument ${i + 1}` });
  }
  for (const file of lists) out.push(...(file === '-' ? await fromStdin() : await readSpecFile(file)));
  return out;
}


function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`--seed must be an integer from 0 to 4294967295, got ${JSON.stringify(text)}`);
  return n;
}
