import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { type FindingAssessment, type ProbeResult, type Severity } from '../../core/types.js';
import { openSqliteCaseStores, type SqliteCaseStores } from './open-stores.js';
import { CaseService } from './case-service.js';
import { CaseTransitionError } from './states.js';
import { type ReverifyEvidence } from './types.js';

/**
 * The case service on the real SQLite store (in memory): findings are written the way a scan writes them
 * (`recordBatch`), cases through the repository. Time is a controllable clock.
 */
let now = new Date('2026-04-01T00:00:00.000Z');
const clock = (): Date => now;
const HOUR = 3_600_000;

function result(host: string, port: number, module: string, over: Partial<ProbeResult> & { severity?: Severity } = {}): ProbeResult {
  const severity = over.severity ?? 'high';
  const assessment: FindingAssessment = { severity, score: 50, reasons: [`+50 test ${severity}`], sensitive: [], compromised: false, compromise: [] };
  return {
    module,
    target: { host, port },
    status: 'success',
    auth: 'open',
    product: 'Redis',
    version: '7.0.15',
    evidence: '# Server',
    metadata: {},
    peers: [],
    errors: [],
    commands: ['INFO'],
    bytesSent: 10,
    bytesRead: 100,
    startedAt: now.toISOString(),
    durationMs: 3,
    assessment,
    ...over,
  };
}

async function seed(stores: SqliteCaseStores, results: ProbeResult[]): Promise<void> {
  const scan = await stores.store.createScan({ spec: { test: true }, totalItems: results.length, operator: 'test', commandLine: 'test' });
  await stores.store.recordBatch({
    scanId: scan.id,
    results,
    donePositions: results.map((_, i) => i),
    watermark: results.length,
    doneDelta: results.length,
    answeredDelta: results.length,
    openDelta: results.filter((r) => r.auth === 'open').length,
  });
}

function evidence(over: Partial<ReverifyEvidence>): ReverifyEvidence {
  return {
    scanId: 's-x',
    module: 'redis',
    host: '192.0.2.1',
    port: 6379,
    status: 'success',
    auth: 'open',
    product: 'Redis',
    version: '7.0.15',
    evidence: '# Server',
    errors: [],
    commands: ['INFO'],
    bytesSent: 1,
    bytesRead: 1,
    startedAt: now.toISOString(),
    durationMs: 1,
    lockedDown: false,
    ...over,
  };
}

describe('case service', () => {
  let stores: SqliteCaseStores;
  let service: CaseService;
  const opened: SqliteCaseStores[] = [];

  beforeEach(async () => {
    now = new Date('2026-04-01T00:00:00.000Z');
    stores = await openSqliteCaseStores(':memory:', { clock });
    opened.push(stores);
    service = new CaseService({ store: stores.store, cases: stores.cases, operator: 'alice@soc', sender: { name: 'SOC', contact: 'soc@example.org' }, backoffMs: [1 * HOUR, 6 * HOUR, 24 * HOUR] });
  });
  after(async () => {
    for (const s of opened) await s.close();
  });

  it('opens a case from host:port/module or a finding id, once per service', async () => {
    await seed(stores, [result('192.0.2.1', 6379, 'redis')]);
    const a = await service.open('192.0.2.1:6379/redis', { contacts: [{ email: 'ops@example.org', source: '--to', role: 'operator-supplied' }] });
    assert.equal(a.created, true);
    assert.match(a.case.id, /^c-\d{8}-\d{6}-[0-9a-f]{4}$/);
    assert.equal(a.case.state, 'new');
    assert.equal(a.case.severity, 'high');
    assert.equal(a.case.detectedAt, '2026-04-01T00:00:00.000Z');
    assert.equal(a.case.nextReverifyAt, '2026-04-01T01:00:00.000Z', 'first check after the first back-off gap');
    assert.equal(a.case.snapshot.auth, 'open');
    const b = await service.open(String(a.case.findingId));
    assert.equal(b.created, false);
    assert.equal(b.case.id, a.case.id);
    await assert.rejects(service.open('192.0.2.1:6380/redis'), /No finding for 192\.0\.2\.1:6380\/redis/);
    await assert.rejects(service.open('999'), /No finding with id 999/);
    await assert.rejects(service.open('redis on 192.0.2.1'), /neither a finding id nor host:port\/module/);
    const { events } = await service.show(a.case.id);
    assert.equal(events[0]?.kind, 'opened');
    assert.equal(events[0]?.operator, 'alice@soc');
    assert.equal(events[0]?.toState, 'new');
  });

  it('refuses invalid transitions with a clear error, and records valid ones with who, when and why', async () => {
    await seed(stores, [result('192.0.2.1', 6379, 'redis')]);
    const { case: c } = await service.open('192.0.2.1:6379/redis');
    await assert.rejects(service.transition(c.id, 'closed', { reason: 'done' }), (e: unknown) => e instanceof CaseTransitionError && /cannot go from new to closed: from new a case can go to notified, acknowledged, remediated, wont_fix, false_positive/.test(e.message));
    await assert.rejects(service.transition(c.id, 'remediated', { reason: 'they said so' }), /only a re-verification that finds the service locked down can mark it remediated/);
    await assert.rejects(service.transition(c.id, 'fixed', { reason: 'x' }), /"fixed" is not a case state/);
    await assert.rejects(service.transition(c.id, 'new', { reason: 'x' }), /it is already new/);
    await assert.rejects(service.transition(c.id, 'acknowledged', { reason: '  ' }), /Say why with --reason/);
    await assert.rejects(service.transition('c-nope', 'acknowledged', { reason: 'x' }), /No case c-nope/);

    now = new Date(now.getTime() + 2 * HOUR);
    const n = await service.transition(c.id, 'notified', { reason: 'Phoned the hosting provider', operator: 'bob@soc' });
    assert.equal(n.state, 'notified');
    assert.equal(n.notifiedAt, '2026-04-01T02:00:00.000Z');
    assert.equal(n.nextReverifyAt, '2026-04-01T03:00:00.000Z');
    await assert.rejects(service.transition(c.id, 'new', { reason: 'x' }), /from notified a case can go to acknowledged, remediated, wont_fix, false_positive/);
    now = new Date(now.getTime() + HOUR);
    const k = await service.transition(c.id, 'acknowledged', { reason: 'Owner replied' });
    await assert.rejects(service.transition(c.id, 'notified', { reason: 'again' }), /cannot go from acknowledged to notified/);
    const w = await service.transition(c.id, 'wont_fix', { reason: 'Owner accepts the risk' });
    assert.equal(w.nextReverifyAt, null, 'no more checks');
    const r = await service.transition(c.id, 'reopened', { reason: 'Owner changed their mind' });
    assert.equal(r.state, 'reopened');
    assert.ok(r.nextReverifyAt);
    assert.equal(k.acknowledgedAt, '2026-04-01T03:00:00.000Z');

    const { events } = await service.show(c.id);
    assert.deepEqual(
      events.map((e) => [e.seq, e.kind, e.fromState, e.toState, e.operator, e.reason]),
      [
        [1, 'opened', null, 'new', 'alice@soc', 'Opened'],
        [2, 'transition', 'new', 'notified', 'bob@soc', 'Phoned the hosting provider'],
        [3, 'transition', 'notified', 'acknowledged', 'alice@soc', 'Owner replied'],
        [4, 'transition', 'acknowledged', 'wont_fix', 'alice@soc', 'Owner accepts the risk'],
        [5, 'transition', 'wont_fix', 'reopened', 'alice@soc', 'Owner changed their mind'],
      ],
    );
    assert.deepEqual(events.map((e) => e.at.slice(11, 16)), ['00:00', '02:00', '03:00', '03:00', '03:00']);
  });

  it('a stale update loses: the state is compared and set in one step', async () => {
    await seed(stores, [result('192.0.2.1', 6379, 'redis')]);
    const { case: c } = await service.open('192.0.2.1:6379/redis');
    await service.transition(c.id, 'acknowledged', { reason: 'first operator' });
    // A second operator still holding the case as `new`:
    assert.equal(await stores.cases.update(c.id, 'new', { state: 'false_positive' }, { kind: 'transition', operator: 'x', fromState: 'new', toState: 'false_positive' }), undefined);
    assert.equal((await service.get(c.id)).state, 'acknowledged');
    assert.equal((await service.show(c.id)).events.length, 2, 'the losing move left no event');
  });

  it('opens cases automatically for exposed findings at or above a severity', async () => {
    await seed(stores, [
      result('192.0.2.1', 6379, 'redis', { severity: 'critical' }),
      result('192.0.2.2', 6379, 'redis', { severity: 'high' }),
      result('192.0.2.3', 6379, 'redis', { severity: 'medium' }),
      result('192.0.2.4', 6379, 'redis', { severity: 'low' }),
      result('192.0.2.5', 6379, 'redis', { severity: 'high', auth: 'auth_required', evidence: '-NOAUTH Authentication required.' }),
      result('192.0.2.6', 6379, 'redis', { severity: 'critical' }),
    ]);
    await stores.store.setHostHoneypot('192.0.2.6', [{ ruleId: 'multi-product', reason: 'answers as 4 products', reference: 'x' }]);
    const first = await service.openAuto({ minSeverity: 'high' });
    assert.deepEqual(first.opened.map((c) => c.host).sort(), ['192.0.2.1', '192.0.2.2']);
    assert.equal(first.honeypots, 1);
    assert.match((await service.show(first.opened[0]!.id)).events[0]?.reason ?? '', /Opened automatically: severity (critical|high) at or above high/);
    const again = await service.openAuto({ minSeverity: 'high' });
    assert.equal(again.opened.length, 0);
    assert.equal(again.existing, 2);
    const medium = await service.openAuto({ minSeverity: 'medium' });
    assert.deepEqual(medium.opened.map((c) => c.host), ['192.0.2.3']);
    assert.deepEqual((await service.list({ minSeverity: 'critical' })).map((c) => c.host), ['192.0.2.1']);
    assert.equal((await service.list({ states: ['new'] })).length, 3);
  });

  it('re-verification: still exposed backs off; locked down becomes remediated with the evidence; exposed again reopens', async () => {
    await seed(stores, [result('192.0.2.1', 6379, 'redis')]);
    const { case: c } = await service.open('192.0.2.1:6379/redis');
    now = new Date(now.getTime() + HOUR);
    const s1 = await service.recordReverify(c.id, evidence({}));
    assert.equal(s1.state, 'new');
    assert.equal(s1.reverifyAttempts, 1);
    assert.equal(s1.nextReverifyAt, '2026-04-01T07:00:00.000Z', '6 h after the second check');
    now = new Date(now.getTime() + 6 * HOUR);
    const s2 = await service.recordReverify(c.id, evidence({}));
    assert.equal(s2.nextReverifyAt, '2026-04-02T07:00:00.000Z', '24 h');
    now = new Date(now.getTime() + 24 * HOUR);
    const s3 = await service.recordReverify(c.id, evidence({}));
    assert.equal(s3.nextReverifyAt, '2026-04-03T07:00:00.000Z', 'the last gap repeats');
    assert.deepEqual((await service.list({ states: ['new'], dueBy: '2026-04-03T06:59:59.000Z' })).length, 0);
    assert.deepEqual((await service.list({ states: ['new'], dueBy: '2026-04-03T07:00:00.000Z' })).length, 1);

    now = new Date('2026-04-03T07:00:00.000Z');
    const fixed = await service.recordReverify(c.id, evidence({ auth: 'auth_required', evidence: '-NOAUTH Authentication required.', lockedDown: true }));
    assert.equal(fixed.state, 'remediated');
    assert.equal(fixed.remediatedAt, '2026-04-03T07:00:00.000Z');
    assert.equal(fixed.nextReverifyAt, null);
    const last = (await service.show(c.id)).events.at(-1);
    assert.equal(last?.kind, 'reverify');
    assert.equal(last?.toState, 'remediated');
    assert.equal((last?.evidence as ReverifyEvidence).evidence, '-NOAUTH Authentication required.');
    assert.match(last?.reason ?? '', /Re-verification: auth_required \(-NOAUTH Authentication required\.\)/);

    // Closed, then a later scan sees it open again: opening it again reopens the same case.
    now = new Date(now.getTime() + HOUR);
    await service.transition(c.id, 'closed', { reason: 'verified fixed' });
    now = new Date(now.getTime() + 48 * HOUR);
    await seed(stores, [result('192.0.2.1', 6379, 'redis')]);
    const again = await service.open('192.0.2.1:6379/redis');
    assert.equal(again.reopened, true);
    assert.equal(again.case.id, c.id);
    assert.equal(again.case.state, 'reopened');
    assert.equal(again.case.remediatedAt, null, 'a new exposure cycle');
    assert.equal(again.case.snapshot.lastSeen, now.toISOString());
  });

  it('notify needs an open case, a contact and a mail transport; a dry run changes nothing', async () => {
    await seed(stores, [result('192.0.2.1', 6379, 'redis')]);
    const { case: c } = await service.open('192.0.2.1:6379/redis');
    const dry = await service.notify(c.id, { dryRun: true, to: ['ops@example.org'] });
    assert.deepEqual(dry.to, ['ops@example.org']);
    assert.match(dry.notice.text, /bind 127\.0\.0\.1 -::1/);
    assert.equal((await service.get(c.id)).state, 'new', 'dry run: no transition');
    assert.equal((await service.get(c.id)).contacts.length, 0, 'dry run: no contact stored');
    await assert.rejects(service.notify(c.id), /has no contact to notify; give one with --to/);
    await assert.rejects(service.notify(c.id, { to: ['ops@example.org'] }), /No mail transport configured/);
    await assert.rejects(service.addContacts(c.id, [{ email: 'not an address', source: 'x', role: 'x' }]), /Not an e-mail address/);
    await service.transition(c.id, 'false_positive', { reason: 'our own honeypot' });
    await assert.rejects(service.notify(c.id, { dryRun: true }), /is false_positive; only open cases/);
  });

  it('uses the injected attribution for contacts and owner', async () => {
    await seed(stores, [result('192.0.2.9', 6379, 'redis')]);
    const attributed = new CaseService({
      ...service.deps,
      attribution: async (f) => ({ contacts: [{ email: `abuse@${f.host.replaceAll('.', '-')}.example.net`, source: 'rdap:abuse', role: 'abuse' }], attribution: { owner: 'Example Hosting', asn: 64500, source: 'rdap' } }),
    });
    const { case: c } = await attributed.open('192.0.2.9:6379/redis');
    assert.deepEqual(c.contacts, [{ email: 'abuse@192-0-2-9.example.net', source: 'rdap:abuse', role: 'abuse' }]);
    assert.deepEqual(c.attribution, { owner: 'Example Hosting', asn: 64500, source: 'rdap' });
    const stats = await attributed.stats();
    assert.deepEqual(stats.openByOwner, [{ owner: 'Example Hosting', count: 1 }]);
    assert.deepEqual(stats.openByAsn, [{ asn: 'AS64500', count: 1 }]);
  });
});
