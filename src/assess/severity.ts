/**
 * Severity: a deterministic score from the weights in src/rules/severity.json, with every point
 * explained. score = verdict + product (when open) + records tier + size tier + sensitive categories
 * (capped) + compromise + fan-out tier; level = highest threshold reached, then capped by the
 * verdict's `maxLevel` and raised to the compromise `minLevel` (evidence of an attack wins).
 */
import { type AuthVerdict, type ProbeStatus } from '../core/types.js';
import { builtinRules, type Rules } from '../rules/load.js';
import { SEVERITY_LEVELS, type SeverityLevel, type Tier } from '../rules/schema.js';
import { formatCount } from '../core/format.js';

export type { SeverityLevel };

export interface SensitiveCount {
  category: string;
  /** Values that matched in the sample (for `sample`), or names that matched (for `schema`). */
  count?: number;
  /** `sample`: confirmed by values; `schema`: seen only in names. */
  source: 'sample' | 'schema';
}

export interface SeverityInput {
  /** Transport outcome; anything other than `success` means there is no verdict. */
  status?: ProbeStatus;
  verdict?: AuthVerdict;
  /** Module name (`redis`, `mongodb` …). */
  product?: string;
  /** Records/documents/rows/keys the server holds, when known. */
  records?: number;
  /** Data size in bytes, when known. */
  sizeBytes?: number;
  sensitive?: readonly SensitiveCount[];
  compromised?: boolean;
  /** Ids of the compromise rules that matched (named in the reason). */
  compromiseRules?: readonly string[];
  /** Replication/cluster peers the server names. */
  peers?: number;
}

export interface Severity {
  level: SeverityLevel;
  score: number;
  /** One line per contribution: `+40 verdict open: …`, in the order they were added. */
  reasons: string[];
}

const rank = (l: SeverityLevel) => SEVERITY_LEVELS.length - 1 - SEVERITY_LEVELS.indexOf(l); // info 0 … critical 4

const fmt = formatCount;

function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function signed(p: number): string {
  return p >= 0 ? `+${p}` : `${p}`;
}

function tierFor(tiers: readonly Tier[], value: number): Tier | undefined {
  return [...tiers].sort((a, b) => b.min - a.min).find((t) => value >= t.min);
}

export function severityOf(input: SeverityInput, opts: { rules?: Rules } = {}): Severity {
  const w = (opts.rules ?? builtinRules()).severity;
  const reasons: string[] = [];
  let score = 0;
  const add = (points: number, reason: string) => {
    score += points;
    reasons.push(`${signed(points)} ${reason}`);
  };

  const answered = (input.status === undefined || input.status === 'success') && input.verdict !== undefined;
  const verdictRule = answered ? w.verdict[input.verdict as AuthVerdict] : w.verdict.none;
  add(verdictRule.points, verdictRule.reason);
  const open = answered && input.verdict === 'open';

  const product = input.product?.toLowerCase();
  if (open && product && w.productWhenOpen[product]) {
    const p = w.productWhenOpen[product];
    add(p.points, `product ${product}: ${p.reason}`);
  }

  if (input.records !== undefined) {
    const t = tierFor(w.records, input.records);
    if (input.records === 0) add(0, 'records: 0 (empty)');
    else add(t?.points ?? 0, `records: ${fmt(input.records)}${t ? ` (≥ ${fmt(t.min)})` : ''}`);
  }

  if (input.sizeBytes !== undefined) {
    const t = tierFor(w.sizeBytes, input.sizeBytes);
    if (t) add(t.points, `size: ${fmtBytes(input.sizeBytes)} (≥ ${fmtBytes(t.min)})`);
  }

  // One entry per category; values seen in the sample beat names seen in the schema.
  const byCat = new Map<string, SensitiveCount>();
  for (const s of input.sensitive ?? []) {
    const prev = byCat.get(s.category);
    if (!prev || (prev.source === 'schema' && s.source === 'sample') || (prev.source === s.source && (s.count ?? 0) > (prev.count ?? 0))) {
      byCat.set(s.category, s);
    }
  }
  let catPoints = 0;
  const cats = [...byCat.values()].sort((a, b) => a.category.localeCompare(b.category));
  for (const s of cats) {
    const base = w.categories[s.category] ?? w.defaultCategoryPoints;
    const countText = s.count !== undefined ? `, ${fmt(s.count)} ${s.source === 'sample' ? 'values' : 'names'}` : '';
    if (s.source === 'schema') {
      const p = Math.round(base * w.schemaOnlyFactor);
      catPoints += p;
      add(p, `sensitive ${s.category} (names only${countText}; ${base} × ${w.schemaOnlyFactor})`);
    } else {
      catPoints += base;
      add(base, `sensitive ${s.category} (sampled values${countText})`);
      const bonus = s.count !== undefined ? tierFor(w.categoryCountBonus, s.count) : undefined;
      if (bonus) {
        catPoints += bonus.points;
        add(bonus.points, `sensitive ${s.category}: ${fmt(s.count as number)} sampled values (≥ ${fmt(bonus.min)})`);
      }
    }
  }
  if (catPoints > w.categoriesMax) add(w.categoriesMax - catPoints, `sensitive categories capped at ${w.categoriesMax} points`);

  if (input.compromised) {
    const ids = input.compromiseRules && input.compromiseRules.length > 0 ? ` (${input.compromiseRules.join(', ')})` : '';
    add(w.compromise.points, `${w.compromise.reason}${ids}`);
  }

  if (input.peers !== undefined && input.peers > 0) {
    const t = tierFor(w.fanout, input.peers);
    if (t) add(t.points, `fan-out: ${fmt(input.peers)} replication peer${input.peers === 1 ? '' : 's'} (≥ ${fmt(t.min)})`);
  }

  let level: SeverityLevel = 'info';
  const th = w.levels;
  if (score >= th.critical) level = 'critical';
  else if (score >= th.high) level = 'high';
  else if (score >= th.medium) level = 'medium';
  else if (score >= th.low) level = 'low';
  reasons.push(`= ${score} → ${level} (thresholds: critical ≥ ${th.critical}, high ≥ ${th.high}, medium ≥ ${th.medium}, low ≥ ${th.low})`);

  if (verdictRule.maxLevel && rank(level) > rank(verdictRule.maxLevel)) {
    level = verdictRule.maxLevel;
    reasons.push(`level capped at ${level}: ${answered ? `verdict ${input.verdict}` : 'no verdict'}`);
  }
  if (input.compromised && rank(level) < rank(w.compromise.minLevel)) {
    level = w.compromise.minLevel;
    reasons.push(`level raised to ${level}: signs of compromise`);
  }
  return { level, score, reasons };
}
