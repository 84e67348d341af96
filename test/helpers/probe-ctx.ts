import assert from 'node:assert/strict';
import { type Probe, type ProbeContext, type ProbeResult } from '../../src/core/types.js';
import { closedPort } from './fake-servers.js';

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

/** Probe a loopback port nothing listens on: every module must end `connection-refused` with no verdict. */
export async function probeClosedPort(probe: Probe): Promise<ProbeResult> {
  const port = await closedPort();
  const r = await probe.probe({ host: '127.0.0.1', port }, probeCtx());
  assert.equal(r.status, 'connection-refused');
  assert.equal(r.auth, undefined);
  return r;
}
