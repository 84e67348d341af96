import { AUTH_VERDICTS, type AuthVerdict, type ProbeStatus } from '../../core/types.js';

/**
 * Whether what a source claimed still holds, now that we probed the service ourselves:
 * - `true` (stale): the claim no longer matches what the service does now — claimed `open`, now
 *   `auth_required`; claimed `auth_required`, now `open`; or claimed at all and now nothing listens
 *   (refused, no answer, unreachable).
 * - `false`: it still holds — the same verdict, or the source claimed only "port open" and the port
 *   still answers in the protocol.
 * - `null`: cannot tell — either side `inconclusive`, or the service answered but not in the protocol
 *   (protocol error, timeout mid-exchange …), or the probe was cancelled.
 * One probe cannot tell a claim that was once true (stale) from one that never was (wrong); the
 * source's `observedAt` next to ours lets a reader judge.
 */

const NOTHING_LISTENS: ReadonlySet<ProbeStatus> = new Set(['connection-refused', 'connection-timeout', 'unreachable']);

export function staleness(claim: AuthVerdict | null, status: ProbeStatus, verdict: AuthVerdict | null): boolean | null {
  if (status === 'cancelled') return null;
  if (NOTHING_LISTENS.has(status)) return true;
  if (status !== 'success' || verdict === null) return null;
  if (claim === null) return false;
  if (claim === 'inconclusive' || verdict === 'inconclusive') return null;
  return claim !== verdict;
}

/** Staleness for each claim a candidate of the service may carry (the store writes the matching one). */
export function stalenessByClaim(status: ProbeStatus, verdict: AuthVerdict | null): Record<AuthVerdict | 'none', boolean | null> {
  const out = { none: staleness(null, status, verdict) } as Record<AuthVerdict | 'none', boolean | null>;
  for (const claim of AUTH_VERDICTS) out[claim] = staleness(claim, status, verdict);
  return out;
}

/** What our probe saw, in one word or two, for tables: the verdict, or where the conversation stopped. */
export function nowLabel(status: ProbeStatus | null, verdict: AuthVerdict | null): string {
  if (status === null) return '';
  if (status === 'success') return verdict ?? 'answered';
  if (status === 'connection-refused') return 'closed';
  if (status === 'connection-timeout') return 'no answer';
  return status;
}
