/**
 * Per-product fixes (data: src/rules/remediation/<module>.yaml, firewall.yaml, _generic.yaml), validated
 * when loaded, and the choice of the variant that fits a finding's product and version.
 * An error names the file and the entry (`Rules file redis.yaml: variants[1].bind.lines: …`).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RuleShapeError, RulesError, arr, obj, record, str, oneOf, type Check } from '../../rules/validate.js';
import { dataPath } from './data-file.js';
import { compileTemplate, renderTemplate, TemplateError } from './template-engine.js';

/** Text in several languages; `en` is required and is the fallback for any other. */
export type Localized = Record<string, string>;

export interface RemediationStep {
  /** Configuration lines exactly as they go into the file (may use {{host}}, {{port}}, {{product}}). */
  lines: string[];
  text: Localized;
}

export interface RemediationVariant {
  id: string;
  /** Case-insensitive regular expression on the product the server named; absent = any product. */
  product?: string;
  /** Inclusive lower bound on the server's version (`7.0`); absent = no bound. */
  minVersion?: string;
  /** Exclusive upper bound. */
  belowVersion?: string;
  configFile: string;
  bind: RemediationStep;
  auth: RemediationStep;
  restart: string[];
  check: RemediationStep;
  references: string[];
}

export interface RemediationFile {
  module: string;
  protocols: ('tcp' | 'udp')[];
  variants: RemediationVariant[];
}

export interface FirewallRule {
  id: string;
  title: string;
  lines: string[];
  text: Localized;
}

export interface Remediations {
  byModule: ReadonlyMap<string, RemediationFile>;
  generic: RemediationFile;
  firewall: FirewallRule[];
}

const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const VERSION = /^\d+(\.\d+){0,3}$/;
/** The variables a remediation line may use; anything else is an error at load time. */
const LINE_VARS = { host: '192.0.2.1', port: 1, product: 'Product', proto: 'tcp' };

const localized: Check<Localized> = (v, at) => {
  const out = record(str({ pattern: LOCALE, patternHint: 'a locale such as en or zh-CN' }), str({ max: 2000 }))(v, at);
  if (!('en' in out)) throw new RuleShapeError(at, 'missing required key "en" (the fallback language)');
  return out;
};

const lines = arr(str({ max: 500 }), { min: 1, max: 40 });
const step = obj({ lines, text: localized });
const version = str({ max: 20, pattern: VERSION, patternHint: 'a version such as 7.0 or 5.7.6' });
const regexString: Check<string> = (v, at) => {
  const s = str({ max: 200 })(v, at);
  try {
    new RegExp(s, 'i');
  } catch (err) {
    throw new RuleShapeError(at, `invalid regular expression ${JSON.stringify(s)}: ${(err as Error).message}`);
  }
  return s;
};

const variant = obj(
  { id: str({ max: 80 }), configFile: str({ max: 300 }), bind: step, auth: step, restart: arr(str({ max: 300 }), { min: 1, max: 10 }), check: step, references: arr(str({ max: 300 }), { max: 10 }) },
  { product: regexString, minVersion: version, belowVersion: version },
);

export const remediationSchema: Check<RemediationFile> = (v, at) => {
  const file = obj({
    module: str({ max: 64, pattern: /^[a-z0-9_-]+$/, patternHint: 'a module name' }),
    protocols: arr(oneOf(['tcp', 'udp'] as const), { min: 1, max: 2, unique: true }),
    variants: arr(variant, { min: 1, max: 20 }),
  })(v, at);
  const lastIndex = file.variants.length - 1;
  const last = file.variants[lastIndex] as RemediationVariant;
  // Every server must get some fix: the last variant is the catch-all.
  if (last.product !== undefined || last.minVersion !== undefined || last.belowVersion !== undefined) {
    throw new RuleShapeError(`variants[${lastIndex}]`, 'the last variant must have no product or version bounds, so every server gets a fix');
  }
  file.variants.forEach((x, i) => {
    for (const [name, s] of [['bind', x.bind], ['auth', x.auth], ['check', x.check]] as const) {
      s.lines.forEach((l, j) => checkTemplate(l, `variants[${i}].${name}.lines[${j}]`));
      for (const [loc, t] of Object.entries(s.text)) checkTemplate(t, `variants[${i}].${name}.text.${loc}`);
    }
    x.restart.forEach((l, j) => checkTemplate(l, `variants[${i}].restart[${j}]`));
  });
  return file as RemediationFile;
};

export const firewallSchema: Check<{ rules: FirewallRule[] }> = (v, at) => {
  const out = obj({ rules: arr(obj({ id: str({ max: 40 }), title: str({ max: 80 }), lines, text: localized }), { min: 1, max: 20 }) })(v, at);
  out.rules.forEach((r, i) => {
    r.lines.forEach((l, j) => checkTemplate(l, `rules[${i}].lines[${j}]`));
    for (const [loc, t] of Object.entries(r.text)) checkTemplate(t, `rules[${i}].text.${loc}`);
  });
  return out;
};

/** A line must compile and use only the known variables (a typo would otherwise fail at send time). */
function checkTemplate(source: string, at: string): void {
  try {
    renderTemplate(compileTemplate(at, source), LINE_VARS, 'text');
  } catch (err) {
    if (err instanceof TemplateError) throw new RuleShapeError(at, `${err.message} (lines may use ${Object.keys(LINE_VARS).join(', ')})`);
    throw err;
  }
}

function readData(file: string, label: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RulesError(label, '', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new RulesError(label, '', `not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

function validate<T>(check: Check<T>, value: unknown, label: string): T {
  try {
    return check(value, '');
  } catch (err) {
    if (err instanceof RuleShapeError) throw new RulesError(label, err.at, err.reason, { cause: err });
    throw err;
  }
}

/** The directory of the built-in remediation files. */
export function builtinRemediationDir(): string {
  return dataPath('../../rules/remediation/', import.meta.url);
}

let builtin: Remediations | undefined;

/**
 * Loads and validates every remediation file of `dir` (default: the built-ins). With `extraDir`, a
 * `<module>.yaml` there replaces the built-in one for that module, and `firewall.yaml` replaces the built-in rules.
 */
export function loadRemediations(opts: { dir?: string; extraDir?: string } = {}): Remediations {
  if (!opts.dir && !opts.extraDir && builtin) return builtin;
  const files = new Map<string, string>();
  for (const dir of [opts.dir ?? builtinRemediationDir(), ...(opts.extraDir ? [opts.extraDir] : [])]) {
    if (!existsSync(dir)) throw new RulesError(dir, '', 'remediation directory does not exist');
    for (const f of readdirSync(dir)) {
      if (/\.ya?ml$/.test(f)) files.set(f.replace(/\.ya?ml$/, ''), path.join(dir, f));
    }
  }
  const byModule = new Map<string, RemediationFile>();
  let generic: RemediationFile | undefined;
  let firewall: FirewallRule[] | undefined;
  for (const [base, file] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const label = path.basename(file);
    if (base === 'firewall') {
      firewall = validate(firewallSchema, readData(file, label), label).rules;
      continue;
    }
    const parsed = validate(remediationSchema, readData(file, label), label);
    if (parsed.module !== base) throw new RulesError(label, 'module', `is ${JSON.stringify(parsed.module)} but the file is named ${label}`);
    if (base === '_generic') generic = parsed;
    else byModule.set(base, parsed);
  }
  if (!generic) throw new RulesError('_generic.yaml', '', 'the fallback remediation file is missing');
  if (!firewall) throw new RulesError('firewall.yaml', '', 'the firewall rules file is missing');
  const loaded: Remediations = { byModule, generic, firewall };
  if (!opts.dir && !opts.extraDir) builtin = loaded;
  return loaded;
}

/** `7.0.15` → [7, 0, 15]; MariaDB's `5.5.5-10.11.6-MariaDB` → [10, 11, 6]; no leading number → undefined. */
export function parseVersion(text: string | null | undefined): number[] | undefined {
  if (!text) return undefined;
  const cleaned = text.replace(/^5\.5\.5-(?=\d)/, '');
  const m = /^v?(\d+(?:\.\d+){0,3})/.exec(cleaned.trim());
  return m ? (m[1] as string).split('.').map(Number) : undefined;
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The first variant that fits the product and version. Variants are listed newest first, so when the server
 * did not say its version the bounds are ignored and the newest fix for the product is given.
 */
export function chooseVariant(file: RemediationFile, product: string | null | undefined, versionText: string | null | undefined): RemediationVariant {
  const v = parseVersion(versionText);
  for (const x of file.variants) {
    if (x.product !== undefined && !new RegExp(x.product, 'i').test(product ?? '')) continue;
    if (v && (x.minVersion !== undefined || x.belowVersion !== undefined)) {
      if (x.minVersion !== undefined && compareVersions(v, parseVersion(x.minVersion) as number[]) < 0) continue;
      if (x.belowVersion !== undefined && compareVersions(v, parseVersion(x.belowVersion) as number[]) >= 0) continue;
    }
    return x;
  }
  return file.variants[file.variants.length - 1] as RemediationVariant;
}

/** Text in `locale`, else its language (`zh` for `zh-TW`), else English. */
export function pickLocale(text: Localized, locale: string): string {
  return text[locale] ?? text[locale.split('-')[0] as string] ?? (text.en as string);
}
