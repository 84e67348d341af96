import assert from 'node:assert/strict';
import { test } from 'node:test';
import { severityOf, type SeverityInput, type SeverityLevel } from './severity.js';

const cases: Array<{ name: string; input: SeverityInput; level: SeverityLevel; score: number; reasons: RegExp[] }> = [
  {
    name: 'open + ≥ 1M records + citizen IDs',
    input: { verdict: 'open', product: 'mongodb', records: 1_200_000, sensitive: [{ category: 'national_id', count: 37, source: 'sample' }] },
    level: 'critical',
    score: 85,
    reasons: [/^\+40 verdict open/, /^\+20 records: 1,200,000 \(≥ 1,000,000\)/, /^\+25 sensitive national_id \(sampled values, 37 values\)/],
  },
  {
    name: 'auth required',
    input: { verdict: 'auth_required', product: 'redis' },
    level: 'info',
    score: 5,
    reasons: [/^\+5 verdict auth_required/],
  },
  {
    name: 'auth required but large and named sensitive (capped at low)',
    input: { verdict: 'auth_required', records: 5_000_000, sensitive: [{ category: 'national_id', source: 'schema', count: 3 }] },
    level: 'low',
    score: 38,
    reasons: [/^\+13 sensitive national_id \(names only, 3 names; 25 × 0.5\)/, /^level capped at low: verdict auth_required$/],
  },
  {
    name: 'open but empty',
    input: { verdict: 'open', product: 'postgres', records: 0 },
    level: 'medium',
    score: 40,
    reasons: [/^\+0 records: 0 \(empty\)$/],
  },
  {
    name: 'compromised → at least high',
    input: { verdict: 'open', records: 0, compromised: true, compromiseRules: ['meow-index'] },
    level: 'high',
    score: 70,
    reasons: [/^\+30 signs of compromise.*\(meow-index\)$/],
  },
  {
    name: 'compromise raises a low score to high',
    input: { verdict: 'inconclusive', compromised: true },
    level: 'high',
    score: 45,
    reasons: [/^level raised to high: signs of compromise$/],
  },
  {
    name: 'open Redis (file-write primitive) with replicas',
    input: { verdict: 'open', product: 'redis', records: 50_000, peers: 2 },
    level: 'high',
    score: 65,
    reasons: [/^\+10 product redis/, /^\+10 records: 50,000/, /^\+5 fan-out: 2 replication peers \(≥ 1\)$/],
  },
  {
    name: 'no verdict (connection refused)',
    input: { status: 'connection-refused', verdict: undefined, records: 10 },
    level: 'info',
    score: 5,
    reasons: [/^\+0 no verdict/],
  },
  {
    name: 'many categories are capped',
    input: {
      verdict: 'open',
      records: 200,
      sizeBytes: 200 * 1024 * 1024,
      sensitive: [
        { category: 'national_id', count: 90, source: 'sample' },
        { category: 'payment_card', count: 3, source: 'sample' },
        { category: 'location', count: 5, source: 'sample' },
        { category: 'phone', count: 1, source: 'schema' },
        { category: 'phone', count: 12, source: 'sample' },
        { category: 'unknown_custom', count: 1, source: 'sample' },
      ],
    },
    level: 'critical',
    score: 95,
    reasons: [/^\+5 size: 200\.0 MiB \(≥ 100\.0 MiB\)$/, /^\+10 sensitive phone \(sampled values, 12 values\)$/, /^\+5 sensitive unknown_custom/, /^-40 sensitive categories capped at 45 points$/],
  },
];

test('severity table: levels, scores and reasons', () => {
  for (const c of cases) {
    const s = severityOf(c.input);
    assert.equal(s.level, c.level, `${c.name}: ${s.reasons.join(' | ')}`);
    assert.equal(s.score, c.score, `${c.name}: ${s.reasons.join(' | ')}`);
    for (const re of c.reasons) assert.ok(s.reasons.some((r) => re.test(r)), `${c.name}: no reason matching ${re} in ${JSON.stringify(s.reasons)}`);
    assert.ok(s.reasons.some((r) => r.startsWith(`= ${c.score} → `)), 'the total is spelled out');
  }
});

test('severity is deterministic and order-independent', () => {
  const a = severityOf({ verdict: 'open', sensitive: [{ category: 'email', count: 1, source: 'sample' }, { category: 'phone', count: 2, source: 'sample' }] });
  const b = severityOf({ verdict: 'open', sensitive: [{ category: 'phone', count: 2, source: 'sample' }, { category: 'email', count: 1, source: 'sample' }] });
  assert.deepEqual(a, b);
});
