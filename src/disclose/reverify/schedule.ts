import { UsageError } from '../../core/errors.js';

/**
 * When open cases are re-probed: after the case opens or a notice goes out, then with a growing gap
 * each time the service is still exposed (1 h, 6 h, 24 h, 3 d, then weekly). A `monitor` loop calls
 * `reverifyDue` (reverify.ts) periodically; whatever is due by then is probed.
 */
const HOUR = 3_600_000;
export const DEFAULT_BACKOFF_MS: readonly number[] = [1 * HOUR, 6 * HOUR, 24 * HOUR, 72 * HOUR, 168 * HOUR];

/** Due time after `attempts` re-verifications that found the service still exposed (the last gap repeats). */
export function nextReverifyAt(from: Date, attempts: number, backoffMs: readonly number[] = DEFAULT_BACKOFF_MS): string {
  if (backoffMs.length === 0) throw new RangeError('The back-off list is empty');
  const gap = backoffMs[Math.min(Math.max(0, attempts), backoffMs.length - 1)] as number;
  return new Date(from.getTime() + gap).toISOString();
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: HOUR, d: 24 * HOUR, w: 168 * HOUR };

/** `1h,6h,24h,3d` → milliseconds; each gap at least one minute, increasing or equal. */
export function parseBackoff(text: string, flag = '--backoff'): number[] {
  const out = text.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/.exec(part);
    if (!m) throw new UsageError(`${flag}: ${JSON.stringify(part.trim())} is not a duration such as 30m, 6h, 3d or 1w`);
    return Math.round(Number(m[1]) * (UNITS[m[2] as string] as number));
  });
  if (out.some((ms) => ms < 60_000)) throw new UsageError(`${flag}: every gap must be at least one minute`);
  for (let i = 1; i < out.length; i++) {
    if ((out[i] as number) < (out[i - 1] as number)) throw new UsageError(`${flag}: gaps must not shrink (${text})`);
  }
  return out;
}
