import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, LockdownError } from '../../core/errors.js';
import { rdapFixture } from '../../../test/helpers/attribution-servers.js';
import { collectContacts } from './contacts.js';
import { MAX_ENTITIES, findReferral, flattenEntities, normaliseEmail, parseRdapNetwork, rdapErrorText } from './rdap-parse.js';

const fixture = (name: string): unknown => JSON.parse(rdapFixture(name)) as unknown;

describe('parseRdapNetwork', () => {
  it('reads the RFC 9083 §5.4 example: range summarised to a CIDR, structured adr, tel URI', () => {
    const n = parseRdapNetwork(fixture('rfc9083-ip-network.json'), 'https://example.net/', 'https://example.net/ip/2001:db8::1');
    assert.equal(n.handle, 'XXXX-RIR');
    assert.equal(n.name, 'NET-RTR-1');
    assert.equal(n.type, 'DIRECT ALLOCATION');
    assert.equal(n.country, 'AU');
    assert.equal(n.parentHandle, 'YYYY-RIR');
    // No cidr0_cidrs: 2001:db8:: – 2001:db8:0:ffff:… is exactly a /48.
    assert.deepEqual(n.cidrs, ['2001:db8::/48']);
    assert.equal(n.cidr, '2001:db8::/48');
    assert.deepEqual(n.remarks, ['She sells sea shells down by the sea shore. Originally written by Terry Sullivan.']);
    assert.equal(n.entities.length, 1);
    const e = n.entities[0]!;
    assert.deepEqual(e.roles, ['registrant']);
    assert.equal(e.name, 'Joe User');
    assert.equal(e.kind, 'individual');
    assert.equal(e.org, 'Example');
    assert.deepEqual(e.emails, ['joe.user@example.com']);
    assert.deepEqual(e.phones, ['tel:+1-555-555-1234;ext=102']);
    assert.deepEqual(e.addresses, ['Suite 1234, 4321 Rue Somewhere, Quebec, QC, G1V 2M2, Canada']);
    assert.deepEqual(n.abuseEmails, []);
  });

  it('finds ARIN\'s abuse POC nested inside the registrant organisation', () => {
    const n = parseRdapNetwork(fixture('arin-ip-network.json'), 'https://rdap.arin.net/registry/', 'https://rdap.arin.net/registry/ip/192.0.2.10');
    assert.equal(n.handle, 'NET-192-0-2-0-1');
    assert.equal(n.name, 'EXAMPLE-HOSTING-NET');
    assert.deepEqual(n.cidrs, ['192.0.2.0/24']);
    assert.equal(n.country, undefined, 'ARIN network objects carry no country');
    assert.deepEqual(n.abuseEmails, ['abuse@hosting.example.net']);
    const org = n.entities[0]!;
    assert.equal(org.name, 'Example Hosting, Inc.');
    assert.equal(org.kind, 'org');
    assert.deepEqual(org.addresses, ['100 Example Street\nSpringfield\nVA\n22150\nUnited States']);
    assert.deepEqual(
      org.entities.map((e) => [e.handle, e.roles, e.emails]),
      [
        ['ABUSE64500-ARIN', ['abuse'], ['abuse@hosting.example.net']],
        ['NOC64500-ARIN', ['technical', 'noc'], ['noc@hosting.example.net']],
        // The domain is lower-cased, the local part kept as written.
        ['ADMIN64500-ARIN', ['administrative'], ['Jane.Admin@hosting.example.net']],
      ],
    );
    assert.deepEqual(org.entities[0]!.phones, ['+1-703-555-0100']);
    assert.deepEqual(n.remarks, ['Registration Comments: Abuse reports for this block: abuse@hosting.example.net Customer networks are reassigned below this block.']);
  });

  it('reads RIPE\'s abuse-c role object and keeps vCard-less stubs', () => {
    const n = parseRdapNetwork(fixture('ripe-ip-network.json'), 'https://rdap.db.ripe.net/', 'https://rdap.db.ripe.net/ip/198.51.100.7');
    assert.equal(n.handle, '198.51.100.0 - 198.51.100.255');
    assert.equal(n.country, 'DE');
    assert.deepEqual(n.cidrs, ['198.51.100.0/24']);
    assert.deepEqual(n.abuseEmails, ['abuse@datenhaus.example.net']);
    assert.equal(n.entities.length, 4);
    const stub = n.entities.find((e) => e.handle === 'EDH1-RIPE')!;
    assert.deepEqual(stub.emails, []);
    assert.equal(stub.name, undefined);
    const abuse = n.entities.find((e) => e.roles.includes('abuse'))!;
    assert.equal(abuse.entities.length, 2, 'nested filtered stubs kept');
    assert.deepEqual(n.entities[0]!.addresses, ['Beispielstrasse 1\n60311 Frankfurt\nGERMANY']);
    assert.equal(flattenEntities(n.entities).length, 6);
  });

  it('reads APNIC\'s IRT entity as the abuse contact and entity remarks', () => {
    const n = parseRdapNetwork(fixture('apnic-ip-network.json'), 'https://rdap.apnic.net/', 'https://rdap.apnic.net/ip/127.0.40.2');
    assert.deepEqual(n.abuseEmails, ['abuse@cloud.example.cn']);
    assert.equal(n.entities[0]!.handle, 'IRT-EXAMPLECLOUD-CN');
    assert.deepEqual(n.entities[0]!.remarks, ['remarks: abuse@cloud.example.cn was validated on 2024-11-05']);
    assert.deepEqual(n.remarks, ['description: Example Cloud Computing Co., Ltd.', 'remarks: abuse contact: see the IRT object']);
  });

  it('summarises a range that is not one CIDR, and reads RIPE\'s old "a.b.c.d/32" address form', () => {
    const n = parseRdapNetwork(
      { objectClassName: 'ip network', startAddress: '192.0.2.0/32', endAddress: '192.0.2.191/32' },
      'https://r.example/',
      'https://r.example/ip/192.0.2.1',
    );
    assert.deepEqual(n.cidrs, ['192.0.2.0/25', '192.0.2.128/26']);
  });

  it('refuses replies that are not an IP network object with a ProtocolError naming the URL', () => {
    for (const body of [fixture('error-404.json'), [1, 2], 'text', null, { objectClassName: 'domain', ldhName: 'example.com' }]) {
      assert.throws(
        () => parseRdapNetwork(body, 'https://r.example/', 'https://r.example/ip/192.0.2.1'),
        (err: unknown) => err instanceof LockdownError && err.code === ErrorCode.protocol && err.message.includes('https://r.example/ip/192.0.2.1'),
      );
    }
  });

  it('skips members of the wrong type instead of trusting them (hostile reply)', () => {
    const n = parseRdapNetwork(
      {
        objectClassName: 'ip network',
        handle: 42,
        name: { evil: true },
        country: 'Germany',
        cidr0_cidrs: [{ v4prefix: '192.0.2.0', length: 'x' }, 'junk', { v4prefix: '192.0.2.0', length: 40 }],
        startAddress: '192.0.2.0',
        endAddress: '192.0.2.255',
        remarks: 'not a list',
        entities: [
          null,
          'x',
          { roles: 'abuse', vcardArray: ['vcard', 'nope'] },
          { roles: ['abuse'], vcardArray: ['vcard', [['email', {}, 'text', 'not an email'], ['email', {}, 'text', 'ok@example.net'], 'junk', [7]]] },
        ],
      },
      'https://r.example/',
      'https://r.example/ip/192.0.2.1',
    );
    assert.equal(n.handle, undefined);
    assert.equal(n.name, undefined);
    assert.equal(n.country, undefined, 'a country that is not a two-letter code is dropped');
    assert.deepEqual(n.cidrs, ['192.0.2.0/24'], 'falls back to the range when no cidr0 entry is valid');
    assert.deepEqual(n.remarks, []);
    assert.equal(n.entities.length, 2);
    assert.deepEqual(n.entities[0]!.roles, []);
    assert.deepEqual(n.abuseEmails, ['ok@example.net']);
  });

  it('bounds entity nesting and count', () => {
    // 10,000 levels deep and 10,000 wide: parsed in bounded time, into a bounded tree.
    let deep: Record<string, unknown> = { handle: 'leaf', roles: ['abuse'] };
    for (let i = 0; i < 10_000; i++) deep = { handle: `h${i}`, roles: ['technical'], entities: [deep] };
    const wide = Array.from({ length: 10_000 }, (_, i) => ({ handle: `w${i}`, roles: ['abuse'], vcardArray: ['vcard', [['email', {}, 'text', `a${i}@example.net`]]] }));
    const n = parseRdapNetwork({ objectClassName: 'ip network', entities: [deep, ...wide] }, 'https://r.example/', 'https://r.example/ip/192.0.2.1');
    const all = flattenEntities(n.entities);
    assert.ok(all.length <= MAX_ENTITIES, `${all.length} entities kept`);
    assert.ok(n.abuseEmails.length <= 50);
  });
});

describe('findReferral', () => {
  const self = 'https://a.example/registry/ip/198.51.100.8';
  const body = (links: unknown[]): unknown => ({ objectClassName: 'ip network', handle: 'NET-198', startAddress: '198.0.0.0', links });

  it('follows a related link of type application/rdap+json to an ip/ resource, not a text/html one', () => {
    const b = body([
      { rel: 'self', href: self, type: 'application/rdap+json' },
      { rel: 'related', href: 'https://www.example.net/transfers.html', type: 'text/html' },
      { rel: 'related', href: 'https://b.example/ip/198.51.100.8', type: 'application/rdap+json' },
    ]);
    assert.equal(findReferral(b, self, new Set([self])), 'https://b.example/ip/198.51.100.8');
  });

  it('ignores self, up, already visited and non-HTTP links', () => {
    const b = body([
      { rel: 'self', href: 'https://elsewhere.example/ip/198.51.100.8' },
      { rel: 'up', href: 'https://a.example/registry/ip/198.0.0.0/8' },
      { rel: 'related', href: 'https://b.example/ip/198.51.100.8' },
      { rel: 'related', href: 'ftp://b.example/ip/198.51.100.8' },
      { rel: 'related', href: 'javascript:alert(1)' },
    ]);
    assert.equal(findReferral(b, self, new Set([self, 'https://b.example/ip/198.51.100.8'])), undefined);
  });

  it('follows a self link to another server only when the reply is no network object', () => {
    const stub = { objectClassName: 'entity', links: [{ rel: 'self', href: 'https://b.example/ip/198.51.100.8' }] };
    assert.equal(findReferral(stub, self, new Set([self])), 'https://b.example/ip/198.51.100.8');
  });
});

describe('helpers', () => {
  it('normalises e-mail addresses and rejects what is not one', () => {
    assert.equal(normaliseEmail('mailto:Security@Example.NET'), 'Security@example.net');
    assert.equal(normaliseEmail('mailto:abuse%40example.net?subject=x'), 'abuse@example.net');
    for (const bad of ['', 'abuse', 'a@b', 'a b@example.net', '<a@example.net>', `${'a'.repeat(250)}@example.net`]) assert.equal(normaliseEmail(bad), undefined, bad);
  });

  it('reads an RFC 9083 §6 error body', () => {
    assert.equal(rdapErrorText(fixture('error-404.json')), 'Not Found: The server is not able to find the requested IP network.');
    assert.equal(rdapErrorText('x'), undefined);
  });
});

describe('collectContacts', () => {
  it('puts abuse first, then security.txt, then other roles; one entry per address', () => {
    const n = parseRdapNetwork(fixture('arin-ip-network.json'), 'https://rdap.arin.net/registry/', 'https://rdap.arin.net/registry/ip/192.0.2.10');
    const contacts = collectContacts(n, {
      url: 'https://192.0.2.10/.well-known/security.txt',
      contacts: ['https://example.net/report', 'mailto:security@hosting.example.net', 'mailto:ABUSE@hosting.example.net'],
      encryption: [],
      policy: [],
      canonical: [],
      signed: false,
    });
    assert.deepEqual(contacts, [
      { email: 'abuse@hosting.example.net', source: 'rdap', role: 'abuse' },
      { email: 'security@hosting.example.net', source: 'security.txt', role: 'security' },
      { email: 'noc@hosting.example.net', source: 'rdap', role: 'technical' },
      { email: 'Jane.Admin@hosting.example.net', source: 'rdap', role: 'administrative' },
    ]);
  });

  it('gives an entity with several roles its most fitting one (LACNIC lists one contact as admin, tech and abuse)', () => {
    const n = parseRdapNetwork(
      {
        objectClassName: 'ip network',
        entities: [{ roles: ['administrative', 'technical', 'abuse'], vcardArray: ['vcard', [['email', {}, 'text', 'ops@example.net']]] }],
      },
      'https://r.example/',
      'https://r.example/ip/192.0.2.1',
    );
    assert.deepEqual(collectContacts(n, undefined), [{ email: 'ops@example.net', source: 'rdap', role: 'abuse' }]);
  });
});
