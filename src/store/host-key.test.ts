import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ipaddr from 'ipaddr.js';
import { hostKey } from './host-key.js';

describe('hostKey', () => {
  it('is the 16-byte address in hex, IPv4 mapped into IPv6', () => {
    assert.equal(hostKey('10.0.0.2'), '00000000000000000000ffff0a000002');
    assert.equal(hostKey('::ffff:10.0.0.2'), hostKey('10.0.0.2'));
    assert.equal(hostKey('2001:db8::1'), '20010db8000000000000000000000001');
    assert.equal(hostKey('2001:DB8:0:0::1'), hostKey('2001:db8::1'));
  });

  it('sorts like the addresses', () => {
    const hosts = ['2001:db8::1', '10.0.0.10', '::1', '10.0.0.2', '192.168.1.1', '9.255.255.255', 'not-an-ip'];
    const sorted = [...hosts].sort((a, b) => (hostKey(a) < hostKey(b) ? -1 : 1));
    assert.deepEqual(sorted, ['::1', '9.255.255.255', '10.0.0.2', '10.0.0.10', '192.168.1.1', '2001:db8::1', 'not-an-ip']);
  });

  it("dotted-quad fast path gives the parser's key; leading zeros (octal to ipaddr.js) take the parser", () => {
    const viaParser = (h: string) =>
      ipaddr.IPv4.parse(h)
        .toIPv4MappedAddress()
        .toByteArray()
        .map((b) => b.toString(16).padStart(2, '0'))
        .join('');
    let x = 0x9e3779b9;
    for (let i = 0; i < 5000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const h = [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255].join('.');
      assert.equal(hostKey(h), viaParser(h), h);
    }
    for (const h of ['0.0.0.0', '255.255.255.255', '127.0.0.1', '010.0.0.1', '1.2.3.04']) assert.equal(hostKey(h), viaParser(h), h);
    assert.equal(hostKey('256.1.1.1'), '~256.1.1.1');
  });
});
