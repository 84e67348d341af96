/**
 * Sending notices by SMTP (nodemailer), at most `ratePerMinute` messages a minute from one sender, so a
 * batch of notices does not look like a spam run to the receiving servers.
 */
import nodemailer from 'nodemailer';
import { ErrorCode, LockdownError, UsageError, errorMessage } from '../../core/errors.js';

export interface MailSettings {
  /** e.g. `smtp://mail.example.org:587`, `smtps://user:pass@mail.example.org` (nodemailer URL options apply). */
  smtpUrl: string;
  /** The From address, e.g. `Example CERT <cert@example.org>`. */
  from: string;
  replyTo?: string;
  /** Messages per minute at most (default 30). */
  ratePerMinute?: number;
}

export interface OutgoingMessage {
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers?: Record<string, string>;
}

export interface SentMessage {
  messageId: string | null;
  /** The SMTP server's final reply, e.g. `250 OK: queued as …`. */
  response: string | null;
  accepted: string[];
  rejected: string[];
}

/** What the case service needs to send a notice; tests and other channels can supply their own. */
export interface NoticeSender {
  send(message: OutgoingMessage): Promise<SentMessage>;
  close(): void;
}

export const DEFAULT_RATE_PER_MINUTE = 30;

/**
 * The SMTP server refused or could not be reached. Coded as a configuration error (a wrong URL, port or
 * credentials is the usual cause) until the error hierarchy has a code of its own for mail.
 */
export class NoticeSendError extends LockdownError {
  constructor(server: string, err: unknown) {
    super(ErrorCode.config, `Could not send the notice through ${server}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Resolves when the next message may go out, keeping `intervalMs` between sends. */
export class SendPacer {
  #next = 0;
  constructor(
    readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async wait(): Promise<void> {
    const t = this.now();
    const at = Math.max(t, this.#next);
    this.#next = at + this.intervalMs;
    if (at > t) await new Promise((r) => setTimeout(r, at - t));
    // A timer that fired late must not shorten the next gap: count the interval from the real send time.
    this.#next = Math.max(this.#next, this.now() + this.intervalMs);
  }
}

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;

export function isEmail(s: string): boolean {
  return EMAIL.test(s);
}

export function createSmtpSender(settings: MailSettings): NoticeSender {
  if (!/^smtps?:\/\//i.test(settings.smtpUrl)) throw new UsageError(`SMTP URL ${JSON.stringify(redactUrl(settings.smtpUrl))} must start with smtp:// or smtps://`);
  const rate = settings.ratePerMinute ?? DEFAULT_RATE_PER_MINUTE;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new UsageError(`The send rate must be a positive number of messages per minute, got ${rate}`);
  const transport = nodemailer.createTransport(settings.smtpUrl);
  const pacer = new SendPacer(60_000 / rate);
  return {
    async send(m: OutgoingMessage): Promise<SentMessage> {
      const bad = m.to.filter((x) => !isEmail(x));
      if (bad.length > 0 || m.to.length === 0) throw new UsageError(`Not an e-mail address: ${bad.join(', ') || '(none given)'}`);
      await pacer.wait();
      let info: { messageId?: string; response?: string; accepted?: unknown[]; rejected?: unknown[] };
      try {
        info = (await transport.sendMail({
          from: settings.from,
          to: m.to,
          ...(settings.replyTo ? { replyTo: settings.replyTo } : {}),
          subject: m.subject,
          text: m.text,
          html: m.html,
          headers: m.headers ?? {},
        })) as typeof info;
      } catch (err) {
        throw new NoticeSendError(redactUrl(settings.smtpUrl), err);
      }
      return {
        messageId: info.messageId ?? null,
        response: info.response ?? null,
        accepted: (info.accepted ?? []).map(String),
        rejected: (info.rejected ?? []).map(String),
      };
    },
    close(): void {
      transport.close();
    },
  };
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
