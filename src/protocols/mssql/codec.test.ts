/**
 * The TDS PRELOGIN codec on the bytes [MS-TDS] / [MS-SSTDS] document and on PRELOGIN responses captured
 * from real SQL Server 2008 and 2017 servers (test/fixtures/mssql/README.md names each source), plus hostile
 * input and a seeded fuzz loop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import { fixtureHex } from '../../../test/fixtures/mssql/replay-server.js';
import {
  ENCRYPTION,
  TDS_LIMITS,
  TDS_PACKET_TYPE,
  encodePreLogin,
  encryptionName,
  parsePreLogin,
  sqlServerRelease,
  tdsMessageDecoder,
  type TdsMessage,
} from './codec.js';

const SPEC_REQUEST = fixtureHex('ms-tds-4.1-prelogin-request.hex');
const SSTDS_REQUEST = fixtureHex('ms-sstds-4.1-prelogin-request.hex');
const SQL2008_RESPONSE = fixtureHex('sqlserver-10.0.5512-prelogin-response.hex');
const SQL2017_PAYLOAD = fixtureHex('sqlserver-14.0.3281-prelogin-payload.hex');

const decodeResponse = tdsMessageDecoder(TDS_PACKET_TYPE.tabularResult);
const decodeRequest = tdsMessageDecoder(TDS_PACKET_TYPE.preLogin);

function decodeWhole(decoder: typeof decodeResponse, bytes: Buffer): TdsMessage {
  const r = decoder(bytes);
  assert.ok(r, 'decoder wanted more bytes');
  assert.equal(r.consumed, bytes.length);
  return r.value;
}

/** A PRELOGIN payload from option entries and a data area, for hostile-table tests. */
function payload(entries: [number, number, number][], data: number[], terminator = true): Buffer {
  const table: number[] = [];
  for (const [token, offset, length] of entries) table.push(token, offset >> 8, offset & 0xff, length >> 8, length & 0xff);
  if (terminator) table.push(0xff);
  return Buffer.from([...table, ...data]);
}

/** A valid VERSION+ENCRYPTION payload: table of 11 bytes, data at 11 (6 bytes) and 17 (1 byte). */
const VALID = payload(
  [
    [0x00, 11, 6],
    [0x01, 17, 1],
  ],
  [15, 0, 0x07, 0xd0, 0, 0, 0x03],
);

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

describe('TDS PRELOGIN encoder', () => {
  it('reproduces the [MS-TDS] 4.1 Pre-Login Request byte for byte', () => {
    const bytes = encodePreLogin({
      version: { major: 9, minor: 0, build: 0, subBuild: 0 },
      encryption: ENCRYPTION.on,
      instance: '',
      threadId: 0x00000db8,
      mars: true,
    });
    assert.deepEqual(bytes, SPEC_REQUEST);
  });

  it('round-trips through the decoder and parser, instance name included', () => {
    const bytes = encodePreLogin({
      version: { major: 0, minor: 3, build: 7, subBuild: 0 },
      encryption: ENCRYPTION.off,
      instance: 'SQLEXPRESS',
      threadId: 0,
      mars: false,
    });
    const m = decodeWhole(decodeRequest, bytes);
    const p = parsePreLogin(m.payload);
    assert.deepEqual(p.version, { major: 0, minor: 3, build: 7, subBuild: 0 });
    assert.equal(p.encryption, ENCRYPTION.off);
    assert.equal(p.instOpt?.toString('latin1'), 'SQLEXPRESS\0');
    assert.equal(p.threadId, 0);
    assert.equal(p.mars, false);
  });

  it('refuses an instance name with a NUL in it', () => {
    assert.throws(() => encodePreLogin({ version: { major: 0, minor: 0, build: 0, subBuild: 0 }, encryption: 0, instance: 'a\0b', threadId: 0, mars: false }), RangeError);
  });
});

describe('TDS PRELOGIN parser on documented and captured bytes', () => {
  it('[MS-TDS] 4.1 request: VERSION 9.0.0.0, ENCRYPT_ON, default instance, thread 0xDB8, MARS on', () => {
    const m = decodeWhole(decodeRequest, SPEC_REQUEST);
    assert.equal(m.type, 0x12);
    assert.equal(m.packets, 1);
    const p = parsePreLogin(m.payload);
    assert.deepEqual(p.version, { major: 9, minor: 0, build: 0, subBuild: 0 });
    assert.equal(p.encryption, 1);
    assert.deepEqual(p.instOpt, Buffer.from([0]));
    assert.equal(p.threadId, 0xdb8);
    assert.equal(p.mars, true);
    assert.deepEqual(
      p.options.map((o) => o.token),
      [0, 1, 2, 3, 4],
    );
  });

  it('[MS-SSTDS] 4.1 request: VERSION 8.0.341, ENCRYPT_OFF, instance MSSQLServer', () => {
    const p = parsePreLogin(decodeWhole(decodeRequest, SSTDS_REQUEST).payload);
    assert.deepEqual(p.version, { major: 8, minor: 0, build: 341, subBuild: 0 });
    assert.equal(p.encryption, ENCRYPTION.off);
    assert.equal(p.instOpt?.toString('latin1'), 'MSSQLServer\0');
    assert.equal(p.threadId, 0x1980);
    assert.equal(p.mars, undefined);
  });

  it('captured SQL Server 2008 response: 10.0.5512, ENCRYPT_NOT_SUP, instance valid, no thread id, MARS off', () => {
    const m = decodeWhole(decodeResponse, SQL2008_RESPONSE);
    assert.equal(m.type, 0x04);
    const p = parsePreLogin(m.payload);
    assert.deepEqual(p.version, { major: 10, minor: 0, build: 5512, subBuild: 0 });
    assert.equal(p.encryption, ENCRYPTION.notSupported);
    assert.equal(encryptionName(p.encryption!), 'ENCRYPT_NOT_SUP');
    assert.deepEqual(p.instOpt, Buffer.from([0]));
    // THREADID is present with length 0 and shares its offset with MARS: legal, not an overlap.
    assert.equal(p.threadId, undefined);
    assert.ok(p.options.some((o) => o.token === 3 && o.length === 0));
    assert.equal(p.mars, false);
    assert.equal(sqlServerRelease(10, 0), 'SQL Server 2008');
  });

  it('captured SQL Server 2017 payload: 14.0.3281, ENCRYPT_OFF', () => {
    const p = parsePreLogin(SQL2017_PAYLOAD);
    assert.deepEqual(p.version, { major: 14, minor: 0, build: 3281, subBuild: 0 });
    assert.equal(encryptionName(p.encryption!), 'ENCRYPT_OFF');
    assert.equal(p.instOpt, undefined);
    assert.equal(sqlServerRelease(14, 0), 'SQL Server 2017');
  });

  it('names encryption values and releases', () => {
    assert.equal(encryptionName(0), 'ENCRYPT_OFF');
    assert.equal(encryptionName(1), 'ENCRYPT_ON');
    assert.equal(encryptionName(3), 'ENCRYPT_REQ');
    assert.equal(encryptionName(0x81), 'ENCRYPT_ON+ENCRYPT_CLIENT_CERT');
    assert.equal(encryptionName(0x04), 'unknown (0x04)');
    assert.equal(encryptionName(0x20), 'unknown (0x20)');
    assert.equal(sqlServerRelease(10, 50), 'SQL Server 2008 R2');
    assert.equal(sqlServerRelease(11, 0), 'SQL Server 2012');
    assert.equal(sqlServerRelease(12, 0), 'SQL Server 2014 or Azure SQL Database');
    assert.equal(sqlServerRelease(13, 0), 'SQL Server 2016');
    assert.equal(sqlServerRelease(15, 0), 'SQL Server 2019');
    assert.equal(sqlServerRelease(16, 0), 'SQL Server 2022');
    assert.equal(sqlServerRelease(99, 0), undefined);
  });
});

describe('TDS packet framing', () => {
  it('waits on every proper prefix of a packet, then decodes it', () => {
    for (let n = 0; n < SQL2008_RESPONSE.length; n++) assert.equal(decodeResponse(SQL2008_RESPONSE.subarray(0, n)), undefined, `prefix ${n}`);
    assert.ok(decodeResponse(SQL2008_RESPONSE));
  });

  it('joins a message split over two packets (first without EOM) and leaves following bytes unconsumed', () => {
    const body = SQL2008_RESPONSE.subarray(8);
    const first = Buffer.concat([Buffer.from([0x04, 0x00, 0, 8 + 10, 0, 0, 1, 0]), body.subarray(0, 10)]);
    const second = Buffer.concat([Buffer.from([0x04, 0x01, 0, 8 + body.length - 10, 0, 0, 2, 0]), body.subarray(10)]);
    const r = decodeResponse(Buffer.concat([first, second, Buffer.from('extra')]));
    assert.ok(r);
    assert.equal(r.value.packets, 2);
    assert.deepEqual(r.value.payload, body);
    assert.equal(r.consumed, first.length + second.length);
    assert.deepEqual(parsePreLogin(r.value.payload).version, { major: 10, minor: 0, build: 5512, subBuild: 0 });
  });

  it('rejects a non-TDS first byte at once (an HTTP reply, a TLS alert)', () => {
    assert.throws(() => decodeResponse(Buffer.from('H')), (e: unknown) => e instanceof ProtocolError && /packet type 0x48/.test(e.message));
    assert.throws(() => decodeResponse(Buffer.from([0x15, 0x03, 0x01])), ProtocolError);
    // The client's own PRELOGIN echoed back is not a server reply.
    assert.throws(() => decodeResponse(SPEC_REQUEST), /packet type 0x12/);
  });

  it('rejects lengths below the header, huge packet lengths, and messages past the caps', () => {
    assert.throws(() => decodeResponse(Buffer.from([0x04, 0x01, 0x00, 0x07])), /shorter than its 8-byte header/);
    assert.throws(() => decodeResponse(Buffer.from([0x04, 0x01, 0xff, 0xff])), /65535 exceeds the limit of 32767/);
    assert.throws(() => decodeResponse(Buffer.from([0x04, 0x01, 0x80, 0x00])), /32768 exceeds/);
    // Packets that never set EOM: the packet-count cap ends it.
    const packet = Buffer.from([0x04, 0x00, 0x00, 0x09, 0, 0, 1, 0, 0x00]);
    const many = Buffer.concat(Array.from({ length: TDS_LIMITS.maxPackets + 1 }, () => packet));
    assert.throws(() => decodeResponse(many), /more than 16 packets/);
    // Three maximal packets without EOM exceed the 64 KiB message cap before the packet cap.
    const big = Buffer.alloc(TDS_LIMITS.maxPacketLength);
    big.set([0x04, 0x00, 0x7f, 0xff]);
    assert.throws(() => decodeResponse(Buffer.concat([big, big, big])), /larger than 65536 bytes/);
    // A legal header claiming 32 KiB with 8 bytes behind it just waits: memory follows the bytes received.
    assert.equal(decodeResponse(Buffer.from([0x04, 0x01, 0x7f, 0xff, 0, 0, 1, 0])), undefined);
  });
});

describe('PRELOGIN parser on hostile option tables', () => {
  const rejects = (p: Buffer, re: RegExp): void => {
    assert.throws(() => parsePreLogin(p), (e: unknown) => e instanceof ProtocolError && re.test(e.message), re.source);
  };

  it('accepts the minimal valid structure it is built from', () => {
    const p = parsePreLogin(VALID);
    assert.deepEqual(p.version, { major: 15, minor: 0, build: 2000, subBuild: 0 });
    assert.equal(p.encryption, ENCRYPTION.required);
  });

  it('empty payload, missing terminator, truncated entry', () => {
    rejects(Buffer.alloc(0), /no 0xFF terminator/);
    rejects(payload([[0x00, 5, 6]], [], false), /no 0xFF terminator/);
    rejects(Buffer.from([0x00, 0x00, 0x06]), /truncated/);
  });

  it('offset or length pointing outside the payload, including the 16-bit wrap zgrab2 guards against', () => {
    rejects(payload([[0x00, 200, 6]], [1, 2, 3, 4, 5, 6]), /ends past the 12-byte payload/);
    rejects(payload([[0x00, 6, 600]], [1, 2, 3, 4, 5, 6]), /ends past/);
    rejects(payload([[0x00, 0xffff, 2]], []), /ends past/);
    rejects(payload([[0x00, 0xffff, 0xffff]], []), /ends past/);
  });

  it('data starting inside the option table', () => {
    rejects(payload([[0x00, 0, 6]], [1, 2, 3, 4, 5, 6]), /inside the option table/);
  });

  it('overlapping option data', () => {
    rejects(
      payload(
        [
          [0x00, 11, 6],
          [0x01, 13, 1],
        ],
        [15, 0, 0, 0, 0, 0, 0],
      ),
      /0x00 and 0x01 overlap/,
    );
  });

  it('duplicate tokens, wrong fixed lengths, too many entries, no VERSION', () => {
    rejects(
      payload(
        [
          [0x00, 11, 6],
          [0x00, 17, 6],
        ],
        new Array(12).fill(0),
      ),
      /appears twice/,
    );
    rejects(payload([[0x00, 6, 5]], [1, 2, 3, 4, 5]), /0x00 has length 5/);
    rejects(
      payload(
        [
          [0x00, 11, 6],
          [0x01, 17, 2],
        ],
        new Array(8).fill(0),
      ),
      /0x01 has length 2/,
    );
    const entries: [number, number, number][] = Array.from({ length: 40 }, (_, i) => [0x20 + i, 0, 0]);
    rejects(payload(entries, []), /more than 32 entries/);
    rejects(payload([[0x01, 6, 1]], [0]), /without the mandatory VERSION/);
  });
});

describe('TDS PRELOGIN fuzz', () => {
  const check = (bytes: Buffer): void => {
    try {
      const r = decodeResponse(bytes);
      if (r) {
        assert.ok(r.consumed > 0 && r.consumed <= bytes.length);
        parsePreLogin(r.value.payload);
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
    }
    try {
      parsePreLogin(bytes);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
    }
  };

  it('2,000 random buffers only ever decode, wait or throw ProtocolError', () => {
    const next = rng(0x7d5);
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(next() * 96);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(next() * 256);
      // Half of them start like a TDS reply so the fuzzing reaches the option parser.
      if (i % 2 === 0 && len >= 4) {
        b[0] = 0x04;
        b[1] = b[1]! | 0x01;
        b.writeUInt16BE(len, 2);
      }
      check(b);
    }
  });

  it('random truncations and byte flips of the captured responses', () => {
    const next = rng(0x2008);
    const bases = [SQL2008_RESPONSE, Buffer.concat([Buffer.from([0x04, 0x01, 0x00, 8 + SQL2017_PAYLOAD.length, 0, 0, 1, 0]), SQL2017_PAYLOAD])];
    for (let i = 0; i < 2000; i++) {
      const base = bases[i % 2]!;
      const b = Buffer.from(base.subarray(0, Math.max(1, Math.floor(next() * (base.length + 1)))));
      const flips = 1 + Math.floor(next() * 3);
      for (let f = 0; f < flips; f++) b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
      check(b);
    }
  });
});
