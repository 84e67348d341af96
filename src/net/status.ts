import { ErrorCode, LockdownError } from '../core/errors.js';
import { ProbeStatus } from '../core/types.js';

/** Raised inside a probe when its own deadline (not the caller) ended it. */
export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`Probe did not finish within its deadline of ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/** Raised when the caller cancelled (Ctrl-C, scan stopped). */
export class CancelledError extends Error {
  constructor() {
    super('Probe cancelled');
    this.name = 'CancelledError';
  }
}

/**
 * The one place that maps an error met during a probe to a `ProbeStatus`
 * (zgrab2's TryGetScanStatus). Modules never pick a transport status themselves.
 */
export function statusFromError(err: unknown): ProbeStatus {
  if (err instanceof DeadlineError) return ProbeStatus.ioTimeout;
  if (err instanceof CancelledError) return ProbeStatus.cancelled;
  if (err instanceof LockdownError) {
    switch (err.code) {
      case ErrorCode.connectTimeout:
        return ProbeStatus.connectionTimeout;
      case ErrorCode.connectionClosed:
        return ProbeStatus.connectionClosed;
      case ErrorCode.protocol:
        return ProbeStatus.protocolError;
      case ErrorCode.readLimit:
        return ProbeStatus.readLimit;
      default:
        return ProbeStatus.unknownError;
    }
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? ((err as { cause?: { code?: string } })?.cause?.code);
  if (typeof code === 'string' && code.startsWith('HPE_')) return ProbeStatus.protocolError; // undici's HTTP parser
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return ProbeStatus.connectionTimeout;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return ProbeStatus.ioTimeout;
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return ProbeStatus.connectionClosed;
    case 'UND_ERR_RESPONSE_EXCEEDED_MAX_SIZE':
      return ProbeStatus.readLimit;
    case 'UND_ERR_INFO':
    case 'UND_ERR_INVALID_ARG':
      return ProbeStatus.protocolError;
    case 'ECONNREFUSED':
      return ProbeStatus.connectionRefused;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_STREAM_PREMATURE_CLOSE':
    case 'ERR_SOCKET_CLOSED':
      return ProbeStatus.connectionClosed;
    case 'ETIMEDOUT':
      return ProbeStatus.connectionTimeout;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return ProbeStatus.unreachable;
    case 'ABORT_ERR':
      return ProbeStatus.cancelled;
    default:
      return ProbeStatus.unknownError;
  }
}
