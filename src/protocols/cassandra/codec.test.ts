/**
 * The CQL codec against replies captured from a real Apache Cassandra 5.0.9 (the test servers of
 * test/servers/cassandra.sh, captured with this codec's own encoders), documented wordings of older servers,
 * hand-built frames for what a 5.0 server never sends, hostile input and a seeded fuzz loop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  BodyReader,
  CQL_LIMITS,
  type CqlType,
  decodeValue,
  describeError,
  encodeFrame,
  encodeOptions,
  encodeQuery,
  encodeStartup,
  frameDecoder,
  parseResponse,
  readType,
  responseDecoder,
  type RowsResult,
  rowObjects,
  supportedVersionsFromError,
  typeName,
} from './codec.js';
import { downgradeTarget, productFromSupported } from './probe.js';
import { parseKeyspaces, parseTables, peersFromRows } from './queries.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Replies of Cassandra 5.0.9 (captured on 127.0.16.1/.2 of the test servers). */
const CAPTURED = {
  /** OPTIONS v4 → SUPPORTED {PROTOCOL_VERSIONS: [3/v3 4/v4 5/v5 6/v6-beta], COMPRESSION: [snappy lz4], CQL_VERSION: [3.4.7]}. */
  supportedV4: hex(
    '8400000006000000660003001150524f544f434f4c5f56455253494f4e5300040004332f76330004342f76340004352f76350009362f76362d62657461' +
      '000b434f4d5052455353494f4e00020006736e6170707900036c7a34000b43514c5f56455253494f4e00010005332e342e37',
  ),
  /** The same OPTIONS sent as v5: answered in v5 (0x85), still unsegmented before STARTUP. */
  supportedV5: hex(
    '8500000006000000660003001150524f544f434f4c5f56455253494f4e5300040004332f76330004342f76340004352f76350009362f76362d62657461' +
      '000b434f4d5052455353494f4e00020006736e6170707900036c7a34000b43514c5f56455253494f4e00010005332e342e37',
  ),
  ready: hex('840000010200000000'),
  authenticate: hex('840000010300000031002f6f72672e6170616368652e63617373616e6472612e617574682e50617373776f726441757468656e74696361746f72'),
  /** CREATE KEYSPACE → RESULT Schema_change CREATED KEYSPACE capture_ks. */
  schemaCreated: hex('8400000208000000230000000500074352454154454400084b45595350414345000a636170747572655f6b73'),
  /** USE capture_ks → RESULT Set_keyspace. */
  setKeyspace: hex('84000003080000001000000003000a636170747572655f6b73'),
  /** SELECT keyspace_name, replication FROM system_schema.keyspaces WHERE … → Rows, global table spec, map<varchar,varchar>. */
  keyspaceRows: hex(
    '8400000408000000b7000000020000000100000002000d73797374656d5f736368656d6100096b6579737061636573000d6b657973706163655f6e616d65' +
      '000d000b7265706c69636174696f6e0021000d000d000000010000000a636170747572655f6b73000000570000000200000005636c6173730000002b6f' +
      '72672e6170616368652e63617373616e6472612e6c6f6361746f722e53696d706c655374726174656779000000127265706c69636174696f6e5f666163' +
      '746f720000000131',
  ),
  /** SELECT peer, native_address, native_port, data_center, rack, release_version FROM system.peers_v2 (inet, int, varchar). */
  peersV2Rows: hex(
    '8400000508000000ae000000020000000100000006000673797374656d000870656572735f76320004706565720010000e6e61746976655f6164647265' +
      '73730010000b6e61746976655f706f72740009000b646174615f63656e746572000d00047261636b000d000f72656c656173655f76657273696f6e000d' +
      '00000001000000047f001003000000047f00100300000004000023520000000b6461746163656e74657231000000057261636b3100000005352e302e39',
  ),
  /** SELECT keyspace_name, table_name FROM system_schema.tables with page size 2 → Has_more_pages with a paging state. */
  tablesPaged: hex(
    '8400000608000000b4000000020000000300000002000000290b73797374656d5f61757468120010636964725f7065726d697373696f6e73f07ffffffd' +
      'f07ffffffd000d73797374656d5f736368656d6100067461626c6573000d6b657973706163655f6e616d65000d000a7461626c655f6e616d65000d0000' +
      '00020000000b73797374656d5f617574680000000b636964725f67726f7570730000000b73797374656d5f6175746800000010636964725f7065726d69' +
      '7373696f6e73',
  ),
  /** SELECT * FROM nosuch.table1 → ERROR 0x2200 Invalid. */
  invalid: hex('84000007000000002400002200001e6b65797370616365206e6f7375636820646f6573206e6f74206578697374'),
  /** OPTIONS sent as v6 without the beta flag → ERROR answered in v6 with the beta flag (a version we never speak). */
  betaV6: hex(
    '86100000000000004f0000000a0049426574612076657273696f6e206f66207468652070726f746f636f6c20757365642028362f76362d62657461292c2062' +
      '7574205553455f4245544120666c616720697320756e736574',
  ),
} as const;

function decodeOne(buf: Buffer, maxBody?: number): ReturnType<typeof parseResponse> {
  const r = responseDecoder(maxBody)(buf);
  assert.ok(r, 'a complete frame decodes');
  assert.equal(r.consumed, buf.length);
  return r.value;
}

function rowsOf(buf: Buffer): RowsResult {
  const m = decodeOne(buf).message;
  assert.equal(m.type, 'result');
  assert.equal(m.result.kind, 'rows');
  return m.result;
}

describe('cql encoders', () => {
  it('OPTIONS: 9-byte v3+ header, 8-byte v1/v2 header, empty body', () => {
    assert.deepEqual(encodeOptions(4), hex('040000000500000000'));
    assert.deepEqual(encodeOptions(3, 7), hex('030000070500000000'));
    assert.deepEqual(encodeOptions(2), hex('0200000500000000'));
    assert.throws(() => encodeOptions(6), RangeError);
  });

  it('STARTUP: a [string map] body', () => {
    const f = encodeStartup(4, { CQL_VERSION: '3.4.7', DRIVER_NAME: 'lockdown' }, 1);
    assert.deepEqual(f.subarray(0, 9), hex('04000001010000002d'));
    assert.deepEqual(new BodyReader(f.subarray(9)).stringMap(), { CQL_VERSION: '3.4.7', DRIVER_NAME: 'lockdown' });
  });

  it('QUERY: [long string] query, consistency ONE, Page_size flag and the page size', () => {
    const f = encodeQuery(4, 'SELECT x FROM t', { pageSize: 100, stream: 3 });
    assert.deepEqual(f.subarray(0, 5), hex('0400000307'));
    const body = new BodyReader(f.subarray(9));
    assert.equal(body.longString(), 'SELECT x FROM t');
    assert.equal(body.short(), 0x0001);
    assert.equal(body.byte(), 0x04);
    assert.equal(body.int(), 100);
    assert.equal(body.remaining, 0);
    assert.throws(() => encodeQuery(5, 'SELECT 1', { pageSize: 1 }), RangeError);
    assert.throws(() => encodeQuery(1, 'SELECT 1', { pageSize: 1 }), RangeError);
  });
});

describe('cql replies captured from Cassandra 5.0.9', () => {
  it('SUPPORTED (v4 and v5) as a string multimap', () => {
    const expected = { PROTOCOL_VERSIONS: ['3/v3', '4/v4', '5/v5', '6/v6-beta'], COMPRESSION: ['snappy', 'lz4'], CQL_VERSION: ['3.4.7'] };
    for (const [buf, version] of [[CAPTURED.supportedV4, 4], [CAPTURED.supportedV5, 5]] as const) {
      const r = decodeOne(buf);
      assert.equal(r.version, version);
      assert.equal(r.stream, 0);
      assert.deepEqual(r.message, { type: 'supported', options: expected });
    }
  });

  it('READY and AUTHENTICATE with the authenticator class', () => {
    assert.deepEqual(decodeOne(CAPTURED.ready).message, { type: 'ready' });
    assert.deepEqual(decodeOne(CAPTURED.authenticate).message, { type: 'authenticate', authenticator: 'org.apache.cassandra.auth.PasswordAuthenticator' });
  });

  it('RESULT Schema_change and Set_keyspace', () => {
    assert.deepEqual(decodeOne(CAPTURED.schemaCreated).message, {
      type: 'result',
      result: { kind: 'schema_change', change: 'CREATED', target: 'KEYSPACE', keyspace: 'capture_ks' },
    });
    assert.deepEqual(decodeOne(CAPTURED.setKeyspace).message, { type: 'result', result: { kind: 'set_keyspace', keyspace: 'capture_ks' } });
  });

  it('RESULT Rows with a global table spec and a map<varchar, varchar> column', () => {
    const rows = rowsOf(CAPTURED.keyspaceRows);
    assert.deepEqual(
      rows.columns.map((c) => [c.keyspace, c.table, c.name, typeName(c.type)]),
      [
        ['system_schema', 'keyspaces', 'keyspace_name', 'varchar'],
        ['system_schema', 'keyspaces', 'replication', 'map<varchar, varchar>'],
      ],
    );
    assert.equal(rows.hasMorePages, false);
    assert.deepEqual(rowObjects(rows), [
      { keyspace_name: 'capture_ks', replication: { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' } },
    ]);
    assert.deepEqual(parseKeyspaces(rows), [
      { name: 'capture_ks', replication: { class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' }, system: false },
    ]);
  });

  it('RESULT Rows with inet and int columns: system.peers_v2 → a peer with its CQL address and port', () => {
    const rows = rowsOf(CAPTURED.peersV2Rows);
    assert.deepEqual(rowObjects(rows), [
      { peer: '127.0.16.3', native_address: '127.0.16.3', native_port: 9042, data_center: 'datacenter1', rack: 'rack1', release_version: '5.0.9' },
    ]);
    assert.deepEqual(peersFromRows(rows, 'system.peers_v2'), [{ host: '127.0.16.3', port: 9042, role: 'peer', source: 'system.peers_v2: native_address' }]);
  });

  it('RESULT Rows with Has_more_pages keeps the paging state and marks the page partial', () => {
    const rows = rowsOf(CAPTURED.tablesPaged);
    assert.equal(rows.hasMorePages, true);
    assert.equal(rows.pagingState?.length, 0x29);
    assert.deepEqual(rows.rows, [
      ['system_auth', 'cidr_groups'],
      ['system_auth', 'cidr_permissions'],
    ]);
    assert.deepEqual(parseTables(rows), { tables: {}, userTableCount: 0, systemTableCount: 2 });
  });

  it('ERROR keeps the code and the server text', () => {
    const m = decodeOne(CAPTURED.invalid).message;
    assert.deepEqual(m, { type: 'error', code: 0x2200, message: 'keyspace nosuch does not exist' });
    assert.equal(describeError(0x2200, 'keyspace nosuch does not exist'), 'ERROR 0x2200 Invalid: keyspace nosuch does not exist');
  });

  it('a v6-beta reply is refused as a version this codec does not speak', () => {
    assert.throws(() => frameDecoder()(CAPTURED.betaV6), (e: unknown) => e instanceof ProtocolError && /version byte 0x86/.test(e.message));
  });

  it('every strict prefix of a captured frame is "need more bytes", never an error', () => {
    for (const buf of Object.values(CAPTURED)) {
      if (buf[0] === 0x86) continue;
      for (let n = 0; n < buf.length; n++) assert.equal(responseDecoder()(buf.subarray(0, n)), undefined, `prefix of ${n} bytes`);
    }
  });

  it('two frames in one buffer decode one at a time', () => {
    const both = Buffer.concat([CAPTURED.ready, CAPTURED.authenticate]);
    const first = responseDecoder()(both);
    assert.equal(first?.consumed, CAPTURED.ready.length);
    assert.equal(responseDecoder()(both.subarray(first!.consumed))?.value.message.type, 'authenticate');
  });
});

describe('product from SUPPORTED', () => {
  it('names ScyllaDB by its SCYLLA_* options, anything else Cassandra', () => {
    const cassandra = (decodeOne(CAPTURED.supportedV4).message as { options: Record<string, string[]> }).options;
    assert.equal(productFromSupported(cassandra), 'Cassandra');
    // ScyllaDB's SUPPORTED as documented in its docs/dev/protocol-extensions.md (shard-awareness extension).
    const scylla = { ...cassandra, SCYLLA_SHARD: ['3'], SCYLLA_NR_SHARDS: ['12'], SCYLLA_PARTITIONER: ['org.apache.cassandra.dht.Murmur3Partitioner'], SCYLLA_SHARDING_ALGORITHM: ['biased-token-round-robin'], SCYLLA_SHARDING_IGNORE_MSB: ['12'] };
    assert.equal(productFromSupported(scylla), 'ScyllaDB');
  });
});

describe('cql protocol version errors', () => {
  it('reads the supported versions out of each known wording', () => {
    // Cassandra 4.0–5.0 (the 5.0.9 test server's own text for a v2 OPTIONS, from its log).
    assert.deepEqual(
      supportedVersionsFromError('Invalid or unsupported protocol version (2); supported versions are (3/v3, 4/v4, 5/v5, 6/v6-beta)'),
      [3, 4, 5],
    );
    // Cassandra 2.2–3.x (as quoted in gocql's conn_test.go).
    assert.deepEqual(
      supportedVersionsFromError('Invalid or unsupported protocol version (5); the lowest supported version is 3 and the greatest is 4'),
      [3, 4],
    );
    // Cassandra 2.0/2.1 and ScyllaDB: no list, the reply frame's version is the server's.
    assert.deepEqual(supportedVersionsFromError('Invalid or unsupported protocol version: 4', 3), [3]);
    assert.equal(supportedVersionsFromError('keyspace nosuch does not exist', 4), undefined);
  });

  it('picks the highest lower version it can frame, and only for version errors', () => {
    const err = (code: number, message: string) => ({ type: 'error' as const, code, message });
    assert.equal(downgradeTarget(err(0x000a, 'Invalid or unsupported protocol version (4); supported versions are (3/v3)'), 4, 4), 3);
    assert.equal(downgradeTarget(err(0x000a, 'Invalid or unsupported protocol version: 4'), 3, 4), 3);
    assert.equal(downgradeTarget(err(0x000a, 'Invalid or unsupported protocol version: 4'), 2, 4), 2);
    // Cassandra 2.0/2.1 wrap it in a Server error (as the Python driver logs it).
    assert.equal(
      downgradeTarget(err(0x0000, 'io.netty.handler.codec.DecoderException: org.apache.cassandra.transport.ProtocolException: Invalid or unsupported protocol version: 4'), 2, 4),
      2,
    );
    // v1-only: no QUERY with paging, so no downgrade; nothing to gain from a version we already sent or a higher one.
    assert.equal(downgradeTarget(err(0x000a, 'Invalid or unsupported protocol version: 4'), 1, 4), undefined);
    assert.equal(downgradeTarget(err(0x000a, 'Invalid or unsupported protocol version (4); supported versions are (5/v5)'), 5, 4), undefined);
    assert.equal(downgradeTarget(err(0x2200, 'protocol version'), 4, 4), undefined);
    assert.equal(downgradeTarget(err(0x000a, 'Unexpected message STARTUP'), 4, 4), undefined);
  });
});

/** A response frame around `body` (v3+ header unless `version` < 3). */
function frame(opcode: number, body: Buffer, opts: { version?: number; flags?: number; stream?: number } = {}): Buffer {
  const f = encodeFrame(opts.version ?? 4, opts.stream ?? 0, opcode, body);
  f[0] = 0x80 | (opts.version ?? 4);
  f[1] = opts.flags ?? 0;
  return f;
}
const int = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const short = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const str = (s: string): Buffer => Buffer.concat([short(Buffer.byteLength(s)), Buffer.from(s)]);
const bytes = (b: Buffer | null): Buffer => (b === null ? int(-1) : Buffer.concat([int(b.length), b]));

describe('cql frames a 5.0 server does not send here (built from the spec)', () => {
  it('tracing id, warnings and custom payload come before the message', () => {
    const uuid = hex('00112233445566778899aabbccddeeff');
    const body = Buffer.concat([uuid, short(1), str('Read 5000 live rows'), short(1), str('k'), bytes(Buffer.from('v')), int(1)]);
    const r = decodeOne(frame(0x08, body, { flags: 0x02 | 0x04 | 0x08 }));
    assert.equal(r.tracingId, '00112233-4455-6677-8899-aabbccddeeff');
    assert.deepEqual(r.warnings, ['Read 5000 live rows']);
    assert.deepEqual(r.message, { type: 'result', result: { kind: 'void' } });
  });

  it('Rows without a global table spec (per-column keyspace and table)', () => {
    const body = Buffer.concat([
      int(2), int(0), int(2),
      str('ks'), str('t1'), str('a'), short(0x0009),
      str('ks'), str('t2'), str('b'), short(0x0022), short(0x000d),
      int(1), bytes(int(-7)), bytes(Buffer.concat([int(2), bytes(Buffer.from('x')), bytes(Buffer.from('y'))])),
    ]);
    const rows = rowsOf(frame(0x08, body));
    assert.deepEqual(rows.columns.map((c) => `${c.keyspace}.${c.table}.${c.name}:${typeName(c.type)}`), ['ks.t1.a:int', 'ks.t2.b:set<varchar>']);
    assert.deepEqual(rows.rows, [[-7, ['x', 'y']]]);
  });

  it('v5 Rows with Metadata_changed skip the new metadata id', () => {
    const body = Buffer.concat([int(2), int(0x0001 | 0x0008), int(1), short(2), hex('abcd'), str('ks'), str('t'), str('c'), short(0x000d), int(1), bytes(Buffer.from('v'))]);
    assert.deepEqual(rowsOf(frame(0x08, body, { version: 5 })).rows, [['v']]);
  });

  it('v2 frames: 8-byte header, one-byte stream, [short]-sized collections, 3-string Schema_change', () => {
    const list = Buffer.concat([short(2), short(1), Buffer.from('a'), short(2), Buffer.from('bc')]);
    const body = Buffer.concat([int(2), int(1), int(1), str('ks'), str('t'), str('l'), short(0x0020), short(0x000d), int(1), bytes(list)]);
    const f = frame(0x08, body, { version: 2, stream: 5 });
    assert.equal(f.readInt32BE(4), body.length);
    const r = decodeOne(f);
    assert.equal(r.stream, 5);
    assert.deepEqual((r.message as { result: RowsResult }).result.rows, [[['a', 'bc']]]);
    const change = decodeOne(frame(0x08, Buffer.concat([int(5), str('DROPPED'), str('ks'), str('t')]), { version: 2 }));
    assert.deepEqual(change.message, { type: 'result', result: { kind: 'schema_change', change: 'DROPPED', target: 'TABLE', keyspace: 'ks', name: 't' } });
  });

  it('Schema_change for a function carries its argument types', () => {
    const body = Buffer.concat([int(5), str('CREATED'), str('FUNCTION'), str('ks'), str('f'), short(1), str('int')]);
    assert.deepEqual(decodeOne(frame(0x08, body)).message, {
      type: 'result',
      result: { kind: 'schema_change', change: 'CREATED', target: 'FUNCTION', keyspace: 'ks', name: 'f' },
    });
  });

  it('ERROR with extra fields (Unavailable: consistency, required, alive) and codes by name', () => {
    const body = Buffer.concat([int(0x1000), str('Cannot achieve consistency level ONE'), short(1), int(1), int(0)]);
    assert.deepEqual(decodeOne(frame(0x00, body)).message, { type: 'error', code: 0x1000, message: 'Cannot achieve consistency level ONE' });
    assert.equal(describeError(0x0100, 'Provided username x and/or password are incorrect'), 'ERROR 0x0100 Bad credentials: Provided username x and/or password are incorrect');
    assert.equal(describeError(0x2100, 'User x has no SELECT permission'), 'ERROR 0x2100 Unauthorized: User x has no SELECT permission');
    assert.equal(describeError(0x000a, 'x'), 'ERROR 0x000a Protocol error: x');
    assert.match(describeError(0x7777, 'x'), /Unknown error/);
  });

  it('EVENT, AUTH_CHALLENGE and AUTH_SUCCESS', () => {
    assert.deepEqual(decodeOne(frame(0x0c, str('STATUS_CHANGE'), { stream: -1 })).message, { type: 'event', event: 'STATUS_CHANGE' });
    assert.deepEqual(decodeOne(frame(0x0e, bytes(null))).message, { type: 'auth_challenge', token: null });
    assert.equal(decodeOne(frame(0x10, bytes(null))).stream, 0);
  });

  it('[inet] notation', () => {
    const r = new BodyReader(Buffer.concat([Buffer.from([4, 10, 0, 0, 1]), int(9042), Buffer.from([16]), Buffer.alloc(15), Buffer.from([1]), int(1)]));
    assert.deepEqual(r.inet(), { address: '10.0.0.1', port: 9042 });
    assert.deepEqual(r.inet(), { address: '::1', port: 1 });
    assert.throws(() => new BodyReader(Buffer.from([5, 1, 2, 3, 4, 5, 0, 0, 0, 0])).inet(), ProtocolError);
  });
});

describe('cql column values', () => {
  const t = (id: number): CqlType => readType(new BodyReader(short(id)));
  const typeOf = (...ids: number[]): CqlType => readType(new BodyReader(Buffer.concat(ids.map(short))));

  it('decodes the types the probe reads', () => {
    assert.equal(decodeValue(t(0x000d), Buffer.from('héllo')), 'héllo');
    assert.equal(decodeValue(t(0x0001), Buffer.from('ascii')), 'ascii');
    assert.equal(decodeValue(t(0x0009), int(-2147483648)), -2147483648);
    assert.equal(decodeValue(t(0x0002), hex('7fffffffffffffff')), '9223372036854775807');
    assert.equal(decodeValue(t(0x0002), hex('ffffffffffffffff')), '-1');
    assert.equal(decodeValue(t(0x000c), hex('550e8400e29b41d4a716446655440000')), '550e8400-e29b-41d4-a716-446655440000');
    assert.equal(decodeValue(t(0x0010), hex('7f000001')), '127.0.0.1');
    assert.equal(decodeValue(t(0x0010), hex('20010db8000000000000000000000001')), '2001:db8::1');
    const map = Buffer.concat([int(2), bytes(Buffer.from('class')), bytes(Buffer.from('S')), bytes(Buffer.from('__proto__')), bytes(Buffer.from('x'))]);
    const decoded = decodeValue(typeOf(0x0021, 0x000d, 0x000d), map) as Record<string, unknown>;
    assert.deepEqual(Object.keys(decoded), ['class', '__proto__']);
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype, 'a __proto__ key stays a plain key');
    assert.deepEqual(decodeValue(typeOf(0x0022, 0x000d), Buffer.concat([int(1), bytes(Buffer.from('a'))])), ['a']);
    assert.deepEqual(decodeValue(typeOf(0x0020, 0x000d), Buffer.concat([int(2), bytes(Buffer.from('a')), bytes(null)])), ['a', null]);
    assert.equal(decodeValue(t(0x000d), null), null);
  });

  it('decodes the other native types, and keeps blobs, decimals and custom types as capped hex', () => {
    assert.equal(decodeValue(t(0x0004), hex('01')), true);
    assert.equal(decodeValue(t(0x0013), hex('ffff')), -1);
    assert.equal(decodeValue(t(0x0014), hex('80')), -128);
    assert.equal(decodeValue(t(0x0007), hex('3ff8000000000000')), 1.5);
    assert.equal(decodeValue(t(0x0008), hex('7fc00000')), 'NaN');
    assert.equal(decodeValue(t(0x000b), hex('0000000000000000')), '1970-01-01T00:00:00.000Z');
    assert.equal(decodeValue(t(0x000b), hex('7fffffffffffffff')), '9223372036854775807');
    assert.equal(decodeValue(t(0x000e), hex('ff7f')), '-129');
    assert.equal(decodeValue(t(0x000e), hex('0080')), '128');
    assert.equal(decodeValue(t(0x0003), hex('deadbeef')), '0xdeadbeef');
    assert.equal(decodeValue(t(0x0003), Buffer.alloc(1000)), `0x${'00'.repeat(CQL_LIMITS.maxHexBytes)}…`);
    assert.equal(decodeValue(t(0x0009), Buffer.alloc(0)), null, 'an empty int is the legacy "empty" value');
    const custom = readType(new BodyReader(Buffer.concat([short(0), str('org.example.MyType')])));
    assert.equal(typeName(custom), "'org.example.MyType'");
    assert.equal(decodeValue(custom, hex('0102')), '0x0102');
  });

  it('decodes tuples and UDTs, including short ones', () => {
    const tuple = readType(new BodyReader(Buffer.concat([short(0x0031), short(2), short(0x0009), short(0x000d)])));
    assert.equal(typeName(tuple), 'tuple<int, varchar>');
    assert.deepEqual(decodeValue(tuple, bytes(int(5))), [5, null]);
    const udt = readType(new BodyReader(Buffer.concat([short(0x0030), str('ks'), str('addr'), short(2), str('street'), short(0x000d), str('zip'), short(0x0009)])));
    assert.equal(typeName(udt), 'ks.addr');
    assert.deepEqual(decodeValue(udt, Buffer.concat([bytes(Buffer.from('Main')), bytes(int(1234))])), { street: 'Main', zip: 1234 });
  });

  it('refuses values that do not fit their type', () => {
    assert.throws(() => decodeValue(t(0x0009), hex('0102')), ProtocolError);
    assert.throws(() => decodeValue(t(0x000c), hex('01')), ProtocolError);
    assert.throws(() => decodeValue(t(0x0010), hex('0102030405')), ProtocolError);
    assert.throws(() => decodeValue(t(0x000d), hex('ff')), ProtocolError, 'invalid UTF-8');
    assert.throws(() => decodeValue(typeOf(0x0020, 0x000d), int(1_000_000)), ProtocolError, 'a count larger than the value');
    assert.throws(() => decodeValue(typeOf(0x0020, 0x000d), int(-1)), ProtocolError);
    assert.throws(() => decodeValue(typeOf(0x0020, 0x000d), Buffer.concat([int(1), int(50)])), ProtocolError, 'element longer than the value');
    assert.throws(() => decodeValue(t(0x000e), Buffer.alloc(2000, 1)), ProtocolError);
  });
});

describe('cql hostile input', () => {
  const decode = frameDecoder(1024 * 1024);
  const isProtocolError = (re: RegExp) => (e: unknown) => e instanceof ProtocolError && re.test(e.message);

  it('rejects non-CQL first bytes at once (HTTP, TLS, a request frame, a flood)', () => {
    assert.throws(() => decode(Buffer.from('H')), isProtocolError(/first byte 0x48 lacks the response bit/));
    assert.throws(() => decode(hex('16')), isProtocolError(/0x16/));
    assert.throws(() => decode(hex('04000000')), isProtocolError(/response bit/));
    assert.throws(() => decode(hex('80')), isProtocolError(/unknown protocol version byte 0x80/));
    assert.throws(() => decode(hex('ff')), isProtocolError(/0xff/));
  });

  it('rejects negative, oversized and over-cap lengths before buffering the body', () => {
    assert.throws(() => decode(hex('840000000280000000')), isProtocolError(/negative body length/));
    assert.throws(() => decode(hex('840000000210000001')), isProtocolError(/exceeds the limit of 1048576/));
    assert.throws(() => frameDecoder(Number.MAX_SAFE_INTEGER)(hex('84000000027fffffff')), isProtocolError(/limit of 268435456/));
  });

  it('rejects compressed frames, request opcodes and unknown opcodes', () => {
    assert.throws(() => decode(hex('840100000200000000')), isProtocolError(/compressed/));
    assert.throws(() => decode(hex('840000000700000000')), isProtocolError(/opcode 0x07/));
    assert.throws(() => decode(hex('8400000042000000000')), isProtocolError(/opcode 0x42/));
  });

  it('rejects bodies shorter than their content claims', () => {
    const bad = [
      frame(0x03, hex('0010616263')), // [string] of 16 bytes, 3 present
      frame(0x06, hex('ffff')), // multimap of 65535 entries in 0 bytes
      frame(0x00, hex('0000')), // error code cut short
      frame(0x08, int(99)), // unknown result kind
      frame(0x08, Buffer.concat([int(2), int(0), int(5000)])), // 5000 columns claimed
      frame(0x08, Buffer.concat([int(2), int(1), int(1), str('k'), str('t'), str('c'), short(0x000d), int(0x7fffffff)])), // huge row count
      frame(0x08, Buffer.concat([int(2), int(1), int(1), str('k'), str('t'), str('c'), short(0x000d), int(1000), int(1)])), // rows × columns > body
      frame(0x08, Buffer.concat([int(2), int(1), int(1), str('k'), str('t'), str('c'), short(0x7777), int(0)])), // unknown type id
      frame(0x08, Buffer.concat([int(2), int(1), int(1), str('k'), str('t'), str('c'), short(0x000d), int(-5)])), // negative rows
      frame(0x08, Buffer.concat([int(2), int(1), int(-1)])), // negative columns
      frame(0x08, Buffer.concat([int(2), int(2), int(1), int(-7)])), // paging state with negative length: null, then truncated
      frame(0x03, Buffer.concat([short(2), hex('c328')])), // invalid UTF-8 in [string]
    ];
    for (const f of bad) assert.throws(() => responseDecoder()(f), ProtocolError, f.toString('hex'));
  });

  it('refuses type nesting deeper than the bound', () => {
    const deep = Buffer.concat([...Array.from({ length: 40 }, () => short(0x0020)), short(0x000d)]);
    assert.throws(() => readType(new BodyReader(deep)), isProtocolError(/nested deeper/));
  });

  it('zero-column pages are bounded too', () => {
    const body = Buffer.concat([int(2), int(1), int(0), str('k'), str('t'), int(CQL_LIMITS.maxRows + 1)]);
    assert.throws(() => responseDecoder()(frame(0x08, body)), ProtocolError);
  });
});

/** mulberry32: a small deterministic PRNG so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('cql fuzz', () => {
  it('2,000 mutated and random frames: a value, "need more", or ProtocolError — nothing else, quickly', () => {
    const rand = prng(0xc0ffee);
    const seeds = Object.values(CAPTURED);
    const started = performance.now();
    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      let buf: Buffer;
      const mode = i % 4;
      if (mode === 3) {
        // A valid-looking header around random bytes, so the body parsers see garbage.
        const body = Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
        const opcodes = [0x00, 0x02, 0x03, 0x06, 0x08, 0x0c, 0x0e, 0x10];
        buf = frame(opcodes[Math.floor(rand() * opcodes.length)]!, body, { flags: Math.floor(rand() * 32) & ~0x01, version: 2 + Math.floor(rand() * 4) });
      } else {
        buf = Buffer.from(seeds[Math.floor(rand() * seeds.length)]!);
        const edits = 1 + Math.floor(rand() * 6);
        for (let e = 0; e < edits; e++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
        if (mode === 1) buf = buf.subarray(0, Math.floor(rand() * buf.length));
        if (mode === 2) buf = Buffer.concat([buf, Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)))]);
      }
      try {
        const r = responseDecoder(64 * 1024)(buf);
        if (r) {
          assert.ok(r.consumed > 0 && r.consumed <= buf.length);
          JSON.stringify(r.value.message, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
          decoded++;
        }
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw new Error(`case ${i} (${buf.toString('hex')}) threw ${String(e)}`);
        rejected++;
      }
    }
    const ms = performance.now() - started;
    assert.ok(decoded > 50 && rejected > 50, `decoded ${decoded}, rejected ${rejected}`);
    assert.ok(ms < 8000, `fuzz took ${ms} ms`);
  });

  it('random type options and values: a value or ProtocolError', () => {
    const rand = prng(42);
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.from(Array.from({ length: 2 + Math.floor(rand() * 40) }, () => (rand() < 0.5 ? Math.floor(rand() * 0x32) : Math.floor(rand() * 256))));
      buf[0] = 0;
      try {
        const r = new BodyReader(buf);
        const type = readType(r);
        decodeValue(type, r.rest());
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw new Error(`case ${i} (${buf.toString('hex')}) threw ${String(e)}`);
      }
    }
  });
});
