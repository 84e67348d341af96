/**
 * Disclosure cases as a service: open (one service or every finding at/above a severity), move through the
 * life cycle (states.ts) with who/when/why on every step, notify by e-mail, record re-verifications, report.
 * The CLI, a future API and the monitor call this; it holds no state of its own beyond its dependencies.
 */
import { NotFoundError, UsageError } from '../../core/errors.js';
import { type Severity } from '../../core/types.js';
import { type CaseFilter, type CasePatch, type CasesRepository } from '../../store/cases-store.js';
import { type FindingRecord, type Store } from '../../store/store.js';
import { isEmail, type NoticeSender, type SentMessage } from '../notices/mailer.js';
import { type Sender } from '../notices/notice-model.js';
import { type Remediations } from '../notices/remediation.js';
import { renderNotice } from '../notices/render-notice.js';
import { type RenderedDocument } from '../notices/templates.js';
import { DEFAULT_BACKOFF_MS, nextReverifyAt } from '../reverify/schedule.js';
import { assertTransition, CaseTransitionError } from './states.js';
import { caseStats, type CaseStats } from './stats.js';
import {
  CaseState,
  OPEN_STATES,
  type Attribution,
  type CaseEvent,
  type CaseRecord,
  type Contact,
  type NoticeEvidence,
  type ReverifyEvidence,
} from './types.js';

/** Who a finding's address belongs to and whom to tell: supplied by the attribution stage (RDAP, security.txt …). */
export type AttributionLookup = (finding: FindingRecord) => Promise<{ contacts?: Contact[]; attribution?: Attribution } | undefined>;

export interface CaseServiceDeps {
  store: Store;
  cases: CasesRepository;
  /** Recorded on every event unless a call names another (config identity.operator or --operator). */
  operator: string;
  sender: Sender;
  /** Default language of new cases' notices. */
  locale?: string;
  attribution?: AttributionLookup;
  /** Sends notices; required only by `notify` without `dryRun`. */
  mailer?: NoticeSender;
  backoffMs?: readonly number[];
  remediations?: Remediations;
  templateDir?: string;
}

export interface OpenResult {
  case: CaseRecord;
  /** false when the finding already had a case (returned as it is, or reopened when exposed again). */
  created: boolean;
  reopened: boolean;
}

export interface AutoOpenResult {
  opened: CaseRecord[];
  reopened: CaseRecord[];
  /** Findings at/above the severity that already had an open (or deliberately closed) case. */
  existing: number;
  /** Findings left out because their host looks like a honeypot. */
  honeypots: number;
}

export interface NotifyResult {
  case: CaseRecord;
  notice: RenderedDocument;
  /** Undefined for a dry run. */
  sent?: SentMessage;
  to: string[];
}

const OPEN_LIKE: readonly CaseState[] = OPEN_STATES;
/** Cases in these states reopen by themselves when the service is seen exposed again. */
const REOPEN_WHEN_EXPOSED: readonly CaseState[] = [CaseState.remediated, CaseState.closed];

export class CaseService {
  constructor(readonly deps: CaseServiceDeps) {}

  get cases(): CasesRepository {
    return this.deps.cases;
  }

  #now(): Date {
    return this.deps.cases.now();
  }

  #backoff(): readonly number[] {
    return this.deps.backoffMs ?? DEFAULT_BACKOFF_MS;
  }

  /** A finding by id (`42`) or by service (`192.0.2.7:6379/redis`, `[2001:db8::7]:27017/mongodb`). */
  async resolveFinding(ref: string): Promise<FindingRecord> {
    const text = ref.trim();
    if (/^\d+$/.test(text)) {
      const id = Number(text);
      const host = await this.deps.cases.findingHost(id);
      const found = host ? (await this.deps.store.getHost(host))?.findings.find((f) => f.id === id) : undefined;
      if (!found) throw new NotFoundError(`No finding with id ${id}; \`lockdown findings\` lists them`);
      return found;
    }
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/]+)):(\d{1,5})\/([a-z0-9_-]+)$/.exec(text);
    if (!m) throw new UsageError(`${JSON.stringify(ref)} is neither a finding id nor host:port/module (e.g. 192.0.2.7:6379/redis)`);
    const host = (m[1] ?? m[2]) as string;
    const port = Number(m[3]);
    const module = m[4] as string;
    const found = (await this.deps.store.listFindings({ host })).find((f) => f.port === port && f.module === module);
    if (!found) throw new NotFoundError(`No finding for ${host}:${port}/${module}; \`lockdown findings --host ${host}\` lists that host's`);
    return found;
  }

  /** Open a case for one finding (or return the one it has; a fixed service seen exposed again reopens it). */
  async open(ref: string | FindingRecord, opts: { contacts?: Contact[]; locale?: string; reason?: string; operator?: string } = {}): Promise<OpenResult> {
    const finding = typeof ref === 'string' ? await this.resolveFinding(ref) : ref;
    const operator = opts.operator ?? this.deps.operator;
    const existing = await this.deps.cases.getByFinding(finding.id);
    if (existing) {
      const withContacts = opts.contacts?.length ? await this.addContacts(existing.id, opts.contacts, operator) : existing;
      const reopened = await this.#reopenIfExposedAgain(withContacts, finding, operator);
      return { case: reopened ?? withContacts, created: false, reopened: reopened !== undefined };
    }
    const found = this.deps.attribution ? await this.deps.attribution(finding) : undefined;
    const contacts = mergeContacts(found?.contacts ?? [], opts.contacts ?? []);
    const now = this.#now();
    const created = await this.deps.cases.create(
      {
        findingId: finding.id,
        host: finding.host,
        port: finding.port,
        module: finding.module,
        severity: finding.severity ?? finding.assessment?.severity ?? null,
        detectedAt: finding.firstSeen,
        openedBy: operator,
        contacts,
        attribution: found?.attribution ?? null,
        locale: opts.locale ?? this.deps.locale ?? 'en',
        snapshot: finding,
        nextReverifyAt: nextReverifyAt(now, 0, this.#backoff()),
      },
      { kind: 'opened', operator, reason: opts.reason ?? 'Opened', evidence: { findingId: finding.id, auth: finding.auth, status: finding.status, severity: finding.severity } },
    );
    if (!created) {
      // Opened concurrently by someone else: theirs stands.
      const theirs = await this.deps.cases.getByFinding(finding.id);
      if (!theirs) throw new NotFoundError(`The case for finding ${finding.id} disappeared`);
      return { case: theirs, created: false, reopened: false };
    }
    return { case: created, created: true, reopened: false };
  }

  /** Open a case for every exposed finding at or above `minSeverity` (honeypots and auth_required left out). */
  async openAuto(opts: { minSeverity: Severity; locale?: string; operator?: string; reason?: string }): Promise<AutoOpenResult> {
    const findings = await this.deps.store.listFindings({ minSeverity: opts.minSeverity });
    const out: AutoOpenResult = { opened: [], reopened: [], existing: 0, honeypots: 0 };
    for (const f of findings) {
      if (f.auth === 'auth_required' || f.status !== 'success') continue;
      if (f.honeypot && f.honeypot.length > 0) {
        out.honeypots++;
        continue;
      }
      const r = await this.open(f, {
        ...(opts.locale ? { locale: opts.locale } : {}),
        ...(opts.operator ? { operator: opts.operator } : {}),
        reason: opts.reason ?? `Opened automatically: severity ${f.severity} at or above ${opts.minSeverity}`,
      });
      if (r.created) out.opened.push(r.case);
      else if (r.reopened) out.reopened.push(r.case);
      else out.existing++;
    }
    return out;
  }

  async #reopenIfExposedAgain(c: CaseRecord, finding: FindingRecord, operator: string): Promise<CaseRecord | undefined> {
    if (!REOPEN_WHEN_EXPOSED.includes(c.state)) return undefined;
    if (finding.status !== 'success' || finding.auth === 'auth_required') return undefined;
    const since = c.remediatedAt ?? c.closedAt ?? c.updatedAt;
    if (finding.lastSeen <= since) return undefined;
    return this.#move(c, CaseState.reopened, {
      operator,
      reason: `Exposed again: seen ${finding.auth ?? finding.status} at ${finding.lastSeen}`,
      by: 'operator',
      patch: { snapshot: finding, severity: finding.severity ?? c.severity },
    });
  }

  async get(id: string): Promise<CaseRecord> {
    const c = await this.deps.cases.get(id);
    if (!c) throw new NotFoundError(`No case ${id}; \`lockdown case list\` lists them`);
    return c;
  }

  async show(id: string): Promise<{ case: CaseRecord; events: CaseEvent[] }> {
    const c = await this.get(id);
    return { case: c, events: await this.deps.cases.events(id) };
  }

  list(filter: CaseFilter = {}): Promise<CaseRecord[]> {
    return this.deps.cases.list(filter);
  }

  /** An operator's move (`acknowledged`, `wont_fix`, `false_positive`, `closed`, `reopened`, a notice given by other means). */
  async transition(id: string, to: string, opts: { reason: string; operator?: string }): Promise<CaseRecord> {
    const reason = opts.reason?.trim();
    if (!reason) throw new UsageError('Say why with --reason: every transition is recorded with who, when and why');
    const c = await this.get(id);
    assertTransition(c.id, c.state, to, 'operator');
    const evidence: NoticeEvidence | undefined =
      to === CaseState.notified ? { messageId: null, to: c.contacts.map((x) => x.email), locale: c.locale, subject: '', response: null, channel: 'manual' } : undefined;
    return this.#move(c, to, { operator: opts.operator ?? this.deps.operator, reason, by: 'operator', ...(evidence ? { evidence } : {}) });
  }

  /** Applies an allowed move with its side effects on the schedule and timestamps; refuses if the state changed meanwhile. */
  async #move(
    c: CaseRecord,
    to: CaseState,
    opts: { operator: string; reason: string; by: 'operator' | 'reverify'; evidence?: unknown; patch?: CasePatch; kind?: 'transition' | 'notice' | 'reverify' },
  ): Promise<CaseRecord> {
    assertTransition(c.id, c.state, to, opts.by);
    const now = this.#now();
    const at = now.toISOString();
    const patch: CasePatch = { ...opts.patch, state: to };
    switch (to) {
      case CaseState.notified:
        patch.notifiedAt = c.notifiedAt ?? at;
        patch.nextReverifyAt = nextReverifyAt(now, 0, this.#backoff());
        patch.reverifyAttempts = 0;
        break;
      case CaseState.acknowledged:
        patch.acknowledgedAt = c.acknowledgedAt ?? at;
        break;
      case CaseState.remediated:
        patch.remediatedAt = at;
        patch.nextReverifyAt = null;
        break;
      case CaseState.closed:
        patch.closedAt = at;
        patch.nextReverifyAt = null;
        break;
      case CaseState.wontFix:
      case CaseState.falsePositive:
        patch.nextReverifyAt = null;
        break;
      case CaseState.reopened:
        // A new exposure cycle: the earlier remediation no longer counts towards time-to-lockdown.
        patch.remediatedAt = null;
        patch.closedAt = null;
        patch.nextReverifyAt = nextReverifyAt(now, 0, this.#backoff());
        patch.reverifyAttempts = 0;
        break;
      case CaseState.new:
        break;
    }
    const updated = await this.deps.cases.update(c.id, c.state, patch, {
      kind: opts.kind ?? 'transition',
      fromState: c.state,
      toState: to,
      operator: opts.operator,
      reason: opts.reason,
      evidence: opts.evidence,
    });
    if (!updated) {
      const now2 = await this.get(c.id);
      throw new CaseTransitionError(c.id, now2.state, to, `it changed from ${c.state} to ${now2.state} meanwhile; look again with \`lockdown case show ${c.id}\``);
    }
    return updated;
  }

  async addContacts(id: string, contacts: Contact[], operator = this.deps.operator): Promise<CaseRecord> {
    for (const x of contacts) if (!isEmail(x.email)) throw new UsageError(`Not an e-mail address: ${JSON.stringify(x.email)}`);
    for (let attempt = 0; attempt < 3; attempt++) {
      const c = await this.get(id);
      const merged = mergeContacts(c.contacts, contacts);
      if (merged.length === c.contacts.length) return c;
      const updated = await this.deps.cases.update(c.id, c.state, { contacts: merged }, { kind: 'contacts', operator, reason: 'Contacts added', evidence: contacts });
      if (updated) return updated;
    }
    throw new UsageError(`Case ${id} kept changing while its contacts were updated; try again`);
  }

  /** The notice for a case as it would be sent (no side effects). */
  async renderNotice(id: string, locale?: string): Promise<RenderedDocument> {
    const c = await this.get(id);
    return this.#render(c, locale);
  }

  #render(c: CaseRecord, locale?: string): RenderedDocument {
    return renderNotice(c, {
      sender: this.deps.sender,
      ...(locale ? { locale } : {}),
      ...(this.deps.remediations ? { remediations: this.deps.remediations } : {}),
      ...(this.deps.templateDir ? { templateDir: this.deps.templateDir } : {}),
    });
  }

  /**
   * Send the notice to the case's contacts (plus `to`). A first notice moves `new`/`reopened` to `notified`;
   * later ones are reminders recorded on the case. `dryRun` renders without sending or changing anything.
   */
  async notify(id: string, opts: { to?: string[]; locale?: string; dryRun?: boolean; operator?: string } = {}): Promise<NotifyResult> {
    const operator = opts.operator ?? this.deps.operator;
    let c = await this.get(id);
    if (!OPEN_LIKE.includes(c.state)) {
      throw new UsageError(`Case ${c.id} is ${c.state}; only open cases (${OPEN_LIKE.join(', ')}) get notices — reopen it first if the service is exposed again`);
    }
    const extra = (opts.to ?? []).map((email) => ({ email, source: '--to', role: 'operator-supplied' }));
    if (!opts.dryRun) {
      if (extra.length > 0) c = await this.addContacts(c.id, extra, operator);
      if (c.contacts.length === 0 && this.deps.attribution) {
        const found = await this.deps.attribution(c.snapshot);
        if (found?.contacts?.length) c = await this.addContacts(c.id, found.contacts, operator);
      }
      c = await this.#refreshSnapshot(c);
    }
    const to = [...new Set([...c.contacts, ...(opts.dryRun ? extra : [])].map((x) => x.email))];
    const notice = this.#render(c, opts.locale);
    if (opts.dryRun) return { case: c, notice, to };
    if (to.length === 0) throw new UsageError(`Case ${c.id} has no contact to notify; give one with --to <email>`);
    if (!this.deps.mailer) throw new UsageError('No mail transport configured: give --smtp-url (or LOCKDOWN_SMTP_URL) and --from');
    const sent = await this.deps.mailer.send({
      to,
      subject: notice.subject,
      text: notice.text,
      html: notice.html,
      headers: { 'X-Lockdown-Case': c.id, 'Auto-Submitted': 'auto-generated' },
    });
    const evidence: NoticeEvidence = { messageId: sent.messageId, to, locale: notice.locale, subject: notice.subject, response: sent.response, channel: 'smtp' };
    const reason = `Notice sent to ${to.join(', ')}`;
    const patch: CasePatch = { noticeCount: c.noticeCount + 1 };
    let updated: CaseRecord | undefined;
    if (c.state === CaseState.new || c.state === CaseState.reopened) {
      updated = await this.#move(c, CaseState.notified, { operator, reason, by: 'operator', evidence, patch, kind: 'notice' });
    } else {
      updated = await this.deps.cases.update(
        c.id,
        c.state,
        { ...patch, nextReverifyAt: nextReverifyAt(this.#now(), 0, this.#backoff()), reverifyAttempts: 0 },
        { kind: 'notice', operator, reason: `Reminder: ${reason}`, evidence },
      );
    }
    return { case: updated ?? (await this.get(c.id)), notice, sent, to };
  }

  /** Keep reporting the newest exposed state: when the finding was seen exposed again since the snapshot, use it. */
  async #refreshSnapshot(c: CaseRecord): Promise<CaseRecord> {
    const current = (await this.deps.store.listFindings({ host: c.host })).find((f) => f.id === c.findingId);
    if (!current || current.status !== 'success' || current.auth === 'auth_required' || current.lastSeen <= c.snapshot.lastSeen) return c;
    return (await this.deps.cases.update(c.id, c.state, { snapshot: current, severity: current.severity ?? c.severity }, undefined)) ?? c;
  }

  /**
   * What a re-probe found, for an open case: locked down (auth required, or nothing listening) moves it to
   * `remediated` with the probe as evidence; still exposed schedules the next check further out.
   */
  async recordReverify(id: string, evidence: ReverifyEvidence, operator = this.deps.operator): Promise<CaseRecord> {
    const c = await this.get(id);
    const now = this.#now();
    const at = now.toISOString();
    if (!OPEN_LIKE.includes(c.state)) {
      // Closed meanwhile: keep the evidence on the record, change nothing else.
      return (await this.deps.cases.update(c.id, c.state, { lastReverifiedAt: at }, { kind: 'reverify', operator, reason: `Re-verified while ${c.state}: ${summary(evidence)}`, evidence })) ?? c;
    }
    if (evidence.lockedDown) {
      return this.#move(c, CaseState.remediated, {
        operator,
        reason: `Re-verification: ${summary(evidence)}`,
        by: 'reverify',
        evidence,
        kind: 'reverify',
        patch: { lastReverifiedAt: at },
      });
    }
    const attempts = c.reverifyAttempts + 1;
    const updated = await this.deps.cases.update(
      c.id,
      c.state,
      { lastReverifiedAt: at, reverifyAttempts: attempts, nextReverifyAt: nextReverifyAt(now, attempts, this.#backoff()) },
      { kind: 'reverify', operator, reason: `Still exposed: ${summary(evidence)}`, evidence },
    );
    return updated ?? (await this.get(c.id));
  }

  async stats(filter: CaseFilter = {}): Promise<CaseStats> {
    return caseStats(await this.deps.cases.list(filter));
  }
}

function summary(e: ReverifyEvidence): string {
  if (e.status === 'success') return `${e.auth ?? 'answered'}${e.evidence ? ` (${e.evidence.split('\n')[0]?.slice(0, 120)})` : ''}`;
  return e.status;
}

function mergeContacts(a: readonly Contact[], b: readonly Contact[]): Contact[] {
  const seen = new Set(a.map((x) => x.email.toLowerCase()));
  const out = [...a];
  for (const x of b) {
    if (seen.has(x.email.toLowerCase())) continue;
    seen.add(x.email.toLowerCase());
    out.push(x);
  }
  return out;
}
