import type { Agent, Dispatcher, request as undiciRequest } from 'undici';
import { CommandNotAllowedError, ReadLimitError } from '../core/errors.js';

/**
 * HTTP for the HTTP-speaking databases (Elasticsearch/OpenSearch, CouchDB, ClickHouse, InfluxDB, etcd …).
 * One dedicated undici agent for all probes: no keep-alive reuse across probes (each probe is its own
 * conversation), TLS certificates not verified (a probe wants to see the service, not to trust it),
 * no redirects followed (a redirect could lead outside the target), bodies capped by the read cap.
 */
const agents = new Map<number, Agent>();
// undici is loaded on first use: scans that speak no HTTP do not pay its memory (~15 MB).
let undici: { Agent: typeof Agent; request: typeof undiciRequest } | undefined;

/** One agent per connect timeout (in practice one per scan). */
async function agent(connectTimeoutMs: number): Promise<Agent> {
  let a = agents.get(connectTimeoutMs);
  if (a) return a;
  const lib = (undici ??= await import('undici'));
  a = new lib.Agent({
    connect: { rejectUnauthorized: false, timeout: connectTimeoutMs },
    keepAliveTimeout: 1,
    keepAliveMaxTimeout: 1,
    pipelining: 0,
    maxRedirections: 0,
  });
  agents.set(connectTimeoutMs, a);
  return a;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'OPTIONS';

export interface HttpRequest {
  method: HttpMethod;
  /** Path and query, e.g. `/_cat/indices?format=json&bytes=b`. */
  path: string;
  headers?: Record<string, string>;
  /** Only for read-only POST endpoints (e.g. etcd's JSON range query); the command name documents it. */
  body?: string;
  tls?: boolean;
  port?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface HttpCallOptions {
  module: string;
  allowed: ReadonlySet<string>;
  host: string;
  port: number;
  readCap: number;
  connectTimeoutMs: number;
  /** Milliseconds left for this exchange. */
  timeoutMs: number;
  userAgent: string;
  signal: AbortSignal;
  onSend: (command: string, bytes: number) => void;
  onRead: (bytes: number) => void;
  /** Called when the connection carrying this request is up, before the request is written (undici's onConnect). */
  onConnect?: () => void;
}

/** The allow-list name of an HTTP request: `GET /_cat/indices` (query string not included). */
export function httpCommandName(method: HttpMethod, path: string): string {
  return `${method} ${path.split('?')[0]}`;
}

/** An interceptor that reports when undici has a connected socket for the request (its handler's onConnect). */
function notifyOnConnect(onConnect: () => void): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (options, handler) =>
    dispatch(
      options,
      new Proxy(handler, {
        get(target, prop, receiver) {
          if (prop === 'onConnect') {
            return (abort: (err?: Error) => void): void => {
              onConnect();
              target.onConnect?.(abort);
            };
          }
          const value: unknown = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      }),
    );
}

/** One HTTP exchange with the safety rails: allow-listed request, capped body, deadline, abort. */
export async function httpExchange(command: string, req: HttpRequest, opts: HttpCallOptions): Promise<HttpResponse> {
  if (!opts.allowed.has(command)) throw new CommandNotAllowedError(opts.module, command);
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const origin = `${req.tls ? 'https' : 'http'}://${host}:${req.port ?? opts.port}`;
  const headers: Record<string, string> = { 'user-agent': opts.userAgent, accept: 'application/json, */*', ...req.headers };
  opts.onSend(command, req.method.length + req.path.length + (req.body?.length ?? 0));
  const base = await agent(opts.connectTimeoutMs);
  const dispatcher = opts.onConnect ? base.compose(notifyOnConnect(opts.onConnect)) : base;
  const res: Dispatcher.ResponseData = await undici!.request(origin + req.path, {
    method: req.method,
    headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
    dispatcher,
    signal: opts.signal,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  });
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      opts.onRead(chunk.length);
      if (total > opts.readCap) throw new ReadLimitError(opts.readCap);
      chunks.push(chunk);
    }
  } finally {
    if (total > opts.readCap) res.body.destroy();
  }
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v !== undefined) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return { status: res.statusCode, headers: flat, body: Buffer.concat(chunks, total) };
}
