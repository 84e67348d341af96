/**
 * Reverse DNS (PTR) with a deadline: a private `Resolver` per lookup with c-ares' own `timeout`/`tries`,
 * the configured servers, and `cancel()` when the overall deadline or the caller's signal fires.
 */
import { Resolver } from 'node:dns/promises';
import { errorMessage } from '../../core/errors.js';

export interface ReverseDnsOptions {
  /** `ip` or `ip:port` (`[v6]:port`); empty: the system's resolvers. */
  servers?: readonly string[];
  /** All tries together. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** No PTR record is an answer, not a failure. */
const NO_ANSWER = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

export class ReverseDnsError extends Error {
  override name = 'ReverseDnsError';
}

/** PTR names of `ip`, sorted and deduplicated; `[]` when there are none. Failures throw `ReverseDnsError`. */
export async function reverseLookup(ip: string, opts: ReverseDnsOptions): Promise<string[]> {
  // Two tries of half the budget each; c-ares may lengthen the second, so the timer below bounds the total.
  const tries = 2;
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(opts.timeoutMs / tries)), tries });
  const servers = opts.servers && opts.servers.length > 0 ? [...opts.servers] : undefined;
  const via = servers ? servers.join(', ') : 'the system resolvers';
  if (servers) {
    try {
      resolver.setServers(servers);
    } catch (err) {
      throw new ReverseDnsError(`Invalid DNS server in attribution.dnsServers (${servers.join(', ')}): ${errorMessage(err)}`);
    }
  }
  if (opts.signal?.aborted) throw new ReverseDnsError(`Reverse DNS for ${ip} was cancelled`);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    resolver.cancel();
  }, opts.timeoutMs);
  const onAbort = (): void => resolver.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const names = await resolver.reverse(ip);
    return [...new Set(names.map((n) => n.replace(/\.$/, '').toLowerCase()))].sort();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && NO_ANSWER.has(code)) return [];
    if (opts.signal?.aborted) throw new ReverseDnsError(`Reverse DNS for ${ip} was cancelled`);
    if (timedOut || code === 'ETIMEOUT' || code === 'ECANCELLED') {
      throw new ReverseDnsError(`Reverse DNS for ${ip} timed out after ${opts.timeoutMs} ms (asked ${via})`);
    }
    if (code === 'ECONNREFUSED' || code === 'EREFUSED') throw new ReverseDnsError(`Reverse DNS for ${ip} failed: ${via} refused the query`);
    if (code === 'ESERVFAIL') throw new ReverseDnsError(`Reverse DNS for ${ip} failed: ${via} answered SERVFAIL`);
    throw new ReverseDnsError(`Reverse DNS for ${ip} failed (${typeof code === 'string' ? code : 'error'}): ${errorMessage(err)}`);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
