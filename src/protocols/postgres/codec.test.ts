import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  type BackendMessage,
  decodeBackendMessage,
  decodeFrontendMessage,
  decodeSslResponse,
  decodeStartupReply,
  describeAuth,
  describeError,
  encodeQuery,
  encodeSslRequest,
  encodeStartupMessage,
  encodeTerminate,
  MAX_MESSAGE,
} from './codec.js';

/** Build bytes from hex (spaces ignored) and quoted ASCII pieces, the way the docs lay messages out. */
function bytes(...parts: (string | number[] | Buffer)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.isBuffer(p) ? p : Buffer.from(p))));
}
const int32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const int16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff];

function decodeOne(buf: Buffer): BackendMessage {
  const r = decodeBackendMessage(buf);
  assert.ok(r, 'expected a complete message');
  assert.equal(r.consumed, buf.length);
  return r.value;
}

// Backend messages laid out per "Message Formats" in the PostgreSQL 15 docs.
const AUTH_OK = bytes('R', int32(8), int32(0));
const AUTH_MD5 = bytes('R', int32(12), int32(5), [0xde, 0xad, 0xbe, 0xef]);
const AUTH_SASL = bytes('R', int32(23), int32(10), 'SCRAM-SHA-256\0', '\0');
const AUTH_SASL_PLUS = bytes('R', int32(42), int32(10), 'SCRAM-SHA-256-PLUS\0', 'SCRAM-SHA-256\0', '\0');
const PARAM = bytes('S', int32(24), 'server_version\0', '15.4\0');
const KEY = bytes('K', int32(12), int32(4242), int32(0x12345678));
const READY = bytes('Z', int32(5), 'I');
const HBA_ERROR_BODY = bytes(
  'SFATAL\0',
  'VFATAL\0',
  'C28000\0',
  'Mno pg_hba.conf entry for host "10.1.2.3", user "postgres", database "postgres", no encryption\0',
  'Fauth.c\0',
  'L543\0',
  'RClientAuthentication\0',
  '\0',
);
const HBA_ERROR = bytes('E', int32(4 + HBA_ERROR_BODY.length), HBA_ERROR_BODY);

describe('postgres codec: frontend encoders', () => {
  it('encodes SSLRequest as int32 8, int32 80877103', () => {
    assert.deepEqual(encodeSslRequest(), Buffer.from('0000000804d2162f', 'hex'));
  });

  it('encodes StartupMessage as length, protocol 3.0 and NUL-terminated pairs', () => {
    const msg = encodeStartupMessage({ user: 'postgres', database: 'postgres' });
    const body = 'user\0postgres\0database\0postgres\0\0';
    assert.deepEqual(msg, bytes(int32(8 + body.length), int32(0x00030000), body));
  });

  it('encodes Query and Terminate with their type bytes', () => {
    assert.deepEqual(encodeQuery('SELECT 1'), bytes('Q', int32(13), 'SELECT 1\0'));
    assert.deepEqual(encodeTerminate(), Buffer.from('5800000004', 'hex'));
  });

  it('refuses a NUL inside a query or a startup parameter (it would split the message)', () => {
    assert.throws(() => encodeQuery('SELECT 1\0; DROP TABLE x'), ProtocolError);
    assert.throws(() => encodeStartupMessage({ user: 'a\0b' }), ProtocolError);
  });

  it('round-trips its own messages through the frontend decoder', () => {
    const ssl = decodeFrontendMessage(encodeSslRequest(), true);
    assert.deepEqual(ssl, { value: { type: 'ssl-request' }, consumed: 8 });
    const startup = decodeFrontendMessage(encodeStartupMessage({ user: 'postgres', application_name: 'x' }), true);
    assert.deepEqual(startup?.value, { type: 'startup', protocol: 196608, params: { user: 'postgres', application_name: 'x' } });
    assert.deepEqual(decodeFrontendMessage(encodeQuery('SELECT version()'), false)?.value, { type: 'query', sql: 'SELECT version()' });
    assert.deepEqual(decodeFrontendMessage(encodeTerminate(), false)?.value, { type: 'terminate' });
    assert.equal(decodeFrontendMessage(encodeQuery('SELECT 1').subarray(0, 7), false), undefined);
  });
});

describe('postgres codec: backend messages', () => {
  it('decodes every authentication request the docs list', () => {
    assert.deepEqual(decodeOne(AUTH_OK), { type: 'authentication', code: 0, name: 'AuthenticationOk' });
    const md5 = decodeOne(AUTH_MD5);
    assert.equal(md5.type === 'authentication' && md5.name, 'AuthenticationMD5Password');
    assert.deepEqual(md5.type === 'authentication' && md5.salt, Buffer.from('deadbeef', 'hex'));
    const cases: [number, string][] = [
      [2, 'AuthenticationKerberosV5'],
      [3, 'AuthenticationCleartextPassword'],
      [6, 'AuthenticationSCMCredential'],
      [7, 'AuthenticationGSS'],
      [9, 'AuthenticationSSPI'],
    ];
    for (const [code, name] of cases) {
      const m = decodeOne(bytes('R', int32(8), int32(code)));
      assert.equal(m.type === 'authentication' && m.name, name);
    }
    const cont = decodeOne(bytes('R', int32(8 + 3), int32(11), 'r=x'));
    assert.equal(cont.type === 'authentication' && cont.name, 'AuthenticationSASLContinue');
  });

  it('decodes the SASL mechanism list and renders it as evidence', () => {
    const m = decodeOne(AUTH_SASL);
    assert.ok(m.type === 'authentication');
    assert.deepEqual(m.mechanisms, ['SCRAM-SHA-256']);
    assert.equal(describeAuth(m), 'AuthenticationSASL [SCRAM-SHA-256]');
    const plus = decodeOne(AUTH_SASL_PLUS);
    assert.ok(plus.type === 'authentication');
    assert.equal(describeAuth(plus), 'AuthenticationSASL [SCRAM-SHA-256-PLUS, SCRAM-SHA-256]');
  });

  it('decodes ErrorResponse fields (S V C M D H) and skips the others', () => {
    const m = decodeOne(HBA_ERROR);
    assert.ok(m.type === 'error');
    assert.equal(m.fields.code, '28000');
    assert.equal(m.fields.severity, 'FATAL');
    assert.equal(m.fields.severityV, 'FATAL');
    assert.match(m.fields.message ?? '', /^no pg_hba\.conf entry/);
    assert.equal(
      describeError(m.fields),
      'FATAL 28000: no pg_hba.conf entry for host "10.1.2.3", user "postgres", database "postgres", no encryption',
    );
    const withDetail = bytes('SERROR\0', 'C42501\0', 'Mpermission denied\0', 'Dfor database x\0', 'Hask the owner\0', '\0');
    const n = decodeOne(bytes('N', int32(4 + withDetail.length), withDetail));
    assert.ok(n.type === 'notice');
    assert.equal(describeError(n.fields), 'ERROR 42501: permission denied (detail: for database x) (hint: ask the owner)');
  });

  it('decodes ParameterStatus, BackendKeyData and ReadyForQuery', () => {
    assert.deepEqual(decodeOne(PARAM), { type: 'parameter-status', name: 'server_version', value: '15.4' });
    assert.deepEqual(decodeOne(KEY), { type: 'backend-key-data', processId: 4242, secretKeyLength: 4 });
    assert.deepEqual(decodeOne(READY), { type: 'ready-for-query', status: 'I' });
  });

  it('decodes RowDescription, DataRow (with NULL), CommandComplete and EmptyQueryResponse', () => {
    const field = bytes('datname\0', int32(1262), int16(2), int32(19), int16(64), int32(-1), int16(0));
    const size = bytes('size\0', int32(0), int16(0), int32(20), int16(8), int32(-1), int16(0));
    const t = bytes(int16(2), field, size);
    const rd = decodeOne(bytes('T', int32(4 + t.length), t));
    assert.ok(rd.type === 'row-description');
    assert.deepEqual(
      rd.fields.map((f) => [f.name, f.typeOid, f.typeModifier]),
      [
        ['datname', 19, -1],
        ['size', 20, -1],
      ],
    );
    const d = bytes(int16(2), int32(8), 'postgres', int32(-1));
    assert.deepEqual(decodeOne(bytes('D', int32(4 + d.length), d)), { type: 'data-row', values: ['postgres', null] });
    assert.deepEqual(decodeOne(bytes('C', int32(13), 'SELECT 1\0')), { type: 'command-complete', tag: 'SELECT 1' });
    assert.deepEqual(decodeOne(bytes('I', int32(4))), { type: 'empty-query-response' });
    const v = bytes(int32(0), int32(1), '_pq_.x\0');
    assert.deepEqual(decodeOne(bytes('v', int32(4 + v.length), v)), { type: 'negotiate-protocol-version', newestMinor: 0, unrecognized: ['_pq_.x'] });
    assert.deepEqual(decodeOne(bytes('A', int32(4 + 9), int32(1), 'ch\0', 'p\0')), { type: 'other', code: 'A', length: 13 });
  });

  it('decodes a whole startup stream message by message, and every strict prefix as "need more"', () => {
    const stream = Buffer.concat([AUTH_OK, PARAM, KEY, READY]);
    const types: string[] = [];
    let rest = stream;
    while (rest.length > 0) {
      const r = decodeStartupReply(rest);
      assert.ok(r);
      types.push(r.value.type);
      rest = rest.subarray(r.consumed);
    }
    assert.deepEqual(types, ['authentication', 'parameter-status', 'backend-key-data', 'ready-for-query']);
    for (const msg of [AUTH_OK, AUTH_SASL, PARAM, KEY, READY, HBA_ERROR]) {
      for (let n = 0; n < msg.length; n++) assert.equal(decodeStartupReply(msg.subarray(0, n)), undefined, `prefix ${n} of ${msg[0]}`);
    }
  });

  it('reads the one-byte SSLRequest answer', () => {
    assert.deepEqual(decodeSslResponse(Buffer.from('S')), { value: 'S', consumed: 1 });
    assert.deepEqual(decodeSslResponse(Buffer.from('N')), { value: 'N', consumed: 1 });
    assert.deepEqual(decodeSslResponse(Buffer.from('E')), { value: 'E', consumed: 1 });
    assert.equal(decodeSslResponse(Buffer.alloc(0)), undefined);
    assert.throws(() => decodeSslResponse(Buffer.from('HTTP/1.1 400')), ProtocolError);
    assert.throws(() => decodeSslResponse(Buffer.from([0x4a, 0, 0, 0, 0x0a])), ProtocolError); // a MySQL greeting
  });

  it('recognizes a pre-3.0 server error (no length, NUL-terminated text) at startup', () => {
    const legacy = bytes('E', 'FATAL:  unsupported frontend protocol\n\0');
    assert.deepEqual(decodeStartupReply(legacy), {
      value: { type: 'legacy-error', text: 'FATAL:  unsupported frontend protocol\n' },
      consumed: legacy.length,
    });
    assert.equal(decodeStartupReply(legacy.subarray(0, 10)), undefined);
    // A v3 ErrorResponse still decodes as one: its length's top byte is 0, not text.
    assert.equal(decodeStartupReply(HBA_ERROR)?.value.type, 'error');
  });
});

describe('postgres codec: hostile input', () => {
  const rejects = (buf: Buffer, why: string, max?: number): void => {
    assert.throws(() => decodeBackendMessage(buf, max), ProtocolError, why);
  };

  it('rejects impossible, negative and huge lengths before waiting for the body', () => {
    rejects(bytes('Z', int32(3)), 'length below 4');
    rejects(bytes('Z', int32(-1)), 'negative length');
    rejects(bytes('D', int32(0x7fffffff)), 'length far over the cap');
    rejects(bytes('D', int32(MAX_MESSAGE + 1)), 'just over 16 MiB');
    rejects(bytes('D', int32(70_000)), 'over a caller cap (the read cap)', 65_536);
    assert.equal(decodeBackendMessage(bytes('D', int32(70_000))), undefined, 'within the default cap it just needs more');
  });

  it('rejects unknown message types and unknown authentication codes', () => {
    rejects(bytes('Q', int32(4)), 'Q is frontend-only');
    rejects(Buffer.from([0x00, 0, 0, 0, 4]), 'zero type byte');
    rejects(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), 'an HTTP reply (H is CopyOut, its "length" is huge)');
    rejects(bytes('R', int32(8), int32(99)), 'unknown auth code');
    rejects(bytes('R', int32(8), int32(-5)), 'negative auth code');
  });

  it('rejects counts and lengths inside a message that overrun it', () => {
    rejects(bytes('D', int32(6), int16(32767)), 'DataRow with 32767 columns in 0 bytes');
    rejects(bytes('D', int32(6), int16(-1)), 'negative column count');
    rejects(bytes('D', int32(10), int16(1), int32(-2)), 'column length -2 (only -1 means NULL)');
    rejects(bytes('D', int32(10), int16(1), int32(1_000_000)), 'column longer than the message');
    rejects(bytes('T', int32(6), int16(1000)), 'RowDescription with 1000 fields in 0 bytes');
    rejects(bytes('v', int32(12), int32(0), int32(1_000_000)), 'NegotiateProtocolVersion with a huge count');
    rejects(bytes('K', int32(8), int32(1)), 'BackendKeyData without a key');
  });

  it('rejects unterminated strings, trailing bytes and bad status bytes', () => {
    rejects(bytes('S', int32(9), 'abcde'), 'ParameterStatus without NULs');
    rejects(bytes('E', int32(8), 'SERR'), 'ErrorResponse field without NUL');
    rejects(bytes('E', int32(10), 'SERROR\0'), 'ErrorResponse without the final zero byte');
    rejects(bytes('R', int32(12), int32(0), int32(0)), 'AuthenticationOk with trailing bytes');
    rejects(bytes('Z', int32(5), 'X'), 'ReadyForQuery status X');
    rejects(bytes('Z', int32(6), 'I!'), 'ReadyForQuery with trailing bytes');
    rejects(bytes('R', int32(14), int32(10), 'SCRAM\0'), 'SASL list without its terminator');
  });

  it('refuses non-startup messages during startup, and text that is neither v2 nor v3', () => {
    assert.throws(() => decodeStartupReply(bytes('D', int32(6), int16(0))), ProtocolError);
    assert.throws(() => decodeStartupReply(bytes('E', 'FATAL\x01')), ProtocolError);
    assert.throws(() => decodeStartupReply(bytes('E', 'A'.repeat(5000))), ProtocolError);
  });

  it('rejects hostile client packets in the frontend decoder', () => {
    assert.throws(() => decodeFrontendMessage(bytes(int32(-8), int32(0)), true), ProtocolError);
    assert.throws(() => decodeFrontendMessage(bytes(int32(1 << 30), int32(0)), true), ProtocolError);
    assert.throws(() => decodeFrontendMessage(bytes('Q', int32(2)), false), ProtocolError);
  });

  it('fuzz: random and mutated buffers only ever decode, need more, or throw ProtocolError', () => {
    // Deterministic xorshift so a failure can be replayed.
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const samples = [AUTH_OK, AUTH_MD5, AUTH_SASL, AUTH_SASL_PLUS, PARAM, KEY, READY, HBA_ERROR, Buffer.concat([AUTH_OK, PARAM, READY])];
    const decoders: ((b: Buffer) => { consumed: number } | undefined)[] = [
      (b) => decodeBackendMessage(b),
      (b) => decodeBackendMessage(b, 64),
      (b) => decodeStartupReply(b),
      (b) => decodeSslResponse(b),
      (b) => decodeFrontendMessage(b, true),
      (b) => decodeFrontendMessage(b, false),
    ];
    let decoded = 0;
    let needMore = 0;
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      let buf: Buffer;
      const kind = rand(3);
      if (kind === 0) {
        buf = Buffer.alloc(rand(64));
        for (let j = 0; j < buf.length; j++) buf[j] = rand(256);
        if (buf.length > 0 && rand(2) === 0) buf[0] = 'RKENSZTDCIv'.charCodeAt(rand(11)); // a plausible type byte
      } else {
        const base = samples[rand(samples.length)]!;
        buf = Buffer.from(base.subarray(0, kind === 1 ? rand(base.length + 1) : base.length));
        if (kind === 2) for (let k = rand(4) + 1; k > 0 && buf.length > 0; k--) buf[rand(buf.length)] = rand(256);
      }
      for (const decode of decoders) {
        try {
          const r = decode(buf);
          if (r === undefined) needMore++;
          else {
            assert.ok(r.consumed > 0 && r.consumed <= buf.length, 'consumed within the buffer');
            decoded++;
          }
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw new Error(`Non-ProtocolError on ${buf.toString('hex')}: ${String(err)}`);
          rejected++;
        }
      }
    }
    // All three outcomes must actually have been exercised.
    assert.ok(decoded > 100 && needMore > 100 && rejected > 100, `decoded=${decoded} needMore=${needMore} rejected=${rejected}`);
  });
});
