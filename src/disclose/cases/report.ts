/**
 * A case as a self-contained report for a CERT (Markdown or one HTML file with inline styles and no
 * external resources): what was found (the notice's content), who was told when, every transition with
 * who/why, and every re-verification with its evidence. Templates: src/rules/templates/report.<locale>.*.
 */
import { buildNoticeModel, formatTime, type Sender } from '../notices/notice-model.js';
import { type Remediations } from '../notices/remediation.js';
import { renderDocument, resolveLocale, type RenderedDocument } from '../notices/templates.js';
import { asnOf } from './stats.js';
import { type CaseEvent, type CaseRecord, type NoticeEvidence, type ReverifyEvidence } from './types.js';

export interface ReportOptions {
  sender: Sender;
  locale?: string;
  remediations?: Remediations;
  templateDir?: string;
  /** "Now" for the report's date (tests pass a fixed one). */
  generatedAt?: Date;
  tool: string;
}

function durationText(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return null;
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function between(later: string | null, earlier: string | null): number | null {
  if (!later || !earlier) return null;
  return Date.parse(later) - Date.parse(earlier);
}

function isReverify(e: unknown): e is ReverifyEvidence {
  return typeof e === 'object' && e !== null && 'lockedDown' in e && 'status' in e;
}

function isNotice(e: unknown): e is NoticeEvidence {
  return typeof e === 'object' && e !== null && 'channel' in e && 'to' in e;
}

export function buildReportModel(c: CaseRecord, events: readonly CaseEvent[], opts: ReportOptions): Record<string, unknown> {
  const locale = resolveLocale('report', opts.locale ?? c.locale, opts.templateDir);
  const notice = buildNoticeModel({ caseRecord: c, locale, sender: opts.sender, ...(opts.remediations ? { remediations: opts.remediations } : {}) });
  return {
    ...notice,
    tool: opts.tool,
    generatedAt: formatTime((opts.generatedAt ?? new Date()).toISOString()),
    caseInfo: {
      id: c.id,
      state: c.state,
      severity: c.severity ?? 'unknown',
      detectedAt: formatTime(c.detectedAt),
      openedAt: formatTime(c.openedAt),
      openedBy: c.openedBy,
      notifiedAt: c.notifiedAt ? formatTime(c.notifiedAt) : null,
      acknowledgedAt: c.acknowledgedAt ? formatTime(c.acknowledgedAt) : null,
      remediatedAt: c.remediatedAt ? formatTime(c.remediatedAt) : null,
      closedAt: c.closedAt ? formatTime(c.closedAt) : null,
      timeToNotify: durationText(between(c.notifiedAt, c.detectedAt)),
      timeToLockdown: durationText(between(c.remediatedAt, c.detectedAt)),
      noticeCount: c.noticeCount,
      lastReverifiedAt: c.lastReverifiedAt ? formatTime(c.lastReverifiedAt) : null,
      nextReverifyAt: c.nextReverifyAt ? formatTime(c.nextReverifyAt) : null,
    },
    contacts: c.contacts.map((x) => ({ email: x.email, source: x.source, role: x.role })),
    attribution: c.attribution
      ? {
          owner: c.attribution.owner ?? null,
          org: c.attribution.org ?? null,
          asn: c.attribution.asn === undefined ? null : asnOf(c),
          country: c.attribution.country ?? null,
          source: c.attribution.source ?? null,
        }
      : null,
    events: events.map((e) => ({
      seq: e.seq,
      at: formatTime(e.at),
      kind: e.kind,
      from: e.fromState,
      to: e.toState,
      operator: e.operator,
      // One line: a reason can quote a server's reply.
      reason: e.reason === null ? null : e.reason.replace(/\s+/g, ' '),
    })),
    reverifications: events
      .filter((e) => isReverify(e.evidence))
      .map((e) => {
        const r = e.evidence as ReverifyEvidence;
        return {
          at: formatTime(r.startedAt),
          scanId: r.scanId,
          status: r.status,
          auth: r.auth,
          lockedDown: r.lockedDown,
          evidence: r.evidence,
          commands: r.commands.join(', ') || '(none: nothing answered)',
          bytes: `${r.bytesSent}/${r.bytesRead}`,
        };
      }),
    notices: events
      .filter((e) => isNotice(e.evidence))
      .map((e) => {
        const n = e.evidence as NoticeEvidence;
        return { at: formatTime(e.at), to: n.to.join(', '), channel: n.channel, subject: n.subject, messageId: n.messageId, locale: n.locale };
      }),
  };
}

export function renderReport(c: CaseRecord, events: readonly CaseEvent[], opts: ReportOptions): RenderedDocument {
  const model = buildReportModel(c, events, opts);
  return renderDocument('report', (model.locale as string) ?? 'en', model, opts.templateDir);
}
