import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, LockdownError, TargetParseError } from '../core/errors.js';
import { ExclusionSet } from './exclusion.js';
import { mergeRanges } from './range-set.js';
import { parseSpec } from './parse.js';

const specs = (...texts: string[]) => texts.map((text, i) => ({ text, source: `excludes.txt:${i + 1}` }));

test('has() matches addresses, CIDR blocks and ranges of both families', () => {
  const ex = ExclusionSet.fromSpecs(specs('10.0.0.0/24', '192.168.1.5-192.168.1.9', '2001:db8::/64', '172.16.0.1'));
  for (const [addr, expected] of [
    ['10.0.0.0', true],
    ['10.0.0.255', true],
    ['10.0.1.0', false],
    ['192.168.1.4', false],
    ['192.168.1.5', true],
    ['192.168.1.9', true],
    ['192.168.1.10', false],
    ['172.16.0.1', true],
    ['2001:db8::1', true],
    ['2001:db8:0:0:ffff:ffff:ffff:ffff', true],
    ['2001:db8:0:1::', false],
  ] as const) {
    assert.equal(ex.has(addr), expected, addr);
  }
});

test('an IPv4 exclusion also covers its IPv4-mapped IPv6 form, and the reverse', () => {
  const ex = ExclusionSet.fromSpecs(specs('10.0.0.0/30', '::ffff:192.168.0.7'));
  assert.equal(ex.has('::ffff:10.0.0.3'), true);
  assert.equal(ex.has('::ffff:10.0.0.4'), false);
  assert.equal(ex.has('192.168.0.7'), true);
  assert.equal(ex.has('192.168.0.8'), false);
  // toJSON keeps what the user wrote, not the twins.
  assert.deepEqual(ex.toJSON(), ['10.0.0.0-10.0.0.3', '::ffff:c0a8:7']);
});

test('text that is not an address counts as excluded (fail closed)', () => {
  const ex = ExclusionSet.empty();
  assert.equal(ex.has('10.0.0.1'), false);
  assert.equal(ex.has('db.example.org'), true);
  assert.equal(ex.isEmpty, true);
});

test('fromSpecs rejects hostnames and bad specs naming the source', () => {
  assert.throws(
    () => ExclusionSet.fromSpecs(specs('10.0.0.1', 'db.example.org')),
    (e: unknown) => e instanceof TargetParseError && e.source === 'excludes.txt:2' && /need resolving/.test(e.message),
  );
  assert.throws(
    () => ExclusionSet.fromSpecs(specs('10.0.0.0/33')),
    (e: unknown) => e instanceof TargetParseError && e.input === '10.0.0.0/33' && e.source === 'excludes.txt:1',
  );
});

test('build() resolves hostnames through the injected resolver', async () => {
  const asked: string[] = [];
  const resolve = async (name: string): Promise<string[]> => {
    asked.push(name);
    if (name === 'optout.example') return ['203.0.113.7', '2001:db8::7'];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  };
  const ex = await ExclusionSet.build(specs('10.0.0.1', 'optout.example'), resolve);
  assert.deepEqual(asked, ['optout.example']);
  assert.equal(ex.has('203.0.113.7'), true);
  assert.equal(ex.has('2001:db8::7'), true);
  assert.equal(ex.has('10.0.0.1'), true);
  assert.equal(ex.has('203.0.113.8'), false);
  await assert.rejects(
    ExclusionSet.build(specs('nowhere.invalid'), resolve),
    (e: unknown) => e instanceof LockdownError && e.code === ErrorCode.targetResolve && /"nowhere.invalid" at excludes.txt:1: no such host/.test(e.message),
  );
});

test('JSON round-trip and counting overlap with targets', () => {
  const ex = ExclusionSet.fromSpecs(specs('10.0.0.0/25', '10.0.0.100-10.0.0.200', '2001:db8::/120'));
  const again = ExclusionSet.fromJSON(ex.toJSON());
  assert.deepEqual(again.toJSON(), ['10.0.0.0-10.0.0.200', '2001:db8::-2001:db8::ff']);
  const target = (t: string) => {
    const s = parseSpec({ text: t, source: 't' });
    assert.ok(s.kind === 'range');
    return s.range;
  };
  const targets = mergeRanges([target('10.0.0.0/24'), target('2001:db8::80-2001:db8::17f')]);
  assert.equal(again.excludedCount(targets), 201n + 128n);
});
