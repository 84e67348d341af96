import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Attribution as FoundAttribution } from '../attribution/types.js';
import { caseAttributionOf } from './attribution-lookup.js';

const found: FoundAttribution = {
  ip: '192.0.2.10',
  ptr: ['db1.customer.example'],
  rdap: {
    handle: 'NET-192-0-2-0-1',
    name: 'EXAMPLE-NET',
    cidrs: ['192.0.2.0/24'],
    cidr: '192.0.2.0/24',
    country: 'DE',
    registry: 'https://rdap.example/',
    url: 'https://rdap.example/ip/192.0.2.10',
    abuseEmails: ['abuse@hoster.example'],
    remarks: [],
    entities: [
      {
        roles: ['registrant'],
        org: 'Example Hosting GmbH',
        emails: [],
        phones: [],
        addresses: [],
        remarks: [],
        entities: [{ roles: ['abuse'], name: 'Abuse desk', emails: ['abuse@hoster.example'], phones: [], addresses: [], remarks: [], entities: [] }],
      },
    ],
  },
  asn: { number: 64500, org: 'EXAMPLE-AS' },
  geo: { country: 'DE' },
  contacts: [
    { email: 'abuse@hoster.example', source: 'rdap', role: 'abuse' },
    { email: 'security@customer.example', source: 'security.txt', role: 'security' },
  ],
  errors: [],
  cached: [],
};

describe('attribution → case', () => {
  it('keeps the contacts in order and the owner, ASN and country for the statistics', () => {
    const out = caseAttributionOf(found);
    assert.deepEqual(out.contacts, found.contacts);
    assert.deepEqual(out.attribution, { owner: 'Example Hosting GmbH', org: 'EXAMPLE-AS', asn: 64500, country: 'DE', source: 'rdap+mmdb' });
  });

  it('falls back to the AS organisation, then the network name; nothing found is an empty record', () => {
    const noRegistrant = caseAttributionOf({ ...found, rdap: { ...found.rdap!, entities: [] } });
    assert.equal(noRegistrant.attribution.owner, 'EXAMPLE-AS');
    const rdapOnly = caseAttributionOf({ ...found, asn: undefined, geo: undefined, rdap: { ...found.rdap!, entities: [] } });
    assert.deepEqual(rdapOnly.attribution, { owner: 'EXAMPLE-NET', country: 'DE', source: 'rdap' });
    assert.deepEqual(caseAttributionOf({ ip: '192.0.2.1', ptr: [], contacts: [], errors: ['RDAP timed out'], cached: [] }), { contacts: [], attribution: {} });
  });
});
