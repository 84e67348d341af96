/**
 * Who to write to, in order: one entry per e-mail address, the most fitting role kept.
 * Order: RDAP `abuse` (the registry's channel for exactly this), the host's own security.txt
 * (`security`), then RDAP `technical`, `noc`, `administrative`, `registrant`, anything else.
 */
import { flattenEntities, normaliseEmail } from './rdap-parse.js';
import { type Contact, type RdapNetwork, type SecurityTxt } from './types.js';

const ROLE_ORDER = ['abuse', 'security', 'technical', 'noc', 'administrative', 'registrant'];

function rank(role: string): number {
  const i = ROLE_ORDER.indexOf(role);
  return i === -1 ? ROLE_ORDER.length : i;
}

/** The most fitting of an entity's roles (an entity listed as both `technical` and `abuse` is `abuse`). */
function bestRole(roles: readonly string[]): string {
  let best = roles[0] ?? 'contact';
  for (const r of roles) if (rank(r) < rank(best)) best = r;
  return best;
}

export function collectContacts(rdap: RdapNetwork | undefined, securityTxt: SecurityTxt | undefined): Contact[] {
  const all: Contact[] = [];
  for (const e of rdap ? flattenEntities(rdap.entities) : []) {
    const role = bestRole(e.roles);
    for (const email of e.emails) all.push({ email, source: 'rdap', role });
  }
  for (const c of securityTxt?.contacts ?? []) {
    if (!/^mailto:/i.test(c)) continue;
    const email = normaliseEmail(c);
    if (email !== undefined) all.push({ email, source: 'security.txt', role: 'security' });
  }
  // Stable sort: within a role, the order found (registry entities as nested, then security.txt).
  all.sort((a, b) => rank(a.role) - rank(b.role));
  const seen = new Set<string>();
  return all.filter((c) => {
    const key = c.email.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
