/**
 * Password hashes by their crypt(3)/PHC formats: bcrypt `$2a$/$2b$/$2y$` + cost 04–31 + 53 characters,
 * md5-crypt `$1$`, Apache `$apr1$`, sha256-crypt `$5$`, sha512-crypt `$6$`, yescrypt `$y$`, argon2
 * `$argon2id$/$argon2i$/$argon2d$`, Django `pbkdf2_sha256$…`, MySQL 4.1+ `*` + 40 hex. A bare hex
 * digest (MD5 32, SHA-1 40, SHA-256 64, SHA-512 128 hex digits) counts only in a field whose name
 * says password/credential. Masked as `[bcrypt hash]` etc.
 */
import { redactedLabel } from '../mask.js';
import { type Detector, type DetectContext, type HintProvider } from './types.js';

const B64C = '[./0-9A-Za-z]';
const FORMATS: ReadonlyArray<readonly [string, RegExp]> = [
  ['bcrypt', new RegExp(`^\\$2[abxy]?\\$(0[4-9]|[12]\\d|3[01])\\$${B64C}{53}$`)],
  ['md5-crypt', new RegExp(`^\\$1\\$${B64C}{1,8}\\$${B64C}{22}$`)],
  ['apr1-md5', new RegExp(`^\\$apr1\\$${B64C}{1,8}\\$${B64C}{22}$`)],
  ['sha256-crypt', new RegExp(`^\\$5\\$(rounds=\\d{1,9}\\$)?${B64C}{1,16}\\$${B64C}{43}$`)],
  ['sha512-crypt', new RegExp(`^\\$6\\$(rounds=\\d{1,9}\\$)?${B64C}{1,16}\\$${B64C}{86}$`)],
  ['yescrypt', new RegExp(`^\\$y\\$${B64C}+\\$${B64C}+\\$${B64C}{43}$`)],
  ['argon2', /^\$argon2(id|i|d)\$(v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{8,}={0,2}\$[A-Za-z0-9+/]{16,}={0,2}$/],
  ['pbkdf2', /^pbkdf2_sha(1|256|512)\$\d{1,9}\$[A-Za-z0-9./+=]{1,128}\$[A-Za-z0-9+/=]{20,}$/],
  ['mysql41', /^\*[0-9A-F]{40}$/],
];
const HEX_DIGESTS: ReadonlyArray<readonly [number, string]> = [
  [32, 'md5'],
  [40, 'sha1'],
  [64, 'sha256'],
  [128, 'sha512'],
];

export function createPasswordHashDetector(hints: HintProvider) {
  function kind(value: string, context?: DetectContext): string | undefined {
    const s = value.trim();
    if (s.length > 300) return undefined;
    for (const [name, re] of FORMATS) if (re.test(s)) return name;
    if (/^[0-9a-fA-F]+$/.test(s) && hints(context).categories.has('credential')) {
      for (const [len, name] of HEX_DIGESTS) if (s.length === len) return name;
    }
    return undefined;
  }
  const detector: Detector & { kind: typeof kind } = {
    id: 'password_hash',
    category: 'credential',
    description: 'Password hash (bcrypt, *-crypt, argon2, pbkdf2, MySQL; bare hex digests only in password fields)',
    checksumBacked: false,
    kind,
    detect: (value, context) => kind(value, context) !== undefined,
    mask(value) {
      const s = value.trim();
      const k = FORMATS.find(([, re]) => re.test(s))?.[0] ?? HEX_DIGESTS.find(([len]) => len === s.length)?.[1] ?? 'password';
      return redactedLabel(`[${k} hash]`);
    },
  };
  return detector;
}
