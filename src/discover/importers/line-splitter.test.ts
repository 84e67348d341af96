import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter } from './line-splitter.js';

function split(chunks: (string | Buffer)[], max?: number): { lines: [number, string][]; long: [number, number][] } {
  const lines: [number, string][] = [];
  const long: [number, number][] = [];
  const s = new LineSplitter((t, n) => lines.push([n, t]), (n, bytes) => long.push([n, bytes]), max);
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c);
  s.end();
  return { lines, long };
}

describe('LineSplitter', () => {
  it('splits LF and CRLF lines across chunk boundaries, numbering every line', () => {
    const { lines } = split(['a\r\nb', 'c\n\nd', 'e\r', '\nlast']);
    assert.deepEqual(lines, [
      [1, 'a'],
      [2, 'bc'],
      [3, ''],
      [4, 'de'],
      [5, 'last'],
    ]);
  });

  it('does not cut a multi-byte UTF-8 character split between chunks', () => {
    const bytes = Buffer.from('für\n');
    const { lines } = split([bytes.subarray(0, 2), bytes.subarray(2)]);
    assert.deepEqual(lines, [[1, 'für']]);
  });

  it('reports an over-long line with its number and size, without buffering it, and goes on', () => {
    const { lines, long } = split(['ok\n', 'x'.repeat(30), 'y'.repeat(30), 'z\nnext\n'], 40);
    assert.deepEqual(lines, [
      [1, 'ok'],
      [3, 'next'],
    ]);
    assert.deepEqual(long, [[2, 61]]);
  });
});
