import { newProbeResult } from '../../src/core/probe-result.js';
import { type ProbeResult } from '../../src/core/types.js';

/** A minimal successful ProbeResult for tests of what comes after probing (assessment, storage, cases). */
export function probeResult(over: Partial<ProbeResult> & { host?: string; port?: number } = {}): ProbeResult {
  const { host = '192.0.2.10', port = 6379, ...rest } = over;
  return { ...newProbeResult('redis', { host, port }, '2026-11-25T00:00:00.000Z'), status: 'success', durationMs: 1, ...rest };
}

