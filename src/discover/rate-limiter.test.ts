import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter, Slots } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('holds a scan to its rate', async () => {
    const limiter = new RateLimiter(200);
    const start = performance.now();
    for (let i = 0; i < 100; i++) await limiter.take();
    const seconds = (performance.now() - start) / 1000;
    // 100 tokens at 200/s with a 10-token burst: at least ~0.45 s
    assert.ok(seconds >= 0.4, `took ${seconds}s, faster than the rate allows`);
    assert.ok(seconds < 5, `took ${seconds}s, far slower than the rate`);
  });

  it('stops waiting when aborted', async () => {
    const limiter = new RateLimiter(1);
    await limiter.take();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(limiter.take(ac.signal));
  });
});

describe('Slots', () => {
  it('never lets more than the limit run at once', async () => {
    const slots = new Slots(3);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        await slots.acquire();
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        slots.release();
      }),
    );
    assert.equal(peak, 3);
    assert.equal(slots.inUse, 0);
  });
});
