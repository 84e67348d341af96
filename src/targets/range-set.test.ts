import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from './address.js';
import { parseSpec } from './parse.js';
import { containsAddress, formatRange, IndexedRanges, intersectionSize, mergeRanges, totalSize, type AddressRange } from './range-set.js';

const r = (text: string): AddressRange => {
  const spec = parseSpec({ text, source: 'test' });
  assert.equal(spec.kind, 'range');
  return spec.kind === 'range' ? spec.range : ({} as AddressRange);
};
const ip = (text: string) => {
  const p = parseIp(text);
  assert.ok(p.ok);
  return p.ok ? p.value : { family: 4 as const, value: 0n };
};

test('merge sorts, coalesces overlapping and adjacent ranges, keeps families apart, IPv4 first', () => {
  const merged = mergeRanges([
    r('2001:db8::10-2001:db8::20'),
    r('10.0.0.5-10.0.0.9'),
    r('10.0.0.0/29'), // 0-7 overlaps 5-9
    r('10.0.0.10'), // adjacent to 9
    r('10.0.0.1'), // duplicate inside
    r('2001:db8::21'), // adjacent
    r('10.0.1.0-10.0.1.3'), // gap before
    r('::a'),
    r('0.0.0.10'), // same number as ::a, other family
  ]);
  assert.deepEqual(merged.map(formatRange), [
    '0.0.0.10',
    '10.0.0.0-10.0.0.10',
    '10.0.1.0-10.0.1.3',
    '::a',
    '2001:db8::10-2001:db8::21',
  ]);
  assert.equal(totalSize(merged), 1n + 11n + 4n + 1n + 18n);
});

test('merge of identical specs counts each address once', () => {
  const merged = mergeRanges([r('10.0.0.0/24'), r('10.0.0.0/24'), r('10.0.0.0-255'), r('10.0.0.128/25')]);
  assert.deepEqual(merged.map(formatRange), ['10.0.0.0-10.0.0.255']);
  assert.equal(totalSize(merged), 256n);
});

test('containsAddress is exact at range edges and per family', () => {
  const merged = mergeRanges([r('10.0.0.10-10.0.0.20'), r('10.0.0.30'), r('2001:db8::/120')]);
  for (const [addr, expected] of [
    ['10.0.0.9', false],
    ['10.0.0.10', true],
    ['10.0.0.20', true],
    ['10.0.0.21', false],
    ['10.0.0.30', true],
    ['10.0.0.31', false],
    ['2001:db8::', true],
    ['2001:db8::ff', true],
    ['2001:db8::100', false],
    ['::a00:14', false], // the number of 10.0.0.20, but IPv6
  ] as const) {
    assert.equal(containsAddress(merged, ip(addr)), expected, addr);
  }
  assert.equal(containsAddress([], ip('10.0.0.1')), false);
});

test('intersectionSize counts shared addresses', () => {
  const a = mergeRanges([r('10.0.0.0/24'), r('10.0.2.0/24'), r('2001:db8::/120')]);
  const b = mergeRanges([r('10.0.0.128-10.0.2.9'), r('2001:db8::ff-2001:db8::1ff')]);
  assert.equal(intersectionSize(a, b), 128n + 10n + 1n);
  assert.equal(intersectionSize(a, []), 0n);
});

test('IndexedRanges maps every index to its address in order', () => {
  const merged = mergeRanges([r('10.0.0.250-10.0.1.2'), r('192.168.0.1'), r('2001:db8::fe-2001:db8::100')]);
  const indexed = new IndexedRanges(merged);
  assert.equal(indexed.count, 9 + 1 + 3);
  const all = Array.from({ length: indexed.count }, (_, i) => formatRange({ ...indexed.at(i), start: indexed.at(i).value, end: indexed.at(i).value }));
  assert.deepEqual(all, [
    '10.0.0.250', '10.0.0.251', '10.0.0.252', '10.0.0.253', '10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1', '10.0.1.2',
    '192.168.0.1',
    '2001:db8::fe', '2001:db8::ff', '2001:db8::100',
  ]);
  assert.throws(() => indexed.at(indexed.count), RangeError);
  assert.throws(() => indexed.at(-1), RangeError);
  assert.throws(() => new IndexedRanges([r('2001:db8::/64')]), RangeError);
});
