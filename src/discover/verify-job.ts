import { type Config, type ScanDefaults } from '../config/config.js';
import { NotFoundError, UsageError } from '../core/errors.js';
import { type Probe, type ProbeResult } from '../core/types.js';
import { type ScanRecord, type Store, type VerificationEntry } from '../store/store.js';
import { type ScanItem, type TargetSpecInput } from '../targets/target-space.js';
import { CandidateSource } from './importers/candidate-source.js';
import { stalenessByClaim } from './importers/staleness.js';
import { authorizedSet, engineOptions, jobExclusions, readExclusions, watchExclusions, type EngineSpec } from './job-spec.js';
import { runScanner, type ScanItemSource, type ScanOutcome } from './scanner.js';

/**
 * `lockdown import FILE --verify`: probe, through the normal scan engine (rate limit, concurrency,
 * audit log, findings, resume watermark), every service an import asserted that one of our modules
 * speaks, and write our verdict next to the imported claim on every candidate naming the service.
 * A verification is a scan whose spec has `kind: 'import-verify'`, so `lockdown scans` lists it and
 * `resumeVerify` continues it (`lockdown scan --resume <id>` branches here on `isVerifySpec`).
 */

/** What a verification needs to be run again identically: stored as the scan's spec. */
export interface VerifySpec extends EngineSpec {
  version: 1;
  kind: 'import-verify';
  importId: string;
  /** Modules verified (those in the registry when it started; a resume keeps the same work list). */
  modules: string[];
}

export function isVerifySpec(spec: unknown): spec is VerifySpec {
  return typeof spec === 'object' && spec !== null && (spec as { kind?: unknown }).kind === 'import-verify';
}

export interface NewVerifyRequest {
  importId: string;
  /** --exclude on the command line; the config's `exclude` is added automatically. */
  excludes: TargetSpecInput[];
  /** --exclude-file paths; the config's excludeFile is added automatically. */
  excludeFiles: string[];
  checkDefaultCredentials: boolean;
  settings: ScanDefaults;
  config: Config;
  identity: string;
}

/** Compatible with scan-job's `ScanHooks`, so `resumeScan` can hand its hooks over unchanged. */
export interface VerifyHooks {
  signal: AbortSignal;
  onStart?(scan: ScanRecord, source: ScanItemSource, alreadyDone: number): void;
  onResult?: (result: ProbeResult, item: ScanItem) => void;
  onWarning?: (message: string) => void;
}

export interface VerifyRun {
  scan: ScanRecord;
  outcome: ScanOutcome;
  source: CandidateSource;
}

/** Validate everything first (bad exclusions fail before the store is touched). */
export async function prepareVerify(req: NewVerifyRequest, probes: readonly Probe[]): Promise<VerifySpec> {
  const spec: VerifySpec = {
    version: 1,
    kind: 'import-verify',
    importId: req.importId,
    modules: probes.map((p) => p.name),
    ...jobExclusions(req.config, req),
    authorized: req.config.scope.authorized,
    checkDefaultCredentials: req.checkDefaultCredentials,
    settings: req.settings,
    identity: req.identity,
    clientName: req.config.identity.name,
  };
  await readExclusions(spec); // parses and resolves now: a bad one is an error before anything runs
  authorizedSet(spec.authorized);
  return spec;
}

export async function startVerify(
  store: Store,
  spec: VerifySpec,
  commandLine: string,
  operator: string,
  probes: readonly Probe[],
  hooks: VerifyHooks,
): Promise<VerifyRun> {
  const imp = await store.getImport(spec.importId);
  if (!imp) throw new NotFoundError(`No import with id ${spec.importId}`);
  if (imp.state !== 'completed') throw new UsageError(`Import ${imp.id} is ${imp.state}, not completed; import the file again before verifying`);
  const source = await CandidateSource.load(store, spec.importId, usableModules(spec, probes), await readExclusions(spec));
  const scan = await store.createScan({ spec, totalItems: source.size, operator, commandLine });
  await store.setImportVerifyScan(spec.importId, scan.id);
  return execute(store, scan, spec, source, probes, hooks);
}

export async function resumeVerify(store: Store, scanId: string, probes: readonly Probe[], hooks: VerifyHooks): Promise<VerifyRun> {
  const scan = await store.getScan(scanId);
  if (!scan) throw new NotFoundError(`No scan with id ${scanId}; \`lockdown scans\` lists them`);
  if (scan.state === 'completed') throw new UsageError(`Scan ${scanId} already completed; nothing to resume`);
  const spec = scan.spec;
  if (!isVerifySpec(spec) || spec.version !== 1) throw new UsageError(`Scan ${scanId} is not an import verification this version can resume`);
  // Exclusions are read again: an opt-out that arrived since the interruption is honoured.
  const source = await CandidateSource.load(store, spec.importId, usableModules(spec, probes), await readExclusions(spec));
  await store.setScanState(scan.id, 'running');
  return execute(store, { ...scan, state: 'running' }, spec, source, probes, hooks);
}

/** The spec's modules that the registry has (a module removed since would only fail every probe). */
function usableModules(spec: VerifySpec, probes: readonly Probe[]): string[] {
  const have = new Set(probes.map((p) => p.name));
  return spec.modules.filter((m) => have.has(m));
}

async function execute(
  store: Store,
  scan: ScanRecord,
  spec: VerifySpec,
  source: CandidateSource,
  probes: readonly Probe[],
  hooks: VerifyHooks,
): Promise<VerifyRun> {
  const skip = new Set(await store.donePositionsAboveWatermark(scan.id));
  hooks.onStart?.(scan, source, scan.doneCount);
  const stopWatching = watchExclusions(spec, (set) => source.setExcludes(set), hooks.onWarning);
  // Results by position until their batch is persisted: the scanner persists answered results only,
  // but a verdict is also "nothing listens any more".
  const finished = new Map<number, ProbeResult>();
  let outcome: ScanOutcome;
  try {
    outcome = await runScanner({
      scanId: scan.id,
      space: source,
      probes: new Map(probes.map((p) => [p.name, p])),
      from: scan.watermark,
      skip,
      ...engineOptions(spec),
      signal: hooks.signal,
      onResult: (result, item) => {
        if (result.status !== 'cancelled') finished.set(item.position, result);
        hooks.onResult?.(result, item);
      },
      persist: async (batch) => {
        const entries: VerificationEntry[] = [];
        for (const position of batch.donePositions) {
          const r = finished.get(position);
          finished.delete(position);
          if (r) entries.push(entryOf(r));
        }
        // Verdicts first: if the process dies between the two writes, the positions are not yet done,
        // are probed again on resume, and their verdicts simply rewritten.
        await store.recordVerification(spec.importId, scan.id, entries);
        await store.recordBatch(batch);
      },
    });
  } catch (err) {
    await store.setScanState(scan.id, 'failed').catch(() => undefined);
    throw err;
  } finally {
    stopWatching();
  }
  await store.setScanState(scan.id, outcome.complete ? 'completed' : 'interrupted');
  return { scan: (await store.getScan(scan.id)) ?? scan, outcome, source };
}

function entryOf(r: ProbeResult): VerificationEntry {
  const verdict = r.status === 'success' ? (r.auth ?? null) : null;
  return {
    host: r.target.host,
    port: r.target.port,
    transport: 'tcp',
    module: r.module,
    status: r.status,
    verdict,
    verifiedAt: new Date(Date.parse(r.startedAt) + Math.round(r.durationMs)).toISOString(),
    staleByClaim: stalenessByClaim(r.status, verdict),
  };
}

