/**
 * RDAP replies (RFC 9083) → `RdapNetwork`. Pure functions over parsed JSON: no I/O.
 *
 * Registries differ in shape (see test/fixtures/rdap/README.md): ARIN nests the abuse contact inside
 * the registrant organisation, RIPE lists the abuse-c role object at the top with filtered stubs
 * nested in it, APNIC uses an IRT entity with the `abuse` role, LACNIC repeats one contact under
 * several roles. Everything is walked recursively, bounded, and anything of the wrong type is skipped
 * rather than trusted: a reply is data from the network.
 */
import { ProtocolError } from '../../core/errors.js';
import { type Cidr, formatCidr, parseAddress, parseCidr, rangeToCidrs } from './ip.js';
import { type RdapEntity, type RdapNetwork } from './types.js';

/** Nesting depth of entities kept; real replies go 2–3 deep. */
export const MAX_ENTITY_DEPTH = 6;
/** Entities kept per reply, all depths together. */
export const MAX_ENTITIES = 200;
/** Longest string kept from a reply; longer ones are cut. */
const MAX_STRING = 1000;
/** Values kept per list (emails of one entity, remark lines …). */
const MAX_LIST = 50;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (s === '') return undefined;
  return s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s;
}

function strings(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const x of v.slice(0, MAX_LIST)) {
    const s = str(x);
    if (s !== undefined) out.push(s);
  }
  return out;
}

function pushUnique(list: string[], value: string | undefined): void {
  if (value !== undefined && !list.includes(value) && list.length < MAX_LIST) list.push(value);
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

/** A plausible e-mail address (registries sometimes put `mailto:` in front or upper-case the domain). */
export function normaliseEmail(raw: string): string | undefined {
  let s = raw.trim();
  if (/^mailto:/i.test(s)) s = s.slice(7);
  s = s.split('?')[0] ?? '';
  try {
    s = decodeURIComponent(s);
  } catch {
    return undefined;
  }
  if (s.length > 254 || !EMAIL.test(s)) return undefined;
  const at = s.lastIndexOf('@');
  return s.slice(0, at) + '@' + s.slice(at + 1).toLowerCase();
}

/** `remarks`/`notices` (RFC 9083 §4.3): one line per remark, `title: description …`. */
export function remarkLines(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const r of v.slice(0, MAX_LIST)) {
    if (!isObject(r)) continue;
    const title = str(r.title);
    const text = strings(r.description).join(' ');
    const line = title && text ? `${title}: ${text}` : (title ?? text);
    if (line) out.push(line.length > MAX_STRING ? line.slice(0, MAX_STRING) : line);
  }
  return out;
}

/** The text of a jCard property value: a string, or the non-empty string parts of a structured value. */
function propertyText(values: unknown[]): string | undefined {
  const parts: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 2) return;
    if (typeof v === 'string') {
      const s = v.trim();
      if (s) parts.push(s);
    } else if (Array.isArray(v)) for (const x of v.slice(0, 20)) walk(x, depth + 1);
  };
  for (const v of values) walk(v, 0);
  return parts.length > 0 ? str(parts.join(', ')) : undefined;
}

/** Fills `entity` from a jCard (RFC 7095): `["vcard", [[name, params, type, value…], …]]`. */
function readVcard(vcardArray: unknown, entity: RdapEntity): void {
  if (!Array.isArray(vcardArray) || vcardArray[0] !== 'vcard' || !Array.isArray(vcardArray[1])) return;
  for (const prop of vcardArray[1].slice(0, 200)) {
    if (!Array.isArray(prop) || typeof prop[0] !== 'string') continue;
    const name = prop[0].toLowerCase();
    const params = isObject(prop[1]) ? prop[1] : {};
    const values = prop.slice(3);
    switch (name) {
      case 'fn':
        entity.name ??= propertyText(values);
        break;
      case 'kind':
        entity.kind ??= propertyText(values)?.toLowerCase();
        break;
      case 'org':
        entity.org ??= propertyText(values);
        break;
      case 'email': {
        const e = typeof values[0] === 'string' ? normaliseEmail(values[0]) : undefined;
        pushUnique(entity.emails, e);
        break;
      }
      case 'tel':
        pushUnique(entity.phones, propertyText(values));
        break;
      case 'adr': {
        // The label parameter is the printable address; the structured value is often all empty.
        const label = str(params.label)?.replace(/\\n/g, '\n');
        pushUnique(entity.addresses, label ?? propertyText(values));
        break;
      }
      default:
        break;
    }
  }
}

interface Budget {
  left: number;
}

function readEntities(v: unknown, depth: number, budget: Budget): RdapEntity[] {
  if (!Array.isArray(v) || depth > MAX_ENTITY_DEPTH) return [];
  const out: RdapEntity[] = [];
  for (const e of v) {
    if (budget.left <= 0) break;
    if (!isObject(e)) continue;
    budget.left--;
    const entity: RdapEntity = {
      roles: strings(e.roles).map((r) => r.toLowerCase()),
      emails: [],
      phones: [],
      addresses: [],
      remarks: remarkLines(e.remarks),
      entities: [],
    };
    const handle = str(e.handle);
    if (handle !== undefined) entity.handle = handle;
    readVcard(e.vcardArray, entity);
    entity.entities = readEntities(e.entities, depth + 1, budget);
    out.push(entity);
  }
  return out;
}

/** Every entity, depth first, parents before children. */
export function flattenEntities(entities: readonly RdapEntity[]): RdapEntity[] {
  const out: RdapEntity[] = [];
  const walk = (list: readonly RdapEntity[]): void => {
    for (const e of list) {
      out.push(e);
      walk(e.entities);
    }
  };
  walk(entities);
  return out;
}

/** The network's prefixes: the NRO `cidr0_cidrs` extension when given, else the start–end range summarised. */
function readCidrs(o: Json): Cidr[] {
  const out: Cidr[] = [];
  if (Array.isArray(o.cidr0_cidrs)) {
    for (const c of o.cidr0_cidrs.slice(0, MAX_LIST)) {
      if (!isObject(c)) continue;
      const prefix = str(c.v4prefix) ?? str(c.v6prefix);
      const length = typeof c.length === 'number' ? c.length : typeof c.length === 'string' ? Number(c.length) : NaN;
      if (prefix === undefined || !Number.isInteger(length)) continue;
      const p = parseCidr(`${prefix}/${length}`);
      if (p.ok) out.push(p.value);
    }
    if (out.length > 0) return out;
  }
  // Some registries (older RIPE replies) write the addresses as `a.b.c.d/32`.
  const start = str(o.startAddress)?.split('/')[0];
  const end = str(o.endAddress)?.split('/')[0];
  if (start === undefined || end === undefined) return out;
  const s = parseAddress(start);
  const e = parseAddress(end);
  return s.ok && e.ok ? rangeToCidrs(s.value, e.value).slice(0, MAX_LIST) : out;
}

/** True when the reply is an IP network object (RFC 9083 §5.4), the answer to an `ip/` query. */
export function isIpNetwork(o: unknown): o is Json {
  return isObject(o) && (o.objectClassName === 'ip network' || (o.objectClassName === undefined && typeof o.startAddress === 'string'));
}

/** The `title`/`description` of an RDAP error reply (RFC 9083 §6), when the body is one. */
export function rdapErrorText(o: unknown): string | undefined {
  if (!isObject(o)) return undefined;
  const title = str(o.title);
  const description = strings(o.description).join(' ');
  const text = [title, description].filter(Boolean).join(': ');
  return text || undefined;
}

/**
 * The network object of an `ip/` reply. `registry` is the base URL of the server that answered,
 * `url` the URL of the reply. A reply that is not an IP network object is a `ProtocolError`.
 */
export function parseRdapNetwork(o: unknown, registry: string, url: string): RdapNetwork {
  if (!isIpNetwork(o)) {
    const what = isObject(o) ? `an object of class ${JSON.stringify(o.objectClassName ?? 'unknown')}` : Array.isArray(o) ? 'an array' : typeof o;
    throw new ProtocolError(`RDAP reply from ${url} is not an IP network object (got ${what})`);
  }
  const cidrs = readCidrs(o).map(formatCidr);
  const entities = readEntities(o.entities, 1, { left: MAX_ENTITIES });
  const abuseEmails: string[] = [];
  for (const e of flattenEntities(entities)) if (e.roles.includes('abuse')) for (const m of e.emails) pushUnique(abuseEmails, m);
  const net: RdapNetwork = { cidrs, registry, url, abuseEmails, entities, remarks: remarkLines(o.remarks) };
  const fields = ['handle', 'name', 'type', 'startAddress', 'endAddress', 'parentHandle'] as const;
  for (const f of fields) {
    const v = str(o[f]);
    if (v !== undefined) net[f] = v;
  }
  const country = str(o.country);
  if (country !== undefined && /^[A-Za-z]{2}$/.test(country)) net.country = country.toUpperCase();
  if (cidrs[0] !== undefined) net.cidr = cidrs[0];
  return net;
}

/**
 * Where a reply refers the client for the authoritative answer, if anywhere: a `related` link to an
 * RDAP `ip/` resource (type `application/rdap+json` or untyped; `text/html` links are web pages), or,
 * when the reply is no network object at all, a `self` link on another server. `visited` holds the
 * URLs already fetched, so a referral back to one of them is not followed.
 */
export function findReferral(o: unknown, currentUrl: string, visited: ReadonlySet<string>): string | undefined {
  if (!isObject(o) || !Array.isArray(o.links)) return undefined;
  const current = safeUrl(currentUrl);
  const candidates: string[] = [];
  for (const l of o.links.slice(0, MAX_LIST)) {
    if (!isObject(l)) continue;
    const rel = str(l.rel)?.toLowerCase();
    const type = str(l.type)?.toLowerCase();
    const href = str(l.href);
    if (href === undefined) continue;
    const target = safeUrl(href, currentUrl);
    if (target === undefined || (target.protocol !== 'https:' && target.protocol !== 'http:')) continue;
    if (type !== undefined && !type.includes('rdap+json') && type !== 'application/json') continue;
    if (visited.has(target.href) || target.href === current?.href) continue;
    if (rel === 'related' && /\/ip\//.test(target.pathname)) candidates.push(target.href);
    else if (rel === 'self' && !isIpNetwork(o) && target.host !== current?.host) candidates.push(target.href);
  }
  return candidates[0];
}

function safeUrl(href: string, base?: string): URL | undefined {
  try {
    return new URL(href, base);
  } catch {
    return undefined;
  }
}
