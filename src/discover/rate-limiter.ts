import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A token bucket for new connections per second. The bucket holds at most `burst` tokens
 * (50 ms worth of rate, at least 1) so a pause never turns into a flood afterwards.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly burst: number;

  constructor(private readonly perSecond: number) {
    if (!(perSecond > 0)) throw new RangeError('Rate must be positive');
    this.burst = Math.max(1, perSecond / 20);
    this.tokens = this.burst;
    this.last = performance.now();
  }

  /** Wait for one token. Rejects when `signal` aborts. */
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const waitMs = ((1 - this.tokens) * 1000) / this.perSecond;
      await sleep(Math.max(1, Math.ceil(waitMs)), undefined, signal ? { signal } : undefined);
    }
  }
}

/** A counting semaphore: at most `limit` holders at once. */
export class Slots {
  private used = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  async acquire(): Promise<void> {
    if (this.used < this.limit) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Hand the slot to the next waiter, or free it. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.used--;
  }

  /** Resolves when every slot is free. */
  async drain(): Promise<void> {
    while (this.used > 0) await sleep(5);
  }
}
