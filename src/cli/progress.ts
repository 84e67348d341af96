import { formatDuration } from './output.js';

export interface ProgressCounts {
  done: number;
  answered: number;
  open: number;
}

/**
 * Scan progress on stderr: one self-rewriting line on a terminal, a plain line every 10 s
 * otherwise (e.g. under CI or nohup). Never touches stdout.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = performance.now();
  private lastLen = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly alreadyDone: number,
    private readonly counts: () => ProgressCounts,
  ) {
    this.tty = Boolean(process.stderr.isTTY);
  }

  start(): void {
    this.timer = setInterval(() => this.render(), this.tty ? 200 : 10_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty && this.lastLen > 0) process.stderr.write('\r' + ' '.repeat(this.lastLen) + '\r');
    this.lastLen = 0;
  }

  line(): string {
    const c = this.counts();
    const elapsed = (performance.now() - this.started) / 1000;
    const rate = elapsed > 0 ? c.done / elapsed : 0;
    const done = this.alreadyDone + c.done;
    const pct = this.total > 0 ? ((100 * done) / this.total).toFixed(1) : '100.0';
    const remaining = this.total - done;
    const eta = rate > 0 ? formatDuration((remaining / rate) * 1000) : '?';
    return `${this.label} ${done}/${this.total} (${pct}%) ${rate.toFixed(0)} probes/s, ${c.answered} answered, ${c.open} open, eta ${eta}`;
  }

  private render(): void {
    const text = this.line();
    if (this.tty) {
      const pad = this.lastLen > text.length ? ' '.repeat(this.lastLen - text.length) : '';
      process.stderr.write('\r' + text + pad);
      this.lastLen = text.length;
    } else {
      process.stderr.write(text + '\n');
    }
  }
}
