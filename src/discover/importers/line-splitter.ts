/**
 * Splits a byte stream into lines (LF or CRLF) without holding more than one line: a line longer than
 * `maxLineBytes` is reported as too long and skipped up to its end, never buffered whole.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export type LineHandler = (text: string, lineNumber: number) => void;
export type LongLineHandler = (lineNumber: number, bytes: number) => void;

export class LineSplitter {
  /** Lines seen so far (1-based number of the last one). */
  lineCount = 0;
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Bytes of an over-long line being skipped, or -1. */
  private skipping = -1;

  constructor(
    private readonly onLine: LineHandler,
    private readonly onTooLong: LongLineHandler,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      this.lineCount++;
      if (this.skipping >= 0) {
        this.onTooLong(this.lineCount, this.skipping + nl - start);
        this.skipping = -1;
      } else if (this.partBytes === 0) {
        this.emit(chunk, start, nl);
      } else {
        this.parts.push(chunk.subarray(start, nl));
        const whole = Buffer.concat(this.parts, this.partBytes + nl - start);
        this.parts = [];
        this.partBytes = 0;
        this.emit(whole, 0, whole.length);
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.length - start;
      if (this.skipping >= 0) this.skipping += rest;
      else if (this.partBytes + rest > this.maxLineBytes) {
        this.skipping = this.partBytes + rest;
        this.parts = [];
        this.partBytes = 0;
      } else {
        // Copy: the caller may reuse its chunk buffer.
        this.parts.push(Buffer.from(chunk.subarray(start)));
        this.partBytes += rest;
      }
    }
  }

  /** The last line when the input does not end with a newline. */
  end(): void {
    if (this.skipping >= 0) {
      this.lineCount++;
      this.onTooLong(this.lineCount, this.skipping);
      this.skipping = -1;
    } else if (this.partBytes > 0) {
      this.lineCount++;
      const whole = Buffer.concat(this.parts, this.partBytes);
      this.parts = [];
      this.partBytes = 0;
      this.emit(whole, 0, whole.length);
    }
  }

  private emit(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === 13) end--;
    this.onLine(buf.toString('utf8', start, end), this.lineCount);
  }
}
