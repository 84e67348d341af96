import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  ETCD_LIMITS,
  apiPrefixOrder,
  isAuthError,
  keyName,
  parseGatewayError,
  parseJson,
  parseMemberList,
  parseRangeCount,
  parseRangeKeys,
  parseStatus,
  parseVersion,
  rangeCountBody,
  rangeKeysBody,
  urlHostPort,
} from './codec.js';

/** Replies captured from Debian's etcd 3.4.23 (test/servers/etcd.sh), byte for byte. */
const CAPTURED = {
  version: '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}',
  rangeCount:
    '{"header":{"cluster_id":"17778169144436424473","member_id":"2253562758677585125","revision":"4","raft_term":"2"},"count":"3"}',
  rangeEmpty: '{"header":{"cluster_id":"17778169144436424473","member_id":"2253562758677585125","revision":"1","raft_term":"2"}}',
  rangeKeys:
    '{"header":{"cluster_id":"17778169144436424473","member_id":"2253562758677585125","revision":"4","raft_term":"2"},' +
    '"kvs":[{"key":"azE=","create_revision":"2","mod_revision":"2","version":"1"},{"key":"azI=","create_revision":"3","mod_revision":"3","version":"1"}],' +
    '"more":true,"count":"3"}',
  memberList:
    '{"header":{"cluster_id":"17778169144436424473","member_id":"2253562758677585125","raft_term":"2"},' +
    '"members":[{"ID":"2253562758677585125","name":"n1","peerURLs":["http://127.0.20.1:2380"],"clientURLs":["http://127.0.20.1:2379"]}]}',
  status:
    '{"header":{"cluster_id":"17778169144436424473","member_id":"2253562758677585125","revision":"4","raft_term":"2"},' +
    '"version":"3.4.23","dbSize":"20480","leader":"2253562758677585125","raftIndex":"7","raftTerm":"2","raftAppliedIndex":"7","dbSizeInUse":"16384"}',
  authError: '{"error":"etcdserver: user name is empty","message":"etcdserver: user name is empty","code":3}',
} as const;

const json = (s: string): unknown => parseJson(Buffer.from(s, 'utf8'), 'test');

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

describe('etcd request bodies', () => {
  it('the count range asks for the whole keyspace with count_only and nothing else', () => {
    assert.deepEqual(JSON.parse(rangeCountBody()), { key: 'AA==', range_end: 'AA==', count_only: true });
    assert.equal(Buffer.from('AA==', 'base64').toString('latin1'), '\0');
  });

  it('the names range has keys_only and a bounded limit', () => {
    assert.deepEqual(JSON.parse(rangeKeysBody()), { key: 'AA==', range_end: 'AA==', keys_only: true, limit: ETCD_LIMITS.keyNames });
    assert.deepEqual(JSON.parse(rangeKeysBody(5)), { key: 'AA==', range_end: 'AA==', keys_only: true, limit: 5 });
    assert.throws(() => rangeKeysBody(0), RangeError);
    assert.throws(() => rangeKeysBody(ETCD_LIMITS.keyNames + 1), RangeError);
    assert.throws(() => rangeKeysBody(1.5), RangeError);
  });
});

describe('etcd codec: captured etcd 3.4.23 replies', () => {
  it('GET /version', () => {
    assert.deepEqual(parseVersion(json(CAPTURED.version)), { server: '3.4.23', cluster: '3.4.0' });
    // A brand-new cluster that has not agreed on a version yet.
    assert.deepEqual(parseVersion(json('{"etcdserver":"3.5.9","etcdcluster":"not_decided"}')), { server: '3.5.9', cluster: 'not_decided' });
    assert.deepEqual(parseVersion(json('{"etcdserver":"2.3.8"}')), { server: '2.3.8' });
  });

  it('count_only range: count and header; uint64 IDs stay exact strings', () => {
    assert.deepEqual(parseRangeCount(json(CAPTURED.rangeCount)), {
      header: { clusterId: '17778169144436424473', memberId: '2253562758677585125', revision: 4, raftTerm: 2 },
      count: 3,
    });
    // protobuf JSON leaves a zero count out.
    assert.equal(parseRangeCount(json(CAPTURED.rangeEmpty)).count, 0);
  });

  it('keys_only range: names decoded from base64, more and count kept', () => {
    assert.deepEqual(parseRangeKeys(json(CAPTURED.rangeKeys)), {
      header: { clusterId: '17778169144436424473', memberId: '2253562758677585125', revision: 4, raftTerm: 2 },
      keys: ['k1', 'k2'],
      more: true,
      count: 3,
    });
  });

  it('keys_only range: a value the server sent anyway is never read', () => {
    const withValue = '{"header":{"revision":"2"},"kvs":[{"key":"c2VjcmV0","value":"aHVudGVyMg=="}],"count":"1"}';
    const parsed = parseRangeKeys(json(withValue));
    assert.deepEqual(parsed.keys, ['secret']);
    assert.ok(!JSON.stringify(parsed).includes('hunter2') && !JSON.stringify(parsed).includes('aHVudGVyMg'));
  });

  it('member list', () => {
    assert.deepEqual(parseMemberList(json(CAPTURED.memberList)), {
      header: { clusterId: '17778169144436424473', memberId: '2253562758677585125', raftTerm: 2 },
      members: [
        { id: '2253562758677585125', name: 'n1', peerURLs: ['http://127.0.20.1:2380'], clientURLs: ['http://127.0.20.1:2379'], isLearner: false },
      ],
      dropped: 0,
    });
    // A member added but not started has no name and no client URLs (etcd docs, "member add").
    const pending = parseMemberList(json('{"header":{},"members":[{"ID":"99","peerURLs":["http://10.0.0.9:2380"],"isLearner":true}]}'));
    assert.deepEqual(pending.members, [{ id: '99', name: '', peerURLs: ['http://10.0.0.9:2380'], clientURLs: [], isLearner: true }]);
  });

  it('maintenance status', () => {
    assert.deepEqual(parseStatus(json(CAPTURED.status)), {
      header: { clusterId: '17778169144436424473', memberId: '2253562758677585125', revision: 4, raftTerm: 2 },
      version: '3.4.23',
      dbSize: 20480,
      dbSizeInUse: 16384,
      leader: '2253562758677585125',
      raftIndex: 7,
      raftTerm: 2,
      raftAppliedIndex: 7,
      errors: [],
    });
    const alarmed = parseStatus(json('{"header":{},"errors":["etcdserver: mvcc: database space exceeded"]}'));
    assert.deepEqual(alarmed.errors, ['etcdserver: mvcc: database space exceeded']);
  });

  it('gateway errors: auth refusals and other errors told apart', () => {
    const err = parseGatewayError(Buffer.from(CAPTURED.authError));
    assert.deepEqual(err, { message: 'etcdserver: user name is empty', code: 3 });
    assert.equal(isAuthError(err!), true);
    // etcd 3.3 gateway bodies have only `error` and `code`.
    assert.equal(isAuthError(parseGatewayError(Buffer.from('{"error":"etcdserver: invalid auth token","code":2}'))!), true);
    assert.equal(isAuthError(parseGatewayError(Buffer.from('{"error":"etcdserver: permission denied","code":7}'))!), true);
    assert.equal(isAuthError({ message: 'anything', code: 16 }), true);
    assert.equal(isAuthError(parseGatewayError(Buffer.from('{"error":"etcdserver: request timed out","code":14}'))!), false);
    assert.equal(parseGatewayError(Buffer.from('Method Not Allowed\n')), undefined);
    assert.equal(parseGatewayError(Buffer.from('{"error":"x","code":99}')), undefined);
    assert.equal(parseGatewayError(Buffer.from('{"error":"x","code":"3"}')), undefined);
  });
});

describe('etcd codec: helpers', () => {
  it('orders gateway prefixes by server version', () => {
    assert.deepEqual(apiPrefixOrder('3.4.23'), ['/v3', '/v3beta', '/v3alpha']);
    assert.deepEqual(apiPrefixOrder('3.5.9'), ['/v3', '/v3beta', '/v3alpha']);
    assert.deepEqual(apiPrefixOrder('3.3.27'), ['/v3beta', '/v3', '/v3alpha']);
    assert.deepEqual(apiPrefixOrder('3.2.32'), ['/v3alpha', '/v3', '/v3beta']);
    assert.deepEqual(apiPrefixOrder('2.3.8'), ['/v3alpha', '/v3', '/v3beta']);
    assert.deepEqual(apiPrefixOrder('banana'), ['/v3', '/v3beta', '/v3alpha']);
    assert.deepEqual(apiPrefixOrder(undefined), ['/v3', '/v3beta', '/v3alpha']);
  });

  it('splits member URLs', () => {
    assert.deepEqual(urlHostPort('http://127.0.20.1:2380'), { host: '127.0.20.1', port: 2380 });
    assert.deepEqual(urlHostPort('https://[fd00::1]:2379'), { host: 'fd00::1', port: 2379 });
    assert.deepEqual(urlHostPort('https://etcd-0.etcd:2379'), { host: 'etcd-0.etcd', port: 2379 });
    assert.deepEqual(urlHostPort('http://10.0.0.1'), { host: '10.0.0.1', port: 80 });
    assert.equal(urlHostPort('unix://localhost:2379'), undefined);
    assert.equal(urlHostPort('not a url'), undefined);
  });

  it('renders key names as text, escaping binary and control bytes', () => {
    assert.equal(keyName(Buffer.from('/registry/secrets/default/token')), '/registry/secrets/default/token');
    assert.equal(keyName(Buffer.from('clé')), 'clé');
    assert.equal(keyName(Buffer.from([0x61, 0x00, 0xff])), 'a\\x00\\xff');
    assert.equal(keyName(Buffer.from('a\nb')), 'a\\x0ab');
    assert.equal(keyName(Buffer.alloc(10_000, 0x61)).length, ETCD_LIMITS.fieldChars);
  });
});

describe('etcd codec: hostile input', () => {
  it('rejects bodies that are not UTF-8 JSON', () => {
    rejects(() => parseJson(Buffer.from([0xff, 0xfe, 0x7b]), 'GET /version reply'), /not UTF-8/);
    rejects(() => parseJson(Buffer.from('<html>404</html>'), 'GET /version reply'), /not JSON/);
    rejects(() => parseJson(Buffer.from('['.repeat(100_000)), 'x'), /not JSON/);
  });

  it('rejects wrong shapes with a ProtocolError', () => {
    rejects(() => parseVersion(json('[]')), /not a JSON object/);
    rejects(() => parseVersion(json('{"version":"1.0"}')), /no etcdserver field: not etcd/);
    rejects(() => parseVersion(json('{"etcdserver":3.4}')), /etcdserver is not a string/);
    rejects(() => parseRangeCount(json('{"count":"3"}')), /no header object/);
    rejects(() => parseRangeCount(json('{"header":{},"count":"-3"}')), /count is not an unsigned integer/);
    rejects(() => parseRangeCount(json('{"header":{},"count":"3e5"}')), /count is not an unsigned integer/);
    rejects(() => parseRangeCount(json('{"header":{},"count":"99999999999999999999"}')), /beyond 2\^53/);
    rejects(() => parseRangeCount(json('{"header":{},"count":1.5}')), /not an unsigned integer/);
    rejects(() => parseRangeCount(json('{"header":{"cluster_id":"123456789012345678901"}}')), /cluster_id is not an unsigned integer/);
    rejects(() => parseRangeKeys(json('{"header":{},"kvs":{}}')), /kvs is not a list/);
    rejects(() => parseRangeKeys(json('{"header":{},"kvs":[{"key":"***"}]}')), /not base64/);
    rejects(() => parseRangeKeys(json('{"header":{},"kvs":[{"key":"abc"}]}')), /not base64/);
    rejects(() => parseRangeKeys(json('{"header":{},"kvs":[7]}')), /not an object/);
    rejects(() => parseMemberList(json('{"header":{},"members":"n1"}')), /members is not a list/);
    rejects(() => parseMemberList(json('{"header":{},"members":[{"ID":"1","peerURLs":[1]}]}')), /non-string/);
    rejects(() => parseStatus(json('{"header":{},"dbSize":"-1"}')), /dbSize is not an unsigned integer/);
  });

  it('bounds what it keeps from huge lists and strings', () => {
    const members = Array.from({ length: 10_000 }, (_, i) => ({ ID: String(i + 1), name: 'n'.repeat(5000), peerURLs: Array(100).fill('http://a:1') }));
    const list = parseMemberList({ header: {}, members });
    assert.equal(list.members.length, ETCD_LIMITS.members);
    assert.equal(list.dropped, 10_000 - ETCD_LIMITS.members);
    assert.equal(list.members[0]!.name.length, ETCD_LIMITS.fieldChars);
    assert.equal(list.members[0]!.peerURLs.length, ETCD_LIMITS.urlsPerMember);
    const kvs = Array.from({ length: 5000 }, (_, i) => ({ key: Buffer.from(`k${i}`).toString('base64') }));
    const keys = parseRangeKeys({ header: {}, kvs }, 10);
    assert.equal(keys.keys.length, 10);
    assert.equal(keys.more, true);
  });

  it('fuzz: 2,000 mutated and random bodies only ever parse or throw ProtocolError', () => {
    const rand = rng(0x5eed_e7cd);
    const seeds = Object.values(CAPTURED).map((s) => Buffer.from(s, 'utf8'));
    const parsers: ((b: Buffer) => unknown)[] = [
      (b) => parseVersion(parseJson(b, 'x')),
      (b) => parseRangeCount(parseJson(b, 'x')),
      (b) => parseRangeKeys(parseJson(b, 'x')),
      (b) => parseMemberList(parseJson(b, 'x')),
      (b) => parseStatus(parseJson(b, 'x')),
      (b) => parseGatewayError(b),
    ];
    let parsed = 0;
    for (let i = 0; i < 2000; i++) {
      let buf: Buffer;
      if (i % 4 === 0) {
        buf = Buffer.alloc(Math.floor(rand() * 256));
        for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
      } else {
        buf = Buffer.from(seeds[Math.floor(rand() * seeds.length)]!);
        const edits = 1 + Math.floor(rand() * 4);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(rand() * buf.length);
          const op = rand();
          if (op < 0.5) buf[at] = ' "{}[]:,0123456789-etrufalsn\\'.charCodeAt(Math.floor(rand() * 30));
          else if (op < 0.75) buf = buf.subarray(0, at);
          else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + Math.floor(rand() * 20)), buf.subarray(at)]);
        }
      }
      for (const parse of parsers) {
        try {
          parse(buf);
          parsed++;
        } catch (err) {
          assert.ok(err instanceof ProtocolError, `input ${i} (${JSON.stringify(buf.toString('latin1'))}) threw ${String(err)}`);
        }
      }
    }
    assert.ok(parsed > 100, `only ${parsed} parses succeeded: the mutations are too destructive to test the parsers`);
  });
});
