import { errorMessage } from '../core/errors.js';
import { newProbeResult } from '../core/probe-result.js';
import { assessResult } from '../assess/assess-result.js';
import { AuthVerdict, ProbeStatus, type Probe, type ProbeContext, type ProbeResult, type SamplePlan } from '../core/types.js';
import { type ScanBatch } from '../store/store.js';
import { type ScanItem } from '../targets/target-space.js';
import { RateLimiter, Slots } from './rate-limiter.js';
import { Watermark } from './watermark.js';

/** Statuses that mean nothing listened: counted, not stored. */
const NOT_ANSWERED: ReadonlySet<ProbeStatus> = new Set([
  ProbeStatus.connectionRefused,
  ProbeStatus.connectionTimeout,
  ProbeStatus.unreachable,
  ProbeStatus.cancelled,
]);

export function answered(result: ProbeResult): boolean {
  return !NOT_ANSWERED.has(result.status);
}

/**
 * Where a scan's work comes from: a `TargetSpace` (addresses × ports in a permuted order) or any other
 * fixed, re-creatable list (e.g. imported candidates). Positions must be stable so resume works.
 */
export interface ScanItemSource {
  readonly size: number;
  /** Items from position `from` on, in increasing position order, skipping excluded ones and `skip`. */
  items(from?: number, skip?: ReadonlySet<number>): Iterable<ScanItem>;
  /** Checked again at dispatch time: the exclusion list may change while the scan runs. */
  isExcluded(host: string): boolean;
}

export interface ScannerOptions {
  scanId: string;
  space: ScanItemSource;
  probes: ReadonlyMap<string, Probe>;
  /** First position to dispatch (the stored watermark on resume, else 0). */
  from: number;
  /** Positions at/above `from` already done in an earlier run. */
  skip: ReadonlySet<number>;
  concurrency: number;
  /** New connections per second. */
  rate: number;
  probeContext: Omit<ProbeContext, 'signal' | 'authorized' | 'sample'>;
  isAuthorized: (host: string) => boolean;
  /** Value sampling for authorized targets; undefined = none anywhere. Never given to other targets. */
  samplePlan?: SamplePlan;
  /** Stops dispatching; in-flight probes are cancelled and stay undone (re-probed on resume). */
  signal: AbortSignal;
  /** Persist a batch (one transaction). Called serially. */
  persist: (batch: ScanBatch) => Promise<void>;
  /** How often to persist, ms. */
  flushIntervalMs?: number;
  /** Every finished probe, stored or not (for streaming output and progress). */
  onResult?: (result: ProbeResult, item: ScanItem) => void;
}

export interface ScanCounters {
  dispatched: number;
  done: number;
  answered: number;
  open: number;
  byStatus: Record<string, number>;
}

export interface ScanOutcome {
  counters: ScanCounters;
  watermark: number;
  /** False when stopped by the signal before every position was done. */
  complete: boolean;
}

/**
 * The scan engine: walks the target space in its permuted order with a global rate limit and bounded
 * concurrency, runs each item's probe, and persists finished work in small atomic batches together
 * with the resume watermark. Memory stays O(concurrency + batch), whatever the size of the space.
 */
export async function runScanner(opts: ScannerOptions): Promise<ScanOutcome> {
  const limiter = new RateLimiter(opts.rate);
  const slots = new Slots(opts.concurrency);
  const contexts = scanContexts(opts);
  const watermark = new Watermark(opts.from);
  const counters: ScanCounters = { dispatched: 0, done: 0, answered: 0, open: 0, byStatus: {} };

  let pending: ProbeResult[] = [];
  let pendingDone: number[] = [];
  let delta = { done: 0, answered: 0, open: 0 };
  let flushing: Promise<void> = Promise.resolve();
  let flushError: unknown;

  const flush = (): Promise<void> => {
    const batch: ScanBatch = {
      scanId: opts.scanId,
      results: pending,
      donePositions: pendingDone,
      watermark: watermark.value,
      doneDelta: delta.done,
      answeredDelta: delta.answered,
      openDelta: delta.open,
    };
    pending = [];
    pendingDone = [];
    delta = { done: 0, answered: 0, open: 0 };
    flushing = flushing.then(async () => {
      if (flushError) return;
      try {
        await opts.persist(batch);
      } catch (err) {
        flushError = err;
      }
    });
    return flushing;
  };
  const timer = setInterval(() => void flush(), opts.flushIntervalMs ?? 250);

  const finish = (item: ScanItem, result: ProbeResult): void => {
    // A cancelled probe is not done: it will run again on resume.
    if (result.status !== ProbeStatus.cancelled) {
      watermark.done(item.position);
      pendingDone.push(item.position);
      counters.done++;
      delta.done++;
      counters.byStatus[result.status] = (counters.byStatus[result.status] ?? 0) + 1;
      if (answered(result)) {
        // The assessment stage: what is at risk (names, sample, compromise, severity). Pure and bounded.
        try {
          result.assessment = assessResult(result);
        } catch (err) {
          result.errors.push(`Assessment failed: ${errorMessage(err)}`);
        }
        pending.push(result);
        counters.answered++;
        delta.answered++;
        if (result.auth === AuthVerdict.open) {
          counters.open++;
          delta.open++;
        }
      }
    }
    opts.onResult?.(result, item);
    if (pending.length >= 2000) void flush();
  };

  try {
    for (const item of opts.space.items(opts.from, opts.skip)) {
      if (opts.signal.aborted || flushError) break;
      // Re-check at dispatch time: the exclusion list may have changed while the scan ran.
      if (opts.space.isExcluded(item.host)) continue;
      await slots.acquire();
      try {
        await limiter.take(opts.signal);
      } catch {
        slots.release();
        break;
      }
      if (opts.signal.aborted) {
        slots.release();
        break;
      }
      const probe = opts.probes.get(item.module);
      watermark.dispatched(item.position);
      counters.dispatched++;
      // Every probe gets the scan's own signal: runProbe subscribes through one fanned-out listener.
      void runOne(probe, item, opts, contexts).then((result) => {
        finish(item, result);
        slots.release();
      });
    }
    await slots.drain();
  } finally {
    clearInterval(timer);
    await flush();
  }
  if (flushError) throw flushError;
  return {
    counters,
    watermark: watermark.value,
    complete: !opts.signal.aborted && counters.done === counters.dispatched,
  };
}

/** The two contexts a scan's probes get (outside and inside scope.authorized), built once, not per probe. */
interface ScanContexts {
  outside: ProbeContext;
  inside: ProbeContext;
}

function scanContexts(opts: ScannerOptions): ScanContexts {
  const base = { ...opts.probeContext, signal: opts.signal };
  return {
    outside: { ...base, authorized: false },
    // Value sampling only ever reaches authorized targets.
    inside: { ...base, authorized: true, ...(opts.samplePlan ? { sample: opts.samplePlan } : {}) },
  };
}

async function runOne(probe: Probe | undefined, item: ScanItem, opts: ScannerOptions, contexts: ScanContexts): Promise<ProbeResult> {
  const target = { host: item.host, port: item.port, ...(item.hostname ? { hostname: item.hostname } : {}) };
  if (!probe) {
    return failed(item, target, `No protocol module named ${item.module}`);
  }
  try {
    return await probe.probe(target, opts.isAuthorized(item.host) ? contexts.inside : contexts.outside);
  } catch (err) {
    // The contract says probes never throw; if one does, keep the scan alive and say so.
    return failed(item, target, `Module ${probe.name} threw: ${errorMessage(err)}`);
  }
}

function failed(item: ScanItem, target: ProbeResult['target'], message: string): ProbeResult {
  const result = newProbeResult(item.module, target);
  result.errors.push(message);
  return result;
}
