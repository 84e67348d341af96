import { type Config, type SampleSettings, type ScanDefaults } from '../config/config.js';
import { NotFoundError, UsageError } from '../core/errors.js';
import { type PortSpec, type Probe, type ProbeResult } from '../core/types.js';
import { honeypotSuspicions } from '../assess/honeypot.js';
import { eachServiceSummary } from '../store/paging.js';
import { type ScanRecord, type ServiceSummary, type Store } from '../store/store.js';
import { TargetSpace, type ScanItem, type TargetSpaceJSON, type TargetSpecInput } from '../targets/target-space.js';
import { engineOptions, jobExclusions, readExcludeFiles, readExclusions, watchExclusions, type EngineSpec } from './job-spec.js';
import { runScanner, type ScanOutcome } from './scanner.js';
import { isVerifySpec, resumeVerify } from './verify-job.js';

/** What a scan needs to be run again identically: stored as the scan's spec. */
export interface ScanSpec extends EngineSpec {
  version: 1;
  space: TargetSpaceJSON;
  /** Sampling inside scope.authorized (absent in scans stored before it existed: no sampling). */
  sample?: SampleSettings;
}

export interface NewScanRequest {
  targets: TargetSpecInput[];
  excludes: TargetSpecInput[];
  /** --exclude-file paths; the config's excludeFile is added automatically. */
  excludeFiles: string[];
  ports: PortSpec[];
  seed?: number;
  allowLargeIpv6: boolean;
  checkDefaultCredentials: boolean;
  settings: ScanDefaults;
  config: Config;
  identity: string;
  commandLine: string;
  /** Turn value sampling off for this scan even inside scope.authorized (--no-sample). */
  noSample?: boolean;
  resolve?: (hostname: string) => Promise<string[]>;
}

export interface ScanHooks {
  signal: AbortSignal;
  onStart?: (scan: ScanRecord, space: TargetSpace, alreadyDone: number) => void;
  onResult?: (result: ProbeResult, item: ScanItem) => void;
  /** A problem worth telling the operator about (e.g. the exclusion file became unreadable). */
  onWarning?: (message: string) => void;
}

export interface ScanRun {
  scan: ScanRecord;
  outcome: ScanOutcome;
}

/** Parse, resolve and validate everything first (nothing is probed when any input is bad). */
export async function prepareScan(req: NewScanRequest): Promise<{ space: TargetSpace; spec: ScanSpec }> {
  if (req.targets.length === 0) throw new UsageError('No targets given: pass addresses, CIDRs, ranges or hostnames, or -iL FILE');
  const { excludes: staticExcludes, excludeFiles } = jobExclusions(req.config, req);
  const excludes = [...staticExcludes, ...(await readExcludeFiles(excludeFiles))];
  const space = await TargetSpace.build({
    targets: req.targets,
    excludes,
    ports: req.ports,
    seed: req.seed ?? randomSeed(),
    allowLargeIpv6: req.allowLargeIpv6,
    ...(req.resolve ? { resolve: req.resolve } : {}),
  });
  const spec: ScanSpec = {
    version: 1,
    space: space.toJSON(),
    excludes: staticExcludes,
    excludeFiles,
    authorized: req.config.scope.authorized,
    checkDefaultCredentials: req.checkDefaultCredentials,
    settings: req.settings,
    identity: req.identity,
    clientName: req.config.identity.name,
    sample: { ...req.config.sample, enabled: req.config.sample.enabled && !req.noSample },
  };
  return { space, spec };
}

/** Start a scan prepared by `prepareScan` (prepare first: bad input must fail before the store is touched). */
export async function startScan(
  store: Store,
  req: NewScanRequest,
  prepared: { space: TargetSpace; spec: ScanSpec },
  probes: readonly Probe[],
  hooks: ScanHooks,
): Promise<ScanRun> {
  const { space, spec } = prepared;
  const scan = await store.createScan({
    spec,
    totalItems: space.size,
    operator: req.config.identity.operator,
    commandLine: req.commandLine,
  });
  return execute(store, scan, space, spec, probes, hooks);
}

export async function resumeScan(store: Store, scanId: string, probes: readonly Probe[], hooks: ScanHooks): Promise<ScanRun> {
  const scan = await store.getScan(scanId);
  if (!scan) throw new NotFoundError(`No scan with id ${scanId}; \`lockdown scans\` lists them`);
  if (isVerifySpec(scan.spec)) return resumeVerify(store, scanId, probes, hooks);
  if ((scan.spec as { kind?: unknown } | null)?.kind === 'case-reverify') {
    throw new UsageError(`Scan ${scanId} is a case re-verification; run \`lockdown case reverify\` again instead of resuming it`);
  }
  if (scan.state === 'completed') throw new UsageError(`Scan ${scanId} already completed; nothing to resume`);
  const spec = scan.spec as ScanSpec;
  if (spec?.version !== 1) throw new UsageError(`Scan ${scanId} was stored by an incompatible version and cannot be resumed`);
  const space = TargetSpace.fromJSON(spec.space);
  // Re-read exclusions: an opt-out that arrived since the interruption is honoured.
  space.setExcludes(await readExclusions(spec));
  await store.setScanState(scan.id, 'running');
  return execute(store, { ...scan, state: 'running' }, space, spec, probes, hooks);
}

async function execute(
  store: Store,
  scan: ScanRecord,
  space: TargetSpace,
  spec: ScanSpec,
  probes: readonly Probe[],
  hooks: ScanHooks,
): Promise<ScanRun> {
  const skip = new Set(await store.donePositionsAboveWatermark(scan.id));
  hooks.onStart?.(scan, space, scan.doneCount);
  const stopWatching = watchExclusions(spec, (set) => space.setExcludes(set), hooks.onWarning);
  let outcome: ScanOutcome;
  try {
    outcome = await runScanner({
      scanId: scan.id,
      space,
      probes: new Map(probes.map((p) => [p.name, p])),
      from: scan.watermark,
      skip,
      ...engineOptions(spec, spec.sample),
      signal: hooks.signal,
      persist: (batch) => store.recordBatch(batch),
      ...(hooks.onResult ? { onResult: hooks.onResult } : {}),
    });
  } catch (err) {
    await store.setScanState(scan.id, 'failed').catch(() => undefined);
    throw err;
  } finally {
    stopWatching();
  }
  await flagHoneypots(store, scan.id);
  await store.setScanState(scan.id, outcome.complete ? 'completed' : 'interrupted');
  const updated = (await store.getScan(scan.id)) ?? scan;
  return { scan: updated, outcome };
}

/**
 * After a scan: look at every host it saw answer, with all of that host's findings, and flag (or clear)
 * likely honeypots, so they are shown as such instead of as real exposures.
 */
export async function flagHoneypots(store: Store, scanId: string): Promise<number> {
  // Judged on what this scan saw of each host, paging through its findings in address order (a host's
  // services are contiguous): a multi-product honeypot answers on all its ports within one scan.
  let flagged = 0;
  let host: string | undefined;
  let services: ServiceSummary[] = [];
  const judge = async (): Promise<void> => {
    if (host === undefined) return;
    const suspicions = honeypotSuspicions(services);
    if (suspicions.length > 0) flagged++;
    // Write only when something changes: a new suspicion, or an old flag to clear.
    if (suspicions.length > 0 || services.some((f) => f.honeypot)) await store.setHostHoneypot(host, suspicions.length > 0 ? suspicions : null);
  };
  for await (const f of eachServiceSummary(store, scanId)) {
    if (f.host !== host) {
      await judge();
      host = f.host;
      services = [];
    }
    services.push(f);
  }
  await judge();
  return flagged;
}

function randomSeed(): number {
  return Math.floor(Math.random() * 0xffffffff);
}
