import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Severity } from '../../core/types.js';
import { type FindingRecord } from '../../store/store.js';
import { caseStats, durations, median, percentile } from './stats.js';
import { type Attribution, type CaseRecord, type CaseState, type Contact } from './types.js';

const T0 = Date.parse('2026-05-01T00:00:00.000Z');
const H = 3_600_000;
const at = (hours: number | null): string | null => (hours === null ? null : new Date(T0 + hours * H).toISOString());

let n = 0;
function c(state: CaseState, severity: Severity | null, notifiedH: number | null, remediatedH: number | null, who: { attribution?: Attribution; contacts?: Contact[] } = {}): CaseRecord {
  n++;
  return {
    id: `c-${n}`,
    findingId: n,
    host: `192.0.2.${n}`,
    port: 6379,
    module: 'redis',
    state,
    severity,
    detectedAt: at(0) as string,
    openedAt: at(0) as string,
    updatedAt: at(0) as string,
    notifiedAt: at(notifiedH),
    acknowledgedAt: null,
    remediatedAt: at(remediatedH),
    closedAt: null,
    openedBy: 'test',
    contacts: who.contacts ?? [],
    attribution: who.attribution ?? null,
    locale: 'en',
    snapshot: {} as FindingRecord,
    nextReverifyAt: null,
    reverifyAttempts: 0,
    lastReverifiedAt: null,
    noticeCount: notifiedH === null ? 0 : 1,
  };
}

describe('case statistics', () => {
  it('median and nearest-rank p90', () => {
    assert.equal(median([]), null);
    assert.equal(median([5]), 5);
    assert.equal(median([1, 2, 3, 10]), 2.5);
    assert.equal(median([1, 2, 3, 4, 100]), 3);
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(ten, 90), 9, 'ceil(0.9 × 10) = 9th value');
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90), 10, 'ceil(0.9 × 11) = 10th value');
    assert.equal(percentile([7], 90), 7);
    assert.deepEqual(durations([3, 1, 2]), { count: 3, medianMs: 2, p90Ms: 3 });
  });

  it('computes the figures of a constructed set of cases', () => {
    const example = { attribution: { owner: 'Example Hosting', asn: 64500 } };
    const other = { attribution: { org: 'Other Org', asn: 'AS64501' } };
    const byMail = { contacts: [{ email: 'ops@Customer.example', source: '--to', role: 'operator-supplied' }] };
    const cases = [
      // Locked down (remediated or closed): notified after 1, 2, 4, 10 h; fixed after 5, 6, 30, 50 h.
      c('remediated', 'high', 1, 5, example),
      c('closed', 'critical', 2, 6, example),
      c('closed', 'medium', 4, 30, other),
      c('remediated', 'high', 10, 50),
      // Remediated before any notice went out: counts for lockdown, not for "after notice".
      c('remediated', 'low', null, 3),
      // Open ones.
      c('notified', 'critical', 3, null, example),
      c('acknowledged', 'high', 5, null, example),
      c('new', 'high', null, null, other),
      c('reopened', null, 8, null, byMail),
      c('new', 'critical', null, null),
      // Neither open nor locked down.
      c('wont_fix', 'high', 6, null, example),
      c('false_positive', 'info', null, null),
    ];
    const s = caseStats(cases);
    assert.equal(s.total, 12);
    assert.equal(s.open, 5);
    assert.deepEqual(s.byState, { new: 2, notified: 1, acknowledged: 1, remediated: 3, closed: 2, reopened: 1, wont_fix: 1, false_positive: 1 });
    // Notified: 1, 2, 4, 10, 3, 5, 8, 6 h → sorted 1 2 3 4 5 6 8 10: median (4+5)/2 = 4.5 h, p90 = 8th = 10 h.
    assert.deepEqual(s.timeToNotify, { count: 8, medianMs: 4.5 * H, p90Ms: 10 * H });
    // Locked down: 5, 6, 30, 50, 3 h → sorted 3 5 6 30 50: median 6 h, p90 = ceil(4.5) = 5th = 50 h.
    assert.deepEqual(s.timeToLockdown, { count: 5, medianMs: 6 * H, p90Ms: 50 * H });
    // After notice: 4, 4, 26, 40 h → median 15 h, p90 = 4th = 40 h.
    assert.deepEqual(s.lockdownAfterNotice, { count: 4, medianMs: 15 * H, p90Ms: 40 * H });
    assert.deepEqual(s.openBySeverity, { critical: 2, high: 2, medium: 0, low: 0, info: 0, unknown: 1 });
    assert.deepEqual(s.openByOwner, [
      { owner: 'Example Hosting', count: 2 },
      { owner: 'customer.example', count: 1 },
      { owner: 'Other Org', count: 1 },
      { owner: 'unknown', count: 1 },
    ]);
    assert.deepEqual(s.openByAsn, [
      { asn: 'AS64500', count: 2 },
      { asn: 'unknown', count: 2 },
      { asn: 'AS64501', count: 1 },
    ]);
  });

  it('an empty set has counts of zero and no durations', () => {
    const s = caseStats([]);
    assert.equal(s.total, 0);
    assert.deepEqual(s.timeToLockdown, { count: 0, medianMs: null, p90Ms: null });
    assert.deepEqual(s.openByOwner, []);
  });
});
