import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { type FindingAssessment, type ProbeResult, type Severity } from '../../core/types.js';
import { openSqliteCaseStores } from '../../disclose/cases/open-stores.js';

/**
 * `lockdown case …` as a user runs it: a child process, stdout for data, stderr for messages, exit codes.
 * Runs the CLI's own program (src/cli/main.ts), adding the case command when main.ts does not have it yet.
 * The findings are written into the store file beforehand the way a scan writes them; nothing here sends
 * traffic (no re-verification is due, and notices are dry runs or refused for want of a transport).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HARNESS = `
import { CommanderError } from 'commander';
import { buildProgram, normaliseArgv } from './src/cli/main.js';
import { registerCase } from './src/cli/commands/case.js';
import { LockdownError } from './src/core/errors.js';
let code = 0;
const setExit = (c) => { code = c; };
const program = await buildProgram(setExit);
if (!program.commands.some((c) => c.name() === 'case')) registerCase(program, setExit);
try {
  await program.parseAsync(normaliseArgv(process.argv.slice(1)), { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) code = err.exitCode === 0 ? 0 : 2;
  else if (err instanceof LockdownError) { process.stderr.write('lockdown: ' + err.message + '\\n'); code = 2; }
  else { process.stderr.write(String(err && err.stack || err) + '\\n'); code = 2; }
}
process.exitCode = code;
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-case-cli-'));
const DB = path.join(dir, 'lockdown.db');

function lockdown(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', HARNESS, '--', ...args, '--db', DB, '--operator', 'cli-tester'], {
    cwd: ROOT,
    env: { ...process.env, LOCKDOWN_CONFIG: '', LOCKDOWN_SMTP_URL: '', LOCKDOWN_MAIL_FROM: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function result(host: string, severity: Severity): ProbeResult {
  const assessment: FindingAssessment = { severity, score: 70, reasons: [`+70 ${severity}`], sensitive: [], compromised: false, compromise: [] };
  return {
    module: 'postgres',
    target: { host, port: 5432 },
    status: 'success',
    auth: 'open',
    product: 'PostgreSQL',
    version: '15.8',
    evidence: 'AuthenticationOk',
    metadata: {},
    peers: [],
    errors: [],
    commands: ['StartupMessage'],
    bytesSent: 10,
    bytesRead: 10,
    startedAt: new Date().toISOString(),
    durationMs: 2,
    assessment,
  };
}

const SMTP = { host: '127.0.41.3', port: 2525 };

describe('lockdown case (CLI)', { timeout: 120_000 }, () => {
  let caseId = '';
  const mails: ParsedMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((m) => (mails.push(m), callback(null, 'Queued by the CLI test')))
        .catch((err: Error) => callback(err));
    },
  });

  before(async () => {
    await new Promise<void>((resolve, reject) => {
      smtp.once('error', reject);
      smtp.listen(SMTP.port, SMTP.host, () => resolve());
    });
    const stores = await openSqliteCaseStores(DB);
    const results = [result('192.0.2.10', 'critical'), result('192.0.2.11', 'high'), result('192.0.2.12', 'low')];
    const scan = await stores.store.createScan({ spec: {}, totalItems: 3, operator: 't', commandLine: 't' });
    await stores.store.recordBatch({ scanId: scan.id, results, donePositions: [0, 1, 2], watermark: 3, doneDelta: 3, answeredDelta: 3, openDelta: 3 });
    await stores.close();
  });

  after(async () => {
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a case for host:port/module with a contact', async () => {
    const r = await lockdown(['case', 'open', '192.0.2.10:5432/postgres', '--to', 'dba@owner.example', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { case: { id: string; state: string; contacts: { email: string }[]; openedBy: string }; created: boolean };
    assert.equal(out.created, true);
    assert.equal(out.case.state, 'new');
    assert.equal(out.case.openedBy, 'cli-tester');
    assert.deepEqual(out.case.contacts.map((c) => c.email), ['dba@owner.example']);
    caseId = out.case.id;
    const again = await lockdown(['case', 'open', '192.0.2.10:5432/postgres']);
    assert.equal(again.code, 0);
    assert.match(again.stderr, new RegExp(`Finding already has case ${caseId} \\(new\\)`));
  });

  it('refuses invalid transitions with exit code 2 and a clear message', async () => {
    const closed = await lockdown(['case', 'transition', caseId, 'closed', '--reason', 'done']);
    assert.equal(closed.code, 2);
    assert.match(closed.stderr, new RegExp(`lockdown: Case ${caseId} cannot go from new to closed: from new a case can go to notified, acknowledged, remediated, wont_fix, false_positive`));
    const fixed = await lockdown(['case', 'transition', caseId, 'remediated', '--reason', 'owner says so']);
    assert.equal(fixed.code, 2);
    assert.match(fixed.stderr, /only a re-verification .* run `lockdown case reverify c-/);
    const noReason = await lockdown(['case', 'transition', caseId, 'acknowledged']);
    assert.equal(noReason.code, 2, 'the reason is required');
    const ok = await lockdown(['case', 'transition', caseId, 'acknowledged', '--reason', 'Owner replied by phone']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, new RegExp(`Case ${caseId} is now acknowledged`));
  });

  it('shows the history with who and why', async () => {
    const r = await lockdown(['case', 'show', caseId, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { events } = JSON.parse(r.stdout) as { events: { kind: string; toState: string; operator: string; reason: string }[] };
    assert.deepEqual(events.map((e) => [e.kind, e.toState, e.operator]), [['opened', 'new', 'cli-tester'], ['transition', 'acknowledged', 'cli-tester']]);
    assert.equal(events[1]?.reason, 'Owner replied by phone');
    const table = await lockdown(['case', 'show', caseId]);
    assert.match(table.stdout, /Owner replied by phone/);
  });

  it('prints the notice on a dry run, and refuses to send without a mail transport', async () => {
    const dry = await lockdown(['case', 'notify', caseId, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^To: dba@owner\.example$/m);
    assert.match(dry.stdout, /^Subject: \[CRITICAL\] Exposed PostgreSQL on 192\.0\.2\.10:5432/m);
    assert.match(dry.stdout, /listen_addresses = 'localhost'/);
    const zh = await lockdown(['case', 'notify', caseId, '--dry-run', '--locale', 'zh-CN', '--html']);
    assert.match(zh.stdout, /<html lang="zh-CN">/);
    const send = await lockdown(['case', 'notify', caseId]);
    assert.equal(send.code, 2);
    assert.match(send.stderr, /No mail transport configured/);
    const noFrom = await lockdown(['case', 'notify', caseId, '--smtp-url', 'smtp://127.0.41.9:2525']);
    assert.equal(noFrom.code, 2);
    assert.match(noFrom.stderr, /Give the sender address with --from/);
  });

  it('sends the notice through the SMTP server given on the command line or in the environment', async () => {
    const r = await lockdown(['case', 'notify', caseId, '--smtp-url', `smtp://${SMTP.host}:${SMTP.port}`, '--from', 'Example CERT <cert@example.org>', '--rate', '120', '--locale', 'zh-CN']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Case ${caseId}: notice sent to dba@owner\\.example \\(250 Queued by the CLI test\\); now acknowledged`));
    const viaEnv = await lockdown(['case', 'notify', caseId], { LOCKDOWN_SMTP_URL: `smtp://${SMTP.host}:${SMTP.port}`, LOCKDOWN_MAIL_FROM: 'cert@example.org' });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(mails.length, 2);
    const [zh, en] = mails as [ParsedMail, ParsedMail];
    assert.match(zh.subject ?? '', /192\.0\.2\.10:5432 上的 PostgreSQL 暴露在互联网上/);
    assert.equal(zh.from?.value[0]?.name, 'Example CERT');
    assert.match(zh.text ?? '', /listen_addresses = 'localhost'/);
    assert.match(en.subject ?? '', /^\[CRITICAL\] Exposed PostgreSQL on 192\.0\.2\.10:5432 \(case c-/, 'the case\'s own language (en) by default');
    assert.deepEqual(en.from?.value.map((v) => v.address), ['cert@example.org']);
    const { events } = JSON.parse((await lockdown(['case', 'show', caseId, '--json'])).stdout) as { events: { kind: string; reason: string }[] };
    assert.deepEqual(events.slice(-2).map((e) => e.kind), ['notice', 'notice']);
    assert.match(events.at(-1)?.reason ?? '', /^Reminder: Notice sent to dba@owner\.example/);
  });

  it('opens cases automatically by severity, lists and counts them', async () => {
    const auto = await lockdown(['case', 'open', '--auto', '--min-severity', 'high', '--json']);
    assert.equal(auto.code, 0, auto.stderr);
    const out = JSON.parse(auto.stdout) as { opened: { host: string }[]; existing: number };
    assert.deepEqual(out.opened.map((c) => c.host), ['192.0.2.11']);
    assert.equal(out.existing, 1);
    const list = await lockdown(['case', 'list', '--state', 'open', '--json']);
    assert.deepEqual((JSON.parse(list.stdout) as { host: string }[]).map((c) => c.host).sort(), ['192.0.2.10', '192.0.2.11']);
    const stats = await lockdown(['case', 'stats', '--json']);
    const s = JSON.parse(stats.stdout) as { total: number; open: number; openBySeverity: Record<string, number> };
    assert.equal(s.total, 2);
    assert.equal(s.open, 2);
    assert.equal(s.openBySeverity.critical, 1);
    assert.equal(s.openBySeverity.high, 1);
    const table = await lockdown(['case', 'stats']);
    assert.match(table.stdout, /time to lockdown/);
  });

  it('nothing is due for re-verification yet (checks start an hour after opening)', async () => {
    const r = await lockdown(['case', 'reverify']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /No case is due for re-verification/);
  });

  it('exports a self-contained report', async () => {
    const file = path.join(dir, 'case.html');
    const r = await lockdown(['case', 'export', caseId, '--format', 'html', '--out', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(file));
    const html = readFileSync(file, 'utf8');
    assert.match(html, new RegExp(`Case ${caseId}`));
    assert.match(html, /Owner replied by phone/);
    const md = await lockdown(['case', 'export', caseId]);
    assert.match(md.stdout, new RegExp(`^# Case ${caseId}: exposed PostgreSQL on 192\\.0\\.2\\.10:5432`, 'm'));
    const bad = await lockdown(['case', 'export', caseId, '--format', 'pdf']);
    assert.equal(bad.code, 2);
  });
});
