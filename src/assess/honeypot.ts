/**
 * Likely honeypots, flagged instead of being reported as real exposures: a host answering as many
 * different database products at once, or a reply matching a known honeypot's fixed banner. Rules are
 * data (src/rules/honeypot-fingerprints.json); a match is a suspicion with its reason, never a verdict.
 */
import fingerprintsJson from '../rules/honeypot-fingerprints.json' with { type: 'json' };
import { RulesError } from '../rules/validate.js';

export interface HoneypotRules {
  multiProduct: { minProducts: number; description: string; reference: string };
  fingerprints: { id: string; module: string; match: Record<string, string>; description: string; reference: string }[];
}

/** What the heuristics read of each service on one host. */
export interface HostService {
  port: number;
  module: string;
  auth: string | null;
  version: string | null;
  product: string | null;
  metadata: Record<string, unknown>;
}

export interface HoneypotSuspicion {
  ruleId: string;
  reason: string;
  reference: string;
}

let builtin: HoneypotRules | undefined;

/** The built-in rules (imported as JSON so the compiled build carries them). */
export function honeypotRules(): HoneypotRules {
  builtin ??= validateHoneypotRules(fingerprintsJson as unknown, 'honeypot-fingerprints.json');
  return builtin;
}

export function validateHoneypotRules(raw: unknown, file: string): HoneypotRules {
  const fail = (where: string, what: string): never => {
    throw new RulesError(file, where, what);
  };
  const r = raw as Partial<HoneypotRules>;
  if (typeof r !== 'object' || r === null) fail('(top level)', 'must be an object');
  const mp = r.multiProduct;
  if (!mp || !Number.isInteger(mp.minProducts) || mp.minProducts < 2) fail('multiProduct.minProducts', 'must be an integer ≥ 2');
  if (!Array.isArray(r.fingerprints)) fail('fingerprints', 'must be a list');
  r.fingerprints!.forEach((f, i) => {
    for (const k of ['id', 'module', 'description', 'reference'] as const) {
      if (typeof f[k] !== 'string' || f[k].length === 0) fail(`fingerprints[${i}].${k}`, 'must be a non-empty string');
    }
    if (typeof f.match !== 'object' || f.match === null || Object.keys(f.match).length === 0) fail(`fingerprints[${i}].match`, 'must name at least one field');
    for (const [k, v] of Object.entries(f.match)) {
      if (typeof v !== 'string') fail(`fingerprints[${i}].match.${k}`, 'must be a string');
      if (!/^(version|product|metadata\.[A-Za-z0-9_.]+)$/.test(k)) fail(`fingerprints[${i}].match.${k}`, 'must be version, product or metadata.<field>');
    }
  });
  return r as HoneypotRules;
}

function field(s: HostService, path: string): unknown {
  if (path === 'version') return s.version;
  if (path === 'product') return s.product;
  let v: unknown = s.metadata;
  for (const part of path.slice('metadata.'.length).split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
  return v;
}

/** The reasons to suspect a honeypot at one host, from all its answered services; empty when none. */
export function honeypotSuspicions(services: readonly HostService[], rules: HoneypotRules = honeypotRules()): HoneypotSuspicion[] {
  const out: HoneypotSuspicion[] = [];
  const openProducts = new Set(services.filter((s) => s.auth === 'open').map((s) => s.module));
  if (openProducts.size >= rules.multiProduct.minProducts) {
    out.push({
      ruleId: 'multi-product',
      reason: `answers as ${openProducts.size} different database products at once, all open (${[...openProducts].sort().join(', ')})`,
      reference: rules.multiProduct.reference,
    });
  }
  for (const f of rules.fingerprints) {
    for (const s of services) {
      if (s.module !== f.module) continue;
      if (Object.entries(f.match).every(([k, v]) => field(s, k) === v)) {
        out.push({ ruleId: f.id, reason: `port ${s.port}: ${f.description}`, reference: f.reference });
      }
    }
  }
  return out;
}
