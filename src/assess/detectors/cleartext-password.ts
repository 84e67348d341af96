/**
 * A clear-text password or secret: any short single-line value in a field whose name says
 * password/secret/token (credential category), that is not a recognised hash, not a placeholder
 * (`******`, `null`, `true`), not a path (`PWD=/home/x`) and not in a field about passwords rather
 * than holding one (`password_changed_at`, `password_hash`, `pwd_length`). Masked as
 * `[clear-text secret, 8 chars]`.
 */
import { redactedLabel } from '../mask.js';
import { type Detector, type HintProvider } from './types.js';

/** Field-name tokens meaning "about the password" or "already hashed", not "the password". */
const ABOUT = new Set([
  'hash', 'hashed', 'digest', 'salt', 'encrypted', 'crypt', 'crypted', 'enc', 'md5', 'sha1', 'sha256', 'sha512', 'bcrypt',
  'changed', 'expires', 'expire', 'expiry', 'expired', 'reset', 'policy', 'at', 'count', 'attempts', 'retries', 'strength',
  'length', 'len', 'hint', 'question', 'type', 'algo', 'algorithm', 'version', 'updated', 'created', 'time', 'date',
  'required', 'enabled', 'flag', 'is', 'has', 'need', 'needs', 'must', 'min', 'max', 'rule', 'rules', 'set', 'status',
]);
const PLACEHOLDER = /^(\*+|x+|null|none|nil|undefined|true|false|n\/a|-|0|1|\[redacted\]|\[filtered\]|<redacted>)$/i;

export function createCleartextPasswordDetector(hints: HintProvider, isHash: (value: string) => boolean): Detector {
  return {
    id: 'cleartext_password',
    category: 'credential',
    description: 'Clear-text password or secret in a password/secret/token field',
    checksumBacked: false,
    detect(value, context) {
      const h = hints(context);
      if (!h.categories.has('credential') || h.tokens.some((t) => ABOUT.has(t))) return false;
      const s = value.trim();
      if (s.length === 0 || s.length > 128 || /[\r\n]/.test(s) || PLACEHOLDER.test(s)) return false;
      if (/^(\/|~\/|[A-Za-z]:\\)/.test(s)) return false;
      if (/^\$[A-Za-z0-9-]+\$/.test(s)) return false; // a crypt-style hash, if a malformed one
      return !isHash(s);
    },
    mask: (value) => redactedLabel(`[clear-text secret, ${Array.from(value.trim()).length} chars]`),
  };
}
