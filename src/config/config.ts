import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_ATTRIBUTION_CONFIG, type AttributionConfig } from '../disclose/attribution/types.js';

/**
 * The one documented configuration (docs/config.md, lockdown.example.yaml).
 * Values come from, in order of precedence: command-line flags, the config file, built-in defaults.
 */
export interface Config {
  identity: {
    /** Token sent where a protocol has a client-name field without spaces (Redis CLIENT SETNAME, PostgreSQL application_name). */
    name: string;
    /** URL or e-mail where a scanned party can reach the operator; goes into the identity string. */
    contact: string;
    /** Who runs scans, recorded in the audit log. Defaults to user@hostname. */
    operator: string;
  };
  scope: {
    /** CIDRs/ranges the operator owns or may audit deeply (sampling, default-credential checks). */
    authorized: string[];
  };
  /** Never touched, whatever the targets say. */
  exclude: string[];
  /** A file of exclusions (same syntax as targets), re-read while a scan runs. */
  excludeFile: string | undefined;
  scan: ScanDefaults;
  /** Value sampling inside scope.authorized (sensitive-data detection). Never applies outside it. */
  sample: SampleSettings;
  /** Who owns an address: reverse DNS servers, RDAP bootstrap, .mmdb files, timeouts, cache TTL. */
  attribution: AttributionConfig;
  /** Where the config came from, for messages. */
  source: string;
}

export interface ScanDefaults {
  /** New connections per second, across the whole scan. */
  rate: number;
  /** Probes in flight at once. */
  concurrency: number;
  connectTimeoutMs: number;
  /** Deadline for one whole probe, connect included. */
  timeoutMs: number;
  /** Bytes read from one connection at most. */
  readCapBytes: number;
}

export interface SampleSettings {
  enabled: boolean;
  /** Documents/rows read per collection/table (hard limit 100). */
  perCollection: number;
  /** Bytes read per target (hard limit 1 MiB). */
  maxBytes: number;
  /** Collections/tables/indices sampled per target (hard limit 50). */
  maxCollections: number;
}

/** Sampling limits nobody can raise: a sample is evidence, not a copy of the data. */
export const SAMPLE_LIMITS = { perCollection: 100, maxBytes: 1_048_576, maxCollections: 50 } as const;
export const DEFAULT_SAMPLE: SampleSettings = { enabled: true, perCollection: 100, maxBytes: 1_048_576, maxCollections: 20 };

/** Limits the user cannot raise: they keep a scan from being a flood and a probe from buffering a server's dump. */
export const HARD_LIMITS = {
  rate: 100_000,
  concurrency: 16_384,
  readCapBytes: 16 * 1024 * 1024,
  timeoutMs: 300_000,
} as const;

export const DEFAULT_SCAN: ScanDefaults = {
  rate: 1000,
  concurrency: 512,
  connectTimeoutMs: 3000,
  timeoutMs: 10_000,
  readCapBytes: 1024 * 1024,
};

export function defaultOperator(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `${user}@${os.hostname()}`;
}

export function defaultConfig(): Config {
  return {
    identity: { name: 'lockdown', contact: '', operator: defaultOperator() },
    scope: { authorized: [] },
    exclude: [],
    excludeFile: undefined,
    scan: { ...DEFAULT_SCAN },
    sample: { ...DEFAULT_SAMPLE },
    attribution: { ...DEFAULT_ATTRIBUTION_CONFIG, mmdb: {}, timeoutsMs: { ...DEFAULT_ATTRIBUTION_CONFIG.timeoutsMs } },
    source: 'built-in defaults',
  };
}

/** Where a config is looked for when --config is not given. */
export function configCandidates(): string[] {
  const xdg = process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config');
  return [path.resolve('lockdown.yaml'), path.resolve('lockdown.yml'), path.join(xdg, 'lockdown', 'config.yaml')];
}

/** Load `explicit` (must exist), else $LOCKDOWN_CONFIG, else the first candidate that exists, else defaults. */
export function loadConfig(explicit?: string): Config {
  const chosen = explicit ?? process.env.LOCKDOWN_CONFIG;
  if (chosen) {
    if (!existsSync(chosen)) throw new ConfigError(`Config file ${chosen} does not exist`);
    return parseConfigFile(chosen);
  }
  for (const candidate of configCandidates()) {
    if (existsSync(candidate)) return parseConfigFile(candidate);
  }
  return defaultConfig();
}

export function parseConfigFile(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` line ${err.linePos[0].line}` : '';
    throw new ConfigError(`Config file ${file}${where} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  return validateConfig(raw ?? {}, file);
}

const TOP_KEYS = new Set(['identity', 'scope', 'exclude', 'excludeFile', 'scan', 'sample', 'attribution']);
const ATTRIBUTION_KEYS = new Set(['dnsServers', 'rdapBootstrapDir', 'mmdb', 'timeoutsMs', 'cacheTtlHours']);
const SAMPLE_KEYS = new Set(['enabled', 'perCollection', 'maxBytes', 'maxCollections']);
const IDENTITY_KEYS = new Set(['name', 'contact', 'operator']);
const SCOPE_KEYS = new Set(['authorized']);
const SCAN_KEYS = new Set(['rate', 'concurrency', 'connectTimeoutMs', 'timeoutMs', 'readCapBytes']);

/** Validate a parsed config object; unknown keys are errors (a typo must not silently widen a scan). */
export function validateConfig(raw: unknown, source: string): Config {
  const cfg = defaultConfig();
  cfg.source = source;
  const top = asObject(raw, source, '(top level)');
  checkKeys(top, TOP_KEYS, source, '');
  if (top.identity !== undefined) {
    const id = asObject(top.identity, source, 'identity');
    checkKeys(id, IDENTITY_KEYS, source, 'identity.');
    if (id.name !== undefined) cfg.identity.name = clientToken(asString(id.name, source, 'identity.name'), source);
    if (id.contact !== undefined) cfg.identity.contact = asString(id.contact, source, 'identity.contact');
    if (id.operator !== undefined) cfg.identity.operator = asString(id.operator, source, 'identity.operator');
  }
  if (top.scope !== undefined) {
    const scope = asObject(top.scope, source, 'scope');
    checkKeys(scope, SCOPE_KEYS, source, 'scope.');
    if (scope.authorized !== undefined) cfg.scope.authorized = asStringList(scope.authorized, source, 'scope.authorized');
  }
  if (top.exclude !== undefined) cfg.exclude = asStringList(top.exclude, source, 'exclude');
  if (top.excludeFile !== undefined) {
    const f = asString(top.excludeFile, source, 'excludeFile');
    cfg.excludeFile = path.resolve(path.dirname(path.resolve(source)), f);
  }
  if (top.scan !== undefined) {
    const scan = asObject(top.scan, source, 'scan');
    checkKeys(scan, SCAN_KEYS, source, 'scan.');
    for (const key of SCAN_KEYS) {
      if (scan[key] !== undefined) (cfg.scan as unknown as Record<string, number>)[key] = asPositiveInt(scan[key], source, `scan.${key}`);
    }
  }
  if (top.sample !== undefined) {
    const sample = asObject(top.sample, source, 'sample');
    checkKeys(sample, SAMPLE_KEYS, source, 'sample.');
    if (sample.enabled !== undefined) {
      if (typeof sample.enabled !== 'boolean') throw new ConfigError(`sample.enabled in ${source} must be true or false`);
      cfg.sample.enabled = sample.enabled;
    }
    for (const key of ['perCollection', 'maxBytes', 'maxCollections'] as const) {
      if (sample[key] === undefined) continue;
      const v = asPositiveInt(sample[key], source, `sample.${key}`);
      if (v > SAMPLE_LIMITS[key]) throw new ConfigError(`sample.${key} ${v} from ${source} is above the hard limit of ${SAMPLE_LIMITS[key]}`);
      cfg.sample[key] = v;
    }
  }
  if (top.attribution !== undefined) {
    const a = asObject(top.attribution, source, 'attribution');
    checkKeys(a, ATTRIBUTION_KEYS, source, 'attribution.');
    const here = (f: string): string => path.resolve(path.dirname(path.resolve(source)), f);
    if (a.dnsServers !== undefined) cfg.attribution.dnsServers = asStringList(a.dnsServers, source, 'attribution.dnsServers');
    if (a.rdapBootstrapDir !== undefined) cfg.attribution.rdapBootstrapDir = here(asString(a.rdapBootstrapDir, source, 'attribution.rdapBootstrapDir'));
    if (a.mmdb !== undefined) {
      const m = asObject(a.mmdb, source, 'attribution.mmdb');
      checkKeys(m, new Set(['asn', 'country', 'city']), source, 'attribution.mmdb.');
      for (const k of ['asn', 'country', 'city'] as const) if (m[k] !== undefined) cfg.attribution.mmdb[k] = here(asString(m[k], source, `attribution.mmdb.${k}`));
    }
    if (a.timeoutsMs !== undefined) {
      const t = asObject(a.timeoutsMs, source, 'attribution.timeoutsMs');
      checkKeys(t, new Set(['dns', 'rdap', 'securityTxt']), source, 'attribution.timeoutsMs.');
      for (const k of ['dns', 'rdap', 'securityTxt'] as const) if (t[k] !== undefined) cfg.attribution.timeoutsMs[k] = asPositiveInt(t[k], source, `attribution.timeoutsMs.${k}`);
    }
    if (a.cacheTtlHours !== undefined) {
      if (typeof a.cacheTtlHours !== 'number' || a.cacheTtlHours < 0) throw new ConfigError(`attribution.cacheTtlHours in ${source} must be a number ≥ 0`);
      cfg.attribution.cacheTtlHours = a.cacheTtlHours;
    }
  }
  checkScanLimits(cfg.scan, source);
  return cfg;
}

/** Enforce the hard limits; used for config values and for command-line overrides alike. */
export function checkScanLimits(scan: ScanDefaults, source: string): void {
  const over = (key: keyof typeof HARD_LIMITS): void => {
    if (scan[key] > HARD_LIMITS[key]) {
      throw new ConfigError(`${key} ${scan[key]} from ${source} is above the hard limit of ${HARD_LIMITS[key]}`);
    }
  };
  over('rate');
  over('concurrency');
  over('readCapBytes');
  over('timeoutMs');
  if (scan.connectTimeoutMs > scan.timeoutMs) {
    throw new ConfigError(`connectTimeoutMs (${scan.connectTimeoutMs}) from ${source} must not exceed timeoutMs (${scan.timeoutMs})`);
  }
}

/** The identity string sent where a protocol allows free text, e.g. `lockdown/0.1 (+https://…)`. */
export function identityString(cfg: Config, version: string): string {
  return cfg.identity.contact ? `${cfg.identity.name}/${version} (+${cfg.identity.contact})` : `${cfg.identity.name}/${version}`;
}

function clientToken(value: string, source: string): string {
  if (!/^[A-Za-z0-9._-]{1,48}$/.test(value)) {
    throw new ConfigError(`identity.name in ${source} must be 1-48 characters of letters, digits, '.', '_' or '-' (it is sent as a client name)`);
  }
  return value;
}

function asObject(v: unknown, source: string, key: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`${key} in ${source} must be a mapping`);
  return v as Record<string, unknown>;
}

function checkKeys(obj: Record<string, unknown>, allowed: Set<string>, source: string, prefix: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.has(k)) {
      throw new ConfigError(`Unknown setting ${prefix}${k} in ${source}; known: ${[...allowed].map((a) => prefix + a).join(', ')}`);
    }
  }
}

function asString(v: unknown, source: string, key: string): string {
  if (typeof v !== 'string') throw new ConfigError(`${key} in ${source} must be a string`);
  return v;
}

function asStringList(v: unknown, source: string, key: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigError(`${key} in ${source} must be a list of strings`);
  return v as string[];
}

function asPositiveInt(v: unknown, source: string, key: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ConfigError(`${key} in ${source} must be a positive integer`);
  return v;
}
