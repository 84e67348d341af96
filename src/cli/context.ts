import { checkScanLimits, loadConfig, type Config, type ScanDefaults } from '../config/config.js';
import { UsageError } from '../core/errors.js';
import { AUTH_VERDICTS, SEVERITY_LEVELS, type AuthVerdict, type Severity } from '../core/types.js';
import { defaultDbPath } from '../store/default-path.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { type Store } from '../store/store.js';
import { type TargetSpecInput } from '../targets/target-space.js';

/** Options every command accepts. */
export interface CommonOptions {
  db?: string;
  config?: string;
}

export function resolveDbPath(opts: CommonOptions): string {
  return opts.db ?? defaultDbPath();
}

export function commonConfig(opts: CommonOptions): Config {
  return loadConfig(opts.config);
}

/** Open the store, run `fn`, always close it. */
export async function withStore<T>(opts: CommonOptions, fn: (store: Store, dbPath: string) => Promise<T>): Promise<T> {
  const dbPath = resolveDbPath(opts);
  const store = await openSqliteStore(dbPath);
  try {
    return await fn(store, dbPath);
  } finally {
    await store.close();
  }
}

export function parseVerdicts(text: string | undefined, flag: string): AuthVerdict[] | undefined {
  if (text === undefined) return undefined;
  const out = text.split(',').map((s) => s.trim().replace('-', '_'));
  for (const v of out) {
    if (!(AUTH_VERDICTS as readonly string[]).includes(v)) {
      throw new UsageError(`Unknown verdict ${JSON.stringify(v)} for ${flag}; use ${AUTH_VERDICTS.join(', ')}`);
    }
  }
  return out as AuthVerdict[];
}

export function parsePositiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * --fail-on: a verdict (`open`, `inconclusive`, `auth_required` — each includes the ones before it) or a
 * severity (`critical` … `info`: that level or above). `none` never fails.
 */
export const FAIL_ON_VERDICTS = ['none', 'open', 'inconclusive', 'auth_required'] as const;
export type FailOn = { kind: 'none' } | { kind: 'verdict'; verdict: Exclude<(typeof FAIL_ON_VERDICTS)[number], 'none'> } | { kind: 'severity'; severity: Severity };

export function parseFailOn(text: string | undefined): FailOn {
  const v = (text ?? 'none').replace('-', '_').toLowerCase();
  if (v === 'none') return { kind: 'none' };
  if ((FAIL_ON_VERDICTS as readonly string[]).includes(v)) return { kind: 'verdict', verdict: v as 'open' };
  if ((SEVERITY_LEVELS as readonly string[]).includes(v)) return { kind: 'severity', severity: v as Severity };
  throw new UsageError(`Unknown --fail-on ${JSON.stringify(text)}; use a verdict (${FAIL_ON_VERDICTS.join(', ')}) or a severity (${SEVERITY_LEVELS.join(', ')})`);
}

export function failsOn(
  failOn: FailOn,
  all: { auth: AuthVerdict | null | undefined; severity?: Severity | null; honeypot?: unknown[] | null }[],
): boolean {
  if (failOn.kind === 'none') return false;
  // A likely honeypot is flagged, not reported as a real exposure: it never fails a run.
  const findings = all.filter((f) => !f.honeypot || f.honeypot.length === 0);
  if (failOn.kind === 'severity') {
    const worst = SEVERITY_LEVELS.indexOf(failOn.severity);
    return findings.some((f) => f.severity != null && SEVERITY_LEVELS.indexOf(f.severity) <= worst);
  }
  const hit: Record<typeof failOn.verdict, AuthVerdict[]> = {
    open: ['open'],
    inconclusive: ['open', 'inconclusive'],
    auth_required: ['open', 'inconclusive', 'auth_required'],
  };
  return findings.some((f) => f.auth != null && hit[failOn.verdict].includes(f.auth));
}

export function parseSeverity(text: string | undefined, flag: string): Severity | undefined {
  if (text === undefined) return undefined;
  const v = text.toLowerCase();
  if (!(SEVERITY_LEVELS as readonly string[]).includes(v)) throw new UsageError(`Unknown severity ${JSON.stringify(text)} for ${flag}; use ${SEVERITY_LEVELS.join(', ')}`);
  return v as Severity;
}

/** Command-line overrides of the scan settings (`--rate`, `--concurrency`, timeouts, `--read-cap`). */
export interface ScanSettingFlags {
  rate?: string;
  concurrency?: string;
  connectTimeout?: string;
  timeout?: string;
  readCap?: string;
}

/** The flags of every command that runs the scan engine (scan, import --verify). */
export interface EngineFlags extends ScanSettingFlags {
  exclude?: string[];
  excludeFile?: string[];
  checkDefaultCredentials?: boolean;
}

/** Commander collector for a repeatable option. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** `--exclude a,b --exclude c` as target specs, each naming where it came from. */
export function excludeFlags(flags: EngineFlags): TargetSpecInput[] {
  return (flags.exclude ?? []).flatMap((arg, i) =>
    arg.split(',').map((text, j) => ({ text: text.trim(), source: `--exclude ${i + 1} item ${j + 1}` })),
  );
}

/** Config defaults with the command line's overrides, checked against the hard limits. */
export function scanSettings(defaults: ScanDefaults, opts: ScanSettingFlags): ScanDefaults {
  const s: ScanDefaults = {
    rate: parsePositiveInt(opts.rate, '--rate') ?? defaults.rate,
    concurrency: parsePositiveInt(opts.concurrency, '--concurrency') ?? defaults.concurrency,
    connectTimeoutMs: parsePositiveInt(opts.connectTimeout, '--connect-timeout') ?? defaults.connectTimeoutMs,
    timeoutMs: parsePositiveInt(opts.timeout, '--timeout') ?? defaults.timeoutMs,
    readCapBytes: parsePositiveInt(opts.readCap, '--read-cap') ?? defaults.readCapBytes,
  };
  // A shorter probe deadline also shortens the connect timeout, unless that was given too.
  if (opts.timeout !== undefined && opts.connectTimeout === undefined) s.connectTimeoutMs = Math.min(s.connectTimeoutMs, s.timeoutMs);
  checkScanLimits(s, 'the command line');
  return s;
}
