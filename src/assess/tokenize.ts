/**
 * Name tokenisation for schema signals (database/collection/table/column/field/key names).
 *
 * 1. Fold: NFKC (full-width `ｐｈｏｎｅ` → `phone`), strip diacritics from Latin letters only
 *    (`teléfono` → `telefono`; kana and Hangul keep their marks), `ß` → `ss`.
 * 2. Split camelCase and PascalCase (`idCard` → `id Card`, `XMLHttp` → `XML Http`), and between a
 *    CJK/kana/Hangul run and Latin letters or digits (`user手机` → `user 手机`).
 * 3. Split on anything that is not a letter or digit (`_ - . : / space …`) and lowercase.
 *    Letters and digits inside one token stay together (`ipv4`, `md5`, `addr1`); the matcher also
 *    tries the token without trailing digits (`addr1` → `addr`) and a naive singular (`phones` → `phone`).
 *
 * Latin terms match whole tokens (so `address` in `ip_address` is a token but `ipaddress` is not)
 * or known compounds written without separators (`id_card` also matches the token `idcard`).
 * Terms in other scripts match as substrings of the folded name, since those scripts do not
 * separate words.
 */

const CJK = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}`;
const CJK_THEN_LATIN = new RegExp(`([${CJK}])(?=[A-Za-z0-9])`, 'gu');
const LATIN_THEN_CJK = new RegExp(`([A-Za-z0-9])(?=[${CJK}])`, 'gu');

/** Unicode folding shared by names and terms. */
export function foldName(name: string): string {
  return name
    .normalize('NFKC')
    .normalize('NFD')
    .replace(/(\p{Script=Latin})\p{M}+/gu, '$1')
    .normalize('NFC')
    .replace(/ß/g, 'ss');
}

/** Lowercase tokens of a name, in order. */
export function tokenize(name: string): string[] {
  const split = foldName(name)
    .replace(CJK_THEN_LATIN, '$1 ')
    .replace(LATIN_THEN_CJK, '$1 ')
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2');
  return split
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0)
    .map((t) => t.toLowerCase());
}

/** A naive English singular: good enough for column names (`addresses`, `phones`, `photos`, `cities`). */
export function singular(token: string): string {
  if (token.length > 4 && token.endsWith('ies')) return token.slice(0, -3) + 'y';
  if (/(sses|xes|ches|shes|zzes)$/.test(token)) return token.slice(0, -2);
  if (token.length > 3 && token.endsWith('s') && !/(ss|us|is)$/.test(token)) return token.slice(0, -1);
  return token;
}

/** The forms a token is compared under: itself, its singular, and without trailing digits. */
export function tokenVariants(token: string): string[] {
  const out = new Set([token, singular(token)]);
  const noDigits = token.replace(/\d+$/, '');
  if (noDigits.length >= 2 && noDigits !== token) {
    out.add(noDigits);
    out.add(singular(noDigits));
  }
  return [...out];
}
