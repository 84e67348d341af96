import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cancellation, onSignalAbort } from './cancel.js';

describe('Cancellation', () => {
  it('calls each subscriber once with the reason, not after it unsubscribed, and not when subscribing late', () => {
    const c = new Cancellation();
    const seen: string[] = [];
    c.subscribe((r) => seen.push(`a:${r.message}`));
    const off = c.subscribe((r) => seen.push(`b:${r.message}`));
    off();
    assert.equal(c.aborted, false);
    c.abort(new Error('deadline'));
    c.abort(new Error('again'));
    assert.deepEqual(seen, ['a:deadline']);
    assert.equal(c.reason?.message, 'deadline');
    c.subscribe(() => seen.push('late'));
    assert.deepEqual(seen, ['a:deadline']);
  });

  it('toSignal gives an AbortSignal that follows it, already aborted when made late', () => {
    const c = new Cancellation();
    const early = c.toSignal();
    assert.equal(early.aborted, false);
    c.abort(new Error('stop'));
    assert.equal(early.aborted, true);
    assert.equal((early.reason as Error).message, 'stop');
    assert.equal(c.toSignal().aborted, true);
  });
});

describe('onSignalAbort', () => {
  it('fans one listener out to every subscriber still subscribed', () => {
    const ac = new AbortController();
    let calls = 0;
    const offs = Array.from({ length: 20_000 }, () => onSignalAbort(ac.signal, () => calls++));
    for (let i = 0; i < offs.length; i += 2) offs[i]!();
    ac.abort();
    assert.equal(calls, 10_000);
    onSignalAbort(ac.signal, () => calls++);
    assert.equal(calls, 10_000, 'not called for an already aborted signal');
  });

  it('subscribing and unsubscribing stay cheap with many subscribers (no listener-list walk)', () => {
    const ac = new AbortController();
    for (let i = 0; i < 20_000; i++) onSignalAbort(ac.signal, () => undefined);
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) onSignalAbort(ac.signal, () => undefined)();
    // With 20k subscribed, 100k add/remove pairs take milliseconds; walking a listener list each time would take seconds.
    assert.ok(performance.now() - started < 2000, `${(performance.now() - started).toFixed(0)} ms`);
  });
});
