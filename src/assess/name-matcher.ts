/**
 * Compiles the sensitive-name rules (src/rules/sensitive-names.json) into a matcher over names.
 * Tokenisation is documented in tokenize.ts; term syntax in src/rules/README.md.
 */
import { type SensitiveNameRule } from '../rules/schema.js';
import { foldName, tokenVariants, tokenize } from './tokenize.js';

interface TokenTerm {
  mode: 'tokens';
  raw: string;
  tokens: string[];
  /** The term's tokens without separators (`id_card` → `idcard`), for compounds written as one token. */
  joined: string;
  prefix: boolean;
}
interface SubstringTerm {
  mode: 'substring';
  raw: string;
  text: string;
}
type Term = TokenTerm | SubstringTerm;

function compileTerm(raw: string): Term {
  const prefix = raw.endsWith('*');
  const body = prefix ? raw.slice(0, -1) : raw;
  if (/^[a-z0-9_]+$/.test(body)) {
    const tokens = body.split('_').filter(Boolean);
    return { mode: 'tokens', raw, tokens, joined: tokens.join(''), prefix };
  }
  return { mode: 'substring', raw, text: foldName(body).toLowerCase() };
}

/** A name prepared once: its tokens (with variants) and its folded lowercase text. */
export interface PreparedName {
  raw: string;
  variants: string[][];
  folded: string;
}

export function prepareName(name: string): PreparedName {
  return { raw: name, variants: tokenize(name).map(tokenVariants), folded: foldName(name).toLowerCase() };
}

function tokenEquals(variants: readonly string[], term: string, prefix: boolean): boolean {
  return variants.some((v) => (prefix ? v.startsWith(term) : v === term));
}

/** Token spans `[start, end)` where the term occurs; substring terms report the whole name `[-1, -1]`. */
function findTerm(name: PreparedName, term: Term): Array<[number, number]> {
  if (term.mode === 'substring') return name.folded.includes(term.text) ? [[-1, -1]] : [];
  const spans: Array<[number, number]> = [];
  const n = term.tokens.length;
  const toks = name.variants;
  for (let i = 0; i + n <= toks.length; i++) {
    let ok = true;
    for (let j = 0; j < n && ok; j++) {
      ok = tokenEquals(toks[i + j] as string[], term.tokens[j] as string, term.prefix && j === n - 1);
    }
    if (ok) spans.push([i, i + n]);
  }
  if (n > 1) {
    toks.forEach((v, i) => {
      if (tokenEquals(v, term.joined, term.prefix)) spans.push([i, i + 1]);
    });
  }
  return spans;
}

function overlaps(a: [number, number], b: [number, number]): boolean {
  if (a[0] < 0 || b[0] < 0) return a[0] < 0 && b[0] < 0; // substring matches are only cancelled by substring exclusions
  return a[0] < b[1] && b[0] < a[1];
}

export interface NameMatch {
  ruleId: string;
  category: string;
  /** The rule term that matched, as written in the rule file. */
  term: string;
  strength: 'strong' | 'weak';
}

interface CompiledRule {
  rule: SensitiveNameRule;
  terms: Term[];
  weakTerms: Term[];
  context: Term[];
  exclude: Term[];
  excludeNames: Set<string>;
}

export interface NameMatcher {
  /** Rules matched by `name`; `context` holds the other path segments (database, collection, parent fields). */
  match(name: string, context?: readonly string[]): NameMatch[];
  /** True when the name looks like a technical identifier (`order_id`, `trace`, `ts`). */
  isIdentifier(name: string): boolean;
}

export function createNameMatcher(rules: readonly SensitiveNameRule[], identifierTerms: readonly string[]): NameMatcher {
  const compiled: CompiledRule[] = rules.map((rule) => ({
    rule,
    terms: rule.terms.map(compileTerm),
    weakTerms: (rule.weakTerms ?? []).map(compileTerm),
    context: (rule.context ?? []).map(compileTerm),
    exclude: (rule.exclude ?? []).map(compileTerm),
    excludeNames: new Set(rule.excludeNames ?? []),
  }));
  const identifiers = identifierTerms.map(compileTerm);

  function firstMatch(name: PreparedName, terms: Term[], excluded: Array<[number, number]>): { term: Term; span: [number, number] } | undefined {
    for (const term of terms) {
      for (const span of findTerm(name, term)) {
        if (!excluded.some((x) => overlaps(span, x))) return { term, span };
      }
    }
    return undefined;
  }

  /** A context term in another token of the same name (`user_name`) or in another path segment (`users.name`). */
  function hasContext(name: PreparedName, weak: { term: Term; span: [number, number] }, context: readonly PreparedName[], terms: Term[]): boolean {
    for (const term of terms) {
      if (term.mode === 'tokens') {
        if (findTerm(name, term).some((s) => !(weak.span[0] >= 0 && overlaps(s, weak.span)))) return true;
      } else {
        const rest = weak.term.mode === 'substring' ? name.folded.split(weak.term.text).join('\u0000') : name.folded;
        if (rest.includes(term.text)) return true;
      }
      if (context.some((c) => findTerm(c, term).length > 0)) return true;
    }
    return false;
  }

  function matchUncached(name: string, contextSegments: readonly string[]): NameMatch[] {
    const prepared = prepareName(name);
    let context: PreparedName[] | undefined;
    const out: NameMatch[] = [];
    for (const c of compiled) {
      if (c.excludeNames.has(name)) continue;
      const excluded = c.exclude.flatMap((t) => findTerm(prepared, t));
      const strong = firstMatch(prepared, c.terms, excluded);
      if (strong) {
        out.push({ ruleId: c.rule.id, category: c.rule.category, term: strong.term.raw, strength: 'strong' });
        continue;
      }
      if (c.weakTerms.length === 0) continue;
      const weak = firstMatch(prepared, c.weakTerms, excluded);
      if (!weak) continue;
      context ??= contextSegments.map(prepareName);
      if (hasContext(prepared, weak, context, c.context)) {
        out.push({ ruleId: c.rule.id, category: c.rule.category, term: weak.term.raw, strength: 'weak' });
      }
    }
    return out;
  }

  // Names repeat across hosts (`db0`, `admin`, `users` …) and matching is pure: remember recent answers.
  const memo = new Map<string, readonly NameMatch[]>();
  const MEMO_MAX = 20_000;

  return {
    match(name, contextSegments = []) {
      // A JSON array is self-delimiting, so no two (context, name) pairs share a key.
      const key = JSON.stringify(contextSegments) + name;
      const known = memo.get(key);
      if (known) return [...known];
      const out = matchUncached(name, contextSegments);
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(key, out);
      return [...out];
    },
    isIdentifier(name) {
      const prepared = prepareName(name);
      return identifiers.some((t) => findTerm(prepared, t).length > 0);
    },
  };
}
