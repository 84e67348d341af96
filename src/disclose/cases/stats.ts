/**
 * Disclosure statistics over a set of cases (pure; `lockdown case stats`).
 *
 * - time to notify: first notice − first seen (the finding's first sighting)
 * - time to lockdown: re-verified remediation − first seen, for cases now remediated or closed after one
 * - lockdown after notice: re-verified remediation − first notice
 * Median (the mean of the two middle values for an even count) and p90 (nearest rank: the smallest value
 * with at least 90 % of the values at or below it), in milliseconds. Open cases are broken down by
 * severity, owner and ASN (owner = attribution owner, else org, else the domain of the first contact's
 * e-mail; `unknown` when none).
 */
import { SEVERITY_LEVELS, type Severity } from '../../core/types.js';
import { CASE_STATES, OPEN_STATES, type CaseRecord, type CaseState } from './types.js';

export interface Durations {
  count: number;
  medianMs: number | null;
  p90Ms: number | null;
}

export interface CaseStats {
  total: number;
  open: number;
  byState: Record<CaseState, number>;
  timeToNotify: Durations;
  timeToLockdown: Durations;
  lockdownAfterNotice: Durations;
  openBySeverity: Record<Severity | 'unknown', number>;
  openByOwner: { owner: string; count: number }[];
  openByAsn: { asn: string; count: number }[];
}

export function median(sorted: readonly number[]): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile of ascending values, `p` in (0, 100]. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function durations(values: readonly number[]): Durations {
  const sorted = values.filter((v) => Number.isFinite(v) && v >= 0).sort((a, b) => a - b);
  return { count: sorted.length, medianMs: median(sorted), p90Ms: percentile(sorted, 90) };
}

function ms(later: string | null, earlier: string | null): number | undefined {
  if (!later || !earlier) return undefined;
  const d = Date.parse(later) - Date.parse(earlier);
  return Number.isFinite(d) ? d : undefined;
}

export function ownerOf(c: Pick<CaseRecord, 'attribution' | 'contacts'>): string {
  const a = c.attribution;
  if (a?.owner) return a.owner;
  if (a?.org) return a.org;
  const email = c.contacts.find((x) => x.email.includes('@'))?.email;
  return email ? (email.split('@').pop() as string).toLowerCase() : 'unknown';
}

export function asnOf(c: Pick<CaseRecord, 'attribution'>): string {
  const asn = c.attribution?.asn;
  if (asn === undefined || asn === null || asn === '') return 'unknown';
  const s = String(asn);
  return /^as/i.test(s) ? `AS${s.slice(2)}` : `AS${s}`;
}

function ranked<K extends string>(counts: Map<string, number>, key: K): ({ count: number } & Record<K, string>)[] {
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([name, count]) => ({ [key]: name, count }) as { count: number } & Record<K, string>);
}

export function caseStats(cases: readonly CaseRecord[]): CaseStats {
  const byState = Object.fromEntries(CASE_STATES.map((s) => [s, 0])) as Record<CaseState, number>;
  const openBySeverity = Object.fromEntries([...SEVERITY_LEVELS, 'unknown'].map((s) => [s, 0])) as Record<Severity | 'unknown', number>;
  const owners = new Map<string, number>();
  const asns = new Map<string, number>();
  const toNotify: number[] = [];
  const toLockdown: number[] = [];
  const afterNotice: number[] = [];
  let open = 0;
  for (const c of cases) {
    byState[c.state]++;
    const n = ms(c.notifiedAt, c.detectedAt);
    if (n !== undefined) toNotify.push(n);
    if (c.state === 'remediated' || c.state === 'closed') {
      const l = ms(c.remediatedAt, c.detectedAt);
      if (l !== undefined) toLockdown.push(l);
      const a = ms(c.remediatedAt, c.notifiedAt);
      if (a !== undefined) afterNotice.push(a);
    }
    if (OPEN_STATES.includes(c.state)) {
      open++;
      openBySeverity[c.severity ?? 'unknown']++;
      const owner = ownerOf(c);
      owners.set(owner, (owners.get(owner) ?? 0) + 1);
      const asn = asnOf(c);
      asns.set(asn, (asns.get(asn) ?? 0) + 1);
    }
  }
  return {
    total: cases.length,
    open,
    byState,
    timeToNotify: durations(toNotify),
    timeToLockdown: durations(toLockdown),
    lockdownAfterNotice: durations(afterNotice),
    openBySeverity,
    openByOwner: ranked(owners, 'owner'),
    openByAsn: ranked(asns, 'asn'),
  };
}
