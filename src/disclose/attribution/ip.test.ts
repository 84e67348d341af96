import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type IpAddress } from '../../targets/address.js';
import { cidrContains, coveringPrefixes, formatCidr, parseAddress, parseCidr, rangeToCidrs } from './ip.js';

const a = (text: string): IpAddress => {
  const r = parseAddress(text);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};
const range = (s: string, e: string): string[] => rangeToCidrs(a(s), a(e)).map(formatCidr);

describe('attribution prefix arithmetic', () => {
  it('summarises ranges into the fewest CIDRs', () => {
    assert.deepEqual(range('192.0.2.0', '192.0.2.255'), ['192.0.2.0/24']);
    assert.deepEqual(range('192.0.2.1', '192.0.2.1'), ['192.0.2.1/32']);
    assert.deepEqual(range('192.0.2.1', '192.0.2.6'), ['192.0.2.1/32', '192.0.2.2/31', '192.0.2.4/31', '192.0.2.6/32']);
    assert.deepEqual(range('0.0.0.0', '255.255.255.255'), ['0.0.0.0/0']);
    assert.deepEqual(range('::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), ['::/0']);
    assert.deepEqual(range('2001:db8::', '2001:db8:0:ffff:ffff:ffff:ffff:ffff'), ['2001:db8::/48']);
    assert.deepEqual(range('192.0.2.9', '192.0.2.1'), [], 'inverted');
    assert.deepEqual(range('192.0.2.1', '2001:db8::1'), [], 'mixed families');
    // The worst case stays bounded: 2 × bits − 2 pieces.
    assert.equal(range('0.0.0.1', '255.255.255.254').length, 62);
  });

  it('parses CIDRs, clears host bits, and refuses bad lengths', () => {
    const c = parseCidr('192.0.2.77/24');
    assert.ok(c.ok);
    assert.equal(formatCidr(c.value), '192.0.2.0/24');
    assert.ok(cidrContains(c.value, a('192.0.2.255')));
    assert.ok(!cidrContains(c.value, a('192.0.3.0')));
    assert.ok(!cidrContains(c.value, a('2001:db8::1')));
    for (const bad of ['192.0.2.0/33', '192.0.2.0/-1', '192.0.2.0/2/4', '2001:db8::/129', 'x/8', '192.0.2.0/ 8']) assert.equal(parseCidr(bad).ok, false, bad);
  });

  it('turns IPv4-mapped IPv6 into IPv4', () => {
    assert.deepEqual(a('::ffff:192.0.2.10'), a('192.0.2.10'));
  });

  it('lists the covering prefixes, most specific first, down to /8 or /12', () => {
    const v4 = coveringPrefixes(a('192.0.2.10'));
    assert.equal(v4.length, 25);
    assert.deepEqual([v4[0], v4[8], v4.at(-1)], ['192.0.2.10/32', '192.0.2.0/24', '192.0.0.0/8']);
    const v6 = coveringPrefixes(a('2001:db8::1'));
    assert.equal(v6.length, 117);
    assert.deepEqual([v6[0], v6.at(-1)], ['2001:db8::1/128', '2000::/12']);
  });
});
