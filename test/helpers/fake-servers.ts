import assert from 'node:assert/strict';
import net from 'node:net';

/**
 * Hostile and silent peers for bounded-failure tests. These are not mocks of a database:
 * they are the misbehaving hosts a scanner meets on the internet (a port that never answers,
 * one that sends garbage, one that floods). Each listens on 127.0.0.1 on an ephemeral port.
 */
export interface FakePeer {
  port: number;
  close(): Promise<void>;
}

/** A loopback peer on an ephemeral port that runs `onConn` for each connection (closing it drops them all). */
export function listen(onConn: (s: net.Socket) => void): Promise<FakePeer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConn(s);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** Accepts and never says a word. */
export function silentPeer(): Promise<FakePeer> {
  return listen(() => undefined);
}

/** Sends `bytes` on connect (or after the first client bytes when `afterRequest`), then keeps the socket open. */
export function garbagePeer(bytes: Buffer, opts: { afterRequest?: boolean } = {}): Promise<FakePeer> {
  return listen((s) => {
    if (opts.afterRequest) s.once('data', () => s.write(bytes));
    else s.write(bytes);
  });
}

/**
 * Streams `total` bytes of `fill` (default 100 MB), in 64 KiB chunks, respecting back-pressure.
 * With `prefix`, those bytes go first (a valid protocol header in front of the flood, so a decoder
 * that rejects garbage at once still has to meet the read cap. With `chunk`, that pattern is repeated
 * instead of `fill` (e.g. well-formed protocol lines).
 */
export function floodPeer(
  total = 100 * 1024 * 1024,
  fill = 0x41,
  opts: { afterRequest?: boolean; prefix?: Buffer | string; chunk?: Buffer } = {},
): Promise<FakePeer> {
  const chunk = opts.chunk ?? Buffer.alloc(64 * 1024, fill);
  return listen((s) => {
    let sent = 0;
    const pump = (): void => {
      if (sent === 0 && opts.prefix !== undefined) s.write(opts.prefix);
      while (sent < total && !s.destroyed) {
        sent += chunk.length;
        if (!s.write(chunk)) {
          s.once('drain', pump);
          return;
        }
      }
    };
    if (opts.afterRequest) s.once('data', pump);
    else pump();
  });
}

/** A relay whose upstream connections come from `localAddress`, so the server sees (and logs) that source address. */
export function sourceRelay(host: string, port: number, localAddress: string): Promise<FakePeer> {
  return listen((client) => {
    const upstream = net.connect({ host, port, localAddress });
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
}

/** A loopback port where nothing listens (bound once, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Run `fn` and say how long it took, in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - started };
}

/** `timed`, plus how much heap and ArrayBuffer memory the call left grown (for hostile-peer tests). */
export async function timedWithMemory<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number; grew: number }> {
  const before = process.memoryUsage();
  const { result, ms } = await timed(fn);
  const after = process.memoryUsage();
  return { result, ms, grew: after.arrayBuffers + after.heapUsed - (before.arrayBuffers + before.heapUsed) };
}

/** The bound every probe is held to against a flooding peer: 48 MiB of memory growth. */
export function assertMemoryBounded(grew: number): void {
  assert.ok(grew < 48 * 1024 * 1024, `memory grew by ${grew} bytes`);
}

/**
 * A transparent TCP relay to a real server that records every byte the client sent, so a test can
 * decode the stream and assert that only allow-listed commands went on the wire.
 */
export interface RecordingProxy extends FakePeer {
  clientBytes(): Buffer;
}

export async function recordingProxy(host: string, port: number): Promise<RecordingProxy> {
  const recorded: Buffer[] = [];
  const peer = await listen((client) => {
    const upstream = net.connect({ host, port });
    upstream.on('error', () => client.destroy());
    client.on('data', (d: Buffer) => {
      recorded.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return { ...peer, clientBytes: () => Buffer.concat(recorded) };
}
