/**
 * Disclosure cases: one per exposed service (host, port, module), from the first notice to the lockdown.
 * Plain data; the rules of how a case moves are in states.ts, the work in case-service.ts.
 */
import { type AuthVerdict, type ProbeStatus, type Severity } from '../../core/types.js';
import { type FindingRecord } from '../../store/store.js';

export const CaseState = {
  new: 'new',
  notified: 'notified',
  acknowledged: 'acknowledged',
  remediated: 'remediated',
  closed: 'closed',
  reopened: 'reopened',
  wontFix: 'wont_fix',
  falsePositive: 'false_positive',
} as const;
export type CaseState = (typeof CaseState)[keyof typeof CaseState];
export const CASE_STATES: readonly CaseState[] = Object.values(CaseState);

/** States in which the service is taken to be still exposed: these are re-verified and counted as open. */
export const OPEN_STATES: readonly CaseState[] = [CaseState.new, CaseState.notified, CaseState.acknowledged, CaseState.reopened];

/** Who to tell. `source` says where the address came from (`--to`, `rdap:abuse`, `security.txt` …). */
export interface Contact {
  email: string;
  source: string;
  /** e.g. `abuse`, `technical`, `owner`, `operator-supplied`. */
  role: string;
}

/** Who the address belongs to, as the attribution stage found it; every field optional. */
export interface Attribution {
  owner?: string;
  org?: string;
  asn?: number | string;
  country?: string;
  /** Where it came from (`rdap`, `mmdb`, `manual` …). */
  source?: string;
}

export interface CaseRecord {
  /** Sortable id, e.g. `c-20261125-123456-ab12`. */
  id: string;
  findingId: number;
  host: string;
  port: number;
  module: string;
  state: CaseState;
  severity: Severity | null;
  /** When the exposure was first seen (the finding's first_seen): the start of time-to-notify and time-to-lockdown. */
  detectedAt: string;
  openedAt: string;
  updatedAt: string;
  /** First notice sent (or recorded). */
  notifiedAt: string | null;
  acknowledgedAt: string | null;
  /** Latest transition to `remediated` (set only by a re-verification). */
  remediatedAt: string | null;
  closedAt: string | null;
  openedBy: string;
  contacts: Contact[];
  attribution: Attribution | null;
  /** Language of the notices for this case (`en`, `zh-CN` …). */
  locale: string;
  /** The finding as it was when the case was opened (or last seen exposed): what the notice reports. Redacted data only. */
  snapshot: FindingRecord;
  /** When the next re-verification is due; null when the case is not open. */
  nextReverifyAt: string | null;
  /** Re-verifications that found the service still exposed since the last notice or reopening (drives the back-off). */
  reverifyAttempts: number;
  lastReverifiedAt: string | null;
  noticeCount: number;
}

export type CaseEventKind = 'opened' | 'transition' | 'notice' | 'reverify' | 'contacts';

/** One line of a case's history: every transition with who, when and why, every notice and re-verification. */
export interface CaseEvent {
  caseId: string;
  /** 1, 2, 3 … within the case. */
  seq: number;
  at: string;
  kind: CaseEventKind;
  fromState: CaseState | null;
  toState: CaseState | null;
  operator: string;
  reason: string | null;
  /** Plain JSON: a `ReverifyEvidence`, a `NoticeEvidence`, contacts … */
  evidence: unknown;
}

/** What a re-probe saw, kept on the `reverify` event and on the transition it caused. */
export interface ReverifyEvidence {
  scanId: string;
  module: string;
  host: string;
  port: number;
  status: ProbeStatus;
  auth: AuthVerdict | null;
  product: string | null;
  version: string | null;
  /** The server's reply, capped (e.g. `-NOAUTH Authentication required.`), or null when nothing answered. */
  evidence: string | null;
  errors: string[];
  commands: string[];
  bytesSent: number;
  bytesRead: number;
  startedAt: string;
  durationMs: number;
  /** Whether this outcome counts as locked down. */
  lockedDown: boolean;
}

export interface NoticeEvidence {
  messageId: string | null;
  to: string[];
  locale: string;
  subject: string;
  /** SMTP server's reply to the message, e.g. `250 OK: queued as …`. */
  response: string | null;
  /** `smtp` for a sent message, `manual` for one recorded with `case transition … notified`. */
  channel: 'smtp' | 'manual';
}
