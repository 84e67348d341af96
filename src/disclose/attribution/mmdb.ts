/**
 * ASN, organisation and country from MaxMind-format databases the user provides (GeoLite2-ASN,
 * GeoLite2-Country, GeoLite2-City or compatible), read with `maxmind`. Each file is opened once
 * and kept; a file that cannot be opened is retried on the next call (the user may fix the path).
 */
import { open, type AsnResponse, type CityResponse, type CountryResponse, type Reader, type Response } from 'maxmind';
import { errorMessage } from '../../core/errors.js';
import { formatCidr, parseAddress, prefixOf } from './ip.js';
import { type AttributionConfig } from './types.js';

const readers = new Map<string, Promise<Reader<Response>>>();

function reader(path: string): Promise<Reader<Response>> {
  let r = readers.get(path);
  if (!r) {
    r = open<Response>(path);
    readers.set(path, r);
    r.catch(() => readers.delete(path));
  }
  return r;
}

/** Forgets the open databases (tests; a long-running server after the user replaced the files). */
export function closeMmdbReaders(): void {
  readers.clear();
}

export interface MmdbResult {
  asn?: { number: number; org?: string; network?: string };
  geo?: { country?: string; city?: string };
  errors: string[];
}

async function lookup<T extends Response>(what: string, path: string, ip: string, errors: string[]): Promise<{ record: T; network: string | undefined } | undefined> {
  let db: Reader<Response>;
  try {
    db = await reader(path);
  } catch (err) {
    errors.push(`Could not open the ${what} database ${path}: ${errorMessage(err)}`);
    return undefined;
  }
  try {
    const [record, prefixLength] = db.getWithPrefixLength(ip);
    if (record === null) return undefined;
    return { record: record as T, network: networkText(ip, prefixLength) };
  } catch (err) {
    errors.push(`Could not look up ${ip} in the ${what} database ${path}: ${errorMessage(err)}`);
    return undefined;
  }
}

/** The prefix the record applies to (mmdb-lib gives IPv4 prefix lengths relative to IPv4, also in IPv6 databases). */
function networkText(ip: string, prefixLength: number): string | undefined {
  const addr = parseAddress(ip);
  return addr.ok ? formatCidr(prefixOf(addr.value, prefixLength)) : undefined;
}

/** Looks `ip` up in each configured database. An address a database does not cover is not an error. */
export async function lookupMmdb(ip: string, mmdb: AttributionConfig['mmdb']): Promise<MmdbResult> {
  const errors: string[] = [];
  const out: MmdbResult = { errors };
  if (mmdb.asn) {
    const hit = await lookup<AsnResponse>('ASN', mmdb.asn, ip, errors);
    if (hit) {
      const n = hit.record.autonomous_system_number;
      if (typeof n === 'number') {
        out.asn = { number: n };
        if (hit.network !== undefined) out.asn.network = hit.network;
        if (typeof hit.record.autonomous_system_organization === 'string') out.asn.org = hit.record.autonomous_system_organization;
      } else {
        errors.push(`The ASN database ${mmdb.asn} has a record for ${ip} without autonomous_system_number; is it an ASN database?`);
      }
    }
  }
  const geo: { country?: string; city?: string } = {};
  if (mmdb.country) {
    const hit = await lookup<CountryResponse>('country', mmdb.country, ip, errors);
    const code = hit?.record.country?.iso_code ?? hit?.record.registered_country?.iso_code;
    if (code) geo.country = code;
  }
  if (mmdb.city) {
    const hit = await lookup<CityResponse>('city', mmdb.city, ip, errors);
    const city = hit?.record.city?.names?.en;
    if (city) geo.city = city;
    const code = hit?.record.country?.iso_code ?? hit?.record.registered_country?.iso_code;
    if (code && geo.country === undefined) geo.country = code;
  }
  if (geo.country !== undefined || geo.city !== undefined) out.geo = geo;
  return out;
}
