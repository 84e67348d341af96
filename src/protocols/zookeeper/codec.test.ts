import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  JUTE_LIMITS,
  STAT_BYTES,
  ZK_OPCODES,
  checkFourLetterStart,
  classifyFourLetterReply,
  decodeClientRequest,
  decodeConnectRequest,
  decodeConnectResponse,
  decodeFrame,
  decodeGetChildren2Response,
  decodeReply,
  decodeStat,
  encodeCloseSession,
  encodeConnectRequest,
  encodeExists,
  encodeGetChildren2,
  errorName,
  isZnodeName,
  parseConfMembers,
  parseKeyValues,
  parseMntr,
  parseServerLine,
  parseSrvr,
  parseStatClients,
  type FourLetterWord,
} from './codec.js';

/**
 * Server byte streams captured from Debian's ZooKeeper 3.8.0 (test/servers/zookeeper.sh) answering
 * ConnectRequest, getChildren2 /, exists /zookeeper and closeSession, in that order.
 */
const CAPTURED = {
  /** zk-open on a fresh tree: root has the one child `zookeeper`. */
  open:
    '000000250000000000000fa0010000466dea00000000001084f2b268c10b59300233667272ccd1de00000000650000000100000001000000010000000000000001000000097a6f6f6b6565706572000000000000000000000000000000000000000000000000000000000000000000000000ffffffff000000000000000000000000000000000000000100000000000000000000005400000002000000010000000100000000000000000000000000000000000000000000000000000000000000000000000000000000fffffffe000000000000000000000000000000000000000200000000000000000000001000000003000000010000000200000000',
  /** zk-auth (enforce.auth.enabled): getChildren answered SessionClosedRequireSaslAuth (-124), then the server closed. */
  enforced: '000000250000000000000fa001000046702e000000000010104d537e5d6109586ece34f96e01fdd30000000010000000010000000000000000ffffff84',
  /** zk-acl (digest ACL on /): getChildren NoAuth (-102); exists still answers (no ACL check); closeSession OK. */
  acl: '000000250000000000000fa001000046e36100030000001012fe9ca1ae6625e71688b376741586980000000010000000010000000000000009ffffff9a0000005400000002000000000000000900000000000000000000000000000000000000000000000000000000000000000000000000000000fffffffe000000000000000000000000000000000000000200000000000000000000001000000003000000000000000a00000000',
} as const;

/** Four-letter replies captured from the same servers. */
const SRVR_LEADER =
  'Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\nLatency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\n' +
  'Connections: 1\nOutstanding: 0\nZxid: 0x100000000\nMode: leader\nNode count: 5\nProposal sizes last/min/max: -1/-1/-1\n';
const STAT =
  'Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\nClients:\n /127.0.0.1:42516[0](queued=0,recved=1,sent=0)\n' +
  ' /127.0.21.9:50000[1](queued=0,recved=7,sent=7,sid=0x100004f,lop=GETC,est=1700000000000,to=4000,lcxid=0x2,lzxid=0x5,lresp=1,llat=0,minlat=0,avglat=0,maxlat=0)\n\n' +
  'Latency min/avg/max: 0/0.0/0\nReceived: 2\nSent: 1\nConnections: 2\nOutstanding: 0\nZxid: 0x100000000\nMode: leader\nNode count: 5\n';
const MNTR_HEAD = 'zk_version\t3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\nzk_server_state\tleader\nzk_znode_count\t5\nzk_watch_count\t0\n';
const ENVI = 'Environment:\nzookeeper.version=3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\nhost.name=localhost\njava.version=17.0.15\nuser.name=lockdown-test\n';
const CONF =
  'clientPort=2181\nsecureClientPort=-1\ndataDir=/tmp/ex-zk/d/version-2\ndataDirSize=581\ntickTime=2000\nmaxClientCnxns=60\nserverId=1\n' +
  'initLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3888\nquorumPort=2888\npeerType=0\nmembership: \n' +
  'server.1=127.0.21.1:2888:3888:participant;127.0.21.1:2181\nserver.2=127.0.21.4:2888:3888:observer;127.0.21.4:2181\nversion=0';

/** Split a captured stream into frames with the session's own decoder. */
function frames(hex: string): Buffer[] {
  let rest = Buffer.from(hex, 'hex');
  const out: Buffer[] = [];
  while (rest.length > 0) {
    const r = decodeFrame(rest);
    assert.ok(r, 'complete frame');
    out.push(r.value);
    rest = rest.subarray(r.consumed);
  }
  return out;
}

function rejects(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ProtocolError && re.test(err.message));
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

/** A frame (length prefix + payload). */
function frame(payload: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(payload.length);
  return Buffer.concat([len, payload]);
}

describe('zookeeper jute: requests', () => {
  it('ConnectRequest: new read-only session, 16 zero password bytes (45-byte record)', () => {
    const enc = encodeConnectRequest(4000);
    assert.equal(enc.toString('hex'), '0000002d' + '00000000' + '0000000000000000' + '00000fa0' + '0000000000000000' + '00000010' + '00'.repeat(16) + '01');
    const back = decodeConnectRequest(decodeFrame(enc)!.value);
    assert.deepEqual(back, { protocolVersion: 0, timeOut: 4000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: true });
  });

  it('getChildren2, exists and closeSession carry the opcodes of ZooDefs.OpCode and never set a watch', () => {
    assert.equal(encodeGetChildren2(1, '/').toString('hex'), '0000000e' + '00000001' + '0000000c' + '00000001' + '2f' + '00');
    assert.deepEqual(decodeClientRequest(decodeFrame(encodeGetChildren2(1, '/'))!.value), { xid: 1, type: ZK_OPCODES.getChildren2, path: '/', watch: false });
    assert.deepEqual(decodeClientRequest(decodeFrame(encodeExists(7, '/kafka'))!.value), { xid: 7, type: ZK_OPCODES.exists, path: '/kafka', watch: false });
    assert.equal(encodeCloseSession(9).toString('hex'), '00000008' + '00000009' + 'fffffff5');
    assert.deepEqual(decodeClientRequest(decodeFrame(encodeCloseSession(9))!.value), { xid: 9, type: ZK_OPCODES.closeSession });
  });
});

describe('zookeeper jute: captured ZooKeeper 3.8.0 replies', () => {
  it('open server: session, root children with Stat, exists Stat, closeSession', () => {
    const [connect, children, exists, close] = frames(CAPTURED.open);
    assert.deepEqual(decodeConnectResponse(connect!), { protocolVersion: 0, timeOut: 4000, sessionId: '010000466dea0000', readOnly: false });
    const reply = decodeReply(children!, 'getChildren');
    assert.deepEqual(reply.header, { xid: 1, zxid: '0x100000001', err: 0 });
    const list = decodeGetChildren2Response(reply.body);
    assert.deepEqual(list.children, ['zookeeper']);
    assert.equal(list.count, 1);
    assert.equal(list.stat.numChildren, 1);
    assert.equal(list.stat.pzxid, '0x0');
    assert.equal(reply.body.remaining, 0);
    const ex = decodeReply(exists!, 'exists');
    assert.equal(ex.header.xid, 2);
    const stat = decodeStat(ex.body);
    assert.equal(stat.numChildren, 2, '/zookeeper holds config and quota');
    assert.equal(stat.ephemeralOwner, '0');
    assert.equal(ex.body.remaining, 0);
    assert.deepEqual(decodeReply(close!, 'close').header, { xid: 3, zxid: '0x100000002', err: 0 });
  });

  it('enforced auth: SessionClosedRequireSaslAuth (-124) in the reply header, no body', () => {
    const [, refused] = frames(CAPTURED.enforced);
    const reply = decodeReply(refused!, 'getChildren');
    assert.equal(reply.header.err, -124);
    assert.equal(errorName(reply.header.err), 'SessionClosedRequireSaslAuth');
    assert.equal(reply.body.remaining, 0);
  });

  it('root ACL: NoAuth (-102); exists still answers (ZooKeeper checks no ACL for it)', () => {
    const [, refused, exists, close] = frames(CAPTURED.acl);
    const reply = decodeReply(refused!, 'getChildren');
    assert.deepEqual(reply.header, { xid: 1, zxid: '0x9', err: -102 });
    assert.equal(errorName(-102), 'NoAuth');
    assert.equal(decodeStat(decodeReply(exists!, 'exists').body).numChildren, 2);
    assert.equal(decodeReply(close!, 'close').header.err, 0);
  });

  it('decodeFrame waits for every strict prefix of a frame', () => {
    const whole = Buffer.from(CAPTURED.open, 'hex').subarray(0, 4 + 0x25);
    for (let i = 0; i < whole.length; i++) assert.equal(decodeFrame(whole.subarray(0, i)), undefined, `prefix ${i}`);
    assert.equal(decodeFrame(whole)?.consumed, whole.length);
  });

  it('a ConnectResponse from a server before 3.3 (no readOnly byte), and a refused session', () => {
    const old = Buffer.from('00000000' + '00001770' + '0000000000000001' + '00000010' + '00'.repeat(16), 'hex');
    assert.deepEqual(decodeConnectResponse(old), { protocolVersion: 0, timeOut: 6000, sessionId: '0000000000000001' });
    const refused = Buffer.from('00000000' + '00000000' + '0000000000000000' + '00000010' + '00'.repeat(16) + '00', 'hex');
    assert.equal(decodeConnectResponse(refused).timeOut, 0);
  });
});

describe('zookeeper jute: hostile input', () => {
  it('rejects frame lengths that are negative or beyond the limit, naming the bytes', () => {
    rejects(() => decodeFrame(Buffer.from('ffffffff', 'hex')), /length -1/);
    rejects(() => decodeFrame(Buffer.from('80000000', 'hex')), /length -2147483648/);
    rejects(() => decodeFrame(Buffer.from('HTTP/1.1 400', 'latin1')), /Not a ZooKeeper frame: length 1213486160 \(first bytes 48545450\)/);
    const atLimit = Buffer.alloc(4);
    atLimit.writeInt32BE(JUTE_LIMITS.maxFrame);
    assert.equal(decodeFrame(atLimit), undefined, 'a legal large frame waits (the read cap ends it), nothing allocated');
    atLimit.writeInt32BE(JUTE_LIMITS.maxFrame + 1);
    rejects(() => decodeFrame(atLimit), /length/);
  });

  it('rejects truncated records', () => {
    const [connect, children] = frames(CAPTURED.open);
    rejects(() => decodeConnectResponse(connect!.subarray(0, 10)), /ConnectResponse is truncated/);
    rejects(() => decodeConnectResponse(connect!.subarray(0, 30)), /truncated/);
    const short = decodeReply(children!.subarray(0, children!.length - 10), 'getChildren');
    rejects(() => decodeGetChildren2Response(short.body), /getChildren is truncated/);
    rejects(() => decodeReply(Buffer.alloc(15), 'reply'), /reply is truncated/);
  });

  it('rejects impossible vector counts and string lengths before allocating anything', () => {
    const header = Buffer.from('00000001' + '0000000000000001' + '00000000', 'hex');
    const huge = decodeReply(Buffer.concat([header, Buffer.from('7fffffff', 'hex')]), 'getChildren');
    rejects(() => decodeGetChildren2Response(huge.body), /vector count 2147483647 does not fit in the 0 bytes left/);
    const negative = decodeReply(Buffer.concat([header, Buffer.from('fffffffe', 'hex')]), 'getChildren');
    rejects(() => decodeGetChildren2Response(negative.body), /negative vector count -2/);
    const longName = decodeReply(Buffer.concat([header, Buffer.from('00000001' + '7ffffff0' + '61', 'hex')]), 'getChildren');
    rejects(() => decodeGetChildren2Response(longName.body), /length 2147483632 exceeds/);
    const negName = decodeReply(Buffer.concat([header, Buffer.from('00000001' + 'fffffff0', 'hex')]), 'getChildren');
    rejects(() => decodeGetChildren2Response(negName.body), /negative length -16/);
    const nullName = decodeReply(Buffer.concat([header, Buffer.from('00000001' + 'ffffffff', 'hex'), Buffer.alloc(STAT_BYTES)]), 'getChildren');
    rejects(() => decodeGetChildren2Response(nullName.body), /null child name/);
  });

  it('rejects a ConnectResponse with a wrong protocol version, negative timeout, huge password or bad boolean', () => {
    const ok = '00000000' + '00000fa0' + '0000000000000001' + '00000010' + '00'.repeat(16);
    rejects(() => decodeConnectResponse(Buffer.from('00000001' + ok.slice(8), 'hex')), /protocol version 1/);
    rejects(() => decodeConnectResponse(Buffer.from('00000000' + 'ffffffff' + ok.slice(16), 'hex')), /negative session timeout/);
    rejects(() => decodeConnectResponse(Buffer.from(ok.slice(0, 32) + '00100000', 'hex')), /length 1048576 exceeds 64/);
    rejects(() => decodeConnectResponse(Buffer.from(ok + '07', 'hex')), /boolean byte 0x7/);
  });

  it('bounds the child names it keeps; counts stay exact', () => {
    const n = JUTE_LIMITS.keptChildren + 500;
    const names: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const name = Buffer.from(`c${i}`);
      const len = Buffer.alloc(4);
      len.writeInt32BE(name.length);
      names.push(len, name);
    }
    const count = Buffer.alloc(4);
    count.writeInt32BE(n);
    const r = decodeReply(Buffer.concat([Buffer.alloc(16), count, ...names, Buffer.alloc(STAT_BYTES)]), 'getChildren');
    const list = decodeGetChildren2Response(r.body);
    assert.equal(list.children.length, JUTE_LIMITS.keptChildren);
    assert.equal(list.count, n);
  });

  it('fuzz: 2,000 mutated and random frames only ever decode or throw ProtocolError', () => {
    const rand = rng(0x2181_5eed);
    const seeds = [...frames(CAPTURED.open), ...frames(CAPTURED.enforced), ...frames(CAPTURED.acl)];
    let decoded = 0;
    for (let i = 0; i < 2000; i++) {
      let buf: Buffer;
      if (i % 4 === 0) {
        buf = Buffer.alloc(Math.floor(rand() * 160));
        for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
      } else {
        buf = Buffer.from(seeds[Math.floor(rand() * seeds.length)]!);
        for (let e = 1 + Math.floor(rand() * 3); e > 0 && buf.length > 0; e--) {
          const at = Math.floor(rand() * buf.length);
          const op = rand();
          if (op < 0.6) buf[at] = rand() < 0.5 ? 0xff : Math.floor(rand() * 256);
          else if (op < 0.8) buf = buf.subarray(0, at);
          else buf = Buffer.concat([buf.subarray(0, at), Buffer.from([0x7f, 0xff, 0xff, 0xff]), buf.subarray(at)]);
        }
      }
      const attempts: (() => unknown)[] = [
        () => decodeConnectResponse(buf),
        () => decodeGetChildren2Response(decodeReply(buf, 'fuzz').body),
        () => decodeStat(decodeReply(buf, 'fuzz').body),
        () => decodeClientRequest(buf),
        () => decodeFrame(frame(buf)),
        () => decodeFrame(buf),
      ];
      for (const attempt of attempts) {
        try {
          attempt();
          decoded++;
        } catch (err) {
          assert.ok(err instanceof ProtocolError, `input ${i} (${buf.toString('hex')}) threw ${String(err)}`);
        }
      }
    }
    assert.ok(decoded > 1000, `only ${decoded} decodes succeeded`);
  });
});

describe('zookeeper four-letter words', () => {
  it('accepts the start of every real reply, byte by byte', () => {
    const replies: [FourLetterWord, string][] = [
      ['srvr', SRVR_LEADER],
      ['stat', STAT],
      ['mntr', MNTR_HEAD],
      ['envi', ENVI],
      ['conf', CONF],
      ['stat', 'stat is not executed because it is not in the whitelist.\n'],
      ['mntr', 'This ZooKeeper instance is not currently serving requests\n'],
    ];
    for (const [word, text] of replies) {
      const bytes = Buffer.from(text, 'latin1');
      for (let i = 0; i <= Math.min(bytes.length, 80); i++) checkFourLetterStart(word, bytes.subarray(0, i));
    }
  });

  it('refuses bytes that cannot begin a ZooKeeper reply, as soon as they differ', () => {
    rejects(() => checkFourLetterStart('srvr', Buffer.from('SSH-2.0-OpenSSH')), /Not a ZooKeeper reply to srvr: "SSH-2.0-OpenSSH"/);
    rejects(() => checkFourLetterStart('srvr', Buffer.from('HTTP/1.1 400')), /Not a ZooKeeper reply/);
    rejects(() => checkFourLetterStart('srvr', Buffer.from('X')), /Not a ZooKeeper reply/);
    rejects(() => checkFourLetterStart('mntr', Buffer.from('Zookeeper version: ')), /to mntr/);
    rejects(() => checkFourLetterStart('stat', Buffer.from('srvr is not executed')), /to stat/);
    rejects(() => checkFourLetterStart('srvr', Buffer.alloc(1_000_000, 0x41)), /"AAAA/);
  });

  it('classifies complete replies', () => {
    assert.equal(classifyFourLetterReply('srvr', SRVR_LEADER), 'answered');
    assert.equal(classifyFourLetterReply('envi', 'envi is not executed because it is not in the whitelist.\n'), 'not-whitelisted');
    assert.equal(classifyFourLetterReply('conf', 'This ZooKeeper instance is not currently serving requests\n'), 'not-serving');
    assert.equal(classifyFourLetterReply('mntr', ''), 'empty');
    rejects(() => classifyFourLetterReply('srvr', 'Zookeeper'), /Not a ZooKeeper reply/);
  });

  it('parses srvr and stat', () => {
    assert.deepEqual(parseSrvr(SRVR_LEADER), {
      build: '3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC',
      version: '3.8.0',
      mode: 'leader',
      nodeCount: 5,
      zxid: '0x100000000',
      connections: 1,
      outstanding: 0,
      received: 1,
      sent: 0,
    });
    // 3.4's srvr, from the ZooKeeper 3.4 admin guide.
    const v34 = parseSrvr('Zookeeper version: 3.4.14-4c25d480e66aadd371de8bd2fd8da255ac140bcf, built on 03/06/2019 16:18 GMT\nMode: follower\nNode count: 4\n');
    assert.equal(v34.version, '3.4.14');
    assert.equal(v34.mode, 'follower');
    assert.deepEqual(parseStatClients(STAT), { clients: ['127.0.0.1:42516', '127.0.21.9:50000'], count: 2 });
    assert.deepEqual(parseStatClients(SRVR_LEADER), { clients: [], count: 0 });
  });

  it('parses mntr, envi and conf, with the ensemble of conf', () => {
    assert.equal(parseMntr(MNTR_HEAD).get('zk_znode_count'), '5');
    assert.equal(parseKeyValues(ENVI).get('user.name'), 'lockdown-test');
    const conf = parseKeyValues(CONF);
    assert.equal(conf.get('serverId'), '1');
    assert.deepEqual(parseConfMembers(conf), [
      { id: 1, host: '127.0.21.1', quorumPort: 2888, electionPort: 3888, role: 'participant', clientHost: '127.0.21.1', clientPort: 2181 },
      { id: 2, host: '127.0.21.4', quorumPort: 2888, electionPort: 3888, role: 'observer', clientHost: '127.0.21.4', clientPort: 2181 },
    ]);
  });

  it('parses every server.N form of the 3.5+ admin guide', () => {
    assert.deepEqual(parseServerLine('server.3', 'zoo3:2888:3888'), { id: 3, host: 'zoo3', quorumPort: 2888, electionPort: 3888, role: 'participant' });
    assert.deepEqual(parseServerLine('server.4', 'zoo4:2888:3888:observer;2181'), {
      id: 4,
      host: 'zoo4',
      quorumPort: 2888,
      electionPort: 3888,
      role: 'observer',
      clientPort: 2181,
    });
    assert.deepEqual(parseServerLine('server.5', '[2001:db8::5]:2888:3888:participant;0.0.0.0:2181'), {
      id: 5,
      host: '2001:db8::5',
      quorumPort: 2888,
      electionPort: 3888,
      role: 'participant',
      clientHost: '0.0.0.0',
      clientPort: 2181,
    });
    assert.equal(parseServerLine('server.6', '10.0.0.6:2888:3888|10.1.0.6:2888:3888;2181')?.host, '10.0.0.6');
    assert.equal(parseServerLine('serverId', '1'), undefined);
    assert.equal(parseServerLine('server.x', 'a:1:2'), undefined);
    assert.equal(parseServerLine('server.7', ''), undefined);
    assert.equal(parseServerLine('server.8', 'h:99999:3888')?.quorumPort, undefined);
  });

  it('znode names that may be put in a path', () => {
    assert.ok(isZnodeName('kafka'));
    assert.ok(isZnodeName('zookeeper'));
    assert.ok(isZnodeName('clé'));
    for (const bad of ['', '.', '..', 'a/b', 'a\nb', 'a\u0000', 'x'.repeat(300)]) assert.ok(!isZnodeName(bad), JSON.stringify(bad));
  });
});
