import { ErrorCode, LockdownError } from '../../core/errors.js';
import { CASE_STATES, CaseState } from './types.js';

/**
 * The case life cycle: `new → notified → acknowledged → remediated → closed`, plus `reopened`,
 * `wont_fix` and `false_positive`. Every allowed move is listed here; anything else is refused.
 *
 * `remediated` is special: only a re-verification that found the service locked down (auth required, or
 * nothing listening from the scanner's vantage point) may set it, with the probe's evidence — an operator
 * cannot declare a service fixed. `notified` is set by a sent notice, or by hand for a notice given another
 * way (phone, ticket) with a reason.
 */
export const TRANSITIONS: Readonly<Record<CaseState, readonly CaseState[]>> = {
  new: ['notified', 'acknowledged', 'remediated', 'wont_fix', 'false_positive'],
  notified: ['acknowledged', 'remediated', 'wont_fix', 'false_positive'],
  acknowledged: ['remediated', 'wont_fix', 'false_positive'],
  reopened: ['notified', 'acknowledged', 'remediated', 'wont_fix', 'false_positive'],
  remediated: ['closed', 'reopened'],
  wont_fix: ['reopened', 'closed'],
  false_positive: ['reopened', 'closed'],
  closed: ['reopened'],
};

/** States only the re-verification may enter. */
export const VERIFIED_ONLY: readonly CaseState[] = [CaseState.remediated];

/** A move the life cycle does not allow, or one only re-verification may make. */
export class CaseTransitionError extends LockdownError {
  readonly from: CaseState;
  readonly to: string;
  constructor(caseId: string, from: CaseState, to: string, reason: string) {
    super(ErrorCode.usage, `Case ${caseId} cannot go from ${from} to ${to}: ${reason}`);
    this.from = from;
    this.to = to;
  }
}

export function isCaseState(s: string): s is CaseState {
  return (CASE_STATES as readonly string[]).includes(s);
}

/** Throws `CaseTransitionError` unless `from → to` is allowed (for `by: 'reverify'` also into `remediated`). */
export function assertTransition(caseId: string, from: CaseState, to: string, by: 'operator' | 'reverify' = 'operator'): asserts to is CaseState {
  if (!isCaseState(to)) throw new CaseTransitionError(caseId, from, to, `${JSON.stringify(to)} is not a case state (states: ${CASE_STATES.join(', ')})`);
  if (from === to) throw new CaseTransitionError(caseId, from, to, `it is already ${to}`);
  const allowed = TRANSITIONS[from];
  if (!allowed.includes(to)) {
    throw new CaseTransitionError(caseId, from, to, `from ${from} a case can go to ${allowed.join(', ')}`);
  }
  if (VERIFIED_ONLY.includes(to) && by !== 'reverify') {
    throw new CaseTransitionError(
      caseId,
      from,
      to,
      'only a re-verification that finds the service locked down can mark it remediated; run `lockdown case reverify ' + caseId + '`',
    );
  }
}
