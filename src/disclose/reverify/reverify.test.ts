import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { defaultConfig } from '../../config/config.js';
import { PROBE_STATUSES, type ProbeResult } from '../../core/types.js';
import { PROBES } from '../../protocols/registry.js';
import { probeResult } from '../../../test/helpers/probe-result.js';
import { openSqliteCaseStores } from '../cases/open-stores.js';
import { CaseService } from '../cases/case-service.js';
import { TRANSITIONS, assertTransition } from '../cases/states.js';
import { CASE_STATES } from '../cases/types.js';
import { isLockedDown, reverifyCases } from './reverify.js';
import { nextReverifyAt, parseBackoff } from './schedule.js';

describe('re-verification rules', () => {
  it('locked down means auth_required, or nothing listening (refused / connect timeout) — nothing else', () => {
    const locked = new Set<string>();
    for (const status of PROBE_STATUSES) {
      for (const auth of [undefined, 'open', 'auth_required', 'inconclusive'] as const) {
        if (isLockedDown({ status, auth })) locked.add(`${status}/${auth ?? '-'}`);
      }
    }
    assert.deepEqual(
      [...locked].sort(),
      ['connection-refused/-', 'connection-refused/auth_required', 'connection-refused/inconclusive', 'connection-refused/open', 'connection-timeout/-', 'connection-timeout/auth_required', 'connection-timeout/inconclusive', 'connection-timeout/open', 'success/auth_required'],
    );
    assert.equal(isLockedDown({ status: 'io-timeout' }), false, 'a silent service is still listening');
    assert.equal(isLockedDown({ status: 'unreachable' }), false, 'a routing problem on our side proves nothing');
    assert.equal(isLockedDown({ status: 'success', auth: 'inconclusive' }), false);
  });

  it('the life-cycle table: every state pair is either allowed or refused, and remediated only by re-verification', () => {
    for (const from of CASE_STATES) {
      for (const to of CASE_STATES) {
        const allowed = TRANSITIONS[from].includes(to);
        if (!allowed) assert.throws(() => assertTransition('c', from, to, 'reverify'), new RegExp(`cannot go from ${from} to ${to}`));
        else if (to === 'remediated') {
          assert.throws(() => assertTransition('c', from, to, 'operator'), /only a re-verification/);
          assert.doesNotThrow(() => assertTransition('c', from, to, 'reverify'));
        } else assert.doesNotThrow(() => assertTransition('c', from, to, 'operator'));
      }
    }
    assert.deepEqual(TRANSITIONS.closed, ['reopened']);
  });

  it('back-off: parsing and the schedule', () => {
    assert.deepEqual(parseBackoff('1h,6h,24h,3d,1w'), [3_600_000, 21_600_000, 86_400_000, 259_200_000, 604_800_000]);
    assert.deepEqual(parseBackoff('30m'), [1_800_000]);
    assert.throws(() => parseBackoff('6h,1h'), /must not shrink/);
    assert.throws(() => parseBackoff('10s'), /at least one minute/);
    assert.throws(() => parseBackoff('soon'), /not a duration/);
    const t = new Date('2026-01-01T00:00:00Z');
    assert.equal(nextReverifyAt(t, 0, [60_000, 120_000]), '2026-01-01T00:01:00.000Z');
    assert.equal(nextReverifyAt(t, 5, [60_000, 120_000]), '2026-01-01T00:02:00.000Z', 'the last gap repeats');
  });
});

describe('re-verification selection (no traffic: every case here is skipped before probing)', () => {
  const opened: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const s of opened) await s.close();
  });

  it('skips excluded hosts, closed cases and unknown modules, and creates no scan for nothing', async () => {
    const stores = await openSqliteCaseStores(':memory:');
    opened.push(stores);
    const mk = (host: string, module: string): ProbeResult =>
      probeResult({
        host,
        module,
        auth: 'open',
        startedAt: new Date().toISOString(),
        assessment: { severity: 'high', score: 60, reasons: [], sensitive: [], compromised: false, compromise: [] },
      });
    const scan = await stores.store.createScan({ spec: {}, totalItems: 3, operator: 't', commandLine: 't' });
    await stores.store.recordBatch({ scanId: scan.id, results: [mk('192.0.2.1', 'redis'), mk('192.0.2.2', 'redis'), mk('198.51.100.3', 'gopher')], donePositions: [0, 1, 2], watermark: 3, doneDelta: 3, answeredDelta: 3, openDelta: 3 });
    const service = new CaseService({ store: stores.store, cases: stores.cases, operator: 't', sender: { name: 's', contact: '' } });
    const excluded = (await service.open('192.0.2.1:6379/redis')).case;
    const closed = (await service.open('192.0.2.2:6379/redis')).case;
    await service.transition(closed.id, 'false_positive', { reason: 'lab machine' });
    const unknown = (await service.open('198.51.100.3:6379/gopher')).case;
    const config = defaultConfig();
    config.exclude = ['192.0.2.1'];
    const out = await reverifyCases({ store: stores.store, service, probes: PROBES, config, identity: 'test' }, { caseIds: [excluded.id, closed.id, unknown.id] });
    assert.equal(out.scan, undefined, 'nothing probed, no scan recorded');
    assert.deepEqual(
      out.items.map((i) => [i.case.id, i.skipped]),
      [
        [closed.id, 'the case is false_positive, not open'],
        [unknown.id, 'no module named gopher'],
        [excluded.id, 'the host is on the exclusion list'],
      ],
    );
    assert.equal(out.skipped, 3);
    assert.equal((await stores.store.listScans()).length, 1, 'no scan besides the seeding one');
    // Due selection: nothing is due right after opening.
    assert.equal((await reverifyCases({ store: stores.store, service, probes: PROBES, config, identity: 'test' })).items.length, 0);
    await assert.rejects(reverifyCases({ store: stores.store, service, probes: PROBES, config, identity: 'test' }, { caseIds: ['c-missing'] }), /No case c-missing/);
  });
});
