import dgram from 'node:dgram';
import net from 'node:net';
import { CommandNotAllowedError, errorMessage } from '../core/errors.js';
import { AuthVerdict, EVIDENCE_CAP, ProbeStatus, type ProbeContext, type ProbeResult, type Target } from '../core/types.js';
import { newProbeResult } from '../core/probe-result.js';
import { Cancellation, onSignalAbort } from './cancel.js';
import { httpExchange, type HttpRequest, type HttpResponse } from './http.js';
import { Session } from './session.js';
import { CancelledError, DeadlineError, statusFromError } from './status.js';

/** The part of a `Probe` that the runner needs: its name and its allow-list. */
export interface ProbeModuleInfo {
  readonly name: string;
  readonly allowedCommands: readonly string[];
}

/**
 * The state of one probe while it runs. A module's `probe()` is `runProbe(this, target, ctx, async (run) => …)`:
 * it opens sessions through `run`, fills `run.result` (auth, product, version, metadata, peers) and
 * returns; `runProbe` turns every thrown error into a status so the probe never throws.
 */
export class ProbeRun {
  readonly result: ProbeResult;
  /** Set at the probe deadline or when the caller cancels. */
  readonly cancel: Cancellation;
  readonly ctx: ProbeContext;
  #signal: AbortSignal | undefined;
  private readonly allowed: ReadonlySet<string>;
  private readonly sessions: Session[] = [];
  /** True once any TCP session connected: the host answered, so a missing verdict is `inconclusive`. */
  connected = false;

  constructor(
    private readonly module: ProbeModuleInfo,
    readonly target: Target,
    ctx: ProbeContext,
    cancel: Cancellation,
  ) {
    this.ctx = ctx;
    this.cancel = cancel;
    this.allowed = allowListOf(module);
    this.result = newProbeResult(module.name, target);
  }

  /** True once the deadline passed or the caller cancelled. */
  get aborted(): boolean {
    return this.cancel.aborted;
  }

  /** The cancellation as an AbortSignal (made on first use: only HTTP needs one). */
  get signal(): AbortSignal {
    return (this.#signal ??= this.cancel.toSignal());
  }

  /** Open a TCP session to the target (or another port on the same host). */
  async connect(port = this.target.port): Promise<Session> {
    const session = await Session.connect(this.target.host, port, {
      module: this.module.name,
      allowed: this.allowed,
      readCap: this.ctx.readCap,
      connectTimeoutMs: this.ctx.connectTimeoutMs,
      cancel: this.cancel,
      onSend: (command, bytes) => {
        this.result.commands.push(command);
        this.result.bytesSent += bytes;
      },
      onRead: (bytes) => {
        this.result.bytesRead += bytes;
      },
    });
    this.sessions.push(session);
    this.connected = true;
    return session;
  }

  /**
   * One HTTP request as an allow-listed command (name it with `httpCommandName`, e.g. `GET /_cat/indices`).
   * The body is capped by the read cap; the User-Agent is the scanner's identity string.
   * Any HTTP answer (even 401/500) means something listened, so the target counts as connected.
   */
  async http(command: string, req: HttpRequest): Promise<HttpResponse> {
    const res = await httpExchange(command, req, {
      module: this.module.name,
      allowed: this.allowed,
      host: this.target.host,
      port: this.target.port,
      readCap: this.ctx.readCap,
      connectTimeoutMs: this.ctx.connectTimeoutMs,
      timeoutMs: this.ctx.timeoutMs,
      userAgent: this.ctx.identity,
      signal: this.signal,
      onSend: (name, bytes) => {
        this.result.commands.push(name);
        this.result.bytesSent += bytes;
      },
      onRead: (bytes) => {
        this.connected = true;
        this.result.bytesRead += bytes;
      },
      onConnect: () => {
        this.connected = true;
      },
    });
    this.connected = true;
    return res;
  }

  /**
   * Send one UDP datagram as an allow-listed command and wait for the first reply datagram
   * (or `undefined` after `timeoutMs`). Replies beyond the read cap are truncated, not buffered.
   */
  async udpExchange(command: string, bytes: Uint8Array, opts: { port?: number; timeoutMs: number }): Promise<Buffer | undefined> {
    if (!this.allowed.has(command)) throw new CommandNotAllowedError(this.module.name, command);
    const family = net.isIPv6(this.target.host) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket(family);
    try {
      return await new Promise<Buffer | undefined>((resolve, reject) => {
        if (this.cancel.reason !== undefined) {
          reject(this.cancel.reason);
          return;
        }
        const timer = setTimeout(() => resolve(undefined), opts.timeoutMs);
        const unsubscribe = this.cancel.subscribe((reason) => {
          clearTimeout(timer);
          reject(reason);
        });
        socket.on('message', (msg) => {
          clearTimeout(timer);
          unsubscribe();
          this.result.bytesRead += msg.length;
          resolve(msg.length > this.ctx.readCap ? msg.subarray(0, this.ctx.readCap) : msg);
        });
        // ICMP port unreachable shows up as ECONNREFUSED on connected UDP sockets; treat as "no answer".
        socket.on('error', () => {
          clearTimeout(timer);
          unsubscribe();
          resolve(undefined);
        });
        socket.connect(opts.port ?? this.target.port, this.target.host, () => {
          this.result.commands.push(command);
          this.result.bytesSent += bytes.length;
          socket.send(bytes);
        });
      });
    } finally {
      socket.close();
    }
  }

  /** Record the reply that justifies the verdict, as capped printable text. */
  setEvidence(raw: string | Uint8Array): void {
    this.result.evidence = printable(raw, EVIDENCE_CAP);
  }

  closeAll(): void {
    for (const s of this.sessions) s.close();
  }
}

// One Set per module, not per probe: the allow-list is fixed, and a scan runs thousands of probes a second.
const allowLists = new WeakMap<ProbeModuleInfo, ReadonlySet<string>>();
function allowListOf(module: ProbeModuleInfo): ReadonlySet<string> {
  let set = allowLists.get(module);
  if (set === undefined) {
    set = new Set(module.allowedCommands);
    allowLists.set(module, set);
  }
  return set;
}

/**
 * Run a module's probe body with a deadline and turn whatever happens into a `ProbeResult`.
 * When the body already reached a verdict before failing (e.g. a metadata query timed out after the
 * server proved open), the status stays `success` and the failure is kept in `errors`.
 */
export async function runProbe(
  module: ProbeModuleInfo,
  target: Target,
  ctx: ProbeContext,
  body: (run: ProbeRun) => Promise<void>,
): Promise<ProbeResult> {
  const started = performance.now();
  const cancel = new Cancellation();
  if (ctx.signal.aborted) cancel.abort(new CancelledError());
  // Many probes share the caller's signal (a scan's stop): one fanned-out listener, not one each.
  const stopListening = onSignalAbort(ctx.signal, () => cancel.abort(new CancelledError()));
  const timer = setTimeout(() => cancel.abort(new DeadlineError(ctx.timeoutMs)), ctx.timeoutMs);
  const run = new ProbeRun(module, target, ctx, cancel);
  try {
    await body(run);
    run.result.status = ProbeStatus.success;
    // A body that returns without a verdict after talking to the host could not decide.
    if (run.result.auth === undefined && run.connected) run.result.auth = AuthVerdict.inconclusive;
  } catch (err) {
    // When the probe was cancelled, the reason (deadline or stop) says what happened, whatever
    // shape of abort error the transport (socket, undici) threw.
    const status = cancel.reason !== undefined ? statusFromError(cancel.reason) : statusFromError(err);
    if (run.result.auth !== undefined && status !== ProbeStatus.cancelled) {
      run.result.status = ProbeStatus.success;
      run.result.errors.push(`Partial result: ${errorMessage(err)}`);
    } else {
      run.result.status = status;
      run.result.errors.push(errorMessage(err));
      // Something listened (we connected) but the exchange failed: it is there, we cannot tell more.
      if (run.connected && status !== ProbeStatus.cancelled) run.result.auth = AuthVerdict.inconclusive;
    }
  } finally {
    clearTimeout(timer);
    stopListening();
    run.closeAll();
    run.result.durationMs = Math.round(performance.now() - started);
  }
  return run.result;
}

/** Render bytes or text as printable ASCII with \xNN escapes, at most `cap` characters. */
export function printable(raw: string | Uint8Array, cap: number): string {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let out = '';
  for (const b of bytes) {
    if (out.length >= cap) return out.slice(0, cap - 1) + '…';
    if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += '\\x' + b.toString(16).padStart(2, '0');
  }
  return out.length > cap ? out.slice(0, cap - 1) + '…' : out;
}
