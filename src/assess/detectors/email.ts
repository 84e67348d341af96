/**
 * E-mail addresses, a pragmatic subset of RFC 5322: a dot-atom local part (no quoted strings, no
 * comments, at most 64 characters), `@`, a host name of LDH labels and a top-level domain of 2–63
 * letters or an IDNA `xn--` label; 254 characters at most. `user@localhost`, `a@b.c`, `x@1.2.3.4`
 * and double dots are refused. A `mailto:` prefix is allowed.
 */
import { maskEmail } from '../mask.js';
import { type Detector } from './types.js';

const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
export const EMAIL_RE = new RegExp(`^(${ATOM}(?:\\.${ATOM})*)@((?:${LABEL}\\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{2,59}))$`);
/** The same shape inside free text (bounded by non-address characters). */
export const EMAIL_IN_TEXT_RE = new RegExp(`(?<![A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-])${ATOM}(?:\\.${ATOM})*@(?:${LABEL}\\.)+[A-Za-z]{2,63}(?![A-Za-z0-9-])`, 'g');

export function emailValid(value: string): boolean {
  let s = value.trim();
  if (/^mailto:/i.test(s)) s = s.slice(7);
  if (s.length > 254) return false;
  const m = EMAIL_RE.exec(s);
  return m !== null && (m[1] as string).length <= 64;
}

export function createEmailDetector(): Detector {
  return {
    id: 'email',
    category: 'email',
    description: 'E-mail address (RFC 5322 dot-atom subset with a real top-level domain shape)',
    checksumBacked: false,
    detect: (value) => emailValid(value),
    mask: (value) => maskEmail(value.trim().replace(/^mailto:/i, '')),
  };
}
