import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  RESP_LIMITS,
  decodeResp,
  encodeCommand,
  infoField,
  parseInfo,
  parseKeyspace,
  parseReplication,
  type RespValue,
} from './codec.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function encodeBulk(s: string): Buffer {
  return b(`$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`);
}

function decodeAll(s: string | Buffer): { value: RespValue; consumed: number } | undefined {
  return decodeResp(typeof s === 'string' ? b(s) : s);
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

describe('redis encodeCommand', () => {
  it('encodes an array of bulk strings (the spec example)', () => {
    assert.equal(encodeCommand(['INFO']).toString('latin1'), '*1\r\n$4\r\nINFO\r\n');
    assert.equal(
      encodeCommand(['CLIENT', 'SETNAME', 'lockdown']).toString('latin1'),
      '*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$8\r\nlockdown\r\n',
    );
  });

  it('counts bytes, not characters, and keeps CRLF inside an argument harmless', () => {
    const enc = encodeCommand(['é\r\nPING']);
    assert.equal(enc.toString('utf8'), '*1\r\n$8\r\né\r\nPING\r\n');
    const decoded = decodeAll(enc);
    assert.deepEqual(decoded?.value, { type: 'array', value: [{ type: 'bulk', value: Buffer.from('é\r\nPING', 'utf8') }] });
  });
});

describe('redis decodeResp: documented and captured replies', () => {
  it('decodes every RESP2 type', () => {
    assert.deepEqual(decodeAll('+PONG\r\n'), { value: { type: 'simple', value: 'PONG' }, consumed: 7 });
    assert.deepEqual(decodeAll('+OK\r\n')?.value, { type: 'simple', value: 'OK' });
    assert.deepEqual(decodeAll(':1000\r\n')?.value, { type: 'integer', value: 1000 });
    assert.deepEqual(decodeAll(':-42\r\n')?.value, { type: 'integer', value: -42 });
    assert.deepEqual(decodeAll('$5\r\nhello\r\n'), { value: { type: 'bulk', value: b('hello') }, consumed: 11 });
    assert.deepEqual(decodeAll('$0\r\n\r\n')?.value, { type: 'bulk', value: b('') });
    assert.deepEqual(decodeAll('$-1\r\n')?.value, { type: 'bulk', value: null });
    assert.deepEqual(decodeAll('*-1\r\n')?.value, { type: 'array', value: null });
    assert.deepEqual(decodeAll('*0\r\n')?.value, { type: 'array', value: [] });
    assert.deepEqual(decodeAll('*2\r\n*1\r\n:1\r\n$-1\r\n')?.value, {
      type: 'array',
      value: [{ type: 'array', value: [{ type: 'integer', value: 1 }] }, { type: 'bulk', value: null }],
    });
  });

  it('decodes the real auth refusals of Redis 7.0', () => {
    assert.deepEqual(decodeAll('-NOAUTH Authentication required.\r\n')?.value, {
      type: 'error',
      value: 'NOAUTH Authentication required.',
    });
    const denied =
      '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
      'In this mode connections are only accepted from the loopback interface.\r\n';
    const r = decodeAll(denied);
    assert.equal(r?.value.type, 'error');
    assert.equal(r?.consumed, denied.length);
  });

  it('decodes a bulk INFO reply and leaves pipelined bytes alone', () => {
    const info = '# Server\r\nredis_version:7.0.15\r\n';
    const frame = `$${info.length}\r\n${info}\r\n+PONG\r\n`;
    const r = decodeAll(frame);
    assert.equal(r?.value.type, 'bulk');
    assert.equal(r?.consumed, frame.length - '+PONG\r\n'.length);
  });

  it('binary-safe bulk strings may contain CRLF', () => {
    assert.deepEqual(decodeAll('$4\r\na\r\nb\r\n')?.value, { type: 'bulk', value: b('a\r\nb') });
  });

  it('returns undefined for every strict prefix of a valid frame', () => {
    const frames = ['+PONG\r\n', ':12\r\n', '$5\r\nhello\r\n', '$-1\r\n', '*2\r\n$1\r\na\r\n*1\r\n+b\r\n', '-ERR x\r\n'];
    for (const f of frames) {
      for (let i = 0; i < f.length; i++) assert.equal(decodeAll(f.slice(0, i)), undefined, `prefix ${i} of ${JSON.stringify(f)}`);
      assert.equal(decodeAll(f)?.consumed, f.length);
    }
  });
});

describe('redis decodeResp: hostile input', () => {
  const rejects = (input: string | Buffer, re: RegExp): void => {
    assert.throws(() => decodeAll(input), (err: unknown) => err instanceof ProtocolError && re.test(err.message));
  };

  it('rejects a first byte that is not a RESP2 type', () => {
    rejects('HTTP/1.1 400 Bad Request\r\n', /first byte 0x48/);
    rejects(Buffer.from([0x00, 0x01]), /first byte 0x00/);
    rejects('%1\r\n', /first byte 0x25/); // RESP3 map: never expected, we do not send HELLO 3
  });

  it('rejects negative lengths other than -1, non-numeric and oversized lengths', () => {
    rejects('$-2\r\n', /Invalid RESP bulk length/);
    rejects('*-5\r\n', /Invalid RESP array length/);
    rejects('$abc\r\n', /Invalid RESP bulk length/);
    rejects('$\r\n', /Invalid RESP bulk length/);
    rejects('$ 5\r\n', /Invalid RESP bulk length/);
    rejects('$0005\r\n', /Invalid RESP bulk length/);
    rejects(`$${RESP_LIMITS.maxBulkLength + 1}\r\n`, /exceeds the limit/);
    rejects('$99999999999999999999\r\n', /Invalid RESP bulk length/);
    rejects(`*${RESP_LIMITS.maxElements + 1}\r\n`, /exceeds the limit/);
    rejects(':12a\r\n', /Invalid RESP integer/);
  });

  it('waits (never allocates) for a large but legal declared size', () => {
    // 512 MB declared, 10 bytes present: need more; the session's read cap ends it, not the decoder.
    assert.equal(decodeAll(`$${RESP_LIMITS.maxBulkLength}\r\nabcdefghij`), undefined);
    // A million elements declared, one present: need more, and no preallocated array.
    assert.equal(decodeAll(`*${RESP_LIMITS.maxElements}\r\n:1\r\n`), undefined);
  });

  it('rejects a bulk string whose declared length does not end at CRLF', () => {
    rejects('$3\r\nhello\r\n', /not followed by CRLF/);
  });

  it('rejects nesting deeper than the limit and accepts it at the limit', () => {
    const nested = (n: number): string => '*1\r\n'.repeat(n) + ':1\r\n';
    assert.equal(decodeAll(nested(RESP_LIMITS.maxDepth))?.consumed, nested(RESP_LIMITS.maxDepth).length);
    rejects(nested(RESP_LIMITS.maxDepth + 1), /nested deeper/);
    rejects(nested(100_000), /nested deeper/);
  });

  it('rejects a 1 MB line without CRLF, and waits below the line bound', () => {
    const huge = Buffer.alloc(1024 * 1024, 0x61);
    huge[0] = 0x2b; // '+'
    const started = performance.now();
    rejects(huge, /longer than/);
    assert.ok(performance.now() - started < 1000);
    const partial = Buffer.alloc(RESP_LIMITS.maxLineLength, 0x61);
    partial[0] = 0x2b;
    assert.equal(decodeAll(partial), undefined);
    rejects(Buffer.concat([b('$'), Buffer.alloc(RESP_LIMITS.maxLineLength + 2, 0x31)]), /longer than/);
  });

  it('fuzz: 2,000 random buffers only ever decode, wait or throw ProtocolError', () => {
    const rand = rng(0x5eed);
    const alphabet = b('+-:$*\r\n0123456789-abcOK');
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 64);
      const buf = Buffer.alloc(len);
      // Half fully random bytes, half drawn from RESP's own alphabet so the parser goes deep.
      const biased = rand() < 0.5;
      for (let j = 0; j < len; j++) buf[j] = biased ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
      try {
        const r = decodeResp(buf);
        if (r) assert.ok(r.consumed > 0 && r.consumed <= buf.length, `consumed ${r.consumed} of ${buf.length}`);
      } catch (err) {
        assert.ok(err instanceof ProtocolError, `input ${buf.toString('hex')} threw ${String(err)}`);
      }
    }
  });

  it('fuzz: random truncations and byte flips of valid frames', () => {
    const rand = rng(42);
    const valid = [
      b('*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$8\r\nlockdown\r\n'),
      encodeBulk('# Keyspace\r\ndb0:keys=3,expires=0\r\n'),
      b('*2\r\n*2\r\n:1\r\n+a\r\n*-1\r\n'),
      b('-NOAUTH Authentication required.\r\n'),
    ];
    for (const v of valid) assert.equal(decodeResp(v)?.consumed, v.length, 'fixture must be a valid frame');
    for (let i = 0; i < 2000; i++) {
      const src = valid[i % valid.length]!;
      const buf = Buffer.from(src.subarray(0, Math.floor(rand() * (src.length + 1))));
      if (rand() < 0.5 && buf.length > 0) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      try {
        const r = decodeResp(buf);
        if (r) assert.ok(r.consumed > 0 && r.consumed <= buf.length);
      } catch (err) {
        assert.ok(err instanceof ProtocolError, `input ${buf.toString('hex')} threw ${String(err)}`);
      }
    }
  });
});

describe('redis INFO parser', () => {
  // Trimmed from a real Redis 7.0.15 master with one replica, and from that replica.
  const master = [
    '# Server',
    'redis_version:7.0.15',
    'redis_mode:standalone',
    'os:Linux 6.18.44-fc-v657 x86_64',
    'uptime_in_seconds:70',
    '',
    '# Clients',
    'connected_clients:1',
    '',
    '# Memory',
    'used_memory:1059160',
    'used_memory_human:1.01M',
    '',
    '# Replication',
    'role:master',
    'connected_slaves:1',
    'slave0:ip=127.0.10.1,port=6380,state=online,offset=98,lag=1',
    'master_failover_state:no-failover',
    '',
    '# Keyspace',
    'db0:keys=3,expires=1,avg_ttl=0',
    'db1:keys=2,expires=0,avg_ttl=0',
    '',
  ].join('\r\n');
  const replica = ['# Replication', 'role:slave', 'master_host:127.0.10.1', 'master_port:6379', 'master_link_status:up', ''].join('\r\n');

  it('splits sections and fields', () => {
    const info = parseInfo(master);
    assert.equal(info.get('server')?.get('redis_version'), '7.0.15');
    assert.equal(infoField(info, 'used_memory'), '1059160');
    assert.equal(infoField(info, 'os'), 'Linux 6.18.44-fc-v657 x86_64');
    assert.equal(infoField(info, 'missing'), undefined);
  });

  it('reads the keyspace', () => {
    assert.deepEqual(parseKeyspace(parseInfo(master)), { db0: { keys: 3, expires: 1 }, db1: { keys: 2, expires: 0 } });
    assert.deepEqual(parseKeyspace(parseInfo('# Keyspace\r\n')), {});
    assert.deepEqual(parseKeyspace(parseInfo('# Keyspace\r\ndbx:keys=1\r\ndb2:keys=zz\r\n')), {});
  });

  it('reads replication both ways', () => {
    assert.deepEqual(parseReplication(parseInfo(master)), {
      role: 'master',
      master: undefined,
      replicas: [{ field: 'slave0', ip: '127.0.10.1', port: 6380, state: 'online', offset: 98, lag: 1 }],
    });
    assert.deepEqual(parseReplication(parseInfo(replica)), {
      role: 'slave',
      master: { host: '127.0.10.1', port: 6379 },
      replicas: [],
    });
  });

  it('lazy sections and field lookups agree with a plain line-by-line parse', () => {
    // The reference: split every line, `# Name` opens a section, `field:value` lines fill it.
    const reference = (text: string): Map<string, Map<string, string>> => {
      const sections = new Map<string, Map<string, string>>([['', new Map()]]);
      let current = sections.get('')!;
      for (const raw of text.split('\n')) {
        const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (line.startsWith('#')) {
          const name = line.slice(1).trim().toLowerCase();
          current = sections.get(name) ?? new Map();
          sections.set(name, current);
        } else if (line.indexOf(':') > 0 && !current.has(line.slice(0, line.indexOf(':')))) {
          current.set(line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1));
        }
      }
      return sections;
    };
    const texts = [
      master,
      replica,
      master.replaceAll('\r\n', '\n'),
      'loose:1\r\n# Server\r\nredis_version:7\r\n',
      '# A\r\nx:1\r\n# B\r\ny:2\r\n# a\r\nz:3',
      '',
      '#\r\n:novalue\r\nk:v:w\r\n#Tight\r\nt:1\r\n\r\n',
    ];
    for (const text of texts) {
      const info = parseInfo(text);
      for (const [name, fields] of reference(text)) {
        if (name === '' && fields.size === 0) continue;
        assert.deepEqual(info.get(name), fields, `section ${JSON.stringify(name)} of ${JSON.stringify(text.slice(0, 40))}`);
        for (const [field, value] of fields) assert.equal(infoField(info, field), value, field);
      }
    }
    assert.equal(infoField(parseInfo('a:1\r\n'), 'a'), '1');
    assert.equal(infoField(parseInfo('ba:1\r\n'), 'a'), undefined);
    assert.equal(infoField(parseInfo('# S\r\nx:1\r\n'), '# S\r\nx'), undefined);
  });

  it('does not let field names reach the prototype', () => {
    const info = parseInfo('# Keyspace\r\n__proto__:keys=1\r\nconstructor:x\r\n');
    assert.deepEqual(parseKeyspace(info), {});
    assert.equal(({} as Record<string, unknown>).keys, undefined);
  });
});
