import http from 'node:http';
import net from 'node:net';

/**
 * A test-only HTTP server that answers each request path with a fixed reply (documented or captured bytes
 * of a server that cannot run here) and records every request, so a test can check what a probe sent.
 * It is not the product it replays: it knows nothing but its table of replies.
 */
export interface Reply {
  status: number;
  body: Buffer;
  headers?: Record<string, string>;
}

export interface SeenRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Bytes of request body received (a read-only client sends none). */
  bodyBytes: number;
}

export interface Listening {
  host: string;
  port: number;
  close(): Promise<void>;
}

export interface HttpReplay extends Listening {
  requests: SeenRequest[];
}

const PLAIN_404: Reply = { status: 404, body: Buffer.from('Not Found'), headers: { 'content-type': 'text/plain' } };

/** `routes` maps a path (query ignored) to its reply; anything else gets `notFound` (a plain 404). */
export async function httpReplay(
  routes: Record<string, Reply>,
  opts: { host?: string; port?: number; notFound?: Reply } = {},
): Promise<HttpReplay> {
  const host = opts.host ?? '127.0.0.1';
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (d: Buffer) => (bodyBytes += d.length));
    req.on('end', () => {
      const url = req.url ?? '';
      requests.push({ method: req.method ?? '', url, headers: req.headers, bodyBytes });
      const reply = routes[url.split('?')[0] ?? ''] ?? opts.notFound ?? PLAIN_404;
      res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
      res.end(reply.body);
    });
  });
  const sockets = trackSockets(server);
  const bound = await listen(server, host, opts.port ?? 0);
  return { host, port: bound, requests, close: closer(server, sockets) };
}

export interface TcpReplay extends Listening {
  /** Every byte the client sent, in order. */
  received(): Buffer;
  /** How many connections were accepted. */
  connections(): number;
}

/** Answers `reply` on each connection once `complete(received)` says the client's request has fully arrived. */
export async function tcpReplay(reply: Buffer, complete: (received: Buffer) => boolean, host = '127.0.0.1', port = 0): Promise<TcpReplay> {
  const chunks: Buffer[] = [];
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    let mine = Buffer.alloc(0);
    let answered = false;
    s.on('data', (d: Buffer) => {
      chunks.push(Buffer.from(d));
      mine = Buffer.concat([mine, d]);
      if (!answered && complete(mine)) {
        answered = true;
        s.write(reply);
      }
    });
  });
  const sockets = trackSockets(server);
  const bound = await listen(server, host, port);
  return { host, port: bound, received: () => Buffer.concat(chunks), connections: () => accepted, close: closer(server, sockets) };
}

/** The bytes of a hex dump (hex pairs, whitespace ignored); `name` is for the error. */
export function hexDump(text: string, name: string): Buffer {
  const hex = text.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`Fixture ${name} is not a hex dump`);
  return Buffer.from(hex, 'hex');
}

/** Listen on `host:port` (0 = ephemeral); resolves with the port bound. */
export async function listen(server: net.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

/** The server's open sockets, so closing it does not wait for clients. */
export function trackSockets(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  return sockets;
}

export function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}
