import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Dnsmasq, startDnsmasq, startSilentUdp } from '../../../test/helpers/attribution-servers.js';
import { ReverseDnsError, reverseLookup } from './reverse-dns.js';

/** Against Debian's dnsmasq on 127.0.40.1, answering only from its --ptr-record entries. */
describe('reverseLookup', () => {
  let dns: Dnsmasq;
  before(async () => {
    dns = await startDnsmasq([
      ['192.0.2.10', 'db1.example.org'],
      ['192.0.2.10', 'db1-alt.example.org'],
      ['2001:db8::10', 'db6.example.org'],
    ]);
  });
  after(async () => {
    await dns.stop();
  });

  it('returns the PTR names of an IPv4 address, sorted', async () => {
    const before = dns.ptrQueries();
    assert.deepEqual(await reverseLookup('192.0.2.10', { servers: [dns.server], timeoutMs: 2000 }), ['db1-alt.example.org', 'db1.example.org']);
    assert.equal(dns.ptrQueries(), before + 1, 'one query reached the server');
  });

  it('returns the PTR name of an IPv6 address', async () => {
    assert.deepEqual(await reverseLookup('2001:db8::10', { servers: [dns.server], timeoutMs: 2000 }), ['db6.example.org']);
  });

  it('answers NXDOMAIN with an empty list, not an error', async () => {
    assert.deepEqual(await reverseLookup('198.51.100.7', { servers: [dns.server], timeoutMs: 2000 }), []);
  });

  it('gives up on a server that never answers within the timeout', async () => {
    const silent = await startSilentUdp();
    try {
      const started = performance.now();
      await assert.rejects(
        reverseLookup('192.0.2.10', { servers: [silent.server], timeoutMs: 600 }),
        (err: unknown) => err instanceof ReverseDnsError && err.message === `Reverse DNS for 192.0.2.10 timed out after 600 ms (asked ${silent.server})`,
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 500 && elapsed < 4500, `took ${Math.round(elapsed)} ms`);
      assert.ok(silent.received() >= 1, 'the query was sent to the silent server');
    } finally {
      await silent.close();
    }
  });

  it('stops when the caller aborts', async () => {
    const silent = await startSilentUdp();
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const started = performance.now();
      await assert.rejects(reverseLookup('192.0.2.10', { servers: [silent.server], timeoutMs: 5000, signal: ac.signal }), /was cancelled/);
      assert.ok(performance.now() - started < 3000, 'the abort ended it long before the 5 s timeout');
    } finally {
      await silent.close();
    }
  });

  it('names an invalid server setting', async () => {
    await assert.rejects(reverseLookup('192.0.2.10', { servers: ['not an address'], timeoutMs: 500 }), /^ReverseDnsError: Invalid DNS server in attribution\.dnsServers \(not an address\)/);
  });
});
