import { type ImportSink } from './types.js';

/**
 * JSON records from text lines: one JSON value per line (Shodan `download`, Censys exports, zgrab2,
 * masscan `--ndjson`), tolerating masscan `-oJ` framing (`[` and `]` lines, a comma before or after a
 * record, the old closing `{finished: 1}`), and whole documents written across many lines (a saved
 * API page, `jq .` output) which are collected and parsed at the end, up to `MAX_DOCUMENT_BYTES`.
 */
export const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

export type JsonRecordHandler = (value: unknown, line: number) => void;

/** masscan's closing line before 1.3 (not JSON: the key is unquoted). */
const MASSCAN_FINISHED = /^\{\s*finished\s*:\s*1\s*\}$/;

export class JsonRecordReader {
  private mode: 'lines' | 'document' = 'lines';
  /** The first content line while it may still open a multi-line document. */
  private opener: { text: string; line: number } | undefined;
  private recordsSeen = false;
  private doc: string[] = [];
  private docBytes = 0;
  private docLine = 0;
  private docTooLarge = false;

  constructor(
    private readonly onRecord: JsonRecordHandler,
    private readonly sink: ImportSink,
  ) {}

  line(text: string, line: number): void {
    if (this.mode === 'document') {
      this.addToDocument(text);
      return;
    }
    let body = text.trim();
    if (body === '') return;
    if (this.opener === undefined && !this.recordsSeen && (body === '[' || body === '{')) {
      // Either masscan's `[` before one record per line, or the first line of a pretty-printed document.
      this.opener = { text, line };
      return;
    }
    if (body === '[' || body === ']' || body === ',' || MASSCAN_FINISHED.test(body)) return;
    if (body.startsWith(',')) body = body.slice(1).trimStart();
    if (body.endsWith(',')) body = body.slice(0, -1).trimEnd();
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      if (this.opener !== undefined && !this.recordsSeen) {
        // Not a record per line after all: a document spread over lines.
        this.mode = 'document';
        this.docLine = this.opener.line;
        this.addToDocument(this.opener.text);
        this.addToDocument(text);
        return;
      }
      this.sink.malformed(line, `not JSON (${shortJsonError(err)})`);
      return;
    }
    if (this.opener?.text.trim() === '{') {
      // A lone `{` followed by a complete value cannot be masscan framing: treat the whole as a document.
      this.mode = 'document';
      this.docLine = this.opener.line;
      this.addToDocument(this.opener.text);
      this.addToDocument(text);
      return;
    }
    this.recordsSeen = true;
    this.onRecord(value, line);
  }

  /** Call once at the end of the input. */
  end(): void {
    if (this.mode === 'lines') {
      if (this.opener !== undefined && !this.recordsSeen && this.opener.text.trim() === '{') {
        this.sink.malformed(this.opener.line, 'not JSON (a lone "{" and nothing after it)');
      }
      return;
    }
    if (this.docTooLarge) {
      this.sink.malformed(this.docLine, `a JSON document spread over lines is larger than ${MAX_DOCUMENT_BYTES} bytes; export one record per line`);
      return;
    }
    const text = this.doc.join('\n');
    this.doc = [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.sink.malformed(this.docLine + lineOfError(err, text), `not JSON (${shortJsonError(err)})`);
      return;
    }
    this.onRecord(value, this.docLine);
  }

  private addToDocument(text: string): void {
    if (this.docTooLarge) return;
    this.docBytes += text.length + 1;
    if (this.docBytes > MAX_DOCUMENT_BYTES) {
      this.docTooLarge = true;
      this.doc = [];
      return;
    }
    this.doc.push(text);
  }
}

function shortJsonError(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.length > 120 ? `${m.slice(0, 120)}…` : m;
}

/** 0-based line offset of a JSON.parse error inside `text`. */
function lineOfError(err: unknown, text: string): number {
  // V8 names the position for some errors ("… at position N"), not for an unexpected token.
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  const pos = Math.min(m ? Number(m[1]) : jsonErrorOffset(text), text.length);
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Offset of the first JSON syntax error in `text` (text.length when it is only cut short). Only run
 * after JSON.parse failed, to place the error; a small recursive-descent walk without building values.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = (): void => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 32) fail();
      i += c === 92 ? 2 : 1;
    }
    fail();
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail();
    i += (m as RegExpExecArray)[0].length;
  };
  const value = (depth: number): void => {
    if (depth > 2000) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else number();
  };
  try {
    value(0);
    ws();
    return i < text.length ? i : text.length;
  } catch (at) {
    return typeof at === 'number' ? at : 0;
  }
}
