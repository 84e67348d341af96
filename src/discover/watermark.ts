/**
 * Tracks which positions of the permuted order are done while probes finish out of order.
 * Positions are dispatched in increasing order, so the in-flight ones form a queue; the low
 * watermark is the oldest position still in flight (or the next one to dispatch). Resume starts
 * at the watermark and skips the few positions above it that already finished.
 */
export class Watermark {
  private readonly inflight: number[] = [];
  private head = 0;
  private readonly finished = new Set<number>();
  private next: number;

  constructor(start: number) {
    this.next = start;
  }

  dispatched(position: number): void {
    this.inflight.push(position);
    this.next = position + 1;
  }

  done(position: number): void {
    this.finished.add(position);
    while (this.head < this.inflight.length && this.finished.has(this.inflight[this.head]!)) {
      this.finished.delete(this.inflight[this.head]!);
      this.head++;
    }
    // Compact the queue now and then so it does not grow with the scan.
    if (this.head > 4096 && this.head * 2 > this.inflight.length) {
      this.inflight.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Skip ahead over positions that were never dispatched (excluded or already done before a resume). */
  advanceTo(position: number): void {
    if (position > this.next) this.next = position;
  }

  get value(): number {
    return this.head < this.inflight.length ? this.inflight[this.head]! : this.next;
  }
}
