import { StringDecoder } from 'node:string_decoder';
import { ErrorCode, LockdownError, UsageError, errorMessage } from '../../core/errors.js';
import { type ImportRecord, type ImportStore, type MalformedLine, type NewCandidate } from '../../store/store.js';
import { censysRecord } from './censys.js';
import { DETECT_BYTES, detectFormat } from './detect.js';
import { inputError, openImportInput, type ImportInput } from './input.js';
import { JsonRecordReader } from './json-records.js';
import { LineSplitter } from './line-splitter.js';
import { masscanJsonRecord, masscanListLine, masscanXmlHost } from './masscan.js';
import { nmapXmlHost } from './nmap.js';
import { shodanRecord } from './shodan.js';
import { IMPORT_FORMATS, type ImportFormat, type ImportSink, type ParsedCandidate } from './types.js';
import { NmapXmlReader } from './xml-hosts.js';
import { zgrab2Record } from './zgrab2.js';

/**
 * Reads one export file into the store as an import and its candidates: streaming (a chunk, a line
 * and a batch in memory, whatever the file size), one transaction per batch of candidates together
 * with the import's counters, so the import record always matches what is stored. Bad lines are
 * counted and the first few kept with their line numbers; the rest of the file still imports.
 */

export interface ImportRequest {
  path: string;
  /** Overrides detection. */
  format?: ImportFormat;
  operator: string;
  commandLine: string;
  /** Candidates per transaction (default 5000). */
  batchSize?: number;
  /** Malformed lines kept with their reasons (default 20; all are counted). */
  malformedSamples?: number;
  /** Stops reading between chunks; the import is then recorded as failed ("interrupted"). */
  signal?: AbortSignal;
  /** After every chunk read. */
  onProgress?: (progress: ImportProgress) => void;
  /** Once the format is known and the import record exists. */
  onStart?: (record: ImportRecord, input: ImportInput) => void;
}

export interface ImportProgress {
  lines: number;
  candidates: number;
  malformed: number;
  skipped: number;
  /** Bytes of the file read (compressed bytes when gzipped) … */
  bytesRead: number;
  /** … of this many. */
  totalBytes: number;
}

export const DEFAULT_BATCH_SIZE = 5000;

/** An import that stopped early: `record` is its stored state (`failed`, with the counts of what was kept). */
export class ImportError extends LockdownError {
  readonly record: ImportRecord;
  readonly interrupted: boolean;
  constructor(message: string, record: ImportRecord, interrupted: boolean, cause?: unknown) {
    super(cause instanceof LockdownError ? cause.code : ErrorCode.usage, message, { cause });
    this.record = record;
    this.interrupted = interrupted;
  }
}

const INTERRUPTED = 'Interrupted';
export const DEFAULT_MALFORMED_SAMPLES = 20;

class BatchingSink implements ImportSink {
  pending: NewCandidate[] = [];
  next = 0;
  malformedCount = 0;
  skippedCount = 0;
  readonly samples: MalformedLine[] = [];

  constructor(private readonly sampleLimit: number) {}

  candidate(c: ParsedCandidate): void {
    this.pending.push({ ...c, position: this.next++ });
  }

  malformed(line: number, reason: string): void {
    this.malformedCount++;
    if (this.samples.length < this.sampleLimit) this.samples.push({ line, reason });
  }

  skipped(count = 1): void {
    this.skippedCount += count;
  }
}

/** What a format's reader does with the decompressed bytes. */
interface Reader {
  push(chunk: Buffer): void;
  end(): void;
  readonly lines: number;
}

function lineReader(onLine: (text: string, line: number) => void, sink: ImportSink): Reader {
  const splitter = new LineSplitter(onLine, (line, bytes) => sink.malformed(line, `line is ${bytes} bytes long, more than the limit`));
  return {
    push: (chunk) => splitter.push(chunk),
    end: () => splitter.end(),
    get lines() {
      return splitter.lineCount;
    },
  };
}

function jsonReader(onRecord: (value: unknown, line: number, sink: ImportSink) => void, sink: ImportSink): Reader {
  const records = new JsonRecordReader((value, line) => onRecord(value, line, sink), sink);
  const lines = lineReader((text, line) => records.line(text, line), sink);
  return {
    push: (chunk) => lines.push(chunk),
    end: () => {
      lines.end();
      records.end();
    },
    get lines() {
      return lines.lines;
    },
  };
}

function xmlReader(format: 'nmap' | 'masscan', sink: ImportSink): Reader {
  const xml = new NmapXmlReader((host) => (format === 'masscan' ? masscanXmlHost(host, sink) : nmapXmlHost(host, sink)), sink);
  const decoder = new StringDecoder('utf8');
  let newlines = 0;
  let lastByte = 10;
  const lines = (): number => newlines + (lastByte === 10 ? 0 : 1);
  return {
    push: (chunk) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) newlines++;
      if (chunk.length > 0) lastByte = chunk[chunk.length - 1] as number;
      xml.write(decoder.write(chunk));
    },
    end: () => {
      const rest = decoder.end();
      if (rest) xml.write(rest);
      xml.end(lines());
    },
    get lines() {
      return lines();
    },
  };
}

function readerFor(format: ImportFormat, prefix: Buffer, sink: ImportSink): Reader {
  switch (format) {
    case 'shodan':
      return jsonReader(shodanRecord, sink);
    case 'censys':
      return jsonReader(censysRecord, sink);
    case 'zgrab2':
      return jsonReader(zgrab2Record, sink);
    case 'nmap':
      return xmlReader('nmap', sink);
    case 'masscan': {
      const start = prefix.toString('utf8').replace(/^\uFEFF/, '').trimStart();
      if (start.startsWith('<')) return xmlReader('masscan', sink);
      const first = start.split('\n', 1)[0] ?? '';
      if (first.startsWith('#') || /^(open|closed|banner)\s/.test(first)) return lineReader((t, l) => masscanListLine(t, l, sink), sink);
      return jsonReader(masscanJsonRecord, sink);
    }
  }
}

export async function runImport(store: ImportStore, req: ImportRequest): Promise<ImportRecord> {
  const batchSize = req.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`Batch size must be a positive integer, got ${batchSize}`);
  const input = await openImportInput(req.path);
  const chunks = input.chunks()[Symbol.asyncIterator]();

  // The first bytes tell the format; they are then read like the rest.
  const head: Buffer[] = [];
  let headBytes = 0;
  let done = false;
  try {
    while (headBytes < DETECT_BYTES) {
      const r = await chunks.next();
      if (r.done) {
        done = true;
        break;
      }
      head.push(r.value);
      headBytes += r.value.length;
    }
  } catch (err) {
    throw inputError(req.path, err);
  }
  const prefix = Buffer.concat(head, headBytes);
  const stop = async (err: Error): Promise<never> => {
    await chunks.return?.().catch(() => undefined);
    throw err;
  };
  if (prefix.toString('utf8').trim() === '') return stop(new UsageError(`Import file ${req.path} is empty`));
  const format = req.format ?? detectFormat(prefix);
  if (!format) {
    return stop(new UsageError(
      `Cannot tell which tool wrote ${req.path} (not Shodan, Censys, masscan, nmap or zgrab2 output as far as its first lines show); ` +
        `pass --format ${IMPORT_FORMATS.join('|')}`,
    ));
  }

  const record = await store
    .createImport({ format, filePath: req.path, fileSize: input.size, gzip: input.gzip, operator: req.operator, commandLine: req.commandLine })
    .catch((err: Error) => stop(err));
  req.onStart?.(record, input);

  const sink = new BatchingSink(req.malformedSamples ?? DEFAULT_MALFORMED_SAMPLES);
  const reader = readerFor(format, prefix, sink);
  const counts = () => ({
    lines: reader.lines,
    skipped: sink.skippedCount,
    malformed: sink.malformedCount,
    malformedSamples: [...sink.samples],
  });
  const flush = async (all: boolean): Promise<void> => {
    while (sink.pending.length >= batchSize || (all && sink.pending.length > 0)) {
      const candidates = sink.pending.length > batchSize ? sink.pending.splice(0, batchSize) : sink.pending.splice(0);
      await store.addCandidates({ importId: record.id, candidates, ...counts() });
    }
  };
  const progress = (): void =>
    req.onProgress?.({
      lines: reader.lines,
      candidates: sink.next,
      malformed: sink.malformedCount,
      skipped: sink.skippedCount,
      bytesRead: input.bytesRead,
      totalBytes: input.size,
    });

  let failure: unknown;
  try {
    for (const chunk of head) reader.push(chunk);
    head.length = 0;
    await flush(false);
    progress();
    while (!done) {
      if (req.signal?.aborted) throw new Error(INTERRUPTED);
      const r = await chunks.next();
      if (r.done) break;
      reader.push(r.value);
      await flush(false);
      progress();
    }
    reader.end();
    await flush(true);
    progress();
  } catch (err) {
    failure = err;
  }
  if (failure !== undefined) {
    // Keep what was read completely before the failure (each batch is whole), and say why it stopped.
    await flush(true).catch(() => undefined);
    await chunks.return?.().catch(() => undefined);
    const interrupted = req.signal?.aborted === true && errorMessage(failure) === INTERRUPTED;
    let failed: ImportRecord;
    try {
      failed = await store.finishImport(record.id, { state: 'failed', ...counts(), error: errorMessage(failure) });
    } catch {
      // The store itself is failing (disk full …): its error is not the one to report.
      throw inputError(req.path, failure);
    }
    if (interrupted) throw new ImportError(`Import ${failed.id} of ${req.path} interrupted at line ${failed.lines}`, failed, true);
    throw new ImportError(inputError(req.path, failure).message, failed, false, failure);
  }
  return store.finishImport(record.id, { state: 'completed', ...counts() });
}
