import { errorMessage, ProtocolError } from '../core/errors.js';
import { type HttpResponse } from './http.js';
import { type ProbeRun } from './probe-run.js';
import { statusFromError } from './status.js';

/**
 * One HTTP request in plain HTTP, and once more over TLS when the port looks TLS-only (closed/reset,
 * non-HTTP bytes, or a server saying "plain HTTP sent to an HTTPS port"). When TLS fails as well, a
 * handshake that met non-TLS bytes means the port speaks neither; otherwise the plain failure stands.
 * `send(tls)` performs the module's own allow-listed request.
 */
export async function plainThenTls(
  run: ProbeRun,
  send: (tls: boolean) => Promise<HttpResponse>,
): Promise<{ res: HttpResponse; tls: boolean; plainFailure?: string }> {
  let plainFailure: unknown;
  try {
    const res = await send(false);
    if (!plainHttpToTlsPort(res)) return { res, tls: false };
    plainFailure = new ProtocolError(`Plain HTTP answered HTTP ${res.status} naming HTTPS`);
  } catch (err) {
    if (run.aborted || !worthTlsRetry(err)) throw err;
    plainFailure = err;
  }
  try {
    return { res: await send(true), tls: true, plainFailure: errorMessage(plainFailure) };
  } catch (err) {
    if (run.aborted) throw err;
    if (isTlsHandshakeFailure(err)) {
      throw new ProtocolError(`Neither HTTP nor HTTPS: plain HTTP: ${errorMessage(plainFailure)}; TLS: ${errorMessage(err)}`, { cause: err });
    }
    throw plainFailure;
  }
}

/** A plain request failed the way a TLS-only port fails it: closed/reset, or bytes that are not HTTP. */
function worthTlsRetry(err: unknown): boolean {
  const status = statusFromError(err);
  return status === 'connection-closed' || status === 'protocol-error';
}

/** nginx: "The plain HTTP request was sent to HTTPS port"; Go: "Client sent an HTTP request to an HTTPS server". */
function plainHttpToTlsPort(res: HttpResponse): boolean {
  if (res.status !== 400) return false;
  const text = res.body.subarray(0, 4096).toString('latin1');
  return /plain HTTP request was sent to HTTPS port|HTTP request to an HTTPS server/i.test(text);
}

function isTlsHandshakeFailure(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const raw = e?.code ?? e?.cause?.code;
  const code = typeof raw === 'string' ? raw : '';
  return code.startsWith('ERR_SSL_') || code === 'EPROTO' || code.startsWith('HPE_') || /SSL|TLS|secure/i.test(errorMessage(err));
}
