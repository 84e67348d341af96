/**
 * Compromise signs: was this exposed database already attacked? Rules are data
 * (src/rules/ransom-rules.json, documented in src/rules/README.md); this module only evaluates them
 * against what a probe (and, inside scope, a bounded sample) already saw. Pure: no I/O.
 *
 * Decision: compromised when any `strong` rule matches, or when at least
 * `decision.weakMatchesNeeded` distinct `weak` rules match.
 * Evidence is capped and masked: names are sanitised, Bitcoin addresses and e-mails masked, SSH keys
 * reduced to their fingerprint, payload lines cut to 100 characters.
 */
import { createHash } from 'node:crypto';
import { builtinRules, type Rules } from '../rules/load.js';
import { type NamespaceKind, type NameRule, type NoteRule, type RansomRule, type RedisConfigRule, type RedisValueRule } from '../rules/schema.js';
import { findBitcoinAddresses } from './bitcoin.js';
import { EMAIL_IN_TEXT_RE } from './detectors/email.js';
import { sanitizeName } from './field-path.js';
import { maskEmail, maskMiddle } from './mask.js';

export interface NamespaceInfo {
  /** From the top: `['READ__ME_TO_RECOVER_YOUR_DATA', 'README']` (database, collection), `['db0', 'backup1']` (Redis). */
  path: readonly string[];
  kind: NamespaceKind;
  /** Documents/rows/keys it holds, when known. */
  count?: number;
}

export interface CompromiseInput {
  /** Module name (`mongodb`, `redis`, `elasticsearch` …). */
  product: string;
  namespaces?: readonly NamespaceInfo[];
  /** Texts of sampled notes (already read, inside scope only). */
  notes?: readonly string[];
  /** Redis INFO/CONFIG fields (`dir`, `dbfilename`, `module` …); repeated fields as arrays. */
  redisConfig?: Readonly<Record<string, string | readonly string[]>>;
  /** Sampled Redis values with their key names. */
  redisValues?: ReadonlyArray<{ key: string; value: string }>;
}

export interface CompromiseMatch {
  ruleId: string;
  description: string;
  strength: 'strong' | 'weak';
  /** What matched, masked and capped (≤ 300 characters). */
  evidence: string;
  references: string[];
}

export interface CompromiseAssessment {
  compromised: boolean;
  matches: CompromiseMatch[];
}

const EVIDENCE_CAP = 300;
const NOTE_SCAN_CAP = 65_536;
const VALUE_SCAN_CAP = 65_536;

function cap(s: string, n = EVIDENCE_CAP): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return clean.length > n ? `${clean.slice(0, n - 1)}…` : clean;
}

/** Lowercase, letters and digits only: `READ__ME_TO_RECOVER_YOUR_DATA` → `readmetorecoveryourdata`. */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

// Compiled once per phrase: the assessment runs for every answered probe of a scan.
const phraseCache = new Map<string, RegExp>();

function phraseRegex(phrase: string): RegExp {
  let re = phraseCache.get(phrase);
  if (re === undefined) {
    re = compilePhrase(phrase);
    phraseCache.set(phrase, re);
  }
  re.lastIndex = 0;
  return re;
}

function compilePhrase(phrase: string): RegExp {
  const body = phrase.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+');
  return /^[\x00-\x7f]+$/.test(phrase) ? new RegExp(`(?<![\\p{L}\\p{N}])${body}(?![\\p{L}\\p{N}])`, 'iu') : new RegExp(body, 'iu');
}

/** OpenSSH-style fingerprint (`SHA256:…`) of the first public key in a text. */
function sshFingerprint(text: string): string | undefined {
  const m = /(ssh-[a-z0-9]+|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)[ \t]+(AAAA[0-9A-Za-z+/]+={0,3})/.exec(text);
  if (!m) return undefined;
  const digest = createHash('sha256').update(Buffer.from(m[2] as string, 'base64')).digest('base64').replace(/=+$/, '');
  return `${m[1]} key SHA256:${digest}`;
}

/** A rule set with its names and patterns compiled, once per rule set: this runs for every answered probe. */
interface CompiledRules {
  names: Array<{ rule: NameRule; names: ReadonlySet<string>; patterns: readonly RegExp[] }>;
  notes: Array<{ rule: NoteRule; phrases: ReadonlyArray<readonly [string, RegExp]> }>;
  wiped: readonly RansomRule[];
  system: readonly RegExp[];
  redisValues: Array<{ rule: RedisValueRule; keys: readonly RegExp[] | undefined; values: readonly RegExp[] }>;
  redisConfig: Array<{ rule: RedisConfigRule; patterns: readonly RegExp[] }>;
}

const compiledRules = new WeakMap<Rules, CompiledRules>();

function compile(rules: Rules): CompiledRules {
  let c = compiledRules.get(rules);
  if (c) return c;
  const all = rules.ransom.rules;
  c = {
    names: all
      .filter((r): r is NameRule => r.kind === 'name')
      .map((rule) => ({ rule, names: new Set(rule.names ?? []), patterns: (rule.patterns ?? []).map((p) => new RegExp(p, 'iu')) })),
    notes: all.filter((r): r is NoteRule => r.kind === 'note').map((rule) => ({ rule, phrases: rule.phrases.map((p) => [p, phraseRegex(p)] as const) })),
    wiped: all.filter((r) => r.kind === 'wiped'),
    system: rules.ransom.systemNames.map((p) => new RegExp(p, 'iu')),
    redisValues: all
      .filter((r): r is RedisValueRule => r.kind === 'redis-value')
      .map((rule) => ({ rule, keys: rule.keyPatterns?.map((p) => new RegExp(p, 'iu')), values: rule.valuePatterns.map((p) => new RegExp(p, 'imu')) })),
    redisConfig: all
      .filter((r): r is RedisConfigRule => r.kind === 'redis-config')
      .map((rule) => ({ rule, patterns: rule.patterns.map((p) => new RegExp(p, 'iu')) })),
  };
  compiledRules.set(rules, c);
  return c;
}

export function assessCompromise(input: CompromiseInput, opts: { rules?: Rules } = {}): CompromiseAssessment {
  const rules = opts.rules ?? builtinRules();
  const compiled = compile(rules);
  const product = input.product.toLowerCase();
  const applies = (r: RansomRule) => !r.products || r.products.includes(product);
  const namespaces = input.namespaces ?? [];
  const matches: CompromiseMatch[] = [];
  const matchedNamespaces = new Set<NamespaceInfo>();
  const add = (r: RansomRule, evidence: string) =>
    matches.push({ ruleId: r.id, description: r.description, strength: r.strength, evidence: cap(evidence), references: [...(r.references ?? [])] });

  for (const { rule: r, names, patterns } of compiled.names) {
    if (!applies(r) || namespaces.length === 0) continue;
    const hits = namespaces.filter((ns) => {
      if (r.appliesTo && !r.appliesTo.includes(ns.kind)) return false;
      const name = ns.path[ns.path.length - 1] ?? '';
      return names.has(normaliseName(name)) || patterns.some((p) => p.test(name));
    });
    if (hits.length === 0) continue;
    hits.forEach((h) => matchedNamespaces.add(h));
    const shown = hits.slice(0, 5).map((h) => `${h.kind} ${JSON.stringify(cap(h.path.map((p) => sanitizeName(p)).join('.'), 80))}`);
    add(r, `${shown.join(', ')}${hits.length > 5 ? ` and ${hits.length - 5} more` : ''}`);
  }

  const notes = (input.notes ?? []).map((n) => n.slice(0, NOTE_SCAN_CAP));
  for (const { rule: r, phrases } of notes.length > 0 ? compiled.notes : []) {
    if (!applies(r)) continue;
    for (const note of notes) {
      const found = phrases.filter(([, re]) => re.test(note)).map(([p]) => p);
      if (found.length < r.minPhrases) continue;
      const btc = findBitcoinAddresses(note);
      if (r.requireBitcoin && btc.length === 0) continue;
      const emails = [...note.matchAll(EMAIL_IN_TEXT_RE)].map((m) => m[0]);
      if (r.requireContact && emails.length === 0) continue;
      const parts = [`note mentions ${found.slice(0, 4).map((p) => JSON.stringify(p)).join(', ')}${found.length > 4 ? ` (+${found.length - 4} more)` : ''}`];
      if (btc.length > 0) parts.push(`Bitcoin address ${maskMiddle(btc[0] as string)}`);
      if (emails.length > 0) parts.push(`contact ${maskEmail(emails[0] as string)}`);
      add(r, parts.join('; '));
      break;
    }
  }

  const wiped = matchedNamespaces.size > 0 ? compiled.wiped.filter(applies) : [];
  if (wiped.length > 0) {
    const system = compiled.system;
    const isPrefix = (a: readonly string[], b: readonly string[]) => a.length < b.length && a.every((x, i) => x === b[i]);
    const matched = [...matchedNamespaces];
    // Everything else that is not a system namespace and not inside the note's own namespace.
    // A parent of the note (Redis db0 holding the note key) counts with the note's records taken off.
    const others = namespaces
      .filter((ns) => !matchedNamespaces.has(ns) && !ns.path.some((p) => system.some((re) => re.test(p))) && !matched.some((m) => isPrefix(m.path, ns.path)))
      .map((ns) => {
        const inside = matched.filter((m) => isPrefix(ns.path, m.path));
        if (inside.length === 0 || ns.count === undefined) return ns;
        return { ...ns, count: Math.max(0, ns.count - inside.reduce((n, m) => n + (m.kind === 'key' ? 1 : (m.count ?? 0)), 0)) };
      })
      // A parent without a count is represented by its listed children.
      .filter((ns) => ns.count !== undefined || !namespaces.some((c) => isPrefix(ns.path, c.path)));
    if (others.every((o) => o.count === 0)) {
      const evidence = others.length === 0 ? 'no namespace other than the note' : `all ${others.length} other namespaces are empty`;
      for (const r of wiped) add(r, evidence);
    }
  }

  for (const { rule: r, keys: keyRes, values: valueRes } of input.redisValues?.length ? compiled.redisValues : []) {
    if (!applies(r)) continue;
    for (const { key, value } of input.redisValues ?? []) {
      if (keyRes && !keyRes.some((re) => re.test(key))) continue;
      const text = value.slice(0, VALUE_SCAN_CAP);
      const m = valueRes.map((re) => re.exec(text)).find((x) => x !== null);
      if (!m) continue;
      const lineStart = text.lastIndexOf('\n', m.index) + 1;
      const lineEnd = text.indexOf('\n', m.index + m[0].length);
      const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).trim();
      const fp = sshFingerprint(line);
      add(r, `key ${JSON.stringify(cap(sanitizeName(key), 80))}: ${fp ?? `line ${JSON.stringify(cap(line, 100))}`}`);
      break;
    }
  }

  for (const { rule: r, patterns: res } of input.redisConfig ? compiled.redisConfig : []) {
    if (!applies(r)) continue;
    const raw = input.redisConfig?.[r.field];
    const values = raw === undefined ? [] : typeof raw === 'string' ? [raw] : [...raw];
    const hit = values.find((v) => res.some((re) => re.test(v)));
    if (hit !== undefined) add(r, `${r.field} = ${JSON.stringify(cap(hit, 120))}`);
  }

  const strong = matches.some((m) => m.strength === 'strong');
  const weak = new Set(matches.filter((m) => m.strength === 'weak').map((m) => m.ruleId)).size;
  return { compromised: strong || weak >= rules.ransom.decision.weakMatchesNeeded, matches };
}
