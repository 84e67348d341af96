import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  INFLUX_LIMITS,
  destinationHost,
  firstColumn,
  firstCount,
  isInspectableDbName,
  parseBuckets,
  parseErrorBody,
  parseHealth,
  parsePingHeaders,
  parseQueryResponse,
  parseSetup,
  parseSubscriptions,
  parseUsers,
} from './codec.js';

/** A fixture from ./fixtures (see its README for where each came from). */
const fixture = (name: string): Buffer => readFileSync(new URL(`fixtures/${name}`, import.meta.url));

interface DocumentedReply {
  source: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}
const v2 = JSON.parse(fixture('v2-documented-replies.json').toString('utf8')) as Record<string, DocumentedReply>;
const v2body = (key: string): Buffer => Buffer.from(v2[key]!.body, 'utf8');

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

/** Header lines of a captured `.http` file, lower-cased names. */
function headersOf(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of raw.split('\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}

describe('influxdb /ping headers', () => {
  it('reads version and build of 1.6.7 (captured) and of 2.7.11 (documented)', () => {
    assert.deepEqual(parsePingHeaders(headersOf(fixture('v1.6.7-ping.http').toString('utf8'))), { version: '1.6.7~rc0', build: 'OSS', major: 1 });
    assert.deepEqual(parsePingHeaders(v2.ping!.headers), { version: 'v2.7.11', build: 'OSS', major: 2 });
    assert.deepEqual(parsePingHeaders({ 'x-influxdb-version': '1.8.10', 'x-influxdb-build': 'ENT' }), { version: '1.8.10', build: 'ENT', major: 1 });
    // InfluxDB Cloud sends no version.
    assert.deepEqual(parsePingHeaders({}), {});
    assert.deepEqual(parsePingHeaders({ 'x-influxdb-version': 'unknown' }), { version: 'unknown' });
  });
});

describe('influxdb 1.x /query replies (captured from 1.6.7)', () => {
  it('SHOW DATABASES, MEASUREMENTS, SERIES: names and counts', () => {
    assert.deepEqual(firstColumn(parseQueryResponse(fixture('v1.6.7-show-databases.json'), 'x')), { names: ['lockdown_seed'], rowCount: 1 });
    assert.deepEqual(firstColumn(parseQueryResponse(fixture('v1.6.7-show-measurements.json'), 'x')), { names: ['cpu', 'mem'], rowCount: 2 });
    const series = firstColumn(parseQueryResponse(fixture('v1.6.7-show-series.json'), 'x'));
    assert.equal(series.rowCount, 5);
    assert.equal(series.names[0], 'cpu,host=a,region=eu');
  });

  it('SHOW SERIES CARDINALITY: the estimate, whatever its column is called', () => {
    assert.equal(firstCount(parseQueryResponse(fixture('v1.6.7-show-series-cardinality.json'), 'x')), 5);
    assert.equal(firstCount(parseQueryResponse(Buffer.from('{"results":[{"statement_id":0,"series":[{"columns":["count"],"values":[[42]]}]}]}'), 'x')), 42);
    assert.equal(firstCount(parseQueryResponse(Buffer.from('{"results":[{"statement_id":0}]}'), 'x')), undefined);
    assert.equal(firstCount(parseQueryResponse(Buffer.from('{"results":[{"series":[{"columns":["c"],"values":[[-1]]}]}]}'), 'x')), undefined);
  });

  it('SHOW USERS and SHOW SUBSCRIPTIONS', () => {
    assert.deepEqual(parseUsers(parseQueryResponse(fixture('v1.6.7-show-users.json'), 'x')), [{ name: 'bob', admin: false }]);
    assert.deepEqual(parseSubscriptions(parseQueryResponse(fixture('v1.6.7-show-subscriptions.json'), 'x')), [
      { database: 'lockdown_seed', retentionPolicy: 'autogen', name: 'lockdown_sub', mode: 'ALL', destinations: ['http://127.0.19.9:9092'] },
    ]);
    assert.deepEqual(destinationHost('http://127.0.19.9:9092'), { host: '127.0.19.9', port: 9092 });
    assert.deepEqual(destinationHost('udp://[2001:db8::1]:9100'), { host: '2001:db8::1', port: 9100 });
    assert.deepEqual(destinationHost('https://kapacitor.example'), { host: 'kapacitor.example' });
    assert.equal(destinationHost('not a url'), undefined);
  });

  it('an empty result, a statement warning, a request-level error', () => {
    const empty = parseQueryResponse(Buffer.from('{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"]}]}]}'), 'x');
    assert.deepEqual(firstColumn(empty), { names: [], rowCount: 0 });
    const warned = parseQueryResponse(fixture('v1.6.7-create-by-get-warning.json'), 'x');
    assert.match(warned.results[0]?.messages[0] ?? '', /deprecated use of 'CREATE DATABASE lockdown_tmp_get' in a read only context/);
    assert.deepEqual(parseQueryResponse(fixture('v1.6.7-parse-error-400.json'), 'x'), {
      results: [],
      error: 'error parsing query: found FOOBAR, expected ; at line 1, char 13',
    });
  });

  it('keeps at most maxRows rows of a series but counts them all', () => {
    const values = Array.from({ length: INFLUX_LIMITS.maxRows + 3 }, (_, i) => [`m${i}`]);
    const r = parseQueryResponse(Buffer.from(JSON.stringify({ results: [{ series: [{ columns: ['name'], values }] }] })), 'x');
    assert.equal(r.results[0]?.series[0]?.values.length, INFLUX_LIMITS.maxRows);
    assert.equal(firstColumn(r).rowCount, INFLUX_LIMITS.maxRows + 3);
  });

  it('refuses replies of the wrong shape', () => {
    assert.throws(() => parseQueryResponse(Buffer.from('[]'), 'x'), isProtocolError(/not a JSON object/));
    assert.throws(() => parseQueryResponse(Buffer.from('{}'), 'x'), isProtocolError(/neither results nor error/));
    assert.throws(() => parseQueryResponse(Buffer.from('{"results":{}}'), 'x'), isProtocolError(/results is not an array/));
    assert.throws(() => parseQueryResponse(Buffer.from('{"results":[{"series":[{"values":[]}]}]}'), 'x'), isProtocolError(/no columns/));
    assert.throws(() => parseQueryResponse(Buffer.from('{"results":[{"series":[{"columns":["a"],"values":[1]}]}]}'), 'x'), isProtocolError(/row is not an array/));
    assert.throws(() => parseQueryResponse(Buffer.from('<html>'), 'x'), isProtocolError(/not JSON/));
    assert.throws(() => parseQueryResponse(Buffer.from([0xc3, 0x28]), 'x'), isProtocolError(/not UTF-8/));
    assert.throws(() => parseQueryResponse(Buffer.from('['.repeat(50_000)), 'x'), isProtocolError(/deeper than 16/));
  });

  it('database names fit for a db= parameter', () => {
    assert.ok(isInspectableDbName('lockdown_seed'));
    assert.ok(isInspectableDbName('we"ird \\ name'));
    assert.ok(!isInspectableDbName(''));
    assert.ok(!isInspectableDbName('a\nb'));
    assert.ok(!isInspectableDbName('x'.repeat(2000)));
  });
});

describe('influxdb error bodies', () => {
  it('1.x (captured) and 2.x (documented)', () => {
    assert.deepEqual(parseErrorBody(fixture('v1.6.7-unauthorized-401.json')), { error: 'unable to parse authentication credentials' });
    assert.deepEqual(parseErrorBody(fixture('v1.6.7-no-admin-403.json')), {
      error: 'error authorizing query: create admin user first or disable authentication',
    });
    assert.deepEqual(parseErrorBody(v2body('unauthorized')), { code: 'unauthorized', message: 'unauthorized access' });
    assert.equal(parseErrorBody(Buffer.from('404 page not found\n')), undefined);
    assert.equal(parseErrorBody(Buffer.from('{}')), undefined);
    assert.equal(parseErrorBody(Buffer.from('[1]')), undefined);
  });
});

describe('influxdb 2.x replies (documented)', () => {
  it('/health, /api/v2/setup, /api/v2/buckets', () => {
    assert.deepEqual(parseHealth(v2body('health')), {
      name: 'influxdb',
      status: 'pass',
      message: 'ready for queries and writes',
      version: 'v2.7.12',
      commit: 'ec9dcde5d6',
    });
    assert.equal(parseSetup(v2body('setupDone')), false);
    assert.equal(parseSetup(v2body('setupAllowed')), true);
    assert.deepEqual(parseBuckets(v2body('bucketsList')), [
      { name: '_monitoring', type: 'system', id: '0a1b2c3d4e5f6071' },
      { name: 'telemetry', type: 'user', id: '0a1b2c3d4e5f6072' },
    ]);
  });

  it('refuses other shapes', () => {
    assert.throws(() => parseHealth(Buffer.from('{"status":"pass"}')), isProtocolError(/no name and status/));
    assert.throws(() => parseSetup(Buffer.from('{"allowed":"yes"}')), isProtocolError(/no boolean "allowed"/));
    assert.throws(() => parseBuckets(v2body('unauthorized')), isProtocolError(/no buckets array/));
  });
});

describe('influxdb codecs: seeded fuzz', () => {
  it('2,000 random and mutated bodies: every outcome is a value or a ProtocolError', () => {
    const rand = rng(0x1f1d);
    const seeds = [
      'v1.6.7-show-databases.json',
      'v1.6.7-show-series-cardinality.json',
      'v1.6.7-show-subscriptions.json',
      'v1.6.7-show-users.json',
      'v1.6.7-unauthorized-401.json',
    ].map(fixture);
    seeds.push(v2body('health'), v2body('bucketsList'), v2body('setupAllowed'));
    const parsers: ((b: Buffer) => unknown)[] = [
      (b) => {
        const r = parseQueryResponse(b, 'fuzz');
        firstColumn(r);
        firstCount(r);
        parseUsers(r);
        for (const s of parseSubscriptions(r)) for (const d of s.destinations) destinationHost(d);
        return r;
      },
      (b) => parseHealth(b),
      (b) => parseSetup(b),
      (b) => parseBuckets(b),
    ];
    let parsed = 0;
    for (let i = 0; i < 2000; i++) {
      let buf: Buffer;
      if (i % 2 === 0) {
        buf = Buffer.from(Array.from({ length: Math.floor(rand() * 96) }, () => Math.floor(rand() * 256)));
      } else {
        buf = Buffer.from(seeds[i % seeds.length]!);
        for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) buf[Math.floor(rand() * buf.length)] = 0x20 + Math.floor(rand() * 0x5f);
        if (rand() < 0.3) buf = buf.subarray(0, Math.floor(rand() * buf.length));
      }
      for (const parse of parsers) {
        try {
          parse(buf);
          parsed++;
        } catch (err) {
          assert.ok(err instanceof ProtocolError, `body ${i} (${buf.toString('latin1').slice(0, 60)}): ${String(err)}`);
        }
      }
      assert.doesNotThrow(() => parseErrorBody(buf));
    }
    assert.ok(parsed > 0, 'some mutated bodies still parse');
  });
});
