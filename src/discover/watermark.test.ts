import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Watermark } from './watermark.js';

describe('Watermark', () => {
  it('is the oldest position still in flight', () => {
    const w = new Watermark(0);
    for (const p of [0, 1, 2, 3]) w.dispatched(p);
    assert.equal(w.value, 0);
    w.done(2);
    w.done(1);
    assert.equal(w.value, 0, 'out-of-order completions do not move it');
    w.done(0);
    assert.equal(w.value, 3);
    w.done(3);
    assert.equal(w.value, 4, 'nothing in flight: the next position to dispatch');
  });

  it('follows gaps left by skipped positions', () => {
    const w = new Watermark(10);
    w.dispatched(12);
    w.dispatched(15);
    w.done(15);
    assert.equal(w.value, 12);
    w.done(12);
    assert.equal(w.value, 16);
  });

  it('keeps memory bounded over a long run', () => {
    const w = new Watermark(0);
    for (let p = 0; p < 200_000; p++) {
      w.dispatched(p);
      if (p >= 8) w.done(p - 8);
    }
    assert.equal(w.value, 200_000 - 8);
    // internal queue was compacted: at most a few thousand entries remain
    const queue = (w as unknown as { inflight: number[] }).inflight;
    assert.ok(queue.length < 10_000, `queue has ${queue.length} entries`);
  });
});
