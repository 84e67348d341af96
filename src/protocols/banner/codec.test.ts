/**
 * The banner module's binary codecs (Bolt handshake, Aerospike info, Kafka ApiVersions v0) on documented
 * and captured bytes (test/fixtures/banner/README.md names each source), hostile input, and a seeded fuzz loop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import { fixtureBufferJson, fixtureHex, kafkaFrame } from '../../../test/fixtures/banner/replay-server.js';
import {
  AEROSPIKE_MAX_INFO,
  BOLT_MAGIC,
  BOLT_PROPOSALS,
  KAFKA_CORRELATION_ID,
  boltReplyDecoder,
  decodeAerospikeInfo,
  encodeAerospikeInfo,
  encodeBoltHandshake,
  encodeKafkaApiVersions,
  kafkaApiVersionsDecoder,
  parseAerospikeInfo,
} from './codec.js';

const KAFKA_BODY = fixtureBufferJson('kafka-apiversions-v0-response-body.json');
const AEROSPIKE_REPLY = fixtureHex('aerospike-info-build-edition.hex');

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

const rejects = (f: () => unknown, re: RegExp): void => {
  assert.throws(f, (e: unknown) => e instanceof ProtocolError && re.test(e.message), re.source);
};

describe('Bolt handshake', () => {
  const decode = boltReplyDecoder();

  it('encodes the magic and four proposals [reserved, range, minor, major]', () => {
    const b = encodeBoltHandshake();
    assert.equal(b.length, 20);
    assert.deepEqual(b.subarray(0, 4), BOLT_MAGIC);
    assert.equal(b.toString('hex'), '6060b017' + '00080805' + '00020404' + '00000104' + '00000003');
    assert.throws(() => encodeBoltHandshake(BOLT_PROPOSALS.slice(0, 3)), RangeError);
  });

  it('decodes the spec\'s replies: a chosen version, and 00 00 00 00 for none in common', () => {
    assert.deepEqual(decode(fixtureHex('bolt-reply-4.1.hex')), { value: { kind: 'version', major: 4, minor: 1 }, consumed: 4 });
    assert.deepEqual(decode(fixtureHex('bolt-reply-none.hex')), { value: { kind: 'none' }, consumed: 4 });
    // Versions inside a proposed range are accepted: 5.0, 5.4, 4.2, 4.3, 3.0.
    for (const [major, minor] of [
      [5, 0],
      [5, 4],
      [4, 2],
      [4, 3],
      [3, 0],
    ] as const) {
      assert.deepEqual(decode(Buffer.from([0, 0, minor, major]))?.value, { kind: 'version', major, minor });
    }
  });

  it('waits for four bytes, rejects HTTP, versions not proposed, and a range byte in a reply', () => {
    assert.equal(decode(Buffer.alloc(0)), undefined);
    assert.equal(decode(Buffer.from([0, 0, 1])), undefined);
    rejects(() => decode(Buffer.from('HTTP/1.1 400 Bad Request\r\n')), /Answered HTTP, not the Bolt handshake/);
    rejects(() => decode(Buffer.from('A')), /first byte 0x41/);
    rejects(() => decode(Buffer.from([0, 0, 9, 5])), /chose version 5\.9, which was not proposed/);
    rejects(() => decode(Buffer.from([0, 0, 0, 4])), /4\.0, which was not proposed/);
    rejects(() => decode(Buffer.from([0, 0, 0, 2])), /2\.0/);
    rejects(() => decode(Buffer.from([0, 2, 4, 4])), /Not a Bolt handshake reply/);
  });
});

describe('Aerospike info message', () => {
  it('encodes version 2, type 1, a 48-bit size and "build\\nedition\\n"', () => {
    const b = encodeAerospikeInfo();
    assert.equal(b.toString('hex'), '020100000000000e' + Buffer.from('build\nedition\n').toString('hex'));
  });

  it('decodes the info reply into name → value', () => {
    const r = decodeAerospikeInfo(AEROSPIKE_REPLY);
    assert.ok(r);
    assert.equal(r.consumed, AEROSPIKE_REPLY.length);
    assert.deepEqual([...r.value], [
      ['build', '3.12.0'],
      ['edition', 'Aerospike Community Edition'],
    ]);
    for (let n = 0; n < AEROSPIKE_REPLY.length; n++) assert.equal(decodeAerospikeInfo(AEROSPIKE_REPLY.subarray(0, n)), undefined, `prefix ${n}`);
  });

  it('reads a name without a value and ignores empty lines', () => {
    assert.deepEqual([...parseAerospikeInfo(Buffer.from('build\n\nedition\tx\ty\n'))], [
      ['build', ''],
      ['edition', 'x\ty'],
    ]);
  });

  it('rejects other protocols, other message types and huge sizes before buffering them', () => {
    rejects(() => decodeAerospikeInfo(Buffer.from('HTTP/1.1 400')), /proto version byte 0x48/);
    rejects(() => decodeAerospikeInfo(Buffer.from([2, 3])), /message type 3/);
    rejects(() => decodeAerospikeInfo(Buffer.from([2, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), /281474976710655 bytes exceeds the limit/);
    const over = Buffer.from([2, 1, 0, 0, 0, 0, 0, 0]);
    over.writeUIntBE(AEROSPIKE_MAX_INFO + 1, 2, 6);
    rejects(() => decodeAerospikeInfo(over), /exceeds the limit of 65536/);
  });
});

describe('Kafka ApiVersions v0', () => {
  const decode = kafkaApiVersionsDecoder();

  it('encodes request header v1 with our client id and an empty body', () => {
    const b = encodeKafkaApiVersions('lockdown-test');
    assert.equal(b.readInt32BE(0), b.length - 4);
    assert.equal(b.readInt16BE(4), 18, 'api_key ApiVersions');
    assert.equal(b.readInt16BE(6), 0, 'api_version 0');
    assert.equal(b.readInt32BE(8), KAFKA_CORRELATION_ID);
    assert.equal(b.readInt16BE(12), 13);
    assert.equal(b.subarray(14).toString(), 'lockdown-test');
    assert.equal(b.length, 14 + 13);
  });

  it('decodes the v0 response kafkajs recorded: 21 APIs, no error', () => {
    const frame = kafkaFrame(KAFKA_BODY, KAFKA_CORRELATION_ID);
    const r = decode(frame);
    assert.ok(r);
    assert.equal(r.consumed, frame.length);
    assert.equal(r.value.errorCode, 0);
    assert.equal(r.value.apiVersions.length, 21);
    assert.deepEqual(r.value.apiVersions[0], { apiKey: 0, minVersion: 0, maxVersion: 2 });
    assert.deepEqual(r.value.apiVersions[7], { apiKey: 7, minVersion: 1, maxVersion: 1 });
    assert.deepEqual(r.value.apiVersions[20], { apiKey: 20, minVersion: 0, maxVersion: 0 });
    for (let n = 0; n < frame.length; n++) assert.equal(decode(frame.subarray(0, n)), undefined, `prefix ${n}`);
  });

  it('decodes an UNSUPPORTED_VERSION (35) reply with a null list', () => {
    const body = Buffer.from([0, 35, 0xff, 0xff, 0xff, 0xff]);
    assert.deepEqual(decode(kafkaFrame(body, KAFKA_CORRELATION_ID))?.value, { correlationId: KAFKA_CORRELATION_ID, errorCode: 35, apiVersions: [] });
  });

  it('rejects impossible sizes, someone else\'s correlation id and counts that do not fit', () => {
    rejects(() => decode(Buffer.from('AAAA')), /message size 1094795585/);
    rejects(() => decode(Buffer.from([0xff, 0xff, 0xff, 0xfe])), /message size -2/);
    rejects(() => decode(Buffer.from([0, 0, 0, 9])), /message size 9/);
    rejects(() => decode(kafkaFrame(KAFKA_BODY, 7)), /correlation id 7 is not ours/);
    const lying = Buffer.from(KAFKA_BODY);
    lying.writeInt32BE(22, 2);
    rejects(() => decode(kafkaFrame(lying, KAFKA_CORRELATION_ID)), /claims 22 entries in 126 bytes/);
    lying.writeInt32BE(-5, 2);
    rejects(() => decode(kafkaFrame(lying, KAFKA_CORRELATION_ID)), /claims -5 entries/);
    lying.writeInt32BE(0x7fffffff, 2);
    rejects(() => decode(kafkaFrame(lying, KAFKA_CORRELATION_ID)), /claims 2147483647 entries/);
  });
});

describe('banner codecs fuzz', () => {
  const decoders = [boltReplyDecoder(), decodeAerospikeInfo, kafkaApiVersionsDecoder()];
  const check = (b: Buffer): void => {
    for (const d of decoders) {
      try {
        const r = d(b);
        if (r) assert.ok(r.consumed > 0 && r.consumed <= b.length);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }
  };

  it('2,000 random buffers only ever decode, wait or throw ProtocolError', () => {
    const next = rng(0xba11e7);
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(next() * 80);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(next() * 256);
      // A third start like each protocol, so the fuzzing gets past the first byte.
      if (len >= 8 && i % 3 === 1) b.set([2, 1, 0, 0, 0, 0]);
      if (len >= 8 && i % 3 === 2) {
        b.writeInt32BE(len - 4, 0);
        b.writeInt32BE(KAFKA_CORRELATION_ID, 4);
      }
      if (len >= 1 && i % 3 === 0) b[0] = 0;
      check(b);
    }
  });

  it('random truncations and byte flips of the recorded replies', () => {
    const next = rng(0x2015);
    const bases = [kafkaFrame(KAFKA_BODY, KAFKA_CORRELATION_ID), AEROSPIKE_REPLY, fixtureHex('bolt-reply-4.1.hex')];
    for (let i = 0; i < 2000; i++) {
      const base = bases[i % bases.length]!;
      const b = Buffer.from(base.subarray(0, Math.max(1, Math.floor(next() * (base.length + 1)))));
      const flips = 1 + Math.floor(next() * 3);
      for (let f = 0; f < flips; f++) b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
      check(b);
    }
  });
});
