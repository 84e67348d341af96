/**
 * RDAP lookup of one address (RFC 9082 `ip/<address>`): the bootstrap names the first server, then
 * HTTP redirects (RFC 7480 §5.2: a registry answering for space another registry holds redirects there)
 * and `related` referrals in the reply are followed, at most `maxHops` of them, never to a URL already
 * fetched.
 */
import type { Dispatcher } from 'undici';
import { formatIp, type IpAddress } from '../../targets/address.js';
import { describeNetworkError, httpGet } from './http-get.js';
import { type Bootstrap, findService } from './rdap-bootstrap.js';
import { findReferral, isIpNetwork, parseRdapNetwork, rdapErrorText } from './rdap-parse.js';
import { type RdapNetwork } from './types.js';

/** Redirects plus referrals followed for one lookup. */
export const RDAP_MAX_HOPS = 5;
/** Largest RDAP reply read (real ones are 5–60 KB). */
export const RDAP_READ_CAP = 2 * 1024 * 1024;

const ACCEPT = 'application/rdap+json, application/json;q=0.9';

export interface RdapLookupOptions {
  agent: Dispatcher;
  timeoutMs: number;
  userAgent: string;
  signal?: AbortSignal;
  maxHops?: number;
}

export interface RdapLookup {
  network: RdapNetwork;
  /** Problems met on the way that did not stop the lookup (a referral that failed …). */
  errors: string[];
}

/** A lookup that found nothing usable; the message is one sentence for `Attribution.errors`. */
export class RdapLookupError extends Error {
  override name = 'RdapLookupError';
}

/** The base URL a reply came from: the part of its URL before `ip/…`. */
export function registryBase(url: string): string {
  const u = new URL(url);
  const i = u.pathname.lastIndexOf('/ip/');
  return `${u.origin}${i >= 0 ? u.pathname.slice(0, i + 1) : '/'}`;
}

function describeUrl(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export async function lookupRdap(addr: IpAddress, bootstrap: Bootstrap, opts: RdapLookupOptions): Promise<RdapLookup> {
  const ip = formatIp(addr);
  const service = findService(bootstrap, addr);
  if (!service) {
    const published = addr.family === 4 ? bootstrap.publication.v4 : bootstrap.publication.v6;
    throw new RdapLookupError(
      `No RDAP server in the IANA bootstrap (${bootstrap.source}, published ${published}) covers ${ip}; update the bootstrap files if the block is newer`,
    );
  }
  const maxHops = opts.maxHops ?? RDAP_MAX_HOPS;
  const errors: string[] = [];
  const visited = new Set<string>();
  // The last network object seen before a referral: the answer if the referral fails.
  let fallback: RdapNetwork | undefined;
  let url = new URL(`ip/${ip}`, service.urls[0]).href;

  /** Ends the lookup: with the referring registry's answer when there is one, else as an error. */
  const fail = (message: string): RdapLookup => {
    if (fallback) return { network: fallback, errors: [...errors, `${message}; kept the referring registry's answer from ${fallback.url}`] };
    throw new RdapLookupError(message);
  };

  const getOptions = { timeoutMs: opts.timeoutMs, readCap: RDAP_READ_CAP, userAgent: opts.userAgent, accept: ACCEPT, ...(opts.signal ? { signal: opts.signal } : {}) };
  for (let hop = 0; ; hop++) {
    visited.add(url);
    let res;
    try {
      res = await httpGet(url, opts.agent, getOptions);
    } catch (err) {
      return fail(`RDAP server ${describeUrl(url)} ${describeNetworkError(err, opts.timeoutMs, opts.signal)} (${url})`);
    }

    let next: string | undefined;
    let body: unknown;
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.location;
      if (!location) return fail(`RDAP server ${describeUrl(url)} answered HTTP ${res.status} without a Location header (${url})`);
      let target: URL;
      try {
        target = new URL(location, url);
      } catch {
        return fail(`RDAP server ${describeUrl(url)} redirected to an invalid URL ${JSON.stringify(location.slice(0, 200))}`);
      }
      if (target.protocol !== 'https:' && target.protocol !== 'http:') return fail(`RDAP server ${describeUrl(url)} redirected to a non-HTTP URL ${target.href}`);
      if (visited.has(target.href)) return fail(`RDAP redirect loop for ${ip}: ${url} redirects back to ${target.href}`);
      next = target.href;
    } else {
      const text = res.body.toString('utf8');
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = undefined;
      }
      if (res.status === 404) {
        const detail = rdapErrorText(body);
        return fail(`RDAP server ${describeUrl(url)} has no record for ${ip} (HTTP 404${detail ? `: ${detail}` : ''})`);
      }
      if (res.status === 429) return fail(`RDAP server ${describeUrl(url)} is rate-limiting this client (HTTP 429); try again later`);
      if (res.status < 200 || res.status >= 300) {
        const detail = rdapErrorText(body);
        return fail(`RDAP server ${describeUrl(url)} answered HTTP ${res.status} for ${ip}${detail ? `: ${detail}` : ''}`);
      }
      if (body === undefined) return fail(`RDAP reply from ${url} is not valid JSON`);
      next = findReferral(body, url, visited);
      if (next === undefined) {
        try {
          return { network: parseRdapNetwork(body, registryBase(url), url), errors };
        } catch (err) {
          return fail(err instanceof Error ? err.message : String(err));
        }
      }
      if (isIpNetwork(body)) fallback = parseRdapNetwork(body, registryBase(url), url);
    }
    if (hop + 1 > maxHops) return fail(`RDAP lookup for ${ip} gave up after ${maxHops} redirects and referrals (last: ${next})`);
    url = next;
  }
}
