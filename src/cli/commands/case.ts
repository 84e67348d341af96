import { writeFileSync } from 'node:fs';
import { type Command } from 'commander';
import { identityString, type Config } from '../../config/config.js';
import { UsageError } from '../../core/errors.js';
import { VERSION } from '../../core/version.js';
import { attribute } from '../../disclose/attribution/index.js';
import { attributionLookup } from '../../disclose/cases/attribution-lookup.js';
import { CaseService } from '../../disclose/cases/case-service.js';
import { renderReport } from '../../disclose/cases/report.js';
import { isCaseState } from '../../disclose/cases/states.js';
import { CASE_STATES, OPEN_STATES, type CaseRecord, type CaseState } from '../../disclose/cases/types.js';
import { createSmtpSender, DEFAULT_RATE_PER_MINUTE, isEmail, type NoticeSender } from '../../disclose/notices/mailer.js';
import { type Sender } from '../../disclose/notices/notice-model.js';
import { reverifyCases } from '../../disclose/reverify/reverify.js';
import { parseBackoff } from '../../disclose/reverify/schedule.js';
import { PROBES } from '../../protocols/registry.js';
import { openSqliteCaseStores, type SqliteCaseStores } from '../../disclose/cases/open-stores.js';
import { createAttributionCache } from '../../store/attribution-cache.js';
import { commonConfig, parsePositiveInt, parseSeverity, resolveDbPath, type CommonOptions } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { formatDuration, log, outputFormat, renderTable, writeJson, writeNdjson, writeOut } from '../output.js';

/**
 * `lockdown case …`: disclosure cases (open, list, show, transition, notify, reverify, stats, export).
 * Mail settings come from flags or the environment (LOCKDOWN_SMTP_URL, LOCKDOWN_MAIL_FROM,
 * LOCKDOWN_MAIL_RATE); the re-verification back-off from --backoff or LOCKDOWN_REVERIFY_BACKOFF.
 */

interface CaseCommon extends CommonOptions {
  operator?: string;
  backoff?: string;
  /** Look up contacts and owner (RDAP, reverse DNS, .mmdb, security.txt) for cases without contacts. */
  attribute?: boolean;
}

interface MailOptions {
  smtpUrl?: string;
  from?: string;
  rate?: string;
  senderName?: string;
}

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function senderOf(config: Config, mail: MailOptions): Sender {
  const from = mail.from ?? process.env.LOCKDOWN_MAIL_FROM;
  const display = from ? /^\s*"?([^"<]+?)"?\s*</.exec(from)?.[1] : undefined;
  const address = from ? (/<([^>]+)>/.exec(from)?.[1] ?? from) : undefined;
  return {
    name: mail.senderName ?? display ?? config.identity.name,
    contact: config.identity.contact || address || '',
  };
}

function mailerOf(mail: MailOptions): NoticeSender | undefined {
  const smtpUrl = mail.smtpUrl ?? process.env.LOCKDOWN_SMTP_URL;
  const from = mail.from ?? process.env.LOCKDOWN_MAIL_FROM;
  if (!smtpUrl) return undefined;
  if (!from) throw new UsageError('Give the sender address with --from (or LOCKDOWN_MAIL_FROM)');
  const rateText = mail.rate ?? process.env.LOCKDOWN_MAIL_RATE;
  const rate = rateText === undefined ? DEFAULT_RATE_PER_MINUTE : parsePositiveInt(rateText, '--rate');
  return createSmtpSender({ smtpUrl, from, ratePerMinute: rate ?? DEFAULT_RATE_PER_MINUTE });
}

async function withCases<T>(
  opts: CaseCommon & MailOptions,
  fn: (ctx: { service: CaseService; stores: SqliteCaseStores; config: Config }) => Promise<T>,
  withMailer = false,
): Promise<T> {
  const config = commonConfig(opts);
  const backoffText = opts.backoff ?? process.env.LOCKDOWN_REVERIFY_BACKOFF;
  const backoffMs = backoffText ? parseBackoff(backoffText) : undefined;
  const mailer = withMailer ? mailerOf(opts) : undefined;
  const stores = await openSqliteCaseStores(resolveDbPath(opts));
  try {
    const service = new CaseService({
      store: stores.store,
      cases: stores.cases,
      operator: opts.operator ?? config.identity.operator,
      sender: senderOf(config, opts),
      ...(backoffMs ? { backoffMs } : {}),
      ...(mailer ? { mailer } : {}),
      ...(opts.attribute
        ? {
            attribution: attributionLookup((ip) =>
              attribute(ip, config.attribution, { userAgent: identityString(config, VERSION), cache: createAttributionCache(stores.store.kysely(), stores.store.label) }),
            ),
          }
        : {}),
    });
    return await fn({ service, stores, config });
  } finally {
    mailer?.close();
    await stores.close();
  }
}

function short(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 16) : '';
}

function casesTable(cases: CaseRecord[]): string {
  return renderTable(
    ['CASE', 'STATE', 'SEVERITY', 'SERVICE', 'PRODUCT', 'FIRST SEEN', 'NOTIFIED', 'NEXT CHECK', 'CONTACTS'],
    cases.map((c) => [
      c.id,
      c.state,
      c.severity ?? '',
      `${c.host}:${c.port}/${c.module}`,
      [c.snapshot.product, c.snapshot.version].filter(Boolean).join(' '),
      short(c.detectedAt),
      short(c.notifiedAt),
      short(c.nextReverifyAt),
      c.contacts.map((x) => x.email).join(', '),
    ]),
  );
}

function parseStates(text: string | undefined): CaseState[] | undefined {
  if (text === undefined) return undefined;
  if (text === 'open') return [...OPEN_STATES];
  const out = splitList(text);
  for (const s of out) if (!isCaseState(s)) throw new UsageError(`Unknown case state ${JSON.stringify(s)}; use ${CASE_STATES.join(', ')} or open`);
  return out as CaseState[];
}

function contactsOf(text: string | undefined): { email: string; source: string; role: string }[] {
  const emails = splitList(text);
  for (const e of emails) if (!isEmail(e)) throw new UsageError(`--to: ${JSON.stringify(e)} is not an e-mail address`);
  return emails.map((email) => ({ email, source: '--to', role: 'operator-supplied' }));
}

function addCommon(cmd: Command): Command {
  return cmd
    .option('--operator <who>', 'who is acting (recorded on every event; default: identity.operator from the config)')
    .option('--db <path>', 'SQLite store')
    .option('--config <file>', 'config file');
}

export function registerCase(program: Command, setExit: (code: number) => void): void {
  const cases = program
    .command('case')
    .description('Disclosure cases: open, notify the owner with the fix, re-verify, report')
    .addHelpText(
      'after',
      `
States: new → notified → acknowledged → remediated → closed, plus reopened, wont_fix, false_positive.
A case becomes remediated only when a re-verification finds the service locked down.

Examples:
  lockdown case open 192.0.2.7:6379/redis --to ops@example.org
  lockdown case open --auto --min-severity high
  lockdown case notify c-20261125-123456-ab12 --smtp-url smtp://mail.example.org:587 --from "CERT <cert@example.org>"
  lockdown case reverify            # every open case that is due
  lockdown case stats
  lockdown case export c-20261125-123456-ab12 --format html --out case.html`,
    );

  addCommon(
    cases
      .command('open [finding]')
      .description('Open a case for a finding (its id or host:port/module), or with --auto for every finding at/above a severity')
      .option('--auto', 'open cases for every exposed finding at or above --min-severity')
      .option('--min-severity <level>', 'with --auto: critical|high|medium|low|info', 'high')
      .option('--to <emails>', 'contacts to notify (comma-separated)')
      .option('--locale <locale>', 'language of the notices: en, zh-CN', 'en')
      .option('--reason <why>', 'why the case is opened')
      .option('--attribute', 'find contacts, owner and ASN (RDAP, reverse DNS, .mmdb, security.txt; see `lockdown attribute`)')
      .option('--json', 'print the case(s) as JSON'),
  ).action(async (finding: string | undefined, opts: CaseCommon & { auto?: boolean; minSeverity?: string; to?: string; locale?: string; reason?: string; json?: boolean }) => {
    if (!opts.auto && !finding) throw new UsageError('Name a finding (id or host:port/module), or use --auto --min-severity <level>');
    if (opts.auto && finding) throw new UsageError('Give either a finding or --auto, not both');
    const contacts = contactsOf(opts.to);
    await withCases(opts, async ({ service }) => {
      if (opts.auto) {
        const minSeverity = parseSeverity(opts.minSeverity, '--min-severity') ?? 'high';
        const r = await service.openAuto({ minSeverity, ...(opts.locale ? { locale: opts.locale } : {}), ...(opts.reason ? { reason: opts.reason } : {}) });
        if (opts.json) writeJson(r);
        else {
          log(`Opened ${r.opened.length} case(s), reopened ${r.reopened.length}; ${r.existing} finding(s) already had one; ${r.honeypots} likely honeypot(s) left out.`);
          const shown = [...r.opened, ...r.reopened];
          if (shown.length > 0) writeOut(casesTable(shown));
        }
        return;
      }
      const r = await service.open(finding as string, { contacts, ...(opts.locale ? { locale: opts.locale } : {}), ...(opts.reason ? { reason: opts.reason } : {}) });
      if (opts.json) writeJson(r);
      else {
        log(r.created ? `Opened case ${r.case.id}.` : r.reopened ? `Reopened case ${r.case.id}: the service is exposed again.` : `Finding already has case ${r.case.id} (${r.case.state}).`);
        writeOut(casesTable([r.case]));
      }
    });
    setExit(ExitCode.ok);
  });

  addCommon(
    cases
      .command('list')
      .description('List cases, newest first')
      .option('--state <states>', 'only these states (comma-separated), or "open"')
      .option('--min-severity <level>', 'only cases at this severity or above')
      .option('--module <name>', 'only this module')
      .option('--host <ip>', 'only this host')
      .option('--due', 'only open cases whose re-verification is due now')
      .option('--limit <n>', 'at most n cases')
      .option('--json', 'one JSON array')
      .option('--ndjson', 'one JSON object per line'),
  ).action(async (opts: CaseCommon & { state?: string; minSeverity?: string; module?: string; host?: string; due?: boolean; limit?: string; json?: boolean; ndjson?: boolean }) => {
    const format = outputFormat(opts);
    const states = parseStates(opts.state) ?? (opts.due ? [...OPEN_STATES] : undefined);
    const minSeverity = parseSeverity(opts.minSeverity, '--min-severity');
    const limit = parsePositiveInt(opts.limit, '--limit');
    const list = await withCases(opts, async ({ service }) =>
      service.list({
        ...(states ? { states } : {}),
        ...(minSeverity ? { minSeverity } : {}),
        ...(opts.module ? { module: opts.module } : {}),
        ...(opts.host ? { host: opts.host } : {}),
        ...(opts.due ? { dueBy: service.cases.now().toISOString() } : {}),
        ...(limit ? { limit } : {}),
      }),
    );
    if (format === 'json') writeJson(list);
    else if (format === 'ndjson') writeNdjson(list);
    else if (list.length === 0) log('No cases match.');
    else writeOut(casesTable(list));
    setExit(ExitCode.ok);
  });

  addCommon(
    cases
      .command('show <id>')
      .description('One case with its full history (who, when, why, evidence)')
      .option('--notice', 'print the notice as it would be sent (plain text)')
      .option('--html', 'with --notice: the HTML part instead')
      .option('--locale <locale>', 'with --notice: language')
      .option('--json', 'as JSON'),
  ).action(async (id: string, opts: CaseCommon & { notice?: boolean; html?: boolean; locale?: string; json?: boolean }) => {
    await withCases(opts, async ({ service }) => {
      if (opts.notice) {
        const n = await service.renderNotice(id, opts.locale);
        writeOut(opts.html ? n.html : `Subject: ${n.subject}\n\n${n.text}`);
        return;
      }
      const { case: c, events } = await service.show(id);
      if (opts.json) {
        writeJson({ case: c, events });
        return;
      }
      writeOut(casesTable([c]));
      writeOut(
        renderTable(
          ['#', 'AT', 'EVENT', 'FROM → TO', 'WHO', 'WHY'],
          events.map((e) => [e.seq, short(e.at), e.kind, e.toState ? `${e.fromState ?? ''} → ${e.toState}` : '', e.operator, e.reason ?? '']),
        ),
      );
    });
    setExit(ExitCode.ok);
  });

  addCommon(
    cases
      .command('transition <id> <state>')
      .description(`Move a case (${CASE_STATES.filter((s) => s !== 'new' && s !== 'remediated').join(', ')}); remediated is set only by reverify`)
      .requiredOption('--reason <why>', 'why (recorded with who and when)'),
  ).action(async (id: string, state: string, opts: CaseCommon & { reason: string }) => {
    const c = await withCases(opts, ({ service }) => service.transition(id, state, { reason: opts.reason }));
    log(`Case ${c.id} is now ${c.state}.`);
    writeOut(casesTable([c]));
    setExit(ExitCode.ok);
  });

  addCommon(
    cases
      .command('notify [ids...]')
      .description("E-mail the notice (what was found, severity, the product's fix, how to check) to the case's contacts")
      .option('--all-new', 'every case in state new or reopened')
      .option('--to <emails>', 'add these contacts (comma-separated)')
      .option('--attribute', 'for a case without contacts, find them first (RDAP abuse contact, security.txt …)')
      .option('--locale <locale>', 'language (default: the case\'s)')
      .option('--dry-run', 'print the notice instead of sending it; nothing changes')
      .option('--html', 'with --dry-run: print the HTML part')
      .option('--smtp-url <url>', 'SMTP server, e.g. smtp://mail.example.org:587 (or LOCKDOWN_SMTP_URL)')
      .option('--from <address>', 'sender, e.g. "Example CERT <cert@example.org>" (or LOCKDOWN_MAIL_FROM)')
      .option('--sender-name <name>', 'who signs the notice (default: the --from display name, else identity.name)')
      .option('--rate <per-minute>', `messages per minute at most (or LOCKDOWN_MAIL_RATE; default ${DEFAULT_RATE_PER_MINUTE})`)
      .option('--json', 'print the results as JSON'),
  ).action(async (ids: string[], opts: CaseCommon & MailOptions & { allNew?: boolean; to?: string; locale?: string; dryRun?: boolean; html?: boolean; json?: boolean }) => {
    if (ids.length === 0 && !opts.allNew) throw new UsageError('Name the case(s) to notify, or use --all-new');
    const to = contactsOf(opts.to).map((c) => c.email);
    await withCases(
      opts,
      async ({ service }) => {
        const targets = opts.allNew ? (await service.list({ states: ['new', 'reopened'] })).map((c) => c.id) : ids;
        const results: unknown[] = [];
        for (const id of targets) {
          const r = await service.notify(id, { to, ...(opts.locale ? { locale: opts.locale } : {}), ...(opts.dryRun ? { dryRun: true } : {}) });
          if (opts.dryRun && !opts.json) {
            writeOut(opts.html ? r.notice.html : `To: ${r.to.join(', ') || '(no contact yet)'}\nSubject: ${r.notice.subject}\n\n${r.notice.text}`);
          } else if (!opts.json) {
            log(`Case ${r.case.id}: notice sent to ${r.to.join(', ')} (${r.sent?.response ?? 'no reply'}); now ${r.case.state}.`);
          }
          results.push({ case: r.case.id, state: r.case.state, to: r.to, subject: r.notice.subject, messageId: r.sent?.messageId ?? null, response: r.sent?.response ?? null });
        }
        if (opts.json) writeJson(results);
        if (targets.length === 0) log('No case to notify.');
      },
      !opts.dryRun,
    );
    setExit(ExitCode.ok);
  });

  addCommon(
    cases
      .command('reverify [ids...]')
      .description('Probe again the services of open cases that are due (or the given ones now); locked-down ones become remediated')
      .option('--backoff <gaps>', 'gaps between checks while still exposed, e.g. 1h,6h,24h,3d,1w (or LOCKDOWN_REVERIFY_BACKOFF)')
      .option('--fail-on-exposed', 'exit 1 when a re-verified service is still exposed')
      .option('--json', 'print the outcome as JSON'),
  ).action(async (ids: string[], opts: CaseCommon & { failOnExposed?: boolean; json?: boolean }) => {
    const controller = new AbortController();
    const onSigint = (): void => controller.abort(new Error('interrupted'));
    process.once('SIGINT', onSigint);
    try {
      const outcome = await withCases(opts, async ({ service, stores, config }) =>
        reverifyCases(
          {
            store: stores.store,
            service,
            probes: PROBES,
            config,
            identity: identityString(config, VERSION),
            commandLine: ['lockdown', 'case', 'reverify', ...ids].join(' '),
            signal: controller.signal,
          },
          ids.length > 0 ? { caseIds: ids } : {},
        ),
      );
      if (opts.json) writeJson(outcome);
      else {
        if (outcome.items.length === 0) log('No case is due for re-verification.');
        else {
          writeOut(
            renderTable(
              ['CASE', 'SERVICE', 'OUTCOME', 'STATE', 'NEXT CHECK'],
              outcome.items.map((i) => [
                i.case.id,
                `${i.case.host}:${i.case.port}/${i.case.module}`,
                i.evidence ? `${i.evidence.status}${i.evidence.auth ? ` ${i.evidence.auth}` : ''}${i.evidence.lockedDown ? ' (locked down)' : ' (still exposed)'}` : `skipped: ${i.skipped}`,
                i.case.state,
                short(i.case.nextReverifyAt),
              ]),
            ),
          );
          log(`${outcome.remediated} remediated, ${outcome.stillExposed} still exposed, ${outcome.skipped} skipped${outcome.scan ? ` (scan ${outcome.scan.id})` : ''}.`);
        }
      }
      setExit(opts.failOnExposed && outcome.stillExposed > 0 ? ExitCode.findings : controller.signal.aborted ? ExitCode.interrupted : ExitCode.ok);
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  });

  addCommon(
    cases
      .command('stats')
      .description('Time to notify and to lockdown (median, p90); open cases by severity, owner and ASN')
      .option('--json', 'as JSON'),
  ).action(async (opts: CaseCommon & { json?: boolean }) => {
    const s = await withCases(opts, ({ service }) => service.stats());
    if (opts.json) {
      writeJson(s);
      setExit(ExitCode.ok);
      return;
    }
    const d = (x: { count: number; medianMs: number | null; p90Ms: number | null }): (string | number)[] => [
      x.count,
      x.medianMs === null ? '' : formatDuration(x.medianMs),
      x.p90Ms === null ? '' : formatDuration(x.p90Ms),
    ];
    writeOut(`Cases: ${s.total} (${s.open} open) — ${CASE_STATES.filter((st) => s.byState[st] > 0).map((st) => `${st} ${s.byState[st]}`).join(', ') || 'none'}`);
    writeOut(
      renderTable(
        ['MEASURE', 'CASES', 'MEDIAN', 'P90'],
        [
          ['time to notify (first seen → first notice)', ...d(s.timeToNotify)],
          ['time to lockdown (first seen → verified fix)', ...d(s.timeToLockdown)],
          ['lockdown after notice', ...d(s.lockdownAfterNotice)],
        ],
      ),
    );
    writeOut(renderTable(['SEVERITY', 'OPEN'], Object.entries(s.openBySeverity).filter(([, n]) => n > 0).map(([k, n]) => [k, n])));
    if (s.openByOwner.length > 0) writeOut(renderTable(['OWNER', 'OPEN'], s.openByOwner.map((o) => [o.owner, o.count])));
    if (s.openByAsn.length > 0) writeOut(renderTable(['ASN', 'OPEN'], s.openByAsn.map((o) => [o.asn, o.count])));
    setExit(ExitCode.ok);
  });

  addCommon(
    cases
      .command('export <id>')
      .description('A self-contained report of one case for a CERT (Markdown or HTML)')
      .option('--format <format>', 'md or html', 'md')
      .option('--out <file>', 'write to this file instead of stdout')
      .option('--locale <locale>', 'language of the report (falls back to English)'),
  ).action(async (id: string, opts: CaseCommon & { format?: string; out?: string; locale?: string }) => {
    const format = (opts.format ?? 'md').toLowerCase();
    if (format !== 'md' && format !== 'html') throw new UsageError(`--format must be md or html, got ${JSON.stringify(opts.format)}`);
    const doc = await withCases(opts, async ({ service }) => {
      const { case: c, events } = await service.show(id);
      return renderReport(c, events, { sender: service.deps.sender, tool: `lockdown ${VERSION}`, ...(opts.locale ? { locale: opts.locale } : {}) });
    });
    const text = format === 'html' ? doc.html : doc.text;
    if (opts.out) {
      writeFileSync(opts.out, text);
      log(`Wrote ${opts.out}.`);
    } else writeOut(text);
    setExit(ExitCode.ok);
  });
}
