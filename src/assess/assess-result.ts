/**
 * The assessment stage of the pipeline: from one probe result (metadata, inventory, the redacted sample)
 * to what is at risk — sensitive categories, compromise signs, a severity with its reasons. Pure: it
 * reads only what the probe already produced, so it runs the same for scans, imports and re-checks.
 */
import { type FindingAssessment, type InventoryEntry, type ProbeResult } from '../core/types.js';
import { builtinRules, type Rules } from '../rules/load.js';
import { type NamespaceKind } from '../rules/schema.js';
import { assessCompromise, type NamespaceInfo } from './compromise.js';
import { createNameMatcher, type NameMatcher } from './name-matcher.js';
import { schemaSignals, type SchemaEntry } from './schema-signals.js';
import { severityOf, type SensitiveCount } from './severity.js';

/** Inventory kinds the compromise rules know; the others map onto the nearest. */
const KIND: Record<InventoryEntry['kind'], NamespaceKind> = {
  database: 'database',
  schema: 'database',
  collection: 'collection',
  table: 'table',
  index: 'index',
  keyspace: 'keyspace',
  bucket: 'database',
  measurement: 'table',
  key: 'key',
  znode: 'key',
};

/** Paths of the schema signals kept per category (enough to act on, bounded). */
const PATHS_PER_CATEGORY = 10;

// The name matcher compiles every sensitive-name rule: build it once per rule set, not per probe.
const matchers = new WeakMap<Rules, NameMatcher>();
function matcherFor(rules: Rules): NameMatcher {
  let m = matchers.get(rules);
  if (!m) {
    m = createNameMatcher(rules.sensitiveNames.rules, rules.sensitiveNames.identifierTerms);
    matchers.set(rules, m);
  }
  return m;
}

export function assessResult(result: ProbeResult, opts: { rules?: Rules } = {}): FindingAssessment {
  const inventory = result.inventory;
  const rules = opts.rules ?? builtinRules();
  const rulesOpt = { rules };

  // Names: every namespace path, and each field under it.
  const entries: SchemaEntry[] = [];
  for (const ns of inventory?.namespaces ?? []) {
    entries.push(ns.path);
    for (const f of ns.fields ?? []) entries.push([...ns.path, f]);
  }
  const signals = entries.length > 0 ? schemaSignals(entries, { rules, matcher: matcherFor(rules) }) : [];
  const sensitive: FindingAssessment['sensitive'] = signals.map((s) => ({
    category: s.category,
    count: s.count,
    source: 'schema' as const,
    paths: s.matches.slice(0, PATHS_PER_CATEGORY).map((m) => m.path),
  }));
  for (const [category, value] of Object.entries(result.sample?.categories ?? {})) {
    const count = typeof (value as { count?: unknown })?.count === 'number' ? (value as { count: number }).count : undefined;
    sensitive.push({ category, source: 'sample', ...(count !== undefined ? { count } : {}) });
  }

  const namespaces: NamespaceInfo[] = (inventory?.namespaces ?? []).map((ns) => ({
    path: ns.path,
    kind: KIND[ns.kind],
    ...(ns.records !== undefined ? { count: ns.records } : {}),
  }));
  const fromNames = assessCompromise({ product: result.module, namespaces, ...redisConfig(result) }, rulesOpt);
  // Matches on sampled values (note wording, planted payloads) come from the module, already masked.
  const fromValues = result.sample?.compromise ?? [];
  const seen = new Set(fromNames.matches.map((m) => m.ruleId));
  const compromise = {
    compromised: fromNames.compromised || fromValues.some((m) => m.strength === 'strong'),
    matches: [...fromNames.matches, ...fromValues.filter((m) => !seen.has(m.ruleId))],
  };

  const severityInput = {
    status: result.status,
    product: result.module,
    sensitive: sensitive.map((s): SensitiveCount => ({ category: s.category, source: s.source, ...(s.count !== undefined ? { count: s.count } : {}) })),
    compromised: compromise.compromised,
    compromiseRules: compromise.matches.map((m) => m.ruleId),
    peers: result.peers.length,
    ...(result.auth !== undefined ? { verdict: result.auth } : {}),
    ...(inventory?.records !== undefined ? { records: inventory.records } : {}),
    ...(inventory?.bytes !== undefined ? { sizeBytes: inventory.bytes } : {}),
  };
  const severity = severityOf(severityInput, rulesOpt);
  return {
    severity: severity.level,
    score: severity.score,
    reasons: severity.reasons,
    sensitive,
    compromised: compromise.compromised,
    compromise: compromise.matches.map((m) => ({ ruleId: m.ruleId, description: m.description, strength: m.strength, evidence: m.evidence })),
  };
}

/** Redis persistence settings a planted-payload attack changes, when the module saw them. */
function redisConfig(result: ProbeResult): { redisConfig?: Record<string, string> } {
  if (result.module !== 'redis') return {};
  const m = result.metadata as { configDir?: unknown; configDbfilename?: unknown };
  const out: Record<string, string> = {};
  if (typeof m.configDir === 'string') out.dir = m.configDir;
  if (typeof m.configDbfilename === 'string') out.dbfilename = m.configDbfilename;
  return Object.keys(out).length > 0 ? { redisConfig: out } : {};
}
