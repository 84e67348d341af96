import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FindingRecord } from '../../store/store.js';
import { renderNotice } from './render-notice.js';
import { availableLocales } from './templates.js';

const HOSTILE = '<script>alert("owned")</script>';

function snapshot(over: Partial<FindingRecord> = {}): FindingRecord {
  return {
    id: 7,
    host: '192.0.2.7',
    port: 27017,
    module: 'mongodb',
    hostname: null,
    status: 'success',
    auth: 'open',
    product: 'MongoDB',
    version: '7.0.2',
    evidence: 'listDatabases: ok 1, 3 databases',
    metadata: {},
    peers: [],
    errors: [],
    firstSeen: '2026-03-01T08:00:00.000Z',
    lastSeen: '2026-03-02T09:30:00.000Z',
    lastScanId: null,
    severity: 'critical',
    assessment: {
      severity: 'critical',
      score: 92,
      reasons: ['+40 verdict open: the data can be read without credentials', '+25 sensitive: cn_resident_id (sample)'],
      sensitive: [
        { category: 'cn_resident_id', count: 120, source: 'sample', paths: ['shop.customers.id_card'] },
        { category: 'phone', source: 'schema', paths: ['shop.customers.mobile'] },
      ],
      compromised: false,
      compromise: [],
    },
    inventory: {
      records: 123456,
      bytes: 50 * 1024 * 1024,
      namespaces: [
        { path: ['shop', 'customers'], kind: 'collection', records: 120000 },
        { path: ['shop', 'orders'], kind: 'collection', records: 3456 },
        { path: ['secret-key-name-with-data'], kind: 'key', records: 1 },
      ],
    },
    sample: { documents: 100, bytes: 30000, categories: { cn_resident_id: { count: 120, detectors: ['cn_resident_id'], fields: [{ path: 'shop.customers.id_card', count: 120 }], example: '1101***********234' } } },
    honeypot: null,
    ...over,
  };
}

const sender = { name: 'Example CERT', contact: 'cert@example.org' };
const caseOf = (s: FindingRecord, locale = 'en') => ({ id: 'c-20260302-101010-abcd', state: 'new' as const, openedAt: '2026-03-02T10:10:10.000Z', snapshot: s, locale });

describe('notice rendering', () => {
  it('ships English and Simplified Chinese templates', () => {
    assert.deepEqual(availableLocales('notice').filter((l) => ['en', 'zh-CN'].includes(l)), ['en', 'zh-CN']);
  });

  it('English: what was found, since when, severity and why, the product fix, the check', () => {
    const n = renderNotice(caseOf(snapshot()), { sender });
    assert.equal(n.locale, 'en');
    assert.equal(n.subject, '[CRITICAL] Exposed MongoDB on 192.0.2.7:27017 (case c-20260302-101010-abcd)');
    for (const part of [n.text, n.html]) {
      assert.match(part, /192\.0\.2\.7/);
      assert.match(part, /7\.0\.2/);
      assert.match(part, /2026-03-01 08:00 UTC/, 'first seen');
      assert.match(part, /123,456 records/);
      assert.match(part, /50 MB/);
      assert.match(part, /shop\.customers/);
      assert.match(part, /cn_resident_id/);
      assert.match(part, /1101\*{11}234/, 'the masked example');
      assert.match(part, /\+40 verdict open/);
      assert.match(part, /bindIp: 127\.0\.0\.1/);
      assert.match(part, /authorization: enabled/);
      assert.match(part, /mongosh --host 192\.0\.2\.7 --port 27017/);
      assert.match(part, /ufw deny 27017\/tcp/);
      assert.doesNotMatch(part, /secret-key-name-with-data/, 'key names (which can be data) are never listed');
    }
  });

  it('Simplified Chinese: the same facts and fix lines, Chinese text and subject', () => {
    const n = renderNotice(caseOf(snapshot(), 'zh-CN'), { sender });
    assert.equal(n.locale, 'zh-CN');
    assert.match(n.subject, /192\.0\.2\.7:27017 上的 MongoDB 暴露在互联网上/);
    for (const part of [n.text, n.html]) {
      assert.match(part, /您好/);
      assert.match(part, /发现了什么/);
      assert.match(part, /如何修复/);
      assert.match(part, /如何验证修复/);
      assert.match(part, /bindIp: 127\.0\.0\.1/);
      assert.match(part, /先在本机接口上创建管理员/, 'the fix text comes in Chinese too');
      assert.match(part, /1101\*{11}234/);
    }
    assert.match(n.html, /<html lang="zh-CN">/);
    // zh-TW has no templates of its own: it falls back to the same language.
    assert.equal(renderNotice(caseOf(snapshot(), 'zh-TW'), { sender }).locale, 'zh-CN');
    assert.equal(renderNotice(caseOf(snapshot(), 'fr'), { sender }).locale, 'en');
  });

  it('escapes every server-provided string in the HTML part', () => {
    const s = snapshot({
      product: `Mongo${HOSTILE}`,
      version: `7.0<img src=x onerror=alert(1)>`,
      evidence: `errmsg: ${HOSTILE}`,
      hostname: `evil"><script>x</script>.example`,
      inventory: { records: 1, namespaces: [{ path: [`db${HOSTILE}`], kind: 'database', records: 1 }] },
      assessment: { severity: 'high', score: 60, reasons: [`+10 name ${HOSTILE}`], sensitive: [{ category: 'email', source: 'schema', paths: [`users.${HOSTILE}`] }], compromised: true, compromise: [{ ruleId: 'r', description: 'Ransom note', strength: 'strong', evidence: `READ_ME ${HOSTILE}` }] },
    });
    for (const locale of ['en', 'zh-CN']) {
      const n = renderNotice(caseOf(s, locale), { sender });
      assert.ok(!n.html.includes('<script>'), 'no script tag in the HTML');
      assert.ok(!n.html.includes('<img'), 'no injected element');
      assert.ok(!n.html.includes('"><'), 'no attribute break-out');
      assert.match(n.html, /&lt;script&gt;alert\(&quot;owned&quot;\)&lt;\/script&gt;/);
      // The generic-product text that names the product is escaped too.
      assert.equal((n.html.match(/<script/g) ?? []).length, 0);
      assert.ok(!/[\r\n]/.test(n.subject), 'the subject is one line');
    }
  });

  it('a Markdown code span or block cannot be closed by backticks in the evidence', () => {
    const n = renderNotice(caseOf(snapshot({ evidence: '```\n# injected heading\n```' })), { sender });
    assert.match(n.text, /````\n```\n# injected heading\n```\n````/);
  });
});
