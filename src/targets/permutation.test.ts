import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Permutation } from './permutation.js';

function assertBijection(size: number, seed: number): void {
  const perm = new Permutation(size, seed);
  const seen = new Uint8Array(size);
  for (let p = 0; p < size; p++) {
    const v = perm.at(p);
    assert.ok(Number.isInteger(v) && v >= 0 && v < size, `value ${v} out of range for size ${size}`);
    assert.equal(seen[v], 0, `value ${v} produced twice for size ${size}`);
    seen[v] = 1;
  }
  // size values each seen once, none missing
  assert.equal(seen.reduce((a, b) => a + b, 0), size);
}

test('covers every position exactly once for many sizes', () => {
  for (const size of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 100, 255, 256, 257, 1000, 4097, 65535, 65536, 65536 + 3, 100_003]) {
    for (const seed of [0, 1, 42, -7, 2 ** 40 + 5]) assertBijection(size, seed);
  }
});

test('is deterministic for a seed and differs between seeds', () => {
  const a = new Permutation(10_000, 42);
  const b = new Permutation(10_000, 42);
  const c = new Permutation(10_000, 43);
  const first = (p: Permutation): number[] => Array.from({ length: 200 }, (_, i) => p.at(i));
  assert.deepEqual(first(a), first(b));
  assert.notDeepEqual(first(a), first(c));
  // Random access agrees with sequential access (resume reads a position directly).
  assert.equal(a.at(9_999), b.at(9_999));
});

test('consecutive outputs are spread, not sequential', () => {
  for (const size of [1000, 65536 + 3, 16_777_216 * 4]) {
    const perm = new Permutation(size, 7);
    const n = Math.min(2000, size);
    let neighbours = 0;
    let gapSum = 0;
    let prev = perm.at(0);
    for (let p = 1; p < n; p++) {
      const v = perm.at(p);
      const gap = Math.abs(v - prev);
      if (gap <= 1) neighbours++;
      gapSum += gap;
      prev = v;
    }
    // For a uniform random order the mean gap is size/3 and neighbours are rare.
    assert.ok(neighbours < n * 0.01, `${neighbours} of ${n} steps moved by at most 1 for size ${size}`);
    const meanGap = gapSum / (n - 1);
    assert.ok(meanGap > size / 5 && meanGap < size / 2, `mean gap ${meanGap} for size ${size}`);
    // The first positions are not the first values.
    const head = Array.from({ length: 100 }, (_, i) => perm.at(i));
    assert.ok(head.filter((v) => v < size / 10).length < 30, `head clustered low: ${head.slice(0, 10).join(',')}`);
  }
});

test('handles the largest size and rejects bad arguments', () => {
  const big = new Permutation(Number.MAX_SAFE_INTEGER, 1);
  for (let p = 0; p < 100; p++) {
    const v = big.at(p);
    assert.ok(Number.isSafeInteger(v) && v >= 0 && v < Number.MAX_SAFE_INTEGER);
  }
  assert.equal(new Permutation(0, 1).size, 0);
  assert.throws(() => new Permutation(0, 1).at(0), RangeError);
  assert.throws(() => new Permutation(10, 1).at(10), RangeError);
  assert.throws(() => new Permutation(10, 1).at(1.5), RangeError);
  assert.throws(() => new Permutation(-1, 1), RangeError);
  assert.throws(() => new Permutation(Number.MAX_SAFE_INTEGER + 1, 1), RangeError);
  assert.throws(() => new Permutation(10, 0.5), RangeError);
});
