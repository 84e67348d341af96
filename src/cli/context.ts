import { loadConfig, type Config } from '../config/config.js';
import { UsageError } from '../core/errors.js';
import { AUTH_VERDICTS, type AuthVerdict } from '../core/types.js';
import { defaultDbPath } from '../store/default-path.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { type Store } from '../store/store.js';

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
 * --fail-on: the least severe verdict that makes the command exit 1.
 * `open` fails only on open services; `inconclusive` also on those; `auth_required` on anything answered.
 */
export const FAIL_ON_LEVELS = ['none', 'open', 'inconclusive', 'auth_required'] as const;
export type FailOn = (typeof FAIL_ON_LEVELS)[number];

export function parseFailOn(text: string | undefined): FailOn {
  const v = (text ?? 'none').replace('-', '_');
  if (!(FAIL_ON_LEVELS as readonly string[]).includes(v)) {
    throw new UsageError(`Unknown --fail-on ${JSON.stringify(text)}; use ${FAIL_ON_LEVELS.join(', ')}`);
  }
  return v as FailOn;
}

export function failsOn(failOn: FailOn, verdicts: (AuthVerdict | null | undefined)[]): boolean {
  if (failOn === 'none') return false;
  const hit: Record<Exclude<FailOn, 'none'>, AuthVerdict[]> = {
    open: ['open'],
    inconclusive: ['open', 'inconclusive'],
    auth_required: ['open', 'inconclusive', 'auth_required'],
  };
  return verdicts.some((v) => v != null && hit[failOn].includes(v));
}
