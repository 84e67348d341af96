/**
 * Types and schemas of the four rule files (see src/rules/README.md for the format of each).
 * Every check names the entry at fault; semantic checks (unique ids, sorted tiers, regexes that
 * compile) live here too, so a loaded `Rules` object is always usable as is.
 */
import { RuleShapeError, arr, bool, num, obj, oneOf, record, regex, str, type Check } from './validate.js';

// ---------------------------------------------------------------- sensitive-names.json

/**
 * A Latin term is lowercase ASCII tokens joined by `_` (`id_card` matches `id_card`, `idCard`,
 * `ID-Card` and `idcard`), optionally ending in `*` (token prefix: `passw*`). A term in another
 * script (Han, kana, Hangul, Cyrillic…) is matched as a substring of the whole name.
 */
const LATIN_TERM = /^[a-z0-9]+(_[a-z0-9]+)*\*?$/;
const term: Check<string> = (v, at) => {
  const s = str({ max: 80 })(v, at);
  if (/[A-Za-z]/.test(s) || /^[\x00-\x7f]*$/.test(s)) {
    if (!LATIN_TERM.test(s)) {
      throw new RuleShapeError(
        at,
        `${JSON.stringify(s)} is not a valid term: write Latin terms in lowercase ASCII with "_" between tokens ` +
          '(accents are folded away before matching, so write "telefono", not "teléfono"), optionally ending in "*"',
      );
    }
  } else if (/\s/.test(s)) {
    throw new RuleShapeError(at, `${JSON.stringify(s)} must not contain spaces`);
  }
  return s;
};

const ID = /^[a-z0-9][a-z0-9_.-]*$/;
const id = str({ max: 80, pattern: ID, patternHint: 'lowercase letters, digits, "_", "." and "-"' });
const category = str({ max: 60, pattern: /^[a-z][a-z0-9_]*$/, patternHint: 'snake_case' });

export interface SensitiveNameRule {
  id: string;
  /** Category reported for a match, e.g. `national_id`; several rules may share one. */
  category: string;
  description: string;
  /** Terms that match on their own. */
  terms: string[];
  /** Terms too generic alone (`name`, `message`): they match only next to a `context` term. */
  weakTerms?: string[];
  /** Terms that, in another token of the name or in another path segment, make a weak term count. */
  context?: string[];
  /** Token sequences that cancel any match overlapping them (`ip_address` is not a postal address). */
  exclude?: string[];
  /** Whole names, compared case-sensitively, that never match this rule (`PWD` is a directory). */
  excludeNames?: string[];
}

export interface SensitiveNamesFile {
  /** Tokens that mark a field as a technical identifier (`order_id`): numeric detectors then need a positive hint. */
  identifierTerms: string[];
  rules: SensitiveNameRule[];
  /** Ids of built-in rules to switch off (user files only). */
  disable?: string[];
}

const sensitiveNameRule = obj(
  { id, category, description: str({ max: 500 }), terms: arr(term, { min: 1, unique: true }) },
  {
    weakTerms: arr(term, { unique: true }),
    context: arr(term, { unique: true }),
    exclude: arr(term, { unique: true }),
    excludeNames: arr(str({ max: 200 }), { unique: true }),
  },
);

export const sensitiveNamesSchema: Check<SensitiveNamesFile> = (v, at) => {
  const out = obj(
    { rules: arr(sensitiveNameRule) },
    { identifierTerms: arr(term, { unique: true }), disable: arr(id, { unique: true }) },
  )(v, at);
  uniqueIds(out.rules, 'rules');
  out.rules.forEach((r, i) => {
    if ((r.weakTerms?.length ?? 0) > 0 && (r.context?.length ?? 0) === 0) {
      throw new RuleShapeError(`rules[${i}].context`, 'a rule with weakTerms needs at least one context term');
    }
  });
  return { identifierTerms: out.identifierTerms ?? [], rules: out.rules, ...(out.disable ? { disable: out.disable } : {}) };
};

// ---------------------------------------------------------------- cn-region-prefixes.json

export interface CnRegionsFile {
  /** Province-level prefixes (first two digits of a resident ID) → names. */
  provinces: Record<string, { zh: string; en: string }>;
  /** Optional 6-digit county codes; when present for a province, IDs of that province must use one. */
  counties?: Record<string, string>;
}

export const cnRegionsSchema: Check<CnRegionsFile> = (v, at) => {
  const out = obj(
    {
      provinces: record(
        str({ pattern: /^[1-9]\d$/, patternHint: 'two digits 10–99' }),
        obj({ zh: str({ max: 40 }), en: str({ max: 60 }) }),
      ),
    },
    { counties: record(str({ pattern: /^[1-9]\d{5}$/, patternHint: 'six digits' }), str({ max: 60 })) },
  )(v, at);
  for (const code of Object.keys(out.counties ?? {})) {
    if (!(code.slice(0, 2) in out.provinces)) {
      throw new RuleShapeError(`counties.${code}`, `county code ${code} has no province ${code.slice(0, 2)} in provinces`);
    }
  }
  return out;
};

// ---------------------------------------------------------------- ransom-rules.json

export const NAMESPACE_KINDS = ['database', 'collection', 'index', 'table', 'key', 'keyspace'] as const;
export type NamespaceKind = (typeof NAMESPACE_KINDS)[number];
export const STRENGTHS = ['strong', 'weak'] as const;
export type Strength = (typeof STRENGTHS)[number];

interface RuleBase {
  id: string;
  description: string;
  /** `strong`: enough alone to call the target compromised; `weak`: needs corroboration. */
  strength: Strength;
  references?: string[];
  /** Module names the rule applies to (`redis`, `mongodb` …); absent = every product. */
  products?: string[];
}
/** Ransom-note namespace names: databases, collections, indices, tables, keys. */
export interface NameRule extends RuleBase {
  kind: 'name';
  /** Compared after lowercasing and removing everything but letters and digits (`READ__ME` → `readme`). */
  names?: string[];
  /** Regular expressions (flags `iu`) tested on the name as the server reported it. */
  patterns?: string[];
  appliesTo?: NamespaceKind[];
}
/** Wording of a sampled ransom note. */
export interface NoteRule extends RuleBase {
  kind: 'note';
  /** Case-insensitive phrases; a note matches when at least `minPhrases` distinct phrases occur. */
  phrases: string[];
  minPhrases: number;
  /** Also require a checksum-valid Bitcoin address (base58check P2PKH/P2SH or bech32/bech32m `bc1…`). */
  requireBitcoin?: boolean;
  /** Also require a contact e-mail address. */
  requireContact?: boolean;
}
/** Data wiped next to a note: fires only when a `name` rule matched and every other namespace is empty. */
export interface WipedRule extends RuleBase {
  kind: 'wiped';
}
/** A sampled Redis value (optionally under a key name) that carries a planted payload. */
export interface RedisValueRule extends RuleBase {
  kind: 'redis-value';
  keyPatterns?: string[];
  valuePatterns: string[];
}
/** A Redis configuration/INFO field (`dir`, `dbfilename`, `module`) set the way an attack leaves it. */
export interface RedisConfigRule extends RuleBase {
  kind: 'redis-config';
  field: string;
  patterns: string[];
}
export type RansomRule = NameRule | NoteRule | WipedRule | RedisValueRule | RedisConfigRule;
export const RANSOM_RULE_KINDS = ['name', 'note', 'wiped', 'redis-value', 'redis-config'] as const;

export interface RansomRulesFile {
  decision: { weakMatchesNeeded: number };
  /** Regexes (flags `iu`) for system namespaces the wiped heuristic ignores (`admin`, `.kibana`, `information_schema`). */
  systemNames: string[];
  rules: RansomRule[];
  disable?: string[];
}

const base = {
  id,
  description: str({ max: 500 }),
  strength: oneOf(STRENGTHS),
};
const baseOpt = {
  references: arr(str({ max: 500, pattern: /^https?:\/\//, patternHint: 'an http(s) URL' })),
  products: arr(str({ max: 40, pattern: /^[a-z0-9_-]+$/, patternHint: 'a lowercase module name' }), { min: 1 }),
};
const kindCheck = <K extends string>(k: K): Check<K> => oneOf([k] as const);
const ransomRuleByKind: Record<(typeof RANSOM_RULE_KINDS)[number], Check<RansomRule>> = {
  name: (v, at) => {
    const r = obj(
      { ...base, kind: kindCheck('name') },
      {
        ...baseOpt,
        names: arr(str({ max: 200, pattern: /^[a-z0-9]+$/, patternHint: 'lowercase letters and digits only (names are compared normalised)' }), { unique: true }),
        patterns: arr(regex(), { unique: true }),
        appliesTo: arr(oneOf(NAMESPACE_KINDS), { min: 1, unique: true }),
      },
    )(v, at);
    if ((r.names?.length ?? 0) + (r.patterns?.length ?? 0) === 0) throw new RuleShapeError(at, 'a name rule needs names or patterns');
    return r;
  },
  note: obj(
    { ...base, kind: kindCheck('note'), phrases: arr(str({ max: 200 }), { min: 1, unique: true }), minPhrases: num({ int: true, min: 1 }) },
    { ...baseOpt, requireBitcoin: bool, requireContact: bool },
  ),
  wiped: obj({ ...base, kind: kindCheck('wiped') }, baseOpt),
  'redis-value': obj(
    { ...base, kind: kindCheck('redis-value'), valuePatterns: arr(regex('imu'), { min: 1 }) },
    { ...baseOpt, keyPatterns: arr(regex(), { min: 1 }) },
  ),
  'redis-config': obj(
    { ...base, kind: kindCheck('redis-config'), field: str({ max: 60 }), patterns: arr(regex(), { min: 1 }) },
    baseOpt,
  ),
};
const ransomRule: Check<RansomRule> = (v, at) => {
  const kind = (v as { kind?: unknown } | null)?.kind;
  oneOf(RANSOM_RULE_KINDS)(kind, `${at}.kind`);
  return ransomRuleByKind[kind as (typeof RANSOM_RULE_KINDS)[number]](v, at);
};

export const ransomRulesSchema: Check<RansomRulesFile> = (v, at) => {
  const out = obj(
    { decision: obj({ weakMatchesNeeded: num({ int: true, min: 1, max: 10 }) }), rules: arr(ransomRule) },
    { systemNames: arr(regex()), disable: arr(id, { unique: true }) },
  )(v, at);
  uniqueIds(out.rules, 'rules');
  return { decision: out.decision, systemNames: out.systemNames ?? [], rules: out.rules, ...(out.disable ? { disable: out.disable } : {}) };
};

// ---------------------------------------------------------------- severity.json

export const SEVERITY_LEVELS = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type SeverityLevel = (typeof SEVERITY_LEVELS)[number];

export interface Tier {
  min: number;
  points: number;
}
export interface PointsRule {
  points: number;
  reason: string;
  maxLevel?: SeverityLevel;
}
export interface SeverityWeights {
  /** Minimum score of each level; below `low` is `info`. Strictly descending. */
  levels: { critical: number; high: number; medium: number; low: number };
  /** Points per auth verdict; `none` when the protocol did not answer. */
  verdict: { open: PointsRule; inconclusive: PointsRule; auth_required: PointsRule; none: PointsRule };
  /** Extra points when a given product is open (e.g. an open Redis is a file-write primitive). */
  productWhenOpen: Record<string, { points: number; reason: string }>;
  /** Tiers are applied highest `min` first; the first that fits gives its points. */
  records: Tier[];
  sizeBytes: Tier[];
  /** Points per sensitive category confirmed by sampled values. */
  categories: Record<string, number>;
  defaultCategoryPoints: number;
  /** Factor (0–1) for categories seen only in names (schema signals), not confirmed by values. */
  schemaOnlyFactor: number;
  /** Extra points for a category with at least `min` sampled matches. */
  categoryCountBonus: Tier[];
  /** Cap on the sum of category points and bonuses. */
  categoriesMax: number;
  compromise: { points: number; minLevel: SeverityLevel; reason: string };
  /** Tiers on the number of replication/cluster peers the server names (exposure fans out). */
  fanout: Tier[];
}

const points = num({ min: -100, max: 100 });
const tier = obj({ min: num({ min: 0 }), points });
const tiers: Check<Tier[]> = (v, at) => {
  const t = arr(tier)(v, at);
  const mins = new Set<number>();
  t.forEach((x, i) => {
    if (mins.has(x.min)) throw new RuleShapeError(`${at}[${i}].min`, `duplicate tier min ${x.min}`);
    mins.add(x.min);
  });
  return [...t].sort((a, b) => b.min - a.min);
};
const level = oneOf(SEVERITY_LEVELS);
const pointsRule = obj({ points, reason: str({ max: 300 }) }, { maxLevel: level });

export const severitySchema: Check<SeverityWeights> = (v, at) => {
  const out = obj({
    levels: obj({ critical: num(), high: num(), medium: num(), low: num() }),
    verdict: obj({ open: pointsRule, inconclusive: pointsRule, auth_required: pointsRule, none: pointsRule }),
    productWhenOpen: record(str({ pattern: /^[a-z0-9_-]+$/, patternHint: 'a lowercase module name' }), obj({ points, reason: str({ max: 300 }) })),
    records: tiers,
    sizeBytes: tiers,
    categories: record(category, points),
    defaultCategoryPoints: points,
    schemaOnlyFactor: num({ min: 0, max: 1 }),
    categoryCountBonus: tiers,
    categoriesMax: num({ min: 0, max: 100 }),
    compromise: obj({ points, minLevel: level, reason: str({ max: 300 }) }),
    fanout: tiers,
  })(v, at);
  const { critical, high, medium, low } = out.levels;
  if (!(critical > high && high > medium && medium > low)) {
    throw new RuleShapeError(`${at === '' ? '' : at + '.'}levels`, 'thresholds must be strictly descending: critical > high > medium > low');
  }
  return out as SeverityWeights;
};

// ---------------------------------------------------------------- helpers

function uniqueIds(rules: { id: string }[], at: string): void {
  const seen = new Set<string>();
  rules.forEach((r, i) => {
    if (seen.has(r.id)) throw new RuleShapeError(`${at}[${i}].id`, `duplicate rule id ${JSON.stringify(r.id)}`);
    seen.add(r.id);
  });
}
