import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonRecordReader } from './json-records.js';
import { type ImportSink } from './types.js';

function read(text: string): { records: [number, unknown][]; malformed: [number, string][] } {
  const records: [number, unknown][] = [];
  const malformed: [number, string][] = [];
  const sink: ImportSink = { candidate: () => undefined, malformed: (l, r) => malformed.push([l, r]), skipped: () => undefined };
  const reader = new JsonRecordReader((v, l) => records.push([l, v]), sink);
  text.split('\n').forEach((line, i) => reader.line(line, i + 1));
  reader.end();
  return { records, malformed };
}

describe('JsonRecordReader', () => {
  it('reads one record per line and reports the bad lines by number', () => {
    const { records, malformed } = read('{"a":1}\n\n{"a":\n{"a":3}');
    assert.deepEqual(records, [
      [1, { a: 1 }],
      [4, { a: 3 }],
    ]);
    assert.equal(malformed.length, 1);
    assert.equal(malformed[0]?.[0], 3);
    assert.match(malformed[0]?.[1] ?? '', /^not JSON \(/);
  });

  it('tolerates masscan -oJ framing, old and new', () => {
    const old = read('{ "ip": "a" },\n{ "ip": "b" },\n{finished: 1}\n');
    assert.deepEqual(old.records, [
      [1, { ip: 'a' }],
      [2, { ip: 'b' }],
    ]);
    assert.deepEqual(old.malformed, []);
    const fresh = read('[\n{ "ip": "a" }\n,\n{ "ip": "b" }\n]\n');
    assert.deepEqual(fresh.records, [
      [2, { ip: 'a' }],
      [4, { ip: 'b' }],
    ]);
  });

  it('reads a document spread over lines as one record, and reports its syntax error at the right line', () => {
    const ok = read('[\n  {\n    "ip": "a"\n  },\n  {"ip": "b"}\n]\n');
    assert.deepEqual(ok.records, [[1, [{ ip: 'a' }, { ip: 'b' }]]]);
    const bad = read('{\n  "matches": [\n    {"ip": "a"},\n    {"ip": }\n  ]\n}\n');
    assert.deepEqual(bad.records, []);
    assert.equal(bad.malformed[0]?.[0], 4);
  });
});
