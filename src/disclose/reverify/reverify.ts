/**
 * Re-verification: probe the services of open cases again, from the scanner's own vantage point, with the
 * same module, limits and identity as a scan — through the scan engine, so every probe is rate-limited,
 * recorded as a scan (`kind: 'case-reverify'`), written to the audit log and updates the finding.
 *
 * A case becomes `remediated` only when its re-probe says `auth_required`, or nothing listens any more
 * (`connection-refused`, `connection-timeout`); the probe's outcome is the evidence on the transition.
 * Anything else (still open, inconclusive, a protocol error, unreachable) leaves the case open and pushes
 * its next check out along the back-off. `reverifyDue` is what `lockdown case reverify` and a monitor loop call.
 */
import { type Config, type ScanDefaults } from '../../config/config.js';
import { NotFoundError } from '../../core/errors.js';
import { ProbeStatus, type Probe, type ProbeResult } from '../../core/types.js';
import { engineOptions, jobExclusions, readExclusions } from '../../discover/job-spec.js';
import { runScanner, type ScanItemSource } from '../../discover/scanner.js';
import { type ScanRecord, type Store } from '../../store/store.js';
import { ExclusionSet } from '../../targets/exclusion.js';
import { type ScanItem } from '../../targets/target-space.js';
import { type CaseService } from '../cases/case-service.js';
import { OPEN_STATES, type CaseRecord, type ReverifyEvidence } from '../cases/types.js';

/** Outcomes that count as locked down from where the scanner stands. */
const LOCKED_STATUSES: ReadonlySet<ProbeStatus> = new Set([ProbeStatus.connectionRefused, ProbeStatus.connectionTimeout]);

export function isLockedDown(r: Pick<ProbeResult, 'status' | 'auth'>): boolean {
  return (r.status === ProbeStatus.success && r.auth === 'auth_required') || LOCKED_STATUSES.has(r.status);
}

export interface ReverifyDeps {
  store: Store;
  service: CaseService;
  probes: readonly Probe[];
  config: Config;
  /** The identity string sent where a protocol allows (`identityString(config, VERSION)`). */
  identity: string;
  /** Rate, concurrency and timeouts (the config's scan defaults unless overridden). */
  settings?: ScanDefaults;
  commandLine?: string;
  signal?: AbortSignal;
  /** Every finished probe (progress, streaming). */
  onResult?: (result: ProbeResult, c: CaseRecord) => void;
}

export interface ReverifyRequest {
  /** These cases now, due or not (each must be open); otherwise every open case that is due. */
  caseIds?: readonly string[];
  /** "Now" for the due check (default: the repository's clock). */
  now?: Date;
}

export interface ReverifyItem {
  case: CaseRecord;
  /** Undefined when the case was skipped (excluded host, unknown module, cancelled). */
  evidence?: ReverifyEvidence;
  skipped?: string;
}

export interface ReverifyOutcome {
  scan: ScanRecord | undefined;
  items: ReverifyItem[];
  remediated: number;
  stillExposed: number;
  skipped: number;
}

/** The scan spec of a re-verification (not resumable: the next run re-selects what is due). */
export interface ReverifySpec {
  kind: 'case-reverify';
  reverifyVersion: 1;
  caseIds: string[];
  settings: ScanDefaults;
  identity: string;
  clientName: string;
}

class CaseItems implements ScanItemSource {
  readonly size: number;
  constructor(
    private readonly list: readonly CaseRecord[],
    private readonly excluded: (host: string) => boolean,
  ) {
    this.size = list.length;
  }
  *items(from = 0, skip?: ReadonlySet<number>): Iterable<ScanItem> {
    for (let i = from; i < this.list.length; i++) {
      if (skip?.has(i)) continue;
      const c = this.list[i] as CaseRecord;
      if (this.excluded(c.host)) continue;
      yield { position: i, host: c.host, port: c.port, module: c.module, ...(c.snapshot.hostname ? { hostname: c.snapshot.hostname } : {}) };
    }
  }
  isExcluded(host: string): boolean {
    return this.excluded(host);
  }
}

function exclusions(config: Config): Promise<ExclusionSet> {
  return readExclusions(jobExclusions(config));
}

/** Selects the cases (given ones, or the due ones) and re-probes them. */
export async function reverifyCases(deps: ReverifyDeps, req: ReverifyRequest = {}): Promise<ReverifyOutcome> {
  const { service } = deps;
  let selected: CaseRecord[];
  if (req.caseIds && req.caseIds.length > 0) {
    selected = [];
    for (const id of req.caseIds) {
      const c = await service.cases.get(id);
      if (!c) throw new NotFoundError(`No case ${id}; \`lockdown case list\` lists them`);
      selected.push(c);
    }
  } else {
    const now = (req.now ?? service.cases.now()).toISOString();
    selected = await service.cases.list({ states: OPEN_STATES, dueBy: now });
  }
  const items: ReverifyItem[] = [];
  const open = selected.filter((c) => {
    if (OPEN_STATES.includes(c.state)) return true;
    items.push({ case: c, skipped: `the case is ${c.state}, not open` });
    return false;
  });
  const known = new Set(deps.probes.map((p) => p.name));
  const runnable = open.filter((c) => {
    if (known.has(c.module)) return true;
    items.push({ case: c, skipped: `no module named ${c.module}` });
    return false;
  });
  const excluded = await exclusions(deps.config);
  const probeable = runnable.filter((c) => {
    if (!excluded.has(c.host)) return true;
    // An opt-out wins over everything, re-verification included.
    items.push({ case: c, skipped: 'the host is on the exclusion list' });
    return false;
  });
  if (probeable.length === 0) return finish(undefined, items);

  const settings = deps.settings ?? deps.config.scan;
  const spec: ReverifySpec = {
    kind: 'case-reverify',
    reverifyVersion: 1,
    caseIds: probeable.map((c) => c.id),
    settings,
    identity: deps.identity,
    clientName: deps.config.identity.name,
  };
  const scan = await deps.store.createScan({
    spec,
    totalItems: probeable.length,
    operator: service.deps.operator,
    commandLine: deps.commandLine ?? 'lockdown case reverify',
  });
  const results = new Map<number, ProbeResult>();
  const source = new CaseItems(probeable, (host) => excluded.has(host));
  const signal = deps.signal ?? new AbortController().signal;
  let complete = false;
  try {
    const outcome = await runScanner({
      scanId: scan.id,
      space: source,
      probes: new Map(deps.probes.map((p) => [p.name, p])),
      from: 0,
      skip: new Set(),
      // Same sampling as a scan inside the authorized scope, so the updated finding keeps its assessment.
      ...engineOptions(
        {
          authorized: deps.config.scope.authorized,
          checkDefaultCredentials: false,
          settings,
          identity: deps.identity,
          clientName: deps.config.identity.name,
        },
        deps.config.sample,
      ),
      signal,
      persist: (batch) => deps.store.recordBatch(batch),
      onResult: (result, item) => {
        if (result.status !== ProbeStatus.cancelled) results.set(item.position, result);
        deps.onResult?.(result, probeable[item.position] as CaseRecord);
      },
    });
    complete = outcome.complete;
  } catch (err) {
    await deps.store.setScanState(scan.id, 'failed').catch(() => undefined);
    throw err;
  }
  await deps.store.setScanState(scan.id, complete ? 'completed' : 'interrupted');

  for (const [position, c] of probeable.entries()) {
    const r = results.get(position);
    if (!r) {
      items.push({ case: c, skipped: 'not probed (cancelled or excluded meanwhile)' });
      continue;
    }
    const evidence = evidenceOf(scan.id, r);
    items.push({ case: await service.recordReverify(c.id, evidence), evidence });
  }
  return finish((await deps.store.getScan(scan.id)) ?? scan, items);
}

/** Every open case whose next re-verification is due by `now` (the monitor's entry point). */
export function reverifyDue(deps: ReverifyDeps, now?: Date): Promise<ReverifyOutcome> {
  return reverifyCases(deps, now ? { now } : {});
}

export function evidenceOf(scanId: string, r: ProbeResult): ReverifyEvidence {
  return {
    scanId,
    module: r.module,
    host: r.target.host,
    port: r.target.port,
    status: r.status,
    auth: r.status === ProbeStatus.success ? (r.auth ?? null) : null,
    product: r.product ?? null,
    version: r.version ?? null,
    evidence: r.evidence ?? null,
    errors: r.errors.slice(0, 5),
    commands: r.commands,
    bytesSent: r.bytesSent,
    bytesRead: r.bytesRead,
    startedAt: r.startedAt,
    durationMs: Math.round(r.durationMs),
    lockedDown: isLockedDown(r),
  };
}

function finish(scan: ScanRecord | undefined, items: ReverifyItem[]): ReverifyOutcome {
  let remediated = 0;
  let stillExposed = 0;
  let skipped = 0;
  for (const i of items) {
    if (!i.evidence) skipped++;
    else if (i.evidence.lockedDown && i.case.state === 'remediated') remediated++;
    else if (!i.evidence.lockedDown) stillExposed++;
  }
  return { scan, items, remediated, stillExposed, skipped };
}
