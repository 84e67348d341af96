import { ProbeStatus, type ProbeResult, type Target } from './types.js';

/** A result before anything happened: no verdict, nothing sent or read, status `unknown-error` until set. */
export function newProbeResult(module: string, target: Target, startedAt = new Date().toISOString()): ProbeResult {
  return {
    module,
    target,
    status: ProbeStatus.unknownError,
    metadata: {},
    peers: [],
    errors: [],
    commands: [],
    bytesSent: 0,
    bytesRead: 0,
    startedAt,
    durationMs: 0,
  };
}
