import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Agent } from 'undici';
import {
  REGISTRY_A_ADDRESS,
  startHttp,
  startRegistries,
  writeTestBootstrap,
} from '../../../test/helpers/attribution-servers.js';
import { type IpAddress } from '../../targets/address.js';
import { newAgent } from './http-get.js';
import { parseAddress } from './ip.js';
import { type Bootstrap, findService, loadBootstrap } from './rdap-bootstrap.js';
import { type RdapLookup, RDAP_MAX_HOPS, RdapLookupError, lookupRdap, registryBase } from './rdap-client.js';

const addr = (ip: string): IpAddress => {
  const r = parseAddress(ip);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};

describe('RDAP bootstrap', () => {
  it('ships IANA\'s files and finds each RIR by longest prefix, https first', async () => {
    const b = await loadBootstrap();
    assert.equal(b.publication.v4, '2019-06-07T19:00:02Z');
    assert.equal(b.publication.v6, '2019-11-06T19:00:04Z');
    const base = (ip: string): string | undefined => findService(b, addr(ip))?.urls[0];
    assert.equal(base('8.8.8.8'), 'https://rdap.arin.net/registry/');
    assert.equal(base('193.0.6.139'), 'https://rdap.db.ripe.net/');
    assert.equal(base('1.1.1.1'), 'https://rdap.apnic.net/');
    assert.equal(base('200.160.2.3'), 'https://rdap.lacnic.net/rdap/');
    assert.equal(base('196.216.2.1'), 'https://rdap.afrinic.net/rdap/');
    assert.equal(base('2001:67c:2e8::1'), 'https://rdap.db.ripe.net/', '2001:600::/23 is RIPE');
    assert.equal(base('2600::1'), 'https://rdap.arin.net/registry/');
    assert.equal(base('10.0.0.1'), undefined, 'private space is in no registry');
  });

  it('refuses a bootstrap directory that is missing or not IANA\'s format, naming the file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-bootstrap-bad-'));
    try {
      await assert.rejects(loadBootstrap(dir), new RegExp(`Could not read RDAP bootstrap file ${path.join(dir, 'ipv4.json')}`));
      writeFileSync(path.join(dir, 'ipv4.json'), JSON.stringify({ services: [[['999.0.0.0/8'], ['https://x.example/']]] }));
      writeFileSync(path.join(dir, 'ipv6.json'), JSON.stringify({ services: [] }));
      await assert.rejects(loadBootstrap(dir), /ipv4\.json is not IANA's format: services\[0\] has an invalid IPv4 prefix "999\.0\.0\.0\/8"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lookupRdap against loopback registries', () => {
  let servers: Awaited<ReturnType<typeof startRegistries>>;
  let dir: string;
  let bootstrap: Bootstrap;
  let agent: Agent;
  const lookup = (ip: string, timeoutMs = 2000): Promise<RdapLookup> => lookupRdap(addr(ip), bootstrap, { agent, timeoutMs, userAgent: 'lockdown-test' });
  const rejectsWith = async (p: Promise<unknown>, message: string | RegExp): Promise<void> => {
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof RdapLookupError, String(err));
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    });
  };

  before(async () => {
    servers = await startRegistries();
    dir = writeTestBootstrap(servers.a.base);
    bootstrap = await loadBootstrap(dir);
    agent = await newAgent(2000);
  });
  after(async () => {
    await agent.destroy();
    await servers.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks the bootstrap registry and parses its answer', async () => {
    const before = servers.a.requests.length;
    const { network, errors } = await lookup('192.0.2.10');
    assert.deepEqual(errors, []);
    assert.equal(network.handle, 'NET-192-0-2-0-1');
    assert.equal(network.registry, `${servers.a.base}registry/`);
    assert.equal(network.url, `${servers.a.base}registry/ip/192.0.2.10`);
    assert.deepEqual(network.abuseEmails, ['abuse@hosting.example.net']);
    assert.deepEqual(servers.a.requests.slice(before), ['GET /registry/ip/192.0.2.10']);
  });

  it('asks for IPv6 addresses the same way', async () => {
    const { network } = await lookup('2001:db8::1');
    assert.equal(network.handle, 'XXXX-RIR');
    assert.equal(network.url, `${servers.a.base}registry/ip/2001:db8::1`);
  });

  it('follows a redirect to the registry that holds the block', async () => {
    const a0 = servers.a.requests.length;
    const b0 = servers.b.requests.length;
    const { network, errors } = await lookup('198.51.100.7');
    assert.deepEqual(errors, []);
    assert.equal(network.handle, '198.51.100.0 - 198.51.100.255');
    assert.equal(network.registry, servers.b.base);
    assert.deepEqual(network.abuseEmails, ['abuse@datenhaus.example.net']);
    assert.deepEqual(servers.a.requests.slice(a0), ['GET /registry/ip/198.51.100.7']);
    assert.deepEqual(servers.b.requests.slice(b0), ['GET /ip/198.51.100.7']);
  });

  it('follows a related referral in the reply (and not the text/html one)', async () => {
    const b0 = servers.b.requests.length;
    const { network, errors } = await lookup('198.51.100.8');
    assert.deepEqual(errors, []);
    assert.equal(network.name, 'EXAMPLE-DB-NET');
    assert.equal(network.url, `${servers.b.base}ip/198.51.100.8`);
    assert.deepEqual(servers.b.requests.slice(b0), ['GET /ip/198.51.100.8']);
  });

  it('keeps the referring registry\'s answer when the referral fails, and says so', async () => {
    const { network, errors } = await lookup('203.0.113.6');
    assert.equal(network.handle, 'NET-198-0-0-0-0');
    assert.deepEqual(network.abuseEmails, ['abuse@registry-a.example.org']);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^RDAP server 127\.0\.40\.4:\d+ has no record for 203\.0\.113\.6 \(HTTP 404: Not Found: .*\); kept the referring registry's answer from http:\/\/127\.0\.40\.3:\d+\/registry\/ip\/203\.0\.113\.6$/);
  });

  it('reports a 404 with the registry\'s error text', async () => {
    await rejectsWith(lookup('203.0.113.1'), `RDAP server ${REGISTRY_A_ADDRESS}:${servers.a.port} has no record for 203.0.113.1 (HTTP 404: Not Found: The server is not able to find the requested IP network.)`);
  });

  it('reports malformed JSON', async () => {
    await rejectsWith(lookup('203.0.113.2'), `RDAP reply from ${servers.a.base}registry/ip/203.0.113.2 is not valid JSON`);
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    const started = performance.now();
    await rejectsWith(lookup('203.0.113.3', 500), `RDAP server ${REGISTRY_A_ADDRESS}:${servers.a.port} did not answer within 500 ms (${servers.a.base}registry/ip/203.0.113.3)`);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 450 && elapsed < 5000, `took ${Math.round(elapsed)} ms`);
  });

  it('stops a redirect loop between two registries', async () => {
    const a0 = servers.a.requests.length;
    const b0 = servers.b.requests.length;
    await rejectsWith(
      lookup('203.0.113.4'),
      `RDAP redirect loop for 203.0.113.4: ${servers.b.base}ip/203.0.113.4 redirects back to ${servers.a.base}registry/ip/203.0.113.4`,
    );
    assert.equal(servers.a.requests.length - a0, 1);
    assert.equal(servers.b.requests.length - b0, 1);
  });

  it('stops an endless redirect chain after a bounded number of hops', async () => {
    const a0 = servers.a.requests.length;
    await rejectsWith(lookup('203.0.113.5'), new RegExp(`^RDAP lookup for 203\\.0\\.113\\.5 gave up after ${RDAP_MAX_HOPS} redirects and referrals`));
    assert.equal(servers.a.requests.length - a0, RDAP_MAX_HOPS + 1);
  });

  it('stops reading a reply larger than the cap', async () => {
    await rejectsWith(lookup('203.0.113.7'), /^RDAP server 127\.0\.40\.3:\d+ sent more than 2097152 bytes/);
  });

  it('reports rate limiting and a redirect without Location', async () => {
    await rejectsWith(lookup('203.0.113.8'), `RDAP server ${REGISTRY_A_ADDRESS}:${servers.a.port} is rate-limiting this client (HTTP 429); try again later`);
    await rejectsWith(lookup('203.0.113.9'), /answered HTTP 302 without a Location header/);
  });

  it('names the bootstrap and its date when no registry covers the address (nothing is sent)', async () => {
    const a0 = servers.a.requests.length;
    await rejectsWith(
      lookup('10.1.2.3'),
      `No RDAP server in the IANA bootstrap (${dir}, published 2026-01-01T00:00:00Z) covers 10.1.2.3; update the bootstrap files if the block is newer`,
    );
    assert.equal(servers.a.requests.length, a0);
  });

  it('reports a refused connection', async () => {
    const closed = await startHttp(REGISTRY_A_ADDRESS, () => {});
    await closed.close();
    const d = mkdtempSync(path.join(tmpdir(), 'lockdown-bootstrap-'));
    try {
      writeFileSync(path.join(d, 'ipv4.json'), JSON.stringify({ publication: 'x', services: [[['192.0.2.0/24'], [closed.base]]] }));
      writeFileSync(path.join(d, 'ipv6.json'), JSON.stringify({ publication: 'x', services: [] }));
      const b = await loadBootstrap(d);
      await rejectsWith(lookupRdap(addr('192.0.2.10'), b, { agent, timeoutMs: 1000, userAgent: 't' }), `RDAP server ${REGISTRY_A_ADDRESS}:${closed.port} refused the connection (${closed.base}ip/192.0.2.10)`);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('derives the registry base from a reply URL', () => {
    assert.equal(registryBase('https://rdap.arin.net/registry/ip/8.8.8.8'), 'https://rdap.arin.net/registry/');
    assert.equal(registryBase('https://rdap.db.ripe.net/ip/2001:db8::1'), 'https://rdap.db.ripe.net/');
    assert.equal(registryBase('https://rdap.example.net/other'), 'https://rdap.example.net/');
  });
});
