/**
 * Hostname resolution for target and exclusion specs. The resolver is injectable so tests and
 * callers with their own DNS policy never depend on the network; the default asks the system
 * resolver (`/etc/hosts`, then DNS) for every address of the name.
 */
import { lookup } from 'node:dns/promises';
import { ErrorCode, LockdownError, errorMessage } from '../core/errors.js';
import { parseIp, type IpAddress } from './address.js';
import { type TargetSpecInput } from './parse.js';

export type Resolver = (hostname: string) => Promise<string[]>;

export const defaultResolve: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => a.address);
};

/** Names resolved at once; a file of thousands of names must not open thousands of lookups. */
const CONCURRENCY = 16;

export interface HostnameSpec {
  hostname: string;
  input: TargetSpecInput;
}

export interface ResolvedHostname extends HostnameSpec {
  addresses: IpAddress[];
}

function resolveError(spec: HostnameSpec, reason: string, cause?: unknown): LockdownError {
  return new LockdownError(
    ErrorCode.targetResolve,
    `Cannot resolve hostname ${JSON.stringify(spec.input.text)} at ${spec.input.source}: ${reason}`,
    { cause },
  );
}

/**
 * Resolves every name (at most CONCURRENCY at a time). Each name must yield at least one address;
 * the first failure in input order is thrown, so the error does not depend on DNS timing.
 */
export async function resolveHostnames(specs: readonly HostnameSpec[], resolve: Resolver): Promise<ResolvedHostname[]> {
  const results: (ResolvedHostname | LockdownError)[] = new Array(specs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < specs.length) {
      const i = next++;
      const spec = specs[i]!;
      results[i] = await resolveOne(spec, resolve);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, specs.length) }, worker));
  const failed = results.find((r) => r instanceof LockdownError);
  if (failed) throw failed;
  return results as ResolvedHostname[];
}

async function resolveOne(spec: HostnameSpec, resolve: Resolver): Promise<ResolvedHostname | LockdownError> {
  let answers: string[];
  try {
    answers = await resolve(spec.hostname);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason = code === 'ENOTFOUND' ? 'no such host' : errorMessage(err);
    return resolveError(spec, reason, err);
  }
  if (answers.length === 0) return resolveError(spec, 'the name has no addresses');
  const addresses: IpAddress[] = [];
  for (const answer of answers) {
    const r = parseIp(answer);
    if (!r.ok) return resolveError(spec, `the resolver returned ${JSON.stringify(answer)}, ${r.reason}`);
    addresses.push(r.value);
  }
  return { ...spec, addresses };
}
