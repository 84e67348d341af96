/**
 * One bounded HTTP GET for attribution sources that are not the target (RDAP registries): deadline,
 * abort, capped body, no automatic redirects (the caller decides, so it can count hops and see loops),
 * TLS certificates verified (registry data is trusted only from the registry).
 */
import type { Agent, Dispatcher, request as undiciRequest } from 'undici';
import { ReadLimitError, errorMessage } from '../../core/errors.js';

export interface GetOptions {
  timeoutMs: number;
  readCap: number;
  userAgent: string;
  accept: string;
  signal?: AbortSignal;
}

export interface GetResponse {
  status: number;
  /** Lower-case header names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

// Loaded on first use, as in src/net/http.ts.
let undici: { Agent: typeof Agent; request: typeof undiciRequest } | undefined;

async function lib(): Promise<{ Agent: typeof Agent; request: typeof undiciRequest }> {
  return (undici ??= await import('undici'));
}

/** An agent for one attribution call: no connection reuse beyond it, closed by the caller. */
export async function newAgent(connectTimeoutMs: number): Promise<Agent> {
  const { Agent } = await lib();
  return new Agent({ connect: { timeout: connectTimeoutMs }, keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000 });
}

export async function httpGet(url: string, agent: Dispatcher, opts: GetOptions): Promise<GetResponse> {
  const { request } = await lib();
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  const res = await request(url, {
    method: 'GET',
    headers: { 'user-agent': opts.userAgent, accept: opts.accept },
    dispatcher: agent,
    signal,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    maxRedirections: 0,
  });
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > opts.readCap) throw new ReadLimitError(opts.readCap);
      chunks.push(chunk);
    }
  } finally {
    if (total > opts.readCap) res.body.destroy();
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return { status: res.statusCode, headers, body: Buffer.concat(chunks, total) };
}

/** A network failure as a short clause: `did not answer within 3000 ms`, `refused the connection` … */
export function describeNetworkError(err: unknown, timeoutMs: number, signal?: AbortSignal): string {
  if (signal?.aborted) return 'was cancelled';
  const code = codeOf(err) ?? codeOf((err as { cause?: unknown } | undefined)?.cause);
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    return `did not answer within ${timeoutMs} ms`;
  }
  if (name === 'AbortError') return `did not answer within ${timeoutMs} ms`;
  if (err instanceof ReadLimitError) return `sent more than ${err.limit} bytes`;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused the connection';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'closed the connection';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'could not be resolved';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'is unreachable';
    default:
      if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return `presented a TLS certificate that is not trusted (${code})`;
      return `failed: ${errorMessage(err)}`;
  }
}

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const c = (err as { code: unknown }).code;
  return typeof c === 'string' ? c : undefined;
}
