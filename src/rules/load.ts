/**
 * Loads the assessment rules: the built-in data files next to this module, validated once, and —
 * with `loadRules({ extraDir })` — the user's files from a directory merged over them.
 * A file that does not match its schema is a `RulesError` naming the file and the entry.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import cnRegionsJson from './cn-region-prefixes.json' with { type: 'json' };
import ransomJson from './ransom-rules.json' with { type: 'json' };
import sensitiveNamesJson from './sensitive-names.json' with { type: 'json' };
import severityJson from './severity.json' with { type: 'json' };
import {
  cnRegionsSchema,
  ransomRulesSchema,
  sensitiveNamesSchema,
  severitySchema,
  type CnRegionsFile,
  type RansomRulesFile,
  type SensitiveNamesFile,
  type SeverityWeights,
} from './schema.js';
import { RuleShapeError, RulesError, type Check } from './validate.js';

export interface Rules {
  sensitiveNames: { identifierTerms: string[]; rules: SensitiveNamesFile['rules'] };
  cnRegions: CnRegionsFile;
  ransom: { decision: RansomRulesFile['decision']; systemNames: string[]; rules: RansomRulesFile['rules'] };
  severity: SeverityWeights;
  /** Where each part came from, built-ins first (`builtin:severity.json`, then user paths). */
  sources: string[];
}

/** The base names a rules directory may hold, each as `.json`, `.yaml` or `.yml`. */
export const RULE_FILES = ['sensitive-names', 'cn-region-prefixes', 'ransom-rules', 'severity'] as const;
export type RuleFile = (typeof RULE_FILES)[number];

function validate<T>(check: Check<T>, value: unknown, file: string): T {
  try {
    return check(value, '');
  } catch (err) {
    if (err instanceof RuleShapeError) throw new RulesError(file, err.at, err.reason, { cause: err });
    throw err;
  }
}

let builtin: Rules | undefined;

/** The built-in rules, validated on first use (a broken built-in file fails loudly, naming it). */
export function builtinRules(): Rules {
  if (builtin) return builtin;
  const names = validate(sensitiveNamesSchema, sensitiveNamesJson, 'builtin:sensitive-names.json');
  const ransom = validate(ransomRulesSchema, ransomJson, 'builtin:ransom-rules.json');
  builtin = deepFreeze({
    sensitiveNames: { identifierTerms: names.identifierTerms, rules: names.rules },
    cnRegions: validate(cnRegionsSchema, cnRegionsJson, 'builtin:cn-region-prefixes.json'),
    ransom: { decision: ransom.decision, systemNames: ransom.systemNames, rules: ransom.rules },
    severity: validate(severitySchema, severityJson, 'builtin:severity.json'),
    sources: RULE_FILES.map((f) => `builtin:${f}.json`),
  });
  return builtin;
}

/**
 * Built-in rules, with the files found in `extraDir` merged over them:
 * - `sensitive-names`, `ransom-rules`: a rule with a built-in id replaces it, a new id is added,
 *   `disable: [ids]` removes built-ins; `identifierTerms` and `systemNames` are added to the built-ins;
 *   `decision` (ransom) replaces the built-in one.
 * - `cn-region-prefixes`: `provinces` and `counties` entries are added or replace built-ins.
 * - `severity`: deep-merged over the built-in weights (objects merge key by key, arrays replace),
 *   then the result is validated as a whole.
 * Any other `.json`/`.yaml`/`.yml` file in the directory is an error (a misspelt file name must not
 * be silently ignored).
 */
export async function loadRules(opts: { extraDir?: string } = {}): Promise<Rules> {
  const base = builtinRules();
  if (!opts.extraDir) return base;
  const files = await findRuleFiles(opts.extraDir);
  let rules: Rules = {
    sensitiveNames: base.sensitiveNames,
    cnRegions: base.cnRegions,
    ransom: base.ransom,
    severity: base.severity,
    sources: [...base.sources],
  };
  for (const name of RULE_FILES) {
    const file = files.get(name);
    if (!file) continue;
    const raw = await readRuleFile(file);
    rules = mergeFile(rules, name, raw, file);
    rules.sources.push(file);
  }
  return deepFreeze(rules);
}

async function findRuleFiles(dir: string): Promise<Map<RuleFile, string>> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new RulesError(dir, '', `cannot read the rules directory: ${(err as Error).message}`, { cause: err });
  }
  const found = new Map<RuleFile, string>();
  for (const entry of entries.sort()) {
    const m = /^(.*)\.(json|ya?ml)$/i.exec(entry);
    if (!m) continue;
    const full = path.join(dir, entry);
    const stem = m[1] as string;
    if (!(RULE_FILES as readonly string[]).includes(stem)) {
      throw new RulesError(full, '', `unknown rules file; expected one of ${RULE_FILES.map((f) => `${f}.json`).join(', ')} (or .yaml/.yml)`);
    }
    const prev = found.get(stem as RuleFile);
    if (prev) throw new RulesError(full, '', `two files for the same rules: ${path.basename(prev)} and ${entry}; keep one`);
    found.set(stem as RuleFile, full);
  }
  return found;
}

async function readRuleFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new RulesError(file, '', `cannot read: ${(err as Error).message}`, { cause: err });
  }
  try {
    return /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new RulesError(file, '', `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeFile(rules: Rules, name: RuleFile, raw: unknown, file: string): Rules {
  if (!isObject(raw)) throw new RulesError(file, '', 'expected an object at the top level');
  switch (name) {
    case 'sensitive-names': {
      const user = validate(sensitiveNamesSchema, { rules: [], ...raw }, file);
      return {
        ...rules,
        sensitiveNames: {
          identifierTerms: [...new Set([...rules.sensitiveNames.identifierTerms, ...user.identifierTerms])],
          rules: mergeById(rules.sensitiveNames.rules, user.rules, user.disable ?? [], file),
        },
      };
    }
    case 'ransom-rules': {
      const user = validate(ransomRulesSchema, { decision: rules.ransom.decision, rules: [], ...raw }, file);
      return {
        ...rules,
        ransom: {
          decision: user.decision,
          systemNames: [...new Set([...rules.ransom.systemNames, ...user.systemNames])],
          rules: mergeById(rules.ransom.rules, user.rules, user.disable ?? [], file),
        },
      };
    }
    case 'cn-region-prefixes': {
      const user = validate(cnRegionsSchema, { provinces: {}, ...raw }, file);
      const merged = {
        provinces: { ...rules.cnRegions.provinces, ...user.provinces },
        ...(rules.cnRegions.counties || user.counties ? { counties: { ...rules.cnRegions.counties, ...user.counties } } : {}),
      };
      return { ...rules, cnRegions: validate(cnRegionsSchema, merged, file) };
    }
    case 'severity':
      return { ...rules, severity: validate(severitySchema, deepMerge(rules.severity, raw), file) };
  }
}

function mergeById<T extends { id: string }>(base: readonly T[], user: readonly T[], disable: readonly string[], file: string): T[] {
  const byId = new Map(base.map((r) => [r.id, r] as const));
  for (const r of user) byId.set(r.id, r);
  disable.forEach((id, i) => {
    if (!byId.has(id)) throw new RulesError(file, `disable[${i}]`, `no rule with id ${JSON.stringify(id)} to disable`);
    byId.delete(id);
  });
  return [...byId.values()];
}

/** Objects merge key by key; arrays and scalars from `over` replace. `$`-keys are dropped. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (k.startsWith('$')) continue;
    out[k] = k in base ? deepMerge(base[k], v) : v;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
