/**
 * RFC 9116 security.txt from the target itself. Only `GET /.well-known/security.txt`, only on the
 * host's own address, only on the ports in `SECURITY_TXT_PORTS` (80/443/8080/8443): the same rails as a
 * probe (allow-list, read cap, deadline), HTTPS without certificate verification (the host is being
 * read, not trusted), no redirects followed (a redirect could lead away from the target).
 */
import { errorMessage } from '../../core/errors.js';
import { httpExchange } from '../../net/http.js';
import { describeNetworkError } from './http-get.js';
import { type SecurityTxt, type SecurityTxtPort } from './types.js';

export const SECURITY_TXT_PATH = '/.well-known/security.txt';
/** The only request attribution sends to a target. */
export const SECURITY_TXT_COMMANDS: readonly string[] = [`GET ${SECURITY_TXT_PATH}`];
const ALLOWED: ReadonlySet<string> = new Set(SECURITY_TXT_COMMANDS);
/** RFC 9116 files are a few hundred bytes; anything past this is not one. */
export const SECURITY_TXT_READ_CAP = 32 * 1024;

const MAX_LINES = 1000;
const MAX_VALUE = 2048;
const MAX_VALUES = 20;

/** The signed content of an OpenPGP cleartext-signed message (RFC 4880 §7), dash-escaping undone. */
function unwrapSigned(lines: string[]): string[] | undefined {
  if (lines[0]?.trim() !== '-----BEGIN PGP SIGNED MESSAGE-----') return undefined;
  let i = 1;
  while (i < lines.length && lines[i]!.trim() !== '') i++; // armor headers (Hash: …)
  const out: string[] = [];
  for (i++; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim() === '-----BEGIN PGP SIGNATURE-----') break;
    out.push(l.startsWith('- ') ? l.slice(2) : l);
  }
  return out;
}

/**
 * The fields of a security.txt. Undefined when the text has no `Contact` field (RFC 9116 §2.5.3 makes
 * it mandatory; an HTML page or a soft 404 has none). The signature, if any, is not verified.
 */
export function parseSecurityTxt(text: string, url: string, now: Date): SecurityTxt | undefined {
  let lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).slice(0, MAX_LINES);
  const signedContent = unwrapSigned(lines);
  if (signedContent) lines = signedContent;
  const fields = new Map<string, string[]>();
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z0-9-]+)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const name = m[1]!.toLowerCase();
    const value = m[2]!.trim().slice(0, MAX_VALUE);
    if (value === '') continue;
    const list = fields.get(name) ?? [];
    if (list.length < MAX_VALUES && !list.includes(value)) list.push(value);
    fields.set(name, list);
  }
  const contacts = fields.get('contact') ?? [];
  if (contacts.length === 0) return undefined;
  const out: SecurityTxt = {
    url,
    contacts,
    encryption: fields.get('encryption') ?? [],
    policy: fields.get('policy') ?? [],
    canonical: fields.get('canonical') ?? [],
    signed: signedContent !== undefined,
  };
  const expires = fields.get('expires')?.[0];
  if (expires !== undefined) {
    out.expires = expires;
    const t = Date.parse(expires);
    if (!Number.isNaN(t)) out.expired = t < now.getTime();
  }
  const languages = fields.get('preferred-languages')?.[0];
  if (languages !== undefined) out.preferredLanguages = languages;
  return out;
}

export function securityTxtUrl(ip: string, p: SecurityTxtPort): string {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const defaultPort = p.tls ? 443 : 80;
  return `${p.tls ? 'https' : 'http'}://${host}${p.port === defaultPort ? '' : `:${p.port}`}${SECURITY_TXT_PATH}`;
}

export type PortOutcome =
  | { kind: 'found'; file: SecurityTxt }
  /** A definite answer that there is no file: refused, 404, not text/plain, no Contact. */
  | { kind: 'absent'; reason: string }
  /** No definite answer (timeout, reset, too large): worth asking again later. */
  | { kind: 'failed'; reason: string };

export interface SecurityTxtFetchOptions {
  timeoutMs: number;
  userAgent: string;
  signal?: AbortSignal;
  now: Date;
}

async function fetchOne(ip: string, p: SecurityTxtPort, opts: SecurityTxtFetchOptions): Promise<PortOutcome> {
  const url = securityTxtUrl(ip, p);
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  let res;
  try {
    res = await httpExchange(
      `GET ${SECURITY_TXT_PATH}`,
      { method: 'GET', path: SECURITY_TXT_PATH, tls: p.tls, port: p.port, headers: { accept: 'text/plain' } },
      {
        module: 'attribution',
        allowed: ALLOWED,
        host: ip,
        port: p.port,
        readCap: SECURITY_TXT_READ_CAP,
        connectTimeoutMs: opts.timeoutMs,
        timeoutMs: opts.timeoutMs,
        userAgent: opts.userAgent,
        signal,
        onSend: () => {},
        onRead: () => {},
      },
    );
  } catch (err) {
    const why = describeNetworkError(err, opts.timeoutMs, opts.signal);
    return why === 'refused the connection' ? { kind: 'absent', reason: `${url} ${why}` } : { kind: 'failed', reason: `${url} ${why}` };
  }
  if (res.status !== 200) return { kind: 'absent', reason: `${url} answered HTTP ${res.status}` };
  const type = res.headers['content-type'];
  if (type !== undefined && !/^\s*text\/plain\b/i.test(type)) return { kind: 'absent', reason: `${url} is ${type.split(';')[0]}, not text/plain` };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(res.body);
  } catch (err) {
    return { kind: 'absent', reason: `${url} is not UTF-8 text: ${errorMessage(err)}` };
  }
  const file = parseSecurityTxt(text, url, opts.now);
  return file ? { kind: 'found', file } : { kind: 'absent', reason: `${url} has no Contact field` };
}

export interface SecurityTxtResult {
  file?: SecurityTxt;
  /** True when every port gave a definite answer, so "not found" may be cached. */
  definitive: boolean;
  /** Ports that could not be checked, as sentences. */
  failures: string[];
}

/** Asks every port at once; the first port in `ports` order that has a valid file wins. */
export async function fetchSecurityTxt(ip: string, ports: readonly SecurityTxtPort[], opts: SecurityTxtFetchOptions): Promise<SecurityTxtResult> {
  const outcomes = await Promise.all(ports.map((p) => fetchOne(ip, p, opts)));
  const found = outcomes.find((o): o is Extract<PortOutcome, { kind: 'found' }> => o.kind === 'found');
  if (found) return { file: found.file, definitive: true, failures: [] };
  const failures = outcomes.filter((o) => o.kind === 'failed').map((o) => o.reason);
  return { definitive: failures.length === 0, failures };
}
