import assert from 'node:assert/strict';
import { test } from 'node:test';
import ipaddr from 'ipaddr.js';
import { formatIp, formatIpv4, formatIpv6, parseIp, parseIpv4, parseIpv6 } from './address.js';

test('parses dotted-quad IPv4 to a bigint and formats it back', () => {
  assert.deepEqual(parseIpv4('10.0.0.1'), { ok: true, value: 0x0a000001n });
  assert.deepEqual(parseIpv4('255.255.255.255'), { ok: true, value: 0xffffffffn });
  assert.deepEqual(parseIpv4('0.0.0.0'), { ok: true, value: 0n });
  assert.equal(formatIpv4(0xc0a80101n), '192.168.1.1');
  assert.equal(formatIpv4(0xffffffffn), '255.255.255.255');
});

test('refuses IPv4 forms tools disagree on, with a reason', () => {
  const reasonOf = (text: string): string => {
    const r = parseIpv4(text);
    assert.equal(r.ok, false, text);
    return r.ok ? '' : r.reason;
  };
  assert.match(reasonOf('10.0.0.256'), /octet 4 \(256\) is out of range/);
  assert.match(reasonOf('010.0.0.1'), /leading zero/);
  assert.match(reasonOf('10.1'), /four decimal octets/);
  assert.match(reasonOf('0x0a.0.0.1'), /four decimal octets/);
  assert.match(reasonOf('1.2.3.4.5'), /four decimal octets/);
  assert.match(reasonOf('1.2.3.'), /four decimal octets/);
});

test('parses IPv6 including embedded IPv4 and refuses zones and garbage', () => {
  assert.deepEqual(parseIpv6('::1'), { ok: true, value: 1n });
  assert.deepEqual(parseIpv6('2001:db8::ff'), { ok: true, value: (0x20010db8n << 96n) | 0xffn });
  assert.deepEqual(parseIpv6('::ffff:10.0.0.1'), { ok: true, value: (0xffffn << 32n) | 0x0a000001n });
  assert.equal(parseIpv6('fe80::1%eth0').ok, false);
  assert.equal(parseIpv6('1:2:3:4:5:6:7:8:9').ok, false);
  assert.equal(parseIpv6('2001:db8::g').ok, false);
  assert.equal(parseIpv6(':::').ok, false);
  assert.equal(parseIp('::1').ok && parseIp('::1').ok, true);
});

test('formats IPv6 as RFC 5952, identical to ipaddr.js toRFC5952String', () => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // leftmost of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:db8::', '2001:db8::'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest run wins
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ];
  for (const [input, expected] of cases) {
    const r = parseIpv6(input);
    assert.ok(r.ok, input);
    assert.equal(formatIpv6(r.value), expected, input);
    assert.equal(formatIpv6(r.value), ipaddr.IPv6.parse(input).toRFC5952String(), input);
  }
  // Random addresses with many zero groups, against the reference implementation.
  let state = 12345;
  const rand16 = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % 3 === 0 ? (state >>> 12) & 0xffff : 0;
  };
  for (let n = 0; n < 2000; n++) {
    const parts = Array.from({ length: 8 }, rand16);
    const value = parts.reduce((acc, p) => (acc << 16n) | BigInt(p), 0n);
    assert.equal(formatIpv6(value), new ipaddr.IPv6(parts).toRFC5952String(), parts.join(':'));
  }
});

test('formatIp dispatches on family', () => {
  assert.equal(formatIp({ family: 4, value: 0x7f000001n }), '127.0.0.1');
  assert.equal(formatIp({ family: 6, value: 1n }), '::1');
});
