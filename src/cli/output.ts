import Table from 'cli-table3';
import { UsageError } from '../core/errors.js';
import { formatBytes as formatSize } from '../core/format.js';

export type OutputFormat = 'table' | 'json' | 'ndjson';

export interface FormatFlags {
  json?: boolean;
  ndjson?: boolean;
}

/** Table for people by default; --json (one document) or --ndjson (one object a line) for programs. */
export function outputFormat(flags: FormatFlags): OutputFormat {
  if (flags.json && flags.ndjson) throw new UsageError('Choose one of --json and --ndjson');
  if (flags.json) return 'json';
  if (flags.ndjson) return 'ndjson';
  return 'table';
}

/** stdout is for data only; everything else goes to stderr. */
export function writeOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/**
 * NDJSON lines streamed while work runs (e.g. one per probe), written to stdout in chunks rather
 * than one write per line: at thousands of lines a second, a pipe write per line costs more CPU than
 * the probe that produced it. A chunk goes out when it reaches 64 KiB or at the end of the current
 * turn of the event loop, so a reader still sees each line promptly.
 */
export class LineStream {
  private chunk = '';
  private scheduled = false;

  write(value: unknown): void {
    this.chunk += JSON.stringify(value) + '\n';
    if (this.chunk.length >= 65536) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Write out what is buffered now (call before anything else goes to stdout). */
  flush(): void {
    this.scheduled = false;
    if (this.chunk === '') return;
    process.stdout.write(this.chunk);
    this.chunk = '';
  }
}

export function writeJson(value: unknown): void {
  writeOut(JSON.stringify(value, null, 2));
}

export function writeNdjson(values: Iterable<unknown>): void {
  let chunk = '';
  for (const v of values) chunk += JSON.stringify(v) + '\n';
  if (chunk) process.stdout.write(chunk);
}

export function renderTable(head: string[], rows: (string | number)[][]): string {
  const table = new Table({
    head,
    style: { head: process.stdout.isTTY ? ['bold'] : [], border: process.stdout.isTTY ? ['grey'] : [] },
    wordWrap: true,
  });
  for (const r of rows) table.push(r.map((c) => String(c)));
  return table.toString();
}

export function log(message: string): void {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
}

/** A size for a table cell: empty when unknown. */
export function formatBytes(n: number | undefined): string {
  return formatSize(n) ?? '';
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
