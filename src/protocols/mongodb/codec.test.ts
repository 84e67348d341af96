/**
 * The MongoDB wire codec against bytes assembled by hand from the documented layouts (MongoDB Wire Protocol
 * reference; OP_MSG spec, github.com/mongodb/specifications source/message/OP_MSG.md; BSON spec example
 * bytes from bsonspec.org), against raw bytes captured from a real FerretDB v1.24.2, and against hostile input.
 * No real MongoDB server runs here: the reply *shapes* of MongoDB itself are in replies.test.ts with their sources.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serialize } from 'bson';
import { ProtocolError } from '../../core/errors.js';
import {
  MONGO_LIMITS,
  MSG_FLAGS,
  OP_CODE,
  REPLY_FLAGS,
  crc32c,
  decodeHeader,
  decodeMessage,
  encodeOpMsg,
  encodeOpQuery,
  messageDecoder,
  type MongoMessage,
  type OpMsg,
  type OpQuery,
  type OpReply,
} from './codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const i32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n, 0);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
};
const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);

/** A message from its parts: the 16-byte header (length computed) followed by `body`. */
function frame(opCode: number, body: Buffer, requestId = 1, responseTo = 0): Buffer {
  return Buffer.concat([i32(16 + body.length), i32(requestId), i32(responseTo), i32(opCode), body]);
}

/** The BSON spec's own example: {"hello": "world"} (bsonspec.org, "FAQ"). */
const BSON_HELLO_WORLD = Buffer.from('\x16\x00\x00\x00\x02hello\x00\x06\x00\x00\x00world\x00\x00', 'latin1');

/**
 * Raw bytes a real FerretDB v1.24.2 (started with --test-enable-new-auth) sent to an unauthenticated
 * `listDatabases` with requestID 5: OP_MSG { ok: 0.0, errmsg: "Command listDatabases requires authentication",
 * code: 13, codeName: "Unauthorized" }. Captured on 127.0.14.2 while writing this module.
 */
const FERRETDB_UNAUTHORIZED = hex(
  '850000000100000005000000dd070000000000000070000000016f6b000000000000000000026572726d7367002e000000436f6d6d616e64' +
    '206c6973744461746162617365732072657175697265732061757468656e7469636174696f6e0010636f6465000d00000002636f64654e' +
    '616d65000d000000556e617574686f72697a65640000',
);

function decodeAll(buf: Buffer, opts: Parameters<typeof messageDecoder>[0] = {}): { value: MongoMessage; consumed: number } | undefined {
  return messageDecoder(opts)(buf);
}

function rejects(buf: Buffer, re: RegExp, opts: Parameters<typeof messageDecoder>[0] = {}): void {
  assert.throws(
    () => decodeAll(buf, opts),
    (err: unknown) => err instanceof ProtocolError && re.test(err.message),
    `expected ProtocolError matching ${re}`,
  );
}

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

describe('mongodb codec: encoding', () => {
  it('encodes OP_MSG { hello: 1, $db: "admin" } byte for byte as the wire protocol documents it', () => {
    // header (length 52, requestID 1, responseTo 0, opCode 2013) · flagBits 0 · kind 0 · BSON document:
    // int32 31 · 0x10 "hello" int32 1 · 0x02 "$db" int32 6 "admin" · 0x00
    const expected = Buffer.concat([
      hex('34000000 01000000 00000000 dd070000'),
      hex('00000000'),
      hex('00'),
      hex('1f000000'),
      Buffer.from('\x10hello\x00\x01\x00\x00\x00', 'latin1'),
      Buffer.from('\x02$db\x00\x06\x00\x00\x00admin\x00', 'latin1'),
      hex('00'),
    ]);
    assert.deepEqual(encodeOpMsg(1, { hello: 1, $db: 'admin' }), expected);
  });

  it('encodes the legacy OP_QUERY isMaster on admin.$cmd', () => {
    const doc = Buffer.from(serialize({ isMaster: 1 }));
    const expected = frame(OP_CODE.query, Buffer.concat([i32(0), cstr('admin.$cmd'), i32(0), i32(-1), doc]), 9);
    assert.deepEqual(encodeOpQuery(9, 'admin.$cmd', { isMaster: 1 }), expected);
    const back = decodeMessage(expected) as OpQuery;
    assert.equal(back.opCode, OP_CODE.query);
    assert.equal(back.fullCollectionName, 'admin.$cmd');
    assert.equal(back.numberToReturn, -1);
    assert.deepEqual(back.query, { isMaster: 1 });
  });

  it('refuses a collection name with a NUL byte (it would end the cstring early)', () => {
    assert.throws(() => encodeOpQuery(1, 'admin\0.$cmd', { isMaster: 1 }), ProtocolError);
  });

  it('round-trips a command through encodeOpMsg and the decoder', () => {
    const bytes = encodeOpMsg(42, { listDatabases: 1, nameOnly: false, $db: 'admin' });
    const r = decodeAll(bytes);
    assert.equal(r?.consumed, bytes.length);
    const msg = r?.value as OpMsg;
    assert.equal(msg.opCode, OP_CODE.msg);
    assert.deepEqual(msg.header, { messageLength: bytes.length, requestId: 42, responseTo: 0, opCode: 2013 });
    assert.deepEqual(Object.keys(msg.body), ['listDatabases', 'nameOnly', '$db']);
  });
});

describe('mongodb codec: documented and captured messages', () => {
  it('decodes an OP_MSG whose body is the BSON spec example document', () => {
    const bytes = frame(OP_CODE.msg, Buffer.concat([u32(0), Buffer.from([0]), BSON_HELLO_WORLD]), 7, 3);
    const msg = decodeAll(bytes, { responseTo: 3 })?.value as OpMsg;
    assert.deepEqual(msg.body, { hello: 'world' });
    assert.equal(msg.header.requestId, 7);
    assert.equal(msg.flagBits, 0);
    assert.deepEqual(msg.sequences, []);
  });

  it('decodes the raw Unauthorized reply a real FerretDB sent', () => {
    const r = decodeAll(FERRETDB_UNAUTHORIZED, { responseTo: 5 });
    assert.equal(r?.consumed, FERRETDB_UNAUTHORIZED.length);
    const msg = r?.value as OpMsg;
    assert.equal(msg.opCode, OP_CODE.msg);
    assert.deepEqual(msg.body, { ok: 0, errmsg: 'Command listDatabases requires authentication', code: 13, codeName: 'Unauthorized' });
  });

  it('decodes kind 1 document sequences, in any order relative to the body (the OP_MSG spec insert example)', () => {
    const docs = [1, 2, 3].map((n) => Buffer.from(serialize({ _id: `Document#${n}`, example: n })));
    const seqPayload = Buffer.concat([cstr('documents'), ...docs]);
    const seq = Buffer.concat([Buffer.from([1]), i32(4 + seqPayload.length), seqPayload]);
    const body = Buffer.concat([Buffer.from([0]), Buffer.from(serialize({ insert: 'collectionName', $db: 'databaseName', writeConcern: { w: 'majority' } }))]);
    for (const sections of [Buffer.concat([body, seq]), Buffer.concat([seq, body])]) {
      const msg = decodeMessage(frame(OP_CODE.msg, Buffer.concat([u32(0), sections]))) as OpMsg;
      assert.deepEqual(msg.body, { insert: 'collectionName', $db: 'databaseName', writeConcern: { w: 'majority' } });
      assert.equal(msg.sequences.length, 1);
      assert.equal(msg.sequences[0]!.identifier, 'documents');
      assert.deepEqual(msg.sequences[0]!.documents, [
        { _id: 'Document#1', example: 1 },
        { _id: 'Document#2', example: 2 },
        { _id: 'Document#3', example: 3 },
      ]);
    }
  });

  it('CRC-32C matches its published check value and verifies the OP_MSG checksum', () => {
    // The CRC-32C (Castagnoli) check value of "123456789" (RFC 3720 appendix B.4 test vectors use the same CRC).
    assert.equal(crc32c(Buffer.from('123456789', 'latin1')), 0xe3069283);
    const withoutSum = frame(OP_CODE.msg, Buffer.concat([u32(MSG_FLAGS.checksumPresent), Buffer.from([0]), BSON_HELLO_WORLD]));
    // The length in the header counts the checksum too.
    const body = Buffer.from(withoutSum);
    body.writeInt32LE(withoutSum.length + 4, 0);
    const good = Buffer.concat([body, u32(crc32c(body))]);
    const msg = decodeMessage(good) as OpMsg;
    assert.deepEqual(msg.body, { hello: 'world' });
    assert.equal(msg.checksum, crc32c(body));
    const bad = Buffer.from(good);
    const at = bad.length - 4 - 3; // before the checksum: the document's NUL, the string's NUL, then 'd' of "world"
    bad[at] = bad[at]! ^ 0x20;
    assert.throws(() => decodeMessage(bad), /checksum mismatch/);
  });

  it('ignores unknown optional flag bits (16–31) and accepts moreToCome', () => {
    const bytes = frame(OP_CODE.msg, Buffer.concat([u32(MSG_FLAGS.exhaustAllowed | (1 << 30) | MSG_FLAGS.moreToCome), Buffer.from([0]), BSON_HELLO_WORLD]));
    assert.deepEqual((decodeMessage(bytes) as OpMsg).body, { hello: 'world' });
  });

  it('decodes a legacy OP_REPLY (MongoDB 3.4 isMaster answer) and a QueryFailure with $err', () => {
    // The fields MongoDB 3.4's isMaster documents for a standalone; maxWireVersion 5 = MongoDB 3.4.
    const isMaster = {
      ismaster: true,
      maxBsonObjectSize: 16777216,
      maxMessageSizeBytes: 48000000,
      maxWriteBatchSize: 1000,
      localTime: new Date(0),
      maxWireVersion: 5,
      minWireVersion: 0,
      readOnly: false,
      ok: 1,
    };
    const doc = Buffer.from(serialize(isMaster));
    const reply = frame(OP_CODE.reply, Buffer.concat([i32(REPLY_FLAGS.awaitCapable), Buffer.alloc(8), i32(0), i32(1), doc]), 77, 2);
    const msg = decodeAll(reply, { responseTo: 2 })?.value as OpReply;
    assert.equal(msg.opCode, OP_CODE.reply);
    assert.equal(msg.cursorId, 0n);
    assert.equal(msg.responseFlags, REPLY_FLAGS.awaitCapable);
    assert.deepEqual(msg.documents, [isMaster]);

    const failure = Buffer.from(serialize({ $err: 'not authorized for query on admin.$cmd', code: 13 }));
    const failed = frame(OP_CODE.reply, Buffer.concat([i32(REPLY_FLAGS.queryFailure), Buffer.alloc(8), i32(0), i32(1), failure]));
    assert.equal((decodeMessage(failed) as OpReply).documents[0]!.$err, 'not authorized for query on admin.$cmd');
  });

  it('returns undefined for every strict prefix of a valid message, and consumes exactly one message', () => {
    const messages = [FERRETDB_UNAUTHORIZED, encodeOpMsg(3, { hello: 1, $db: 'admin' }), encodeOpQuery(4, 'admin.$cmd', { isMaster: 1 })];
    for (const m of messages) {
      for (let i = 0; i < m.length; i++) assert.equal(decodeAll(m.subarray(0, i)), undefined, `prefix ${i}`);
      const two = Buffer.concat([m, m]);
      assert.equal(decodeAll(two)?.consumed, m.length);
    }
  });

  it('copies decoded values out of the receive buffer', () => {
    const buf = Buffer.from(FERRETDB_UNAUTHORIZED);
    const msg = decodeAll(buf)?.value as OpMsg;
    buf.fill(0);
    assert.equal(msg.body.codeName, 'Unauthorized');
  });
});

describe('mongodb codec: hostile input', () => {
  const okBody = Buffer.concat([u32(0), Buffer.from([0]), BSON_HELLO_WORLD]);

  it('rejects messageLength below the 16-byte header, including negative, as soon as 4 bytes arrive', () => {
    for (const n of [0, 1, 15, -1, -2147483648]) rejects(i32(n), /shorter than its 16-byte header/);
  });

  it('rejects messageLength above maxMessageSizeBytes (48,000,000) and above the read cap, before the body arrives', () => {
    rejects(i32(MONGO_LIMITS.maxMessageBytes + 1), /exceeds maxMessageSizeBytes/);
    rejects(i32(0x7fffffff), /exceeds maxMessageSizeBytes/);
    rejects(i32(2 * 1024 * 1024), /exceeds the read cap of 1048576/, { maxMessageBytes: 1024 * 1024 });
    // At the cap: waits for the body (never allocates it up front).
    assert.equal(decodeAll(i32(1024 * 1024), { maxMessageBytes: 1024 * 1024 }), undefined);
    assert.equal(decodeHeader(i32(MONGO_LIMITS.maxMessageBytes)), undefined);
  });

  it('rejects text protocols and random garbage by their length field', () => {
    rejects(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n', 'latin1'), /exceeds maxMessageSizeBytes/);
    rejects(Buffer.from('-ERR unknown command\r\n', 'latin1'), /exceeds maxMessageSizeBytes/);
    rejects(Buffer.alloc(64, 0x41), /exceeds maxMessageSizeBytes/);
  });

  it('refuses OP_COMPRESSED: compression was never offered', () => {
    rejects(frame(OP_CODE.compressed, Buffer.concat([i32(OP_CODE.msg), i32(100), Buffer.from([1]), Buffer.alloc(20)])), /Compressed reply not requested/);
  });

  it('rejects unknown opcodes, including the removed legacy ones', () => {
    for (const op of [0, 1000, 2001, 2010, 2011, 9999, -1]) rejects(frame(op, okBody), /Unknown MongoDB opCode/);
  });

  it('rejects unknown section kinds, duplicate or missing bodies, and empty messages', () => {
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(0), Buffer.from([2]), BSON_HELLO_WORLD])), /section of unknown kind 2/);
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(0), Buffer.from([0xff]), BSON_HELLO_WORLD])), /section of unknown kind 255/);
    rejects(frame(OP_CODE.msg, Buffer.concat([okBody, Buffer.from([0]), BSON_HELLO_WORLD])), /more than one kind 0/);
    const seqOnly = Buffer.concat([u32(0), Buffer.from([1]), i32(4 + 2), cstr('x')]);
    rejects(frame(OP_CODE.msg, seqOnly), /no kind 0/);
    rejects(frame(OP_CODE.msg, u32(0)), /no sections/);
    rejects(frame(OP_CODE.msg, Buffer.alloc(2)), /without flagBits/);
  });

  it('rejects unknown required flag bits (2–15), per the OP_MSG spec', () => {
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(1 << 2), Buffer.from([0]), BSON_HELLO_WORLD])), /unknown required flag bits 0x4/);
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(1 << 15), Buffer.from([0]), BSON_HELLO_WORLD])), /unknown required flag bits 0x8000/);
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(MSG_FLAGS.checksumPresent), Buffer.from([0])])), /checksum/);
  });

  it('rejects BSON lengths that lie, unterminated documents and malformed BSON content', () => {
    const lying = Buffer.from(BSON_HELLO_WORLD);
    lying.writeInt32LE(1000, 0);
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(0), Buffer.from([0]), lying])), /BSON length 1000 does not fit/);
    const negative = Buffer.from(BSON_HELLO_WORLD);
    negative.writeInt32LE(-5, 0);
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(0), Buffer.from([0]), negative])), /BSON length -5/);
    const unterminated = Buffer.from(BSON_HELLO_WORLD);
    unterminated[unterminated.length - 1] = 0x01;
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(0), Buffer.from([0]), unterminated])), /not terminated/);
    const badType = Buffer.from(BSON_HELLO_WORLD);
    badType[4] = 0x7e; // no such BSON element type
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(0), Buffer.from([0]), badType])), /invalid BSON/);
    const badString = Buffer.from(BSON_HELLO_WORLD);
    badString.writeInt32LE(0x7fffffff, 11); // the string's own length
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(0), Buffer.from([0]), badString])), /invalid BSON/);
    // A section cut short after the body.
    rejects(frame(OP_CODE.msg, Buffer.concat([okBody, Buffer.from([1, 9])])), /truncated before its size/);
  });

  it('rejects absurd nesting as a protocol error, not a crash', () => {
    // 100,000 nested documents { a: { a: … { } } } (800 kB, under a 1 MiB read cap): deeper than any stack.
    // Level i starts at 7·i with length 5 + 8·(depth − i); the innermost is the empty document.
    const nested = (depth: number): Buffer => {
      const doc = Buffer.alloc(8 * depth + 5);
      for (let i = 0; i < depth; i++) {
        doc.writeInt32LE(5 + 8 * (depth - i), 7 * i);
        doc.set([0x03, 0x61, 0x00], 7 * i + 4);
      }
      doc.writeInt32LE(5, 7 * depth); // the rest is already zero: the empty document's and every level's NUL
      return doc;
    };
    // The construction is well-formed: shallow, it decodes.
    const shallow = decodeMessage(frame(OP_CODE.msg, Buffer.concat([u32(0), Buffer.from([0]), nested(3)]))) as OpMsg;
    assert.deepEqual(shallow.body, { a: { a: { a: {} } } });
    const doc = nested(100_000);
    const started = performance.now();
    rejects(frame(OP_CODE.msg, Buffer.concat([u32(0), Buffer.from([0]), doc])), /invalid BSON/);
    assert.ok(performance.now() - started < 2000, 'fails fast');
  });

  it('rejects bad document sequences', () => {
    const seq = (size: number, rest: Buffer): Buffer => Buffer.concat([okBody, Buffer.from([1]), i32(size), rest]);
    rejects(frame(OP_CODE.msg, seq(1000, cstr('documents'))), /sequence size 1000/);
    rejects(frame(OP_CODE.msg, seq(-1, cstr('documents'))), /sequence size -1/);
    rejects(frame(OP_CODE.msg, seq(4 + 3, Buffer.from('abc', 'latin1'))), /missing NUL/);
    rejects(frame(OP_CODE.msg, seq(4 + 2 + 3, Buffer.concat([cstr('x'), Buffer.from([9, 0, 0])]))), /truncated|does not fit/);
  });

  it('rejects OP_REPLY counts that cannot fit, and trailing bytes', () => {
    const doc = Buffer.from(serialize({ ok: 1 }));
    const reply = (n: number, docs: Buffer): Buffer => frame(OP_CODE.reply, Buffer.concat([i32(0), Buffer.alloc(8), i32(0), i32(n), docs]));
    rejects(reply(-1, doc), /numberReturned -1/);
    rejects(reply(2_000_000_000, doc), /numberReturned 2000000000/);
    rejects(reply(2, doc), /truncated|does not fit/);
    rejects(reply(1, Buffer.concat([doc, Buffer.from([1, 2, 3])])), /3 bytes after/);
    rejects(frame(OP_CODE.reply, Buffer.alloc(10)), /shorter than its fixed fields/);
  });

  it('rejects a reply to a request we did not send', () => {
    rejects(FERRETDB_UNAUTHORIZED, /answers request 5, not our request 6/, { responseTo: 6 });
  });

  it('fuzz: 2,000 mutated and random buffers decode, wait, or fail with ProtocolError — never anything else', () => {
    const rand = rng(0x6d6f6e67);
    const seeds = [
      FERRETDB_UNAUTHORIZED,
      encodeOpMsg(1, { hello: 1, client: { application: { name: 'x' } }, $db: 'admin' }),
      encodeOpQuery(2, 'admin.$cmd', { isMaster: 1 }),
      frame(OP_CODE.reply, Buffer.concat([i32(0), Buffer.alloc(8), i32(0), i32(1), Buffer.from(serialize({ ok: 1, hosts: ['a:1'] }))])),
    ];
    const started = performance.now();
    let decoded = 0;
    let waited = 0;
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      let buf: Buffer;
      if (i % 4 === 3) {
        buf = Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
        // Half the random buffers get a plausible length so the body parsers run, not just the header check.
        if (buf.length >= 16 && rand() < 0.5) buf.writeInt32LE(buf.length, 0);
      } else {
        buf = Buffer.from(seeds[i % seeds.length]!);
        const flips = 1 + Math.floor(rand() * 4);
        for (let f = 0; f < flips; f++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
        if (rand() < 0.3) buf = buf.subarray(0, Math.floor(rand() * buf.length));
      }
      try {
        const r = decodeAll(buf);
        if (r === undefined) waited++;
        else {
          assert.ok(r.consumed >= 16 && r.consumed <= buf.length);
          decoded++;
        }
      } catch (err) {
        assert.ok(err instanceof ProtocolError, `buffer ${i} (${buf.toString('hex')}) threw ${String(err)}`);
        refused++;
      }
    }
    assert.equal(decoded + waited + refused, 2000);
    assert.ok(refused > 200 && waited > 50 && decoded > 50, `decoded ${decoded}, waited ${waited}, refused ${refused}`);
    assert.ok(performance.now() - started < 5000, 'fuzzing stays fast');
  });
});
