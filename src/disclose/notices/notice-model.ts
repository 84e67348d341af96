/**
 * The data a notice or report template sees, built from a case's finding snapshot (metadata and the
 * redacted assessment only) and the product's remediation. Nothing here reads a sampled value: sensitive
 * categories come from `assessment.sensitive` (names, counts, paths) and the sample's masked examples.
 * Inventory entries of kind `key`/`znode` are left out, because such names can themselves be data.
 */
import { type FindingRecord } from '../../store/store.js';
import { type CaseRecord } from '../cases/types.js';
import { chooseVariant, loadRemediations, pickLocale, type Remediations, type RemediationStep } from './remediation.js';
import { renderString } from './template-engine.js';
import { formatBytes, formatCount } from '../../core/format.js';

export interface Sender {
  /** Who is writing, e.g. `Example CERT scanning team` (config identity name by default). */
  name: string;
  /** Where to reply / read about the scanning (config identity contact). */
  contact: string;
}

export interface NoticeModel {
  [key: string]: unknown;
  locale: string;
  case: { id: string; state: string; openedAt: string };
  sender: Sender;
  service: {
    host: string;
    hostname: string | null;
    port: number;
    protocols: string;
    module: string;
    product: string;
    version: string | null;
    verdict: string;
    isOpen: boolean;
    status: string;
    evidence: string;
    firstSeen: string;
    lastSeen: string;
  };
  exposure: {
    hasCounts: boolean;
    records: string | null;
    size: string | null;
    namespaceCount: number;
    truncated: boolean;
    namespaces: { name: string; kind: string; records: string | null }[];
  };
  sensitive: { category: string; count: string | null; fromSample: boolean; paths: string | null; example: string | null }[];
  compromise: { description: string; evidence: string }[];
  severity: { level: string; levelUpper: string; score: number | null; reasons: string[] };
  fix: {
    product: string;
    variantId: string;
    configFile: string;
    bind: { lines: string[]; text: string };
    auth: { lines: string[]; text: string };
    restart: string[];
    firewall: { title: string; lines: string[]; text: string }[];
    check: { lines: string[]; text: string };
    references: string[];
  };
}

/** Namespaces listed in a notice at most (the largest first). */
const MAX_NAMESPACES = 10;
/** Field paths listed per sensitive category at most. */
const MAX_PATHS = 5;
/** Inventory kinds whose names are structure, not data. */
const NAME_KINDS = new Set(['database', 'schema', 'collection', 'table', 'index', 'keyspace', 'bucket', 'measurement']);

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function count(n: number | undefined | null): string | null {
  return n === undefined || n === null || !Number.isFinite(n) ? null : formatCount(n);
}

interface SampleCategoryShape {
  count?: unknown;
  example?: unknown;
  fields?: { path?: unknown; count?: unknown }[];
}

function sensitiveOf(f: FindingRecord): NoticeModel['sensitive'] {
  const categories = (f.sample?.categories ?? {}) as Record<string, SampleCategoryShape>;
  const out = new Map<string, NoticeModel['sensitive'][number]>();
  for (const s of f.assessment?.sensitive ?? []) {
    const fromSample = s.source === 'sample';
    const sample = fromSample ? categories[s.category] : undefined;
    const example = typeof sample?.example === 'string' ? sample.example : null;
    const paths = (s.paths ?? []).slice(0, MAX_PATHS);
    const key = `${s.category}\u0000${s.source}`;
    if (out.has(key)) continue;
    out.set(key, {
      category: s.category,
      count: count(s.count),
      fromSample,
      paths: paths.length > 0 ? paths.join(', ') + ((s.paths?.length ?? 0) > MAX_PATHS ? ', …' : '') : null,
      example,
    });
  }
  // Sample categories the assessment did not list (older findings): counts and masked examples only.
  for (const [category, c] of Object.entries(categories)) {
    if (out.has(`${category}\u0000sample`)) continue;
    const paths = (c.fields ?? []).map((x) => x.path).filter((p): p is string => typeof p === 'string').slice(0, MAX_PATHS);
    out.set(`${category}\u0000sample`, {
      category,
      count: typeof c.count === 'number' ? count(c.count) : null,
      fromSample: true,
      paths: paths.length > 0 ? paths.join(', ') : null,
      example: typeof c.example === 'string' ? c.example : null,
    });
  }
  return [...out.values()];
}

function exposureOf(f: FindingRecord): NoticeModel['exposure'] {
  const inv = f.inventory;
  const named = (inv?.namespaces ?? []).filter((n) => NAME_KINDS.has(n.kind));
  const largest = [...named]
    .sort((a, b) => (b.records ?? -1) - (a.records ?? -1) || (b.bytes ?? -1) - (a.bytes ?? -1))
    .slice(0, MAX_NAMESPACES);
  const records = count(inv?.records);
  const size = formatBytes(inv?.bytes);
  return {
    hasCounts: records !== null || size !== null || named.length > 0,
    records,
    size,
    namespaceCount: named.length,
    truncated: inv?.truncated === true,
    namespaces: largest.map((n) => ({ name: n.path.join('.'), kind: n.kind, records: count(n.records) })),
  };
}

export interface NoticeModelInput {
  caseRecord: Pick<CaseRecord, 'id' | 'state' | 'openedAt' | 'snapshot'>;
  locale: string;
  sender: Sender;
  remediations?: Remediations;
}

/** The template data for one case in one language. */
export function buildNoticeModel(input: NoticeModelInput): NoticeModel {
  const f = input.caseRecord.snapshot;
  const rem = input.remediations ?? loadRemediations();
  const file = rem.byModule.get(f.module) ?? rem.generic;
  const variant = chooseVariant(file, f.product, f.version);
  const product = f.product ?? f.module;
  const vars = { host: f.host, port: f.port, product, proto: file.protocols[0] as string };
  const line = (s: string, proto = vars.proto): string => renderString(`remediation ${f.module}`, s, { ...vars, proto }, 'text');
  const stepOf = (s: RemediationStep): { lines: string[]; text: string } => ({
    lines: s.lines.map((l) => line(l)),
    text: line(pickLocale(s.text, input.locale)),
  });
  const firewall = rem.firewall.map((r) => ({
    title: r.title,
    lines: file.protocols.flatMap((proto) => r.lines.map((l) => line(l, proto))),
    text: line(pickLocale(r.text, input.locale)),
  }));
  const a = f.assessment;
  return {
    locale: input.locale,
    case: { id: input.caseRecord.id, state: input.caseRecord.state, openedAt: formatTime(input.caseRecord.openedAt) },
    sender: input.sender,
    service: {
      host: f.host,
      hostname: f.hostname,
      port: f.port,
      protocols: file.protocols.join('+'),
      module: f.module,
      product,
      version: f.version,
      verdict: f.auth ?? f.status,
      isOpen: f.auth === 'open',
      status: f.status,
      evidence: f.evidence ?? '(no reply recorded)',
      firstSeen: formatTime(f.firstSeen),
      lastSeen: formatTime(f.lastSeen),
    },
    exposure: exposureOf(f),
    sensitive: sensitiveOf(f),
    compromise: (a?.compromise ?? []).map((c) => ({ description: c.description, evidence: c.evidence })),
    severity: {
      level: f.severity ?? a?.severity ?? 'unknown',
      levelUpper: (f.severity ?? a?.severity ?? 'unknown').toUpperCase(),
      score: a?.score ?? null,
      reasons: a?.reasons ?? [],
    },
    fix: {
      product,
      variantId: variant.id,
      configFile: variant.configFile,
      bind: stepOf(variant.bind),
      auth: stepOf(variant.auth),
      restart: variant.restart.map((l) => line(l)),
      firewall,
      check: stepOf(variant.check),
      references: variant.references,
    },
  };
}
