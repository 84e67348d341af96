import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSmtpSender, isEmail, NoticeSendError, redactUrl, SendPacer } from './mailer.js';

describe('mailer', () => {
  it('paces messages: at most ratePerMinute, measured', async () => {
    const pacer = new SendPacer(60_000 / 600); // 600 a minute: 100 ms apart
    const t0 = Date.now();
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      await pacer.wait();
      times.push(Date.now() - t0);
    }
    assert.ok(times[0]! < 50, `the first goes at once (${times[0]} ms)`);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 95, `gap ${times[i]! - times[i - 1]!} ms`);
  });

  it('a refused SMTP connection is a clear error naming the server without its password', async () => {
    // Nothing listens on this loopback address and port.
    const sender = createSmtpSender({ smtpUrl: 'smtp://user:secret@127.0.41.2:2526', from: 'cert@example.org', ratePerMinute: 600 });
    try {
      await assert.rejects(
        sender.send({ to: ['ops@example.org'], subject: 's', text: 't', html: '<p>t</p>' }),
        (e: unknown) => e instanceof NoticeSendError && /Could not send the notice through smtp:\/\/user:\*\*\*@127\.0\.41\.2:2526: .*ECONNREFUSED/.test(e.message) && !e.message.includes('secret'),
      );
      await assert.rejects(sender.send({ to: ['not-an-address'], subject: 's', text: 't', html: 't' }), /Not an e-mail address: not-an-address/);
    } finally {
      sender.close();
    }
    assert.throws(() => createSmtpSender({ smtpUrl: 'http://x', from: 'a@b.c' }), /must start with smtp:\/\/ or smtps:\/\//);
    assert.throws(() => createSmtpSender({ smtpUrl: 'smtp://x', from: 'a@b.c', ratePerMinute: 0 }), /positive number/);
  });

  it('recognises e-mail addresses and hides URL passwords', () => {
    assert.equal(isEmail('abuse@example.net'), true);
    assert.equal(isEmail('Abuse <abuse@example.net>'), false);
    assert.equal(isEmail('no-at.example.net'), false);
    assert.equal(redactUrl('smtps://u:p@mail.example.org:465'), 'smtps://u:***@mail.example.org:465');
    assert.equal(redactUrl('smtp://mail.example.org'), 'smtp://mail.example.org');
  });
});
