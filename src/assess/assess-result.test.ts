import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ProbeResult } from '../core/types.js';
import { probeResult } from '../../test/helpers/probe-result.js';
import { assessResult } from './assess-result.js';

const result = (over: Partial<ProbeResult>): ProbeResult => probeResult({ module: 'mongodb', port: 27017, ...over });

describe('assessResult (the pipeline’s assessment stage)', () => {
  it('reads sensitive categories from inventory names and weighs records, size and fan-out', () => {
    const a = assessResult(
      result({
        auth: 'open',
        peers: Array.from({ length: 17 }, (_, i) => ({ host: `198.51.100.${i + 1}`, port: 27017, role: 'member', source: 'hello.hosts' })),
        inventory: {
          records: 364_000_000,
          bytes: 900 * 1024 ** 3,
          namespaces: [
            { path: ['chat'], kind: 'database' },
            { path: ['chat', 'messages'], kind: 'collection', records: 300_000_000, fields: ['sfzh', 'content', 'gps_lat', 'gps_lng', 'imei'] },
            { path: ['chat', 'users'], kind: 'collection', records: 64_000_000, fields: ['real_name', 'phone', 'address', 'avatar'] },
          ],
        },
      }),
    );
    assert.equal(a.severity, 'critical');
    const categories = new Set(a.sensitive.map((s) => s.category));
    for (const c of ['national_id', 'phone']) assert.ok([...categories].some((x) => x.includes(c.split('_')[0]!)), `${c} in ${[...categories].join(', ')}`);
    assert.ok(a.sensitive.every((s) => s.source === 'schema'));
    assert.ok(a.reasons.some((r) => /peer|replica|fan/i.test(r)), a.reasons.join('\n'));
    assert.equal(a.compromised, false);
  });

  it('flags a ransomed layout as compromised and at least high', () => {
    const a = assessResult(
      result({
        auth: 'open',
        inventory: {
          records: 1,
          namespaces: [
            { path: ['READ__ME_TO_RECOVER_YOUR_DATA'], kind: 'database' },
            { path: ['READ__ME_TO_RECOVER_YOUR_DATA', 'README'], kind: 'collection', records: 1 },
          ],
        },
      }),
    );
    assert.equal(a.compromised, true);
    assert.ok(['critical', 'high'].includes(a.severity), a.severity);
    assert.ok(a.compromise.length > 0);
  });

  it('keeps an authentication-protected server at info or low', () => {
    const a = assessResult(result({ auth: 'auth_required', inventory: undefined }));
    assert.ok(['info', 'low'].includes(a.severity), a.severity);
    assert.deepEqual(a.sensitive, []);
  });

  it('counts categories confirmed by a redacted sample separately from names', () => {
    const a = assessResult(result({ auth: 'open', sample: { documents: 10, bytes: 2000, categories: { national_id_cn: { count: 10 } } } }));
    assert.deepEqual(
      a.sensitive.filter((s) => s.source === 'sample'),
      [{ category: 'national_id_cn', source: 'sample', count: 10 }],
    );
  });
});
