import net from 'node:net';
import tls from 'node:tls';
import {
  CommandNotAllowedError,
  ConnectionClosedError,
  ConnectTimeoutError,
  ProtocolError,
  ReadLimitError,
} from '../core/errors.js';
import { type Cancellation } from './cancel.js';

/**
 * A frame decoder: given every byte received and not yet consumed, return the decoded value and how
 * many bytes it used, or `undefined` when more bytes are needed. Throw `ProtocolError` on garbage.
 * Decoders are pure functions from the protocol's codec.ts.
 */
export type Decoder<T> = (buf: Buffer) => { value: T; consumed: number } | undefined;

export interface SessionOptions {
  module: string;
  allowed: ReadonlySet<string>;
  readCap: number;
  connectTimeoutMs: number;
  /** The probe's deadline or the caller's stop. */
  cancel: Cancellation;
  /** Called before bytes go on the wire, with the allow-listed command name. */
  onSend: (command: string, bytes: number) => void;
  onRead: (bytes: number) => void;
}

/**
 * One TCP (optionally TLS-upgraded) conversation with a server, with the safety rails built in:
 * every send names an allow-listed command, every read is bounded by the read cap, and the
 * probe's AbortSignal (deadline or Ctrl-C) tears the socket down.
 */
export class Session {
  private socket: net.Socket;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private totalRead = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly opts: SessionOptions;
  private readonly unsubscribe: () => void;

  private constructor(socket: net.Socket, opts: SessionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.attach(socket);
    this.unsubscribe = opts.cancel.subscribe((reason) => this.fail(reason));
  }

  /** Open a TCP connection within `connectTimeoutMs`, honouring the probe's cancellation. */
  static connect(host: string, port: number, opts: SessionOptions): Promise<Session> {
    return new Promise((resolve, reject) => {
      if (opts.cancel.reason !== undefined) {
        reject(opts.cancel.reason);
        return;
      }
      const socket = net.connect({ host, port, noDelay: true });
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.removeListener('connect', onConnect);
        socket.removeListener('error', onError);
        unsubscribe();
      };
      const onConnect = (): void => {
        cleanup();
        resolve(new Session(socket, opts));
      };
      const onError = (err: Error): void => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => onError(new ConnectTimeoutError(opts.connectTimeoutMs)), opts.connectTimeoutMs);
      socket.once('connect', onConnect);
      socket.once('error', onError);
      const unsubscribe = opts.cancel.subscribe(onError);
    });
  }

  get bytesRead(): number {
    return this.totalRead;
  }

  /** Send bytes as the named command. Refuses (and sends nothing) when the command is not allow-listed. */
  send(command: string, bytes: Uint8Array): void {
    this.sendAll([[command, bytes]]);
  }

  /**
   * Send several commands in one write (pipelining): each must be allow-listed, or nothing is sent.
   * One write means one packet and one round trip for requests whose replies are read in order.
   */
  sendAll(commands: ReadonlyArray<readonly [command: string, bytes: Uint8Array]>): void {
    for (const [command] of commands) if (!this.opts.allowed.has(command)) throw new CommandNotAllowedError(this.opts.module, command);
    if (this.failure) throw this.failure;
    if (this.ended) throw new ConnectionClosedError();
    for (const [command, bytes] of commands) this.opts.onSend(command, bytes.length);
    this.socket.write(commands.length === 1 ? commands[0]![1] : Buffer.concat(commands.map(([, bytes]) => bytes)));
  }

  /** Read one frame with `decode`, waiting for more bytes as needed. */
  async read<T>(decode: Decoder<T>): Promise<T> {
    for (;;) {
      if (this.buffered > 0) {
        const buf = this.take();
        const r = decode(buf);
        if (r) {
          if (r.consumed < 0 || r.consumed > buf.length) throw new ProtocolError('Decoder consumed an impossible byte count');
          this.putBack(buf.subarray(r.consumed));
          return r.value;
        }
        this.putBack(buf);
      }
      if (this.failure) throw this.failure;
      if (this.ended) throw new ConnectionClosedError();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Bytes received and not yet consumed by a decoder (for evidence on protocol errors). */
  peek(max = 256): Buffer {
    const buf = this.take();
    this.putBack(buf);
    return buf.subarray(0, max);
  }

  /**
   * Upgrade this connection to TLS in place (PostgreSQL SSLRequest, MySQL CLIENT_SSL …).
   * Certificates are not verified: a probe wants to see the service, not to trust it.
   */
  async upgradeTls(servername?: string): Promise<void> {
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('end');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
    this.socket = secure;
    this.attach(secure);
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        secure.removeListener('secureConnect', ok);
        secure.removeListener('error', done);
        if (err) reject(err);
        else resolve();
      };
      const ok = (): void => done();
      secure.once('secureConnect', ok);
      secure.once('error', done);
      if (this.failure) done(this.failure);
    });
  }

  close(): void {
    this.unsubscribe();
    if (this.socket instanceof tls.TLSSocket && !this.socket.destroyed) {
      // Send close_notify so the server logs a clean TLS close, not a connection reset.
      const s = this.socket;
      s.end();
      setTimeout(() => s.destroy(), 200).unref();
    } else {
      this.socket.destroy();
      // The socket object lives on until its handle has closed, which under load can be a while; its
      // listeners would keep this session, the probe and its result reachable all that time.
      this.socket.removeAllListeners();
      this.socket.on('error', ignore);
    }
    this.ended = true;
    this.notify();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.totalRead += chunk.length;
      this.opts.onRead(chunk.length);
      if (this.totalRead > this.opts.readCap) {
        this.fail(new ReadLimitError(this.opts.readCap));
        return;
      }
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', (err: Error) => this.fail(err));
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    this.socket.destroy();
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private take(): Buffer {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const buf = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [buf];
    return buf;
  }

  private putBack(rest: Buffer): void {
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
  }
}

function ignore(): void {}
