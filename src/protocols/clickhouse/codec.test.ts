import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  AUTH_ERROR_CODES,
  CLICKHOUSE_LIMITS,
  PROBE_REVISION,
  cellCount,
  decodeClientHello,
  decodeServerHello,
  encodeClientHello,
  encodeString,
  encodeVarUInt,
  parseHttpException,
  parseJsonCompact,
} from './codec.js';
import { jsonDepth } from '../json-body.js';

/** A fixture from ./fixtures (see its README for where each came from). */
const fixture = (name: string): Buffer => readFileSync(new URL(`fixtures/${name}`, import.meta.url));

const isProtocolError =
  (re: RegExp) =>
  (err: unknown): boolean =>
    err instanceof ProtocolError && re.test(err.message);

/** A small deterministic PRNG (mulberry32) so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('clickhouse JSONCompact results (captured from 18.16.1)', () => {
  it('reads SELECT version(), uptime(), timezone(), hostName()', () => {
    const r = parseJsonCompact(fixture('http-18.16.1-version.json'), 'version');
    assert.deepEqual(
      r.columns.map((c) => c.name),
      ['version()', 'uptime()', 'timezone()', 'hostName()'],
    );
    assert.equal(r.rowCount, 1);
    assert.equal(r.rows[0]?.[0], '18.16.1');
    assert.equal(r.rows[0]?.[2], 'Etc/UTC');
    assert.equal(r.truncated, false);
  });

  it('reads the system.parts sums, 64-bit integers quoted as strings', () => {
    const r = parseJsonCompact(fixture('http-18.16.1-parts.json'), 'parts');
    assert.deepEqual(r.rows, [['lockdown_seed', 'events', '123', '1382', '1']]);
    assert.deepEqual(
      r.columns.map((c) => c.type),
      ['String', 'String', 'UInt64', 'UInt64', 'UInt64'],
    );
    assert.equal(cellCount(r.rows[0]?.[2]), 123);
    assert.equal(cellCount(7), 7);
    assert.equal(cellCount(-1), undefined);
    assert.equal(cellCount('12x'), undefined);
    assert.equal(cellCount('123456789012345678901'), undefined);
  });

  it('keeps at most maxRows rows and says it truncated', () => {
    const data = Array.from({ length: CLICKHOUSE_LIMITS.maxRows + 5 }, (_, i) => [String(i)]);
    const body = Buffer.from(JSON.stringify({ meta: [{ name: 'n', type: 'String' }], data, rows: data.length }));
    const r = parseJsonCompact(body, 'big');
    assert.equal(r.rows.length, CLICKHOUSE_LIMITS.maxRows);
    assert.equal(r.rowCount, CLICKHOUSE_LIMITS.maxRows + 5);
    assert.equal(r.truncated, true);
  });

  it('refuses what is not a JSONCompact result', () => {
    assert.throws(() => parseJsonCompact(Buffer.from('Ok.\n'), 'x'), isProtocolError(/x is not JSON/));
    assert.throws(() => parseJsonCompact(Buffer.from('{"results":[]}'), 'x'), isProtocolError(/not a JSONCompact result/));
    assert.throws(() => parseJsonCompact(Buffer.from('{"meta":[{"name":1}],"data":[]}'), 'x'), isProtocolError(/meta\[0\]/));
    assert.throws(
      () => parseJsonCompact(Buffer.from('{"meta":[{"name":"a","type":"String"}],"data":[["a","b"]]}'), 'x'),
      isProtocolError(/does not have 1 cells/),
    );
    assert.throws(() => parseJsonCompact(Buffer.from([0xff, 0xfe, 0x7b]), 'x'), isProtocolError(/not UTF-8/));
    assert.throws(() => parseJsonCompact(fixture('http-18.16.1-exception-194.txt'), 'x'), isProtocolError(/not JSON/));
  });

  it('refuses deep nesting before JSON.parse, and skips brackets inside strings', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    assert.throws(() => parseJsonCompact(Buffer.from(deep), 'x'), isProtocolError(/deeper than 16/));
    assert.doesNotThrow(() => jsonDepth(`{"a":"${'['.repeat(100)}\\"["}`, 3, 'x'));
  });
});

describe('clickhouse HTTP exception texts', () => {
  it('parses the 18.16 format of every login refusal (captured)', () => {
    assert.deepEqual(parseHttpException(fixture('http-18.16.1-exception-194.txt').toString('utf8')), {
      code: 194,
      message: 'DB::Exception: Password required for user default',
    });
    assert.deepEqual(parseHttpException(fixture('http-18.16.1-exception-193.txt').toString('utf8')), {
      code: 193,
      message: 'DB::Exception: Wrong password for user default',
    });
    assert.deepEqual(parseHttpException(fixture('http-18.16.1-exception-192.txt').toString('utf8')), {
      code: 192,
      message: 'DB::Exception: Unknown user nobody',
    });
    for (const code of [192, 193, 194, 195, 516]) assert.ok(AUTH_ERROR_CODES.has(code));
  });

  it('parses a read-only refusal (not an auth code)', () => {
    const e = parseHttpException(fixture('http-18.16.1-exception-164-readonly.txt').toString('utf8'));
    assert.equal(e?.code, 164);
    assert.match(e?.message ?? '', /Cannot create database in readonly mode/);
    assert.equal(AUTH_ERROR_CODES.has(164), false);
  });

  it('parses the 21.x+ format with its name and version (documented 23.3 reply)', () => {
    const e = parseHttpException(fixture('http-23.3.2.37-exception-516.txt').toString('utf8'));
    assert.equal(e?.code, 516);
    assert.equal(e?.name, 'AUTHENTICATION_FAILED');
    assert.equal(e?.version, '23.3.2.37');
    assert.match(e?.message ?? '', /^DB::Exception: default: Authentication failed: password is incorrect, or there is no user with such name\./);
  });

  it('returns undefined for anything else', () => {
    assert.equal(parseHttpException('Ok.\n'), undefined);
    assert.equal(parseHttpException('<html>404</html>'), undefined);
    assert.equal(parseHttpException('Code: abc'), undefined);
    assert.equal(parseHttpException(''), undefined);
  });

  it('caps a huge exception text', () => {
    const e = parseHttpException(`Code: 60. DB::Exception: ${'x'.repeat(1_000_000)}`);
    assert.equal(e?.code, 60);
    assert.ok((e?.message.length ?? 0) <= CLICKHOUSE_LIMITS.maxString * 4);
  });
});

describe('clickhouse native Hello', () => {
  it('encodes VarUInts and strings as ClickHouse does (LEB128)', () => {
    assert.deepEqual([...encodeVarUInt(0)], [0]);
    assert.deepEqual([...encodeVarUInt(127)], [0x7f]);
    assert.deepEqual([...encodeVarUInt(128)], [0x80, 0x01]);
    assert.deepEqual([...encodeVarUInt(54401)], [0x81, 0xa9, 0x03]);
    assert.deepEqual([...encodeString('ab')], [2, 0x61, 0x62]);
    assert.throws(() => encodeVarUInt(-1), RangeError);
  });

  it('round-trips the client Hello', () => {
    const hello = { clientName: 'lockdown-test', versionMajor: 0, versionMinor: 1, revision: PROBE_REVISION, database: '', user: 'default', password: '' };
    const bytes = encodeClientHello(hello);
    assert.equal(bytes[0], 0);
    assert.equal(bytes.subarray(2, 26).toString('latin1'), 'ClickHouse lockdown-test');
    assert.deepEqual(decodeClientHello(bytes), { value: hello, consumed: bytes.length });
    for (let i = 0; i < bytes.length; i++) assert.equal(decodeClientHello(bytes.subarray(0, i)), undefined);
  });

  it('decodes the server Hello of 18.16.1 (captured)', () => {
    const bytes = fixture('native-18.16.1-hello.bin');
    const r = decodeServerHello(bytes);
    assert.equal(r?.consumed, bytes.length);
    assert.equal(r?.value.type, 'hello');
    if (r?.value.type !== 'hello') return;
    assert.equal(r.value.name, 'ClickHouse');
    assert.equal(`${r.value.versionMajor}.${r.value.versionMinor}.${r.value.versionPatch}`, '18.16.1');
    assert.equal(r.value.revision, 54412);
    assert.equal(r.value.timezone, 'Etc/UTC');
    assert.equal(typeof r.value.displayName, 'string');
    for (let i = 0; i < bytes.length; i++) assert.equal(decodeServerHello(bytes.subarray(0, i)), undefined, `prefix ${i}`);
  });

  it('decodes the Exception packet of a refused login (captured)', () => {
    const bytes = fixture('native-18.16.1-exception-194.bin');
    const r = decodeServerHello(bytes);
    assert.equal(r?.consumed, bytes.length);
    assert.equal(r?.value.type, 'exception');
    if (r?.value.type !== 'exception') return;
    assert.equal(r.value.exception.code, 194);
    assert.equal(r.value.exception.name, 'DB::Exception');
    assert.equal(r.value.exception.message, 'DB::Exception: Password required for user default');
    assert.match(r.value.exception.stackTrace, /StackTrace/);
    assert.deepEqual(r.value.exception.nested, []);
    for (let i = 0; i < bytes.length; i += 7) assert.equal(decodeServerHello(bytes.subarray(0, i)), undefined, `prefix ${i}`);
  });

  it('follows nested exceptions, bounded', () => {
    const one = (code: number, nested: boolean): Buffer => {
      const c = Buffer.alloc(4);
      c.writeInt32LE(code);
      return Buffer.concat([c, encodeString('DB::Exception'), encodeString(`e${code}`), encodeString(''), Buffer.from([nested ? 1 : 0])]);
    };
    const two = Buffer.concat([Buffer.from([2]), one(516, true), one(193, false)]);
    const r = decodeServerHello(two);
    assert.equal(r?.value.type === 'exception' && r.value.exception.code, 516);
    assert.deepEqual(r?.value.type === 'exception' && r.value.exception.nested, [{ code: 193, name: 'DB::Exception', message: 'e193' }]);
    const many = Buffer.concat([Buffer.from([2]), ...Array.from({ length: 20 }, (_, i) => one(i, true))]);
    assert.throws(() => decodeServerHello(many), isProtocolError(/nests more than 8/));
    assert.throws(() => decodeServerHello(Buffer.concat([Buffer.from([2]), one(1, true).subarray(0, -1), Buffer.from([7])])), isProtocolError(/has_nested is 7/));
  });

  it('names an HTTP answer and refuses any other packet type', () => {
    assert.throws(() => decodeServerHello(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')), isProtocolError(/answered HTTP/));
    assert.throws(() => decodeServerHello(Buffer.from([1, 0, 0])), isProtocolError(/packet type 1 before the Hello/));
    assert.throws(() => decodeServerHello(Buffer.from('AAAA')), isProtocolError(/packet type 65/));
    assert.throws(() => decodeClientHello(Buffer.from([1])), isProtocolError(/Not a client Hello/));
  });

  it('refuses huge string lengths and over-long VarUInts without allocating', () => {
    // Hello with a server-name length of 2^40.
    assert.throws(() => decodeServerHello(Buffer.concat([Buffer.from([0]), encodeVarUInt(2 ** 40)])), isProtocolError(/claims 1099511627776 bytes/));
    assert.throws(() => decodeServerHello(Buffer.from([0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), isProtocolError(/longer than 9 bytes/));
    assert.throws(() => decodeServerHello(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])), isProtocolError(/safe integer/));
  });
});

describe('clickhouse codecs: seeded fuzz', () => {
  it('2,000 random and mutated buffers: every outcome is a value, undefined or ProtocolError', () => {
    const rand = rng(0xc11c);
    const seeds = [
      fixture('native-18.16.1-hello.bin'),
      fixture('native-18.16.1-exception-194.bin'),
      fixture('http-18.16.1-version.json'),
      fixture('http-18.16.1-parts.json'),
      fixture('http-18.16.1-exception-194.txt'),
      encodeClientHello({ clientName: 'x', versionMajor: 0, versionMinor: 1, revision: PROBE_REVISION, database: '', user: 'default', password: '' }),
    ];
    let decoded = 0;
    for (let i = 0; i < 2000; i++) {
      let buf: Buffer;
      if (i % 2 === 0) {
        buf = Buffer.from(Array.from({ length: Math.floor(rand() * 96) }, () => Math.floor(rand() * 256)));
      } else {
        buf = Buffer.from(seeds[i % seeds.length]!);
        for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
        if (rand() < 0.3) buf = buf.subarray(0, Math.floor(rand() * buf.length));
      }
      for (const fn of [decodeServerHello, decodeClientHello, (b: Buffer) => parseJsonCompact(b, 'fuzz')]) {
        try {
          const r = fn(buf);
          if (r !== undefined) decoded++;
          if (r !== undefined && 'consumed' in r) assert.ok(r.consumed > 0 && r.consumed <= buf.length);
        } catch (err) {
          assert.ok(err instanceof ProtocolError, `buffer ${i} (${buf.toString('hex').slice(0, 64)}): ${String(err)}`);
        }
      }
      assert.doesNotThrow(() => parseHttpException(buf.toString('latin1')));
    }
    assert.ok(decoded > 0, 'some mutated buffers still decode');
  });
});
