import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { defaultConfig, identityString } from '../../src/config/config.js';
import { VERSION } from '../../src/core/version.js';
import { CaseService } from '../../src/disclose/cases/case-service.js';
import { renderReport } from '../../src/disclose/cases/report.js';
import { type ReverifyEvidence } from '../../src/disclose/cases/types.js';
import { createSmtpSender } from '../../src/disclose/notices/mailer.js';
import { reverifyCases } from '../../src/disclose/reverify/reverify.js';
import { prepareScan, startScan, type NewScanRequest } from '../../src/discover/scan-job.js';
import { PROBES } from '../../src/protocols/registry.js';
import { openSqliteCaseStores, type SqliteCaseStores } from '../../src/disclose/cases/open-stores.js';
import { clearValues, syntheticPeople } from '../helpers/synthetic-people.js';

/**
 * The disclosure loop end to end on real servers, all on loopback and started/stopped here by PID:
 * a Redis of our own (127.0.42.1:6379, open, with synthetic people in it), a second one (127.0.42.2:6379)
 * that will simply be stopped, and a standards SMTP server (smtp-server on 127.0.41.1:2525).
 * scan → finding → case → notice received over SMTP with the Redis fix → the owner restarts Redis with a
 * password / stops the other → re-verification marks both remediated → time to lockdown.
 */
const A = '127.0.42.1';
const B = '127.0.42.2';
const PORT = 6379;
const SMTP_HOST = '127.0.41.1';
const SMTP_PORT = 2525;
const PASSWORD = 'case-test-password-0f3a';
const people = syntheticPeople(6, 42);
const RAW = clearValues(people);

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function waitFor(host: string, port: number, up: boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await listening(host, port)) === up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${host}:${port} did not ${up ? 'come up' : 'go away'}`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  return (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address ?? ''));
}

describe('disclosure case life cycle on a real Redis and a real SMTP server', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-case-'));
  const received: { raw: Buffer; envelopeTo: string[]; parsed: ParsedMail }[] = [];
  let smtp: SMTPServer;
  let redisA: ChildProcess;
  let redisB: ChildProcess;
  let stores: SqliteCaseStores;

  const redis = (host: string, extra: string[] = []): ChildProcess => {
    const d = path.join(dir, host);
    execFileSync('mkdir', ['-p', d]);
    return spawn('redis-server', ['--bind', host, '--port', String(PORT), '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', d, ...extra], { stdio: 'ignore' });
  };

  before(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw)
            .then((parsed) => {
              received.push({ raw, envelopeTo: session.envelope.rcptTo.map((r) => r.address), parsed });
              callback(null, 'Message queued for the test');
            })
            .catch((err: Error) => callback(err));
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      smtp.once('error', reject);
      smtp.listen(SMTP_PORT, SMTP_HOST, () => resolve());
    });
    redisA = redis(A);
    redisB = redis(B);
    await Promise.all([waitFor(A, PORT, true), waitFor(B, PORT, true)]);
    // Synthetic people as hashes: sampled (A is in scope.authorized), so the finding carries masked examples.
    for (const [i, p] of people.entries()) {
      execFileSync('redis-cli', ['-h', A, '-p', String(PORT), 'HSET', `profile:${i}`, 'name', p.name, 'id_card', p.id_card, 'phone', p.phone, 'email', p.email]);
    }
    stores = await openSqliteCaseStores(':memory:');
  });

  after(async () => {
    await stores?.close();
    await Promise.all([redisA, redisB].filter(Boolean).map(stop));
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('scans, opens cases, notifies with the fix, and marks them remediated once locked down', async () => {
    const config = defaultConfig();
    config.identity = { name: 'lockdown-test', contact: 'cert@example.org', operator: 'tester@soc' };
    config.scope.authorized = [A];
    const settings = { rate: 100, concurrency: 4, connectTimeoutMs: 1000, timeoutMs: 5000, readCapBytes: 1 << 20 };
    const request: NewScanRequest = {
      targets: [{ text: A, source: 'test' }, { text: B, source: 'test' }],
      excludes: [],
      excludeFiles: [],
      ports: [{ module: 'redis', port: PORT }],
      allowLargeIpv6: false,
      checkDefaultCredentials: false,
      settings,
      config,
      identity: identityString(config, VERSION),
      commandLine: 'test scan',
    };
    const run = await startScan(stores.store, request, await prepareScan(request), PROBES, { signal: new AbortController().signal });
    assert.equal(run.scan.state, 'completed');
    const [finding] = await stores.store.listFindings({ host: A });
    assert.ok(finding, 'the open Redis was found');
    assert.equal(finding.auth, 'open');
    assert.ok(finding.severity === 'high' || finding.severity === 'critical', `severity ${finding.severity}`);
    assert.ok(finding.sample, 'sampled inside the authorized scope');

    // Cases: A with a contact given by the operator, B opened automatically by severity.
    const mailer = createSmtpSender({ smtpUrl: `smtp://${SMTP_HOST}:${SMTP_PORT}`, from: 'Example CERT <cert@example.org>', ratePerMinute: 600 });
    const service = new CaseService({ store: stores.store, cases: stores.cases, operator: 'tester@soc', sender: { name: 'Example CERT', contact: 'cert@example.org' }, mailer });
    try {
      const { case: caseA } = await service.open(`${A}:${PORT}/redis`, { contacts: [{ email: 'ops@owner-a.example', source: '--to', role: 'operator-supplied' }] });
      const auto = await service.openAuto({ minSeverity: 'info' });
      assert.deepEqual(auto.opened.map((c) => c.host), [B]);
      assert.equal(auto.existing, 1);
      const caseB = auto.opened[0]!;

      // The notice, over real SMTP.
      const sent = await service.notify(caseA.id);
      assert.equal(sent.case.state, 'notified');
      assert.equal(received.length, 1);
      const mail = received[0]!;
      assert.deepEqual(mail.envelopeTo, ['ops@owner-a.example']);
      assert.deepEqual(addresses(mail.parsed.to), ['ops@owner-a.example']);
      assert.deepEqual(addresses(mail.parsed.from), ['cert@example.org']);
      assert.equal(mail.parsed.from?.value[0]?.name, 'Example CERT');
      assert.match(mail.parsed.subject ?? '', new RegExp(`^\\[(HIGH|CRITICAL)\\] Exposed Redis on 127\\.0\\.42\\.1:6379 \\(case ${caseA.id}\\)$`));
      assert.equal(mail.parsed.headers.get('x-lockdown-case'), caseA.id);
      assert.equal(mail.parsed.headers.get('auto-submitted'), 'auto-generated');
      assert.equal(mail.parsed.messageId, sent.sent?.messageId);
      assert.match(mail.raw.toString('latin1'), /Content-Type: multipart\/alternative/i);
      const text = mail.parsed.text ?? '';
      const html = mail.parsed.html || '';
      assert.ok(text.length > 0 && html.length > 0, 'both parts');
      for (const part of [text, html]) {
        assert.match(part, /bind 127\.0\.0\.1 -::1/, 'the Redis 7 bind line');
        assert.match(part, /protected-mode yes/);
        assert.match(part, /requirepass/);
        assert.match(part, /redis-cli -h 127\.0\.42\.1 -p 6379 ping/, 'how to check');
        assert.match(part, /iptables -A INPUT -p tcp --dport 6379 -j DROP/);
        assert.match(part, /national_id: 6 \(from the sample\)/, 'the sensitive category with its count');
        assert.match(part, /\d{4}\*{6,}/, 'a masked example');
      }
      // No raw value anywhere: not in the decoded parts, not in the raw message.
      const everything = [text, html, mail.parsed.subject ?? '', mail.raw.toString('utf8')].join('\n');
      for (const v of RAW) assert.ok(!everything.includes(v), `the notice holds a raw value: ${v}`);
      const noticeEvent = (await service.show(caseA.id)).events.at(-1);
      assert.equal(noticeEvent?.kind, 'notice');
      assert.match(JSON.stringify(noticeEvent?.evidence), /Message queued for the test/);

      // Still open: re-verification keeps the case open and schedules the next check further out.
      const first = await reverifyCases(
        { store: stores.store, service, probes: PROBES, config, identity: identityString(config, VERSION), settings },
        { caseIds: [caseA.id] },
      );
      assert.equal(first.items[0]?.evidence?.auth, 'open');
      assert.equal(first.items[0]?.case.state, 'notified');
      assert.equal(first.items[0]?.case.reverifyAttempts, 1);
      assert.equal(first.stillExposed, 1);
      const audit = await stores.store.listAudit({ scanId: first.scan?.id });
      assert.equal(audit.length, 1, 'the re-probe is in the audit log');
      assert.equal(audit[0]?.operator, 'tester@soc');
      assert.ok(audit[0]?.commands.some((c) => /^INFO/.test(c)), `commands: ${audit[0]?.commands.join(', ')}`);

      // The owners act: A gets a password (restarted), B is switched off.
      await stop(redisA);
      await waitFor(A, PORT, false);
      redisA = redis(A, ['--requirepass', PASSWORD]);
      await waitFor(A, PORT, true);
      await stop(redisB);
      await waitFor(B, PORT, false);

      // The scheduled check: everything open that is due by then (both cases).
      const due = new Date(Date.now() + 30 * 24 * 3_600_000);
      const second = await reverifyCases({ store: stores.store, service, probes: PROBES, config, identity: identityString(config, VERSION), settings }, { now: due });
      assert.deepEqual(second.items.map((i) => i.case.id).sort(), [caseA.id, caseB.id].sort());
      assert.equal(second.remediated, 2);
      const a = second.items.find((i) => i.case.id === caseA.id)!;
      assert.equal(a.case.state, 'remediated');
      assert.equal(a.evidence?.status, 'success');
      assert.equal(a.evidence?.auth, 'auth_required');
      assert.match(a.evidence?.evidence ?? '', /NOAUTH/);
      const b = second.items.find((i) => i.case.id === caseB.id)!;
      assert.equal(b.case.state, 'remediated');
      assert.equal(b.evidence?.status, 'connection-refused');
      // The evidence is kept on the transition.
      const last = (await service.show(caseA.id)).events.at(-1);
      assert.equal(last?.toState, 'remediated');
      assert.equal((last?.evidence as ReverifyEvidence).auth, 'auth_required');
      // The finding now shows the locked-down state; the case keeps what was exposed.
      const now = (await stores.store.listFindings({ host: A }))[0];
      assert.equal(now?.auth, 'auth_required');
      assert.equal((await service.get(caseA.id)).snapshot.auth, 'open');
      // Nothing more is due.
      assert.equal((await reverifyCases({ store: stores.store, service, probes: PROBES, config, identity: identityString(config, VERSION), settings }, { now: due })).items.length, 0);

      // Time to lockdown.
      const stats = await service.stats();
      assert.equal(stats.timeToLockdown.count, 2);
      const aCase = await service.get(caseA.id);
      const bCase = await service.get(caseB.id);
      const spans = [Date.parse(aCase.remediatedAt!) - Date.parse(aCase.detectedAt), Date.parse(bCase.remediatedAt!) - Date.parse(bCase.detectedAt)].sort((x, y) => x - y);
      assert.ok(spans[0]! > 0);
      assert.equal(stats.timeToLockdown.medianMs, (spans[0]! + spans[1]!) / 2);
      assert.equal(stats.timeToLockdown.p90Ms, spans[1]);
      assert.equal(stats.timeToNotify.count, 1);
      assert.equal(stats.lockdownAfterNotice.count, 1);
      assert.equal(stats.open, 0);

      // The CERT report: self-contained, with the history and the evidence, and still no raw value.
      const events = (await service.show(caseA.id)).events;
      const report = renderReport(aCase, events, { sender: service.deps.sender, tool: 'lockdown test' });
      for (const doc of [report.text, report.html]) {
        assert.match(doc, /remediated/);
        assert.match(doc, /NOAUTH/);
        assert.match(doc, /ops@owner-a\.example/);
        for (const v of RAW) assert.ok(!doc.includes(v), `the report holds a raw value: ${v}`);
      }
      assert.doesNotMatch(report.html, /<(script|link|img)\b|src=|href="http/i, 'no external resources');
    } finally {
      mailer.close();
    }
  });
});
