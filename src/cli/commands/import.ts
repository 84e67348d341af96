import { type Command } from 'commander';
import { identityString } from '../../config/config.js';
import { UsageError } from '../../core/errors.js';
import { type ProbeResult } from '../../core/types.js';
import { type CandidateSource } from '../../discover/importers/candidate-source.js';
import { checkImportFile } from '../../discover/importers/input.js';
import { ImportError, runImport, type ImportProgress } from '../../discover/importers/run-import.js';
import { nowLabel } from '../../discover/importers/staleness.js';
import { IMPORT_FORMATS, isImportFormat } from '../../discover/importers/types.js';
import { answered } from '../../discover/scanner.js';
import { prepareVerify, startVerify, type VerifyRun } from '../../discover/verify-job.js';
import { PROBES } from '../../protocols/registry.js';
import { type CandidateRecord, type ImportRecord, type Store } from '../../store/store.js';
import { parseIp } from '../../targets/address.js';
import { collect, commonConfig, excludeFlags, parsePositiveInt, scanSettings, withStore, type CommonOptions, type EngineFlags } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { stopOnInterrupt } from '../interrupt.js';
import { formatBytes, formatDuration, log, outputFormat, renderTable, writeJson, writeOut, type OutputFormat } from '../output.js';
import { Progress } from '../progress.js';
import { VERSION } from '../version.js';

interface ImportOptions extends CommonOptions, EngineFlags {
  format?: string;
  verify?: boolean;
  batchSize?: string;
  json?: boolean;
  ndjson?: boolean;
  progress?: boolean;
}

/** Candidates per page when streaming them out of the store. */
const PAGE = 5000;

export function registerImport(program: Command, setExit: (code: number) => void): void {
  program
    .command('import')
    .description('Import candidates from Shodan, Censys, masscan, nmap or zgrab2 output; --verify probes them and shows where the source is stale')
    .argument('<file>', 'the export (gzip is detected by content, not by name)')
    .option('--format <format>', `the tool that wrote it: ${IMPORT_FORMATS.join('|')} (default: detected from the content)`)
    .option('--verify', 'probe every imported service one of our modules speaks, and compare with what the source claimed')
    .option('--exclude <specs>', 'never probe these when verifying (comma-separated; repeatable)', collect)
    .option('--exclude-file <file>', 'never probe what this file lists; re-read while verifying (repeatable)', collect)
    .option('--rate <n>', 'verify: new connections per second (config scan.rate, default 1000)')
    .option('--concurrency <n>', 'verify: probes in flight at once (config scan.concurrency, default 512)')
    .option('--connect-timeout <ms>', 'verify: connect timeout (default 3000)')
    .option('--timeout <ms>', 'verify: deadline for one whole probe (default 10000)')
    .option('--read-cap <bytes>', 'verify: bytes read per connection at most (default 1 MiB)')
    .option('--check-default-credentials', 'verify, inside scope.authorized only: try empty/default logins where a protocol needs a login to tell')
    .option('--batch-size <n>', 'candidates written per transaction (default 5000)')
    .option('--json', 'print the import (and the verification) as one JSON document')
    .option('--ndjson', 'print one JSON object per candidate')
    .option('--no-progress', 'no progress line on stderr')
    .option('--db <path>', 'SQLite store (default $LOCKDOWN_DB or the user data directory)')
    .option('--config <file>', 'config file (default ./lockdown.yaml or ~/.config/lockdown/config.yaml)')
    .addHelpText(
      'after',
      `
Formats: Shodan (shodan download .json.gz, API search pages), Censys (host JSON lines, search API pages),
masscan (-oJ, --ndjson, -oX, -oL), nmap (-oX, with NSE info-script output), zgrab2 (JSON lines).

Examples:
  lockdown import shodan-redis.json.gz
  lockdown import masscan.json --verify --exclude-file optout.txt
  lockdown import censys-hosts.json --verify --json > compared.json`,
    )
    .action(async (file: string, opts: ImportOptions) => {
      setExit(await importCommand(file, opts));
    });
}

export async function importCommand(file: string, opts: ImportOptions): Promise<number> {
  const format = outputFormat(opts);
  if (opts.format !== undefined && !isImportFormat(opts.format)) {
    throw new UsageError(`Unknown --format ${JSON.stringify(opts.format)}; use ${IMPORT_FORMATS.join(', ')}`);
  }
  const config = commonConfig(opts);
  const batchSize = parsePositiveInt(opts.batchSize, '--batch-size');
  const showProgress = opts.progress !== false && format === 'table' && Boolean(process.stderr.isTTY);
  const commandLine = ['lockdown', ...process.argv.slice(2)].join(' ');
  const identity = identityString(config, VERSION);

  // Verification settings and exclusions are checked before the file is read: bad input stops everything.
  const verifySpec = opts.verify
    ? await prepareVerify(
        {
          importId: '',
          excludes: excludeFlags(opts),
          excludeFiles: opts.excludeFile ?? [],
          checkDefaultCredentials: Boolean(opts.checkDefaultCredentials),
          settings: scanSettings(config.scan, opts),
          config,
          identity,
        },
        PROBES,
      )
    : undefined;

  // An unreadable file is an error before the store is even opened.
  await checkImportFile(file);

  const controller = new AbortController();
  const stopHandling = stopOnInterrupt(controller);

  try {
    return await withStore(opts, async (store) => {
      const line = showProgress ? new ImportProgressLine() : undefined;
      let imported: ImportRecord;
      try {
        imported = await runImport(store, {
          path: file,
          ...(opts.format !== undefined ? { format: opts.format as (typeof IMPORT_FORMATS)[number] } : {}),
          operator: config.identity.operator,
          commandLine,
          ...(batchSize !== undefined ? { batchSize } : {}),
          signal: controller.signal,
          onStart: (record, input) => {
            log(`Import ${record.id}: ${file} (${record.format}${input.gzip ? ', gzip' : ''}, ${formatBytes(input.size)})`);
            line?.start(record.id);
          },
          onProgress: (p) => line?.update(p),
        });
      } catch (err) {
        line?.stop();
        if (err instanceof ImportError) {
          reportImport(err.record);
          if (err.interrupted) {
            log(err.message);
            return ExitCode.interrupted;
          }
        }
        throw err;
      }
      line?.stop();
      reportImport(imported);

      if (!verifySpec) {
        await printImport(store, imported, format);
        return ExitCode.ok;
      }
      const run = await verify(store, { ...verifySpec, importId: imported.id }, commandLine, config.identity.operator, format, opts, controller.signal);
      await printVerification(store, imported, run, format);
      if (!run.outcome.complete) {
        log(`Verification ${run.scan.id} interrupted: ${run.scan.doneCount}/${run.scan.totalItems} services probed`);
        log(`Resume it with: lockdown scan --resume ${run.scan.id}${opts.db ? ` --db ${opts.db}` : ''}`);
        return ExitCode.interrupted;
      }
      return ExitCode.ok;
    });
  } finally {
    stopHandling();
  }
}


async function verify(
  store: Store,
  spec: Parameters<typeof startVerify>[1],
  commandLine: string,
  operator: string,
  format: OutputFormat,
  opts: ImportOptions,
  signal: AbortSignal,
): Promise<VerifyRun> {
  const counts = { done: 0, answered: 0, open: 0 };
  let progress: Progress | undefined;
  const onResult = (r: ProbeResult): void => {
    if (r.status === 'cancelled') return;
    counts.done++;
    if (answered(r)) {
      counts.answered++;
      if (r.auth === 'open') counts.open++;
    }
  };
  try {
    return await startVerify(store, spec, commandLine, operator, PROBES, {
      signal,
      onResult,
      onWarning: (m) => log(`warning: ${m}`),
      onStart: (scan, source) => {
        const excluded = (source as CandidateSource).excludedCount();
        log(`Verification ${scan.id}: ${scan.totalItems} services${excluded > 0 ? ` (${excluded} excluded, not probed)` : ''}`);
        if (opts.progress !== false && format === 'table') {
          progress = new Progress(`[${scan.id}]`, scan.totalItems, 0, () => counts);
          progress.start();
        }
      },
    });
  } finally {
    progress?.stop();
  }
}

// ---- output ----

function reportImport(r: ImportRecord): void {
  const verb = r.state === 'completed' ? 'imported' : 'stopped';
  log(
    `Import ${r.id} ${verb}: ${r.lines} lines, ${r.candidates} candidates` +
      `${r.skipped > 0 ? `, ${r.skipped} records with nothing to import (closed, down, no answer)` : ''}` +
      `${r.malformed > 0 ? `, ${r.malformed} malformed` : ''}`,
  );
  if (r.malformed > 0) {
    const shown = r.malformedSamples.length;
    log(`Malformed lines${shown < r.malformed ? ` (first ${shown} of ${r.malformed})` : ''}:`);
    for (const m of r.malformedSamples) log(`  ${r.filePath}:${m.line}: ${m.reason}`);
  }
  if (r.error) log(`Stopped because: ${r.error}`);
}

async function printImport(store: Store, imported: ImportRecord, format: OutputFormat): Promise<void> {
  if (format === 'ndjson') {
    await eachCandidate(store, imported.id, {}, (c) => writeOut(JSON.stringify(candidateJson(c))));
    return;
  }
  const summary = await store.summarizeCandidates(imported.id);
  if (format === 'json') {
    writeJson({ import: imported, summary });
    return;
  }
  if (summary.length === 0) {
    log('Nothing to import in this file.');
    return;
  }
  const byModule = new Map<string, { total: number; open: number; auth: number; inconclusive: number; none: number }>();
  for (const row of summary) {
    const key = row.module ?? '(none)';
    const m = byModule.get(key) ?? { total: 0, open: 0, auth: 0, inconclusive: 0, none: 0 };
    m.total += row.count;
    if (row.claimAuth === 'open') m.open += row.count;
    else if (row.claimAuth === 'auth_required') m.auth += row.count;
    else if (row.claimAuth === 'inconclusive') m.inconclusive += row.count;
    else m.none += row.count;
    byModule.set(key, m);
  }
  writeOut(
    renderTable(
      ['MODULE', 'CANDIDATES', 'CLAIMED OPEN', 'CLAIMED AUTH_REQUIRED', 'INCONCLUSIVE', 'NO AUTH CLAIM'],
      [...byModule].map(([module, m]) => [module, m.total, m.open, m.auth, m.inconclusive, m.none]),
    ),
  );
  log(`Verify them with: lockdown import ${imported.filePath} --verify (or list them with --ndjson)`);
}

/** A candidate as printed by `--ndjson` without verification: flat and stable. */
function candidateJson(c: CandidateRecord): Record<string, unknown> {
  return {
    importId: c.importId,
    position: c.position,
    line: c.line,
    host: c.host,
    port: c.port,
    transport: c.transport,
    module: c.module,
    product: c.product,
    version: c.version,
    claim: c.claimAuth,
    claimDetail: c.claim,
  };
}

/** Why a candidate with a module was not probed by this verification, or null when it was (or should have been). */
function notProbedReason(c: CandidateRecord, run: VerifyRun, modules: ReadonlySet<string>): string | null {
  if (c.module === null) return 'no module';
  if (c.transport !== 'tcp') return `${c.transport} not verified`;
  if (!modules.has(c.module)) return `no ${c.module} module yet`;
  if (!parseIp(c.host).ok) return 'not an IP address';
  if (run.source.isExcluded(c.host)) return 'excluded';
  return null;
}

interface VerifyRow {
  candidate: CandidateRecord;
  note: string | null;
}

function verifyRowJson(row: VerifyRow): Record<string, unknown> {
  const c = row.candidate;
  return {
    ...candidateJson(c),
    observedAt: typeof c.claim.observedAt === 'string' ? c.claim.observedAt : null,
    now:
      c.verifyStatus === null
        ? null
        : { status: c.verifyStatus, verdict: c.verdict, verifiedAt: c.verifiedAt, scanId: c.verifiedScanId, label: nowLabel(c.verifyStatus, c.verdict) },
    stale: c.stale,
    notProbed: row.note,
  };
}

async function printVerification(store: Store, imported: ImportRecord, run: VerifyRun, format: OutputFormat): Promise<void> {
  const modules = new Set(PROBES.map((p) => p.name));
  const tally = { verified: 0, stale: 0, confirmed: 0, unknown: 0, notProbed: 0 };
  const rows: VerifyRow[] = [];
  const table = format === 'table';
  const json = format === 'json';
  await eachCandidate(store, imported.id, { hasModule: true }, (c) => {
    // Verdicts of this run only: an earlier verification of the same import is not "now".
    const fresh = c.verifiedScanId === run.scan.id;
    const candidate = fresh ? c : { ...c, verifiedScanId: null, verifyStatus: null, verdict: null, verifiedAt: null, stale: null };
    const note = fresh ? null : (notProbedReason(c, run, modules) ?? (run.outcome.complete ? 'not probed' : 'not probed yet (interrupted)'));
    if (fresh) {
      tally.verified++;
      if (candidate.stale === true) tally.stale++;
      else if (candidate.stale === false) tally.confirmed++;
      else tally.unknown++;
    } else tally.notProbed++;
    const row = { candidate, note };
    if (format === 'ndjson') writeOut(JSON.stringify(verifyRowJson(row)));
    else if (table || json) rows.push(row);
  });
  log(
    `Verified ${tally.verified} candidates: ${tally.confirmed} still as claimed, ${tally.stale} stale, ${tally.unknown} cannot tell` +
      `${tally.notProbed > 0 ? `; ${tally.notProbed} not probed` : ''}`,
  );
  if (json) {
    writeJson({ import: imported, scan: run.scan, counters: run.outcome.counters, candidates: rows.map(verifyRowJson) });
    return;
  }
  if (!table) return;
  if (rows.length === 0) {
    log('No imported candidate maps to a module we can probe.');
    return;
  }
  writeOut(
    renderTable(
      ['HOST', 'PORT', 'MODULE', 'CLAIM', 'SOURCE SEEN', 'NOW', 'STALE', 'LINE'],
      rows.map(({ candidate: c, note }) => [
        c.host,
        c.port,
        c.module ?? '',
        claimCell(c),
        typeof c.claim.observedAt === 'string' ? c.claim.observedAt.replace('T', ' ').slice(0, 19) : '',
        note ? `not probed (${note})` : nowLabel(c.verifyStatus, c.verdict),
        c.stale === true ? 'STALE' : c.stale === false ? 'no' : note ? '' : '?',
        c.line,
      ]),
    ),
  );
}

/** The claim, with the source's tags when it gave any (`compromised`, `honeypot` … change how a claim reads). */
function claimCell(c: CandidateRecord): string {
  const tags = Array.isArray(c.claim.tags) ? (c.claim.tags as unknown[]).filter((t): t is string => typeof t === 'string') : [];
  return `${c.claimAuth ?? 'port open'}${tags.length > 0 ? ` [${tags.join(', ')}]` : ''}`;
}

async function eachCandidate(
  store: Store,
  importId: string,
  filter: { hasModule?: boolean },
  fn: (c: CandidateRecord) => void,
): Promise<void> {
  let from = 0;
  for (;;) {
    const page = await store.listCandidates(importId, { ...filter, from, limit: PAGE });
    for (const c of page) fn(c);
    if (page.length < PAGE) return;
    from = (page.at(-1) as CandidateRecord).position + 1;
  }
}

/** The import's progress on a terminal: one self-rewriting stderr line (never on a pipe, never with --json). */
class ImportProgressLine {
  private timer: NodeJS.Timeout | undefined;
  private last: ImportProgress | undefined;
  private started = performance.now();
  private label = '';
  private width = 0;

  start(label: string): void {
    this.label = `[${label}]`;
    this.started = performance.now();
    this.timer = setInterval(() => this.render(), 200);
    this.timer.unref();
  }

  update(p: ImportProgress): void {
    this.last = p;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.width > 0) process.stderr.write('\r' + ' '.repeat(this.width) + '\r');
    this.width = 0;
  }

  private render(): void {
    const p = this.last;
    if (!p) return;
    const ms = performance.now() - this.started;
    const perSecond = ms > 0 ? Math.round((p.lines * 1000) / ms) : 0;
    const share = p.totalBytes > 0 ? p.bytesRead / p.totalBytes : 0;
    const eta = share > 0 && share < 1 ? `, eta ${formatDuration((ms * (1 - share)) / share)}` : '';
    const text =
      `${this.label} ${p.lines} lines (${perSecond}/s), ${p.candidates} candidates, ${p.malformed} malformed, ` +
      `${formatBytes(p.bytesRead)} of ${formatBytes(p.totalBytes)} (${(share * 100).toFixed(1)}%)${eta}`;
    const pad = this.width > text.length ? ' '.repeat(this.width - text.length) : '';
    process.stderr.write('\r' + text + pad);
    this.width = text.length;
  }
}
