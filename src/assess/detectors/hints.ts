/** Field-name hints for detectors, computed with the sensitive-name rules and cached per name. */
import { createNameMatcher, type NameMatcher } from '../name-matcher.js';
import { tokenize } from '../tokenize.js';
import { type Rules } from '../../rules/load.js';
import { type DetectContext, type FieldHints, type HintProvider } from './types.js';

const NONE: FieldHints = Object.freeze({ categories: new Set<string>(), identifier: false, tokens: [], known: false });
const CACHE_LIMIT = 10_000;

export function createHintProvider(rules: Rules, matcher?: NameMatcher): HintProvider {
  const m = matcher ?? createNameMatcher(rules.sensitiveNames.rules, rules.sensitiveNames.identifierTerms);
  const cache = new Map<string, FieldHints>();
  return (context?: DetectContext) => {
    const name = context?.fieldName;
    if (name === undefined || name === '') return NONE;
    const path = context?.fieldPath ?? [];
    const key = `${path.join('\u0000')}\u0001${name}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const hints: FieldHints = {
      categories: new Set(m.match(name, path).map((x) => x.category)),
      identifier: m.isIdentifier(name),
      tokens: tokenize(name),
      known: true,
    };
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, hints);
    return hints;
  };
}
