import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ErrorCode } from '../core/errors.js';
import { builtinRules, loadRules } from './load.js';
import { cnRegionsSchema, ransomRulesSchema, sensitiveNamesSchema, severitySchema } from './schema.js';
import { RuleShapeError, RulesError } from './validate.js';
import { schemaSignals } from '../assess/schema-signals.js';
import { severityOf } from '../assess/severity.js';
import { assessCompromise } from '../assess/compromise.js';

function withDir(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-rules-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

async function rejects(files: Record<string, string>, file: string, at: RegExp, reason: RegExp): Promise<void> {
  await withDir(files, async (dir) => {
    await assert.rejects(loadRules({ extraDir: dir }), (err: unknown) => {
      assert.ok(err instanceof RulesError, String(err));
      assert.equal(err.code, ErrorCode.config);
      assert.equal(path.basename(err.file), file);
      assert.match(err.at, at);
      assert.match(err.message, reason);
      return true;
    });
  });
}

test('built-in rule files are valid and complete', () => {
  const r = builtinRules();
  assert.ok(r.sensitiveNames.rules.length >= 15);
  assert.ok(r.ransom.rules.length >= 15);
  for (const p of ['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82']) {
    assert.ok(p in r.cnRegions.provinces, `province ${p}`);
  }
  assert.deepEqual(r.sources, ['builtin:sensitive-names.json', 'builtin:cn-region-prefixes.json', 'builtin:ransom-rules.json', 'builtin:severity.json']);
  assert.ok(Object.isFrozen(r.severity.levels));
  assert.strictEqual(builtinRules(), r, 'validated once');
});

test('schemas name the entry at fault', () => {
  const bad: Array<[(v: unknown, at: string) => unknown, unknown, RegExp]> = [
    [sensitiveNamesSchema, { rules: [{ id: 'x', category: 'c', description: 'd', terms: ['Phone'] }] }, /rules\[0\]\.terms\[0\]: "Phone" is not a valid term/],
    [sensitiveNamesSchema, { rules: [{ id: 'x', category: 'c', description: 'd', terms: ['a'], weakTerms: ['b'] }] }, /rules\[0\]\.context: a rule with weakTerms needs/],
    [sensitiveNamesSchema, { rules: [{ id: 'x', category: 'c', description: 'd', terms: ['a'], colour: 1 }] }, /rules\[0\]\.colour: unknown key/],
    [ransomRulesSchema, { decision: { weakMatchesNeeded: 2 }, rules: [{ id: 'r', kind: 'name', strength: 'strong', description: 'd', patterns: ['(unclosed'] }] }, /rules\[0\]\.patterns\[0\]: invalid regular expression/],
    [ransomRulesSchema, { decision: { weakMatchesNeeded: 2 }, rules: [{ id: 'r', kind: 'telepathy', strength: 'strong', description: 'd' }] }, /rules\[0\]\.kind: expected one of/],
    [ransomRulesSchema, { decision: { weakMatchesNeeded: 2 }, rules: [{ id: 'r', kind: 'name', strength: 'strong', description: 'd' }] }, /rules\[0\]: a name rule needs names or patterns/],
    [cnRegionsSchema, { provinces: { '1': { zh: 'x', en: 'y' } } }, /provinces\.1: "1" does not match two digits/],
    [cnRegionsSchema, { provinces: { '11': { zh: 'x', en: 'y' } }, counties: { '120101': 'z' } }, /counties\.120101: county code 120101 has no province 12/],
  ];
  for (const [check, value, re] of bad) {
    assert.throws(() => check(value, ''), (err: unknown) => err instanceof RuleShapeError && re.test(err.message));
  }
  const sev = structuredClone(builtinRules().severity) as unknown as Record<string, Record<string, number>>;
  sev.levels!.high = 90;
  assert.throws(() => severitySchema(sev, ''), /levels: thresholds must be strictly descending/);
});

test('loadRules without extraDir returns the built-ins', async () => {
  assert.strictEqual(await loadRules(), builtinRules());
});

test('user files merge over the built-ins (JSON and YAML)', async () => {
  await withDir(
    {
      'sensitive-names.yaml': [
        'rules:',
        '  - id: employee_badge',
        '    category: badge',
        '    description: Employee badge numbers',
        '    terms: [badge_no, gonghao]',
        '  - id: phone',
        '    category: phone',
        '    description: Phones, narrowed to one term',
        '    terms: [dianhuahaoma]',
        'disable: [network]',
      ].join('\n'),
      'ransom-rules.json': JSON.stringify({
        rules: [{ id: 'local-note', kind: 'name', strength: 'strong', description: 'Our own canary name', names: ['canarynote'] }],
        disable: ['ransom-name-readme'],
      }),
      'severity.yml': 'categories:\n  badge: 30\nlevels:\n  critical: 90\n',
      'cn-region-prefixes.json': JSON.stringify({ provinces: { '99': { zh: '测试', en: 'Test' } } }),
    },
    async (dir) => {
      const rules = await loadRules({ extraDir: dir });
      assert.equal(rules.sources.length, 8);
      const cats = (p: string[]) => schemaSignals([p], { rules }).map((s) => s.category);
      assert.deepEqual(cats(['hr', 'staff', 'badge_no']), ['badge']);
      assert.deepEqual(cats(['crm', 'users', 'dianhuahaoma']), ['phone']);
      assert.deepEqual(cats(['crm', 'users', 'telephone']), [], 'built-in phone rule replaced');
      assert.deepEqual(cats(['web', 'log', 'ip_address']), [], 'network rule disabled');
      assert.deepEqual(cats(['crm', 'users', 'email']), ['email'], 'other built-ins kept');
      assert.ok(assessCompromise({ product: 'mongodb', namespaces: [{ path: ['CanaryNote'], kind: 'database' }] }, { rules }).compromised);
      assert.deepEqual(assessCompromise({ product: 'mongodb', namespaces: [{ path: ['readme'], kind: 'collection' }] }, { rules }).matches, []);
      assert.equal(rules.severity.levels.critical, 90);
      assert.equal(rules.severity.levels.high, 60, 'deep merge keeps the other thresholds');
      assert.equal(rules.severity.categories.badge, 30);
      assert.equal(rules.severity.categories.national_id, 25);
      assert.equal(severityOf({ verdict: 'open', records: 2_000_000, sensitive: [{ category: 'national_id', source: 'sample' }] }, { rules }).level, 'high');
      assert.ok('99' in rules.cnRegions.provinces && '11' in rules.cnRegions.provinces);
      assert.ok(!builtinRules().sensitiveNames.rules.some((r) => r.id === 'employee_badge'), 'built-ins untouched');
    },
  );
});

test('bad user files are errors naming the file and the entry', async () => {
  await rejects({ 'sensitve-names.json': '{}' }, 'sensitve-names.json', /^$/, /unknown rules file/);
  await rejects({ 'severity.json': '{ "levels": ' }, 'severity.json', /^$/, /not valid JSON/);
  await rejects({ 'severity.yaml': 'levels: [1' }, 'severity.yaml', /^$/, /not valid YAML/);
  await rejects({ 'severity.json': '{"levels":{"low":"high"}}' }, 'severity.json', /^levels\.low$/, /expected a finite number/);
  await rejects({ 'severity.json': '{"verdict":{"open":{"points":500}}}' }, 'severity.json', /^verdict\.open\.points$/, /must be ≤ 100/);
  await rejects(
    { 'ransom-rules.json': JSON.stringify({ rules: [{ id: 'x', kind: 'redis-value', strength: 'weak', description: 'd', valuePatterns: ['[a-'] }] }) },
    'ransom-rules.json',
    /^rules\[0\]\.valuePatterns\[0\]$/,
    /invalid regular expression/,
  );
  await rejects({ 'ransom-rules.json': JSON.stringify({ disable: ['no-such-rule'] }) }, 'ransom-rules.json', /^disable\[0\]$/, /no rule with id "no-such-rule"/);
  await rejects(
    { 'sensitive-names.json': JSON.stringify({ rules: [{ id: 'a', category: 'c', description: 'd', terms: ['x'] }, { id: 'a', category: 'c', description: 'd', terms: ['y'] }] }) },
    'sensitive-names.json',
    /^rules\[1\]\.id$/,
    /duplicate rule id "a"/,
  );
  await rejects({ 'severity.json': '{}', 'severity.yaml': '{}' }, 'severity.yaml', /^$/, /two files for the same rules/);
  await withDir({}, async (dir) => {
    await assert.rejects(loadRules({ extraDir: path.join(dir, 'missing') }), /cannot read the rules directory/);
  });
});
