/**
 * Schema signals: sensitive categories read from names only (databases, collections, indices,
 * tables, columns, fields, keys). Metadata, so allowed for every target, in or out of scope.
 * Matching rules: tokenize.ts and src/rules/README.md.
 */
import { builtinRules, type Rules } from '../rules/load.js';
import { createNameMatcher, type NameMatcher } from './name-matcher.js';
import { sanitizeName } from './field-path.js';

/** One name with the names above it: `['shop', 'users', 'id_card']` (database, collection, field). */
export type SchemaEntry = readonly string[] | { path: readonly string[] };

export interface SchemaMatch {
  /** `db.collection.field`, segments sanitised like sample field paths. */
  path: string;
  /** The matched name (last segment), sanitised. */
  name: string;
  ruleId: string;
  term: string;
  strength: 'strong' | 'weak';
}

export interface SchemaSignal {
  category: string;
  /** Number of names that matched this category. */
  count: number;
  /** The matches, at most `maxMatchesPerCategory` (default 50). */
  matches: SchemaMatch[];
}

export interface SchemaSignalOptions {
  rules?: Rules;
  matcher?: NameMatcher;
  maxMatchesPerCategory?: number;
}

export function schemaSignals(entries: Iterable<SchemaEntry>, opts: SchemaSignalOptions = {}): SchemaSignal[] {
  const rules = opts.rules ?? builtinRules();
  const matcher = opts.matcher ?? createNameMatcher(rules.sensitiveNames.rules, rules.sensitiveNames.identifierTerms);
  const max = opts.maxMatchesPerCategory ?? 50;
  const out = new Map<string, SchemaSignal>();
  for (const entry of entries) {
    const path = Array.isArray(entry) ? (entry as readonly string[]) : (entry as { path: readonly string[] }).path;
    if (path.length === 0) continue;
    const name = path[path.length - 1] as string;
    const seen = new Set<string>();
    for (const m of matcher.match(name, path.slice(0, -1))) {
      if (seen.has(m.category)) continue; // one count per name and category
      seen.add(m.category);
      let s = out.get(m.category);
      if (!s) {
        s = { category: m.category, count: 0, matches: [] };
        out.set(m.category, s);
      }
      s.count++;
      if (s.matches.length < max) {
        s.matches.push({ path: path.map((p) => sanitizeName(p)).join('.'), name: sanitizeName(name), ruleId: m.ruleId, term: m.term, strength: m.strength });
      }
    }
  }
  return [...out.values()].sort((a, b) => b.count - a.count || a.category.localeCompare(b.category));
}
