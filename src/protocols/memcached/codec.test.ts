import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  BINARY,
  MC_LIMITS,
  decodeBinaryPacket,
  decodeBinaryReply,
  decodeTextReply,
  decodeUdpFrame,
  encodeBinaryRequest,
  encodeTextCommand,
  encodeUdpFrame,
} from './codec.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

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

/** A binary response packet as memcached builds it. */
function binaryPacket(opcode: number, status: number, key: string, value: string, extras = 0): Buffer {
  const k = b(key);
  const v = b(value);
  const h = Buffer.alloc(BINARY.headerLength);
  h[0] = BINARY.responseMagic;
  h[1] = opcode;
  h.writeUInt16BE(k.length, 2);
  h[4] = extras;
  h.writeUInt16BE(status, 6);
  h.writeUInt32BE(extras + k.length + v.length, 8);
  return Buffer.concat([h, Buffer.alloc(extras), k, v]);
}

// Captured from memcached 1.6.18 (Debian), trimmed: the start and end of a `stats` reply.
const STATS_REPLY = [
  'STAT pid 11537',
  'STAT uptime 116',
  'STAT time 1795610555',
  'STAT version 1.6.18',
  'STAT libevent 2.1.12-stable',
  'STAT curr_connections 3',
  'STAT curr_items 5',
  'STAT total_items 5',
  'STAT bytes 330',
  'STAT limit_maxbytes 16777216',
  'STAT threads 2',
  'END',
  '',
].join('\r\n');
// Captured from the same server started with -S (SASL): binary version and binary stats before auth.
const BINARY_VERSION = Buffer.from('810b00000000000000000006000000000000000000000000312e362e3138', 'hex');
const BINARY_AUTH_ERROR = Buffer.from('81100000000000200000000d00000000000000000000000041757468206661696c7572652e', 'hex');

describe('memcached text codec', () => {
  it('encodes the two text commands, optionally padded to the binary header size', () => {
    assert.equal(encodeTextCommand('version').toString('latin1'), 'version\r\n');
    assert.equal(encodeTextCommand('stats').toString('latin1'), 'stats\r\n');
    const padded = encodeTextCommand('version', BINARY.headerLength);
    assert.equal(padded.length, 24);
    assert.match(padded.toString('latin1'), /^version +\r\n$/);
  });

  it('decodes VERSION, stats and the error lines', () => {
    assert.deepEqual(decodeTextReply(b('VERSION 1.6.18\r\n')), { value: { kind: 'version', version: '1.6.18' }, consumed: 16 });
    const stats = decodeTextReply(b(STATS_REPLY));
    assert.equal(stats?.consumed, STATS_REPLY.length);
    assert.equal(stats?.value.kind, 'stats');
    if (stats?.value.kind !== 'stats') return;
    assert.equal(stats.value.stats.length, 11);
    assert.deepEqual(stats.value.stats[4], ['libevent', '2.1.12-stable']);
    assert.deepEqual(new Map(stats.value.stats).get('curr_items'), '5');
    assert.deepEqual(decodeTextReply(b('END\r\n'))?.value, { kind: 'stats', stats: [] });
    assert.deepEqual(decodeTextReply(b('CLIENT_ERROR unauthenticated\r\n'))?.value, {
      kind: 'error',
      error: 'CLIENT_ERROR',
      message: 'unauthenticated',
      line: 'CLIENT_ERROR unauthenticated',
    });
    assert.deepEqual(decodeTextReply(b('ERROR\r\n'))?.value, { kind: 'error', error: 'ERROR', message: '', line: 'ERROR' });
    assert.deepEqual(decodeTextReply(b('SERVER_ERROR out of memory\r\n'))?.value, {
      kind: 'error',
      error: 'SERVER_ERROR',
      message: 'out of memory',
      line: 'SERVER_ERROR out of memory',
    });
  });

  it('returns undefined for every strict prefix, and leaves following bytes alone', () => {
    for (const f of ['VERSION 1.6.18\r\n', STATS_REPLY, 'CLIENT_ERROR unauthenticated\r\n']) {
      for (let i = 0; i < f.length; i++) assert.equal(decodeTextReply(b(f.slice(0, i))), undefined, `prefix ${i}`);
    }
    assert.equal(decodeTextReply(b('VERSION 1.6.18\r\nSTAT pid 1\r\n'))?.consumed, 16);
  });

  it('rejects what memcached never sends', () => {
    const rejects = (input: string | Buffer, re: RegExp): void =>
      assert.throws(
        () => decodeTextReply(typeof input === 'string' ? b(input) : input),
        (err: unknown) => err instanceof ProtocolError && re.test(err.message),
      );
    rejects('HTTP/1.1 400 Bad Request\r\n', /Not a memcached reply/);
    rejects('H', /Not a memcached reply/); // no newline needed to spot garbage
    rejects(Buffer.from([0x81, 0x0b, 0, 0]), /Not a memcached reply/);
    rejects('STAT pid 1\r\nVERSION 1\r\n', /Not a memcached reply|Unexpected line/);
    rejects('STAT pid 1\r\nSTATS x\r\n', /Not a memcached reply/);
    rejects('STAT pid 1\r\nERROR\r\n', /Unexpected line in memcached stats reply: "ERROR"/);
    rejects('VERSION \r\n', /without a version/);
    rejects('STAT a\x00b 1\r\n', /Control characters/);
    rejects('STAT ' + 'x'.repeat(1024 * 1024), /longer than/);
    rejects('STAT a 1\r\n'.repeat(MC_LIMITS.maxStatLines + 1) + 'END\r\n', /longer than 4096 lines/);
    // Below the bounds: wait for more.
    assert.equal(decodeTextReply(b('STAT ' + 'x'.repeat(MC_LIMITS.maxLineLength - 10))), undefined);
  });

  it('turns a 1 MB line without a newline into ProtocolError quickly', () => {
    const huge = Buffer.alloc(1024 * 1024, 0x78);
    huge.write('STAT ', 0, 'latin1');
    const started = performance.now();
    assert.throws(() => decodeTextReply(huge), ProtocolError);
    assert.ok(performance.now() - started < 1000);
  });
});

describe('memcached UDP frame header', () => {
  it('encodes the 8-byte header in network order, then the payload', () => {
    const frame = encodeUdpFrame({ requestId: 0x1234, sequence: 0, total: 1, reserved: 0 }, encodeTextCommand('stats'));
    assert.equal(frame.toString('hex'), '1234000000010000' + b('stats\r\n').toString('hex'));
  });

  it('decodes a captured reply datagram header (1.6.18: datagram 0 of 2)', () => {
    const datagram = Buffer.concat([Buffer.from('1234000000020000', 'hex'), b('STAT pid 7106\r\n')]);
    const { header, payload } = decodeUdpFrame(datagram);
    assert.deepEqual(header, { requestId: 0x1234, sequence: 0, total: 2, reserved: 0 });
    assert.equal(payload.toString('latin1'), 'STAT pid 7106\r\n');
  });

  it('rejects short datagrams and impossible sequence numbers', () => {
    assert.throws(() => decodeUdpFrame(Buffer.alloc(7)), /shorter than the 8-byte frame header/);
    assert.throws(() => decodeUdpFrame(Buffer.from('1234000000000000', 'hex')), /datagram 0 of 0/);
    assert.throws(() => decodeUdpFrame(Buffer.from('1234000500020000', 'hex')), /datagram 5 of 2/);
  });
});

describe('memcached binary codec (SASL-only servers)', () => {
  it('encodes a bare 24-byte request', () => {
    assert.equal(encodeBinaryRequest(BINARY.opStat, 7).toString('hex'), '8010' + '00'.repeat(10) + '00000007' + '00'.repeat(8));
  });

  it('decodes the captured version and auth-error replies', () => {
    assert.deepEqual(decodeBinaryReply(BINARY_VERSION), { value: { kind: 'version', version: '1.6.18' }, consumed: 30 });
    assert.deepEqual(decodeBinaryReply(BINARY_AUTH_ERROR), {
      value: { kind: 'error', opcode: 0x10, status: 0x20, message: 'Auth failure.' },
      consumed: BINARY_AUTH_ERROR.length,
    });
  });

  it('collects stats packets up to the empty-key terminator', () => {
    const reply = Buffer.concat([
      binaryPacket(BINARY.opStat, 0, 'pid', '42'),
      binaryPacket(BINARY.opStat, 0, 'curr_items', '3', 0),
      binaryPacket(BINARY.opStat, 0, '', ''),
    ]);
    assert.deepEqual(decodeBinaryReply(reply), {
      value: { kind: 'stats', stats: [['pid', '42'], ['curr_items', '3']] },
      consumed: reply.length,
    });
    for (let i = 0; i < reply.length; i++) assert.equal(decodeBinaryReply(reply.subarray(0, i)), undefined, `prefix ${i}`);
  });

  it('skips extras when locating the key', () => {
    assert.equal(decodeBinaryPacket(binaryPacket(BINARY.opStat, 0, 'k', 'v', 4))?.value.key, 'k');
  });

  it('rejects a wrong magic, oversized bodies, impossible lengths and unexpected opcodes', () => {
    assert.throws(() => decodeBinaryReply(b('VERSION 1.6\r\n')), /magic 0x56/);
    const huge = binaryPacket(BINARY.opStat, 0, 'k', 'v');
    huge.writeUInt32BE(0xffffffff, 8);
    assert.throws(() => decodeBinaryReply(huge), /exceeds the limit/);
    const bad = binaryPacket(BINARY.opStat, 0, 'key', 'v');
    bad.writeUInt32BE(2, 8);
    assert.throws(() => decodeBinaryReply(bad), /longer than the body/);
    assert.throws(() => decodeBinaryReply(binaryPacket(0x01, 0, '', '')), /Unexpected memcached binary opcode/);
  });
});

describe('memcached codecs: fuzz', () => {
  function check(name: string, decode: (buf: Buffer) => unknown, buf: Buffer): void {
    try {
      const r = decode(buf) as { consumed: number } | undefined;
      if (r && typeof r.consumed === 'number') assert.ok(r.consumed > 0 && r.consumed <= buf.length, `${name} consumed ${r.consumed}`);
    } catch (err) {
      assert.ok(err instanceof ProtocolError, `${name} on ${buf.toString('hex')} threw ${String(err)}`);
    }
  }

  it('2,000 random buffers: decode, wait or ProtocolError, never anything else', () => {
    const rand = rng(0xcafe);
    const alphabet = b('STAEND VRIOCLU_\r\n0123456789');
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 80);
      const buf = Buffer.alloc(len);
      const biased = rand() < 0.5;
      for (let j = 0; j < len; j++) buf[j] = biased ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
      if (!biased && len > 0 && rand() < 0.5) buf[0] = BINARY.responseMagic;
      check('decodeTextReply', decodeTextReply, buf);
      check('decodeBinaryReply', decodeBinaryReply, buf);
      check('decodeUdpFrame', (x) => decodeUdpFrame(x), buf);
    }
  });

  it('random truncations and byte flips of valid replies', () => {
    const rand = rng(7);
    const valid = [b(STATS_REPLY), b('VERSION 1.6.18\r\n'), BINARY_VERSION, BINARY_AUTH_ERROR];
    for (let i = 0; i < 2000; i++) {
      const src = valid[i % valid.length]!;
      const buf = Buffer.from(src.subarray(0, Math.floor(rand() * (src.length + 1))));
      if (rand() < 0.5 && buf.length > 0) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      check('decodeTextReply', decodeTextReply, buf);
      check('decodeBinaryReply', decodeBinaryReply, buf);
    }
  });
});
