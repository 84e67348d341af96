/**
 * Cancellation for the probe hot path without an AbortController per probe.
 *
 * Why: a scan keeps thousands of probes in flight. An AbortController is an EventTarget with its own
 * hidden class, listener map and listener objects (about 1 KB each, measured in heap snapshots), and
 * EventTarget walks its whole listener list on every add. A probe needs a flag, a reason and a few
 * callbacks; the AbortSignal that HTTP clients want is made only when one is asked for.
 */
export class Cancellation {
  #reason: Error | undefined;
  #callbacks: Set<(reason: Error) => void> | undefined;

  get aborted(): boolean {
    return this.#reason !== undefined;
  }

  /** Why it was cancelled (undefined while it is not). */
  get reason(): Error | undefined {
    return this.#reason;
  }

  abort(reason: Error): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    if (callbacks) for (const cb of callbacks) cb(reason);
  }

  /** Call `cb` once on cancellation; returns the unsubscribe. Not called if already cancelled (check `aborted`). */
  subscribe(cb: (reason: Error) => void): () => void {
    if (this.#reason !== undefined) return noop;
    (this.#callbacks ??= new Set()).add(cb);
    return () => this.#callbacks?.delete(cb);
  }

  /** An AbortSignal that follows this cancellation (for APIs that take one, e.g. undici). */
  toSignal(): AbortSignal {
    const controller = new AbortController();
    if (this.#reason !== undefined) controller.abort(this.#reason);
    else this.subscribe((reason) => controller.abort(reason));
    return controller.signal;
  }
}

const fanOut = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Run `cb` when `signal` aborts, through one listener per signal that fans out to every subscriber:
 * adding and removing is O(1) however many probes share the scan's signal. Returns the unsubscribe.
 * Not called if the signal has already aborted (check `signal.aborted`).
 */
export function onSignalAbort(signal: AbortSignal, cb: () => void): () => void {
  if (signal.aborted) return noop;
  let subscribers = fanOut.get(signal);
  if (subscribers === undefined) {
    const set = new Set<() => void>();
    subscribers = set;
    fanOut.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        for (const s of [...set]) s();
        set.clear();
      },
      { once: true },
    );
  }
  const set = subscribers;
  set.add(cb);
  return () => set.delete(cb);
}

function noop(): void {}
