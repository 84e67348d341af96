import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
});
