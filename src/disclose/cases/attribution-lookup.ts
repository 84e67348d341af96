/**
 * The bridge from the attribution stage (src/disclose/attribution: reverse DNS, RDAP, .mmdb, security.txt)
 * to the case service's `AttributionLookup`: contacts as found (abuse first), and the owner, ASN and
 * country that `lockdown case stats` groups open cases by.
 */
import { type Attribution as FoundAttribution, type RdapEntity } from '../attribution/types.js';
import { type AttributionLookup } from './case-service.js';
import { type Attribution } from './types.js';

/** The first registrant (else any) entity's organisation or name, at any depth. */
function registrantName(entities: readonly RdapEntity[]): string | undefined {
  const all: RdapEntity[] = [];
  const walk = (list: readonly RdapEntity[]): void => {
    for (const e of list) {
      all.push(e);
      walk(e.entities);
    }
  };
  walk(entities);
  const pick = all.find((e) => e.roles.includes('registrant') && (e.org || e.name)) ?? all.find((e) => e.org && !e.roles.includes('abuse'));
  return pick ? (pick.org ?? pick.name) : undefined;
}

/** What a case keeps of an attribution result. */
export function caseAttributionOf(found: FoundAttribution): { contacts: FoundAttribution['contacts']; attribution: Attribution } {
  const owner = (found.rdap ? registrantName(found.rdap.entities) : undefined) ?? found.asn?.org ?? found.rdap?.name;
  const org = found.asn?.org;
  const country = found.geo?.country ?? found.rdap?.country;
  const sources = [found.rdap ? 'rdap' : '', found.asn ? 'mmdb' : '', found.securityTxt ? 'security.txt' : ''].filter(Boolean);
  const attribution: Attribution = {
    ...(owner ? { owner } : {}),
    ...(org ? { org } : {}),
    ...(found.asn ? { asn: found.asn.number } : {}),
    ...(country ? { country } : {}),
    ...(sources.length > 0 ? { source: sources.join('+') } : {}),
  };
  return { contacts: found.contacts.map((c) => ({ email: c.email, source: c.source, role: c.role })), attribution };
}

/** An `AttributionLookup` over any function that attributes one address (e.g. `attribute(ip, cfg, deps)`). */
export function attributionLookup(attributeIp: (ip: string) => Promise<FoundAttribution>): AttributionLookup {
  return async (finding) => caseAttributionOf(await attributeIp(finding.host));
}
