/**
 * Target and exclusion lists from files (`-iL`, `--exclude-file`) and stdin: one or more specs
 * per line separated by whitespace or commas, `#` starts a comment, blank lines are ignored.
 * Every spec keeps `name:line` as its source so a bad one is reported where it is.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ErrorCode, LockdownError, errorMessage } from '../core/errors.js';
import { splitSpecs, type TargetSpecInput } from './parse.js';

/** A longer line is not a target list (e.g. a binary file passed by mistake). */
export const MAX_LINE_LENGTH = 1024 * 1024;

/** Specs of one line; `lineNumber` is 1-based. */
export function specsOfLine(line: string, sourceName: string, lineNumber: number): TargetSpecInput[] {
  const hash = line.indexOf('#');
  const text = hash >= 0 ? line.slice(0, hash) : line;
  return splitSpecs({ text, source: `${sourceName}:${lineNumber}` });
}

/** Reads specs from a byte or text stream (e.g. `process.stdin`, sourceName `stdin`). */
export async function readSpecStream(stream: AsyncIterable<Buffer | string>, sourceName: string): Promise<TargetSpecInput[]> {
  const specs: TargetSpecInput[] = [];
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNumber = 0;
  const takeLine = (line: string): void => {
    lineNumber++;
    specs.push(...specsOfLine(line.replace(/\r$/, ''), sourceName, lineNumber));
  };
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    let newline: number;
    while ((newline = pending.indexOf('\n', start)) >= 0) {
      takeLine(pending.slice(start, newline));
      start = newline + 1;
    }
    pending = pending.slice(start);
    if (pending.length > MAX_LINE_LENGTH) {
      throw new LockdownError(
        ErrorCode.targetParse,
        `Line ${lineNumber + 1} of ${sourceName} is longer than ${MAX_LINE_LENGTH} characters; is it a target list?`,
      );
    }
  }
  pending += decoder.end();
  if (pending !== '') takeLine(pending);
  return specs;
}

/** Reads specs from a file; sources are `path:line`. A missing or unreadable file is a clear error. */
export async function readSpecFile(path: string): Promise<TargetSpecInput[]> {
  try {
    return await readSpecStream(createReadStream(path), path);
  } catch (err) {
    if (err instanceof LockdownError) throw err;
    const code = (err as { code?: unknown }).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : errorMessage(err);
    throw new LockdownError(ErrorCode.targetParse, `Cannot read target file ${JSON.stringify(path)}: ${reason}`, { cause: err });
  }
}
