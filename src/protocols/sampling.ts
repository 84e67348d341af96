/**
 * What every sampling module shares: the plan clamped to the assessment layer's hard caps, a byte budget
 * for what sampling reads off the wire, and the step that turns raw sampled values into the redacted
 * `RedactedSample` a result may carry.
 *
 * The rule for modules: sampled values live only in local variables between the read and `redactSample`;
 * they never go into metadata, evidence, errors or the inventory, and `redactSample` is the only thing that
 * looks at them. Sampling runs only when `ctx.sample` is set (the caller sets it only for targets inside
 * `scope.authorized`); without it not one sampling command is sent.
 */
import { assessCompromise, assessSample, SAMPLE_HARD_CAPS, type SampleInput } from '../assess/index.js';
import { errorMessage, LockdownError, ErrorCode } from '../core/errors.js';
import { type RedactedSample, type SamplePlan } from '../core/types.js';

/** Collections/tables/indices sampled per target, whatever the plan asks. */
export const MAX_SAMPLED_COLLECTIONS = 100;

export interface SampleLimits {
  /** Documents/rows/keys per collection (1 … SAMPLE_HARD_CAPS.maxDocuments). */
  perCollection: number;
  /** Bytes sampling may read off the wire per target, and bytes the scanner walks (1 … SAMPLE_HARD_CAPS.maxBytes). */
  maxBytes: number;
  /** Collections per target (1 … MAX_SAMPLED_COLLECTIONS). */
  maxCollections: number;
}

function clamp(v: number, max: number): number {
  return Number.isFinite(v) ? Math.max(1, Math.min(max, Math.floor(v))) : 1;
}

/** The plan within the hard caps: a plan can only lower them. */
export function sampleLimits(plan: SamplePlan): SampleLimits {
  return {
    perCollection: clamp(plan.perCollection, SAMPLE_HARD_CAPS.maxDocuments),
    maxBytes: clamp(plan.maxBytes, SAMPLE_HARD_CAPS.maxBytes),
    maxCollections: clamp(plan.maxCollections, MAX_SAMPLED_COLLECTIONS),
  };
}

/** Bytes sampling has read off the wire so far, against the plan's `maxBytes`. */
export class SampleBudget {
  spent = 0;
  constructor(readonly maxBytes: number) {}

  spend(n: number): void {
    this.spent += Math.max(0, n);
  }

  get remaining(): number {
    return Math.max(0, this.maxBytes - this.spent);
  }

  get exhausted(): boolean {
    return this.spent >= this.maxBytes;
  }
}

/** One category in `RedactedSample.categories`: counts, sanitised field paths and one masked example. */
export interface SampleCategory {
  count: number;
  detectors: string[];
  fields: { path: string; count: number }[];
  example: string;
}

export interface RedactedOutcome {
  sample: RedactedSample;
  /** Limits of the scanner that cut the scan short (`documents`, `bytes` …). */
  truncated: string[];
}

/**
 * Run sampled values through `assessSample` and keep only its redacted output. `maxDocuments` is the
 * scanner's per-collection (and per-records-input) bound: modules that pass one records input for several
 * namespaces raise it to what they bounded themselves, never past the hard cap.
 */
export function redactSample(input: SampleInput, limits: SampleLimits, maxDocuments = limits.perCollection, product = 'unknown'): RedactedOutcome {
  const compromise = sampledCompromise(input, product);
  const a = assessSample(input, {
    maxDocuments: clamp(maxDocuments, SAMPLE_HARD_CAPS.maxDocuments),
    maxBytes: limits.maxBytes,
  });
  const categories: Record<string, SampleCategory> = {};
  for (const c of a.byCategory) {
    categories[c.category] = { count: c.count, detectors: [...c.detectors], fields: c.fields.map((f) => ({ path: f.path, count: f.count })), example: c.example };
  }
  return { sample: { documents: a.documents, bytes: a.bytes, categories, ...(compromise.length > 0 ? { compromise } : {}) }, truncated: [...a.truncated] };
}

/** Text scanned per ransom-note collection at most (notes are short; this bounds a hostile one). */
const NOTE_TEXT_CAP = 64 * 1024;

/**
 * Compromise signs that need values: the wording of a ransom note (only in collections whose *name* is
 * a ransom-note name, so ordinary chat text is never read as a note) and planted Redis payloads (cron
 * lines, ssh keys). The rules mask and cap their evidence; the texts themselves are dropped here.
 * Inputs are the module's bounded, already-read sample arrays.
 */
function sampledCompromise(input: SampleInput, product: string): NonNullable<RedactedSample['compromise']> {
  if ('records' in input) {
    const redisValues: { key: string; value: string }[] = [];
    for (const r of input.records) if (typeof r.value === 'string') redisValues.push({ key: r.path, value: r.value.slice(0, NOTE_TEXT_CAP) });
    if (redisValues.length === 0) return [];
    return strip(assessCompromise({ product, redisValues }).matches);
  }
  const notes: string[] = [];
  for (const c of input.collections) {
    const path = c.name.split('.');
    const named = assessCompromise({ product, namespaces: [{ path, kind: 'collection' }] }).matches.length > 0;
    if (!named) continue;
    let text = '';
    for (const doc of c.documents) {
      collectStrings(doc, (s) => {
        if (text.length < NOTE_TEXT_CAP) text += `${s}\n`;
      });
      if (text.length >= NOTE_TEXT_CAP) break;
    }
    if (text) notes.push(text.slice(0, NOTE_TEXT_CAP));
  }
  return notes.length > 0 ? strip(assessCompromise({ product, notes }).matches) : [];
}

function strip(matches: { ruleId: string; description: string; strength: 'strong' | 'weak'; evidence: string }[]) {
  return matches.map((m) => ({ ruleId: m.ruleId, description: m.description, strength: m.strength, evidence: m.evidence }));
}

function collectStrings(v: unknown, out: (s: string) => void, depth = 0): void {
  if (depth > 16) return;
  if (typeof v === 'string') out(v);
  else if (Array.isArray(v)) for (const x of v) collectStrings(x, out, depth + 1);
  else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) for (const x of Object.values(v)) collectStrings(x, out, depth + 1);
}

/** Sampling facts that are safe in metadata: counts and limits only, never a value. */
export interface SamplingFacts {
  /** Collections/tables/indices/databases actually read from. */
  collections: number;
  /** Bytes the sampling commands read off the wire (replies included). */
  bytesRead: number;
  limits: SampleLimits;
  /** Scanner limits that cut the scan short. */
  truncated: string[];
}

/**
 * A sampling step failed: a short message for `errors` that can never carry a sampled value — the error's
 * class and code for our own errors (their messages are ours), else just the name of what failed.
 */
export function samplingError(what: string, err: unknown): string {
  if (err instanceof LockdownError) {
    // Our own messages name limits and protocol shapes, not data; read-limit and closed connections say the most.
    const safe = err.code === ErrorCode.readLimit || err.code === ErrorCode.connectionClosed || err.code === ErrorCode.commandNotAllowed;
    return `Sampling ${what} stopped: ${safe ? errorMessage(err) : err.code}`;
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return `Sampling ${what} stopped: ${typeof code === 'string' ? code : 'error'}`;
}
