import { type ProbeContext } from '../../src/core/types.js';

/** A ProbeContext with test-friendly defaults; override what a test needs. */
export function probeCtx(overrides: Partial<ProbeContext> = {}): ProbeContext {
  return {
    signal: new AbortController().signal,
    connectTimeoutMs: 2000,
    timeoutMs: 5000,
    readCap: 1024 * 1024,
    identity: 'lockdown-test (+https://example.invalid/lockdown)',
    clientName: 'lockdown-test',
    authorized: false,
    checkDefaultCredentials: false,
    ...overrides,
  };
}
