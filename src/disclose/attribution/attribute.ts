/**
 * `attribute(ip, cfg, deps)`: reverse DNS, RDAP, the user's .mmdb files and the host's security.txt,
 * asked at once, each bounded by its own timeout, answers reused from the cache until they expire.
 * Never throws: a source that fails becomes a sentence in `errors`, so a case can always be opened.
 */
import { errorMessage } from '../../core/errors.js';
import { VERSION } from '../../core/version.js';
import { familyBits, formatIp, type IpAddress } from '../../targets/address.js';
import { type AttributionCache, type AttributionCacheEntry } from '../../store/attribution-cache.js';
import { collectContacts } from './contacts.js';
import { newAgent } from './http-get.js';
import { cidrContains, coveringPrefixes, parseAddress, parseCidr } from './ip.js';
import { lookupMmdb } from './mmdb.js';
import { loadBootstrap } from './rdap-bootstrap.js';
import { lookupRdap } from './rdap-client.js';
import { reverseLookup } from './reverse-dns.js';
import { fetchSecurityTxt } from './security-txt.js';
import {
  type Attribution,
  type AttributionConfig,
  type RdapNetwork,
  SECURITY_TXT_PORTS,
  type SecurityTxt,
  type SecurityTxtPort,
} from './types.js';

export interface AttributionDeps {
  /** Where answers are kept between calls; without one every call asks every source. */
  cache?: Pick<AttributionCache, 'get' | 'put'>;
  /** Source of "now" for cache expiry and security.txt `Expires`. */
  clock?: () => Date;
  signal?: AbortSignal;
  /** Sent as User-Agent to registries and to the target; the scan identity string. */
  userAgent?: string;
  /**
   * Where security.txt is looked for on the target. Only tests change this (to loopback test
   * ports); the product always uses `SECURITY_TXT_PORTS` (80/443/8080/8443).
   */
  securityTxtPorts?: readonly SecurityTxtPort[];
}

type SecurityTxtCacheValue = { file: SecurityTxt } | { absent: true };

function emptyResult(ip: string, errors: string[]): Attribution {
  return { ip, ptr: [], contacts: [], errors, cached: [] };
}

export async function attribute(ipText: string, cfg: AttributionConfig, deps: AttributionDeps = {}): Promise<Attribution> {
  const parsed = parseAddress(ipText);
  if (!parsed.ok) return emptyResult(ipText, [`Cannot attribute ${JSON.stringify(ipText)}: ${parsed.reason}`]);
  const addr = parsed.value;
  const ip = formatIp(addr);
  const out = emptyResult(ip, []);
  try {
    await run(addr, ip, cfg, deps, out);
  } catch (err) {
    // A bug, not a source failing: still no throw.
    out.errors.push(`Attribution of ${ip} stopped unexpectedly: ${errorMessage(err)}`);
  }
  return out;
}

async function run(addr: IpAddress, ip: string, cfg: AttributionConfig, deps: AttributionDeps, out: Attribution): Promise<void> {
  const now = (deps.clock ?? (() => new Date()))();
  const expiresAt = new Date(now.getTime() + cfg.cacheTtlHours * 3_600_000).toISOString();
  const userAgent = deps.userAgent ?? `lockdown/${VERSION}`;
  const signalOpt = deps.signal ? { signal: deps.signal } : {};

  const ptrKey = `ptr:${ip}`;
  const txtKey = `security-txt:${ip}`;
  const rdapKeys = coveringPrefixes(addr).map((p) => `rdap:${p}`);
  let hits: AttributionCacheEntry[] = [];
  if (deps.cache && cfg.cacheTtlHours > 0) {
    try {
      hits = await deps.cache.get([ptrKey, txtKey, ...rdapKeys], now);
    } catch (err) {
      out.errors.push(`Attribution cache could not be read, asking every source: ${errorMessage(err)}`);
    }
  }
  const hit = (key: string): unknown => hits.find((h) => h.key === key)?.value;
  // Most specific cached network first (rdapKeys are ordered that way).
  const rdapHit = rdapKeys.map(hit).find((v) => v !== undefined) as RdapNetwork | undefined;
  const ptrHit = hit(ptrKey) as string[] | undefined;
  const txtHit = hit(txtKey) as SecurityTxtCacheValue | undefined;
  const toCache: AttributionCacheEntry[] = [];
  const entry = (key: string, value: unknown): AttributionCacheEntry => ({ key, value, fetchedAt: now.toISOString(), expiresAt });

  const ptrTask = async (): Promise<void> => {
    if (ptrHit !== undefined) {
      out.ptr = ptrHit;
      out.cached.push('ptr');
      return;
    }
    try {
      out.ptr = await reverseLookup(ip, { timeoutMs: cfg.timeoutsMs.dns, ...(cfg.dnsServers ? { servers: cfg.dnsServers } : {}), ...signalOpt });
      toCache.push(entry(ptrKey, out.ptr));
    } catch (err) {
      out.errors.push(errorMessage(err));
    }
  };

  const rdapTask = async (): Promise<void> => {
    if (rdapHit !== undefined) {
      out.rdap = rdapHit;
      out.cached.push('rdap');
      return;
    }
    const agent = await newAgent(cfg.timeoutsMs.rdap);
    try {
      const bootstrap = await loadBootstrap(cfg.rdapBootstrapDir);
      const { network, errors } = await lookupRdap(addr, bootstrap, { agent, timeoutMs: cfg.timeoutsMs.rdap, userAgent, ...signalOpt });
      out.rdap = network;
      out.errors.push(...errors);
      // A clean answer is kept for its whole network, so its neighbours are not asked again.
      if (errors.length === 0) toCache.push(...rdapCacheKeys(network, addr).map((k) => entry(k, network)));
    } catch (err) {
      out.errors.push(errorMessage(err));
    } finally {
      await agent.destroy().catch(() => {});
    }
  };

  const mmdbTask = async (): Promise<void> => {
    if (!cfg.mmdb.asn && !cfg.mmdb.country && !cfg.mmdb.city) return;
    const r = await lookupMmdb(ip, cfg.mmdb);
    if (r.asn) out.asn = r.asn;
    if (r.geo) out.geo = r.geo;
    out.errors.push(...r.errors);
  };

  const securityTxtTask = async (): Promise<void> => {
    if (txtHit !== undefined) {
      if ('file' in txtHit) out.securityTxt = txtHit.file;
      out.cached.push('security.txt');
      return;
    }
    const r = await fetchSecurityTxt(ip, deps.securityTxtPorts ?? SECURITY_TXT_PORTS, { timeoutMs: cfg.timeoutsMs.securityTxt, userAgent, now, ...signalOpt });
    if (r.file) out.securityTxt = r.file;
    else if (r.failures.length > 0) out.errors.push(`No security.txt found on ${ip}; could not check ${r.failures.join('; ')}`);
    if (r.definitive) toCache.push(entry(txtKey, r.file ? { file: r.file } : { absent: true }));
  };

  await Promise.all([ptrTask(), rdapTask(), mmdbTask(), securityTxtTask()]);
  out.contacts = collectContacts(out.rdap, out.securityTxt);

  if (deps.cache && cfg.cacheTtlHours > 0 && toCache.length > 0) {
    try {
      await deps.cache.put(toCache);
    } catch (err) {
      out.errors.push(`Attribution cache could not be written: ${errorMessage(err)}`);
    }
  }
}

/** The network's prefixes that contain `addr`, as cache keys; the host itself when none does. */
function rdapCacheKeys(network: RdapNetwork, addr: IpAddress): string[] {
  const keys: string[] = [];
  for (const text of network.cidrs) {
    const c = parseCidr(text);
    if (c.ok && cidrContains(c.value, addr) && c.value.length >= (addr.family === 4 ? 8 : 12)) keys.push(`rdap:${text}`);
  }
  return keys.length > 0 ? keys : [`rdap:${formatIp(addr)}/${familyBits(addr.family)}`];
}
