import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RulesError } from '../rules/validate.js';
import { honeypotRules, honeypotSuspicions, validateHoneypotRules, type HostService } from './honeypot.js';

const svc = (module: string, auth: string, extra: Partial<HostService> = {}): HostService => ({
  port: 1,
  module,
  auth,
  version: null,
  product: null,
  metadata: {},
  ...extra,
});

describe('honeypot suspicions', () => {
  it('needs the configured number of different open products', () => {
    assert.deepEqual(honeypotSuspicions([svc('redis', 'open'), svc('mongodb', 'open'), svc('elasticsearch', 'open')]), []);
    const four = honeypotSuspicions([svc('redis', 'open'), svc('mongodb', 'open'), svc('elasticsearch', 'open'), svc('couchdb', 'open')]);
    assert.equal(four.length, 1);
    assert.equal(four[0]?.ruleId, 'multi-product');
    // auth-protected services do not count, nor do several ports of one product
    assert.deepEqual(
      honeypotSuspicions([svc('redis', 'open'), svc('redis', 'open'), svc('mongodb', 'auth_required'), svc('elasticsearch', 'open'), svc('couchdb', 'open')]),
      [],
    );
  });

  it('matches the ElasticPot banner fingerprint and nothing else', () => {
    const pot = svc('elasticsearch', 'open', { version: '1.4.1', metadata: { buildHash: 'b88f43fc40b0bcd7f173a1f9ee2e97816de80b19' } });
    assert.equal(honeypotSuspicions([pot])[0]?.ruleId, 'elasticpot-default-banner');
    const real = svc('elasticsearch', 'open', { version: '1.4.1', metadata: { buildHash: '89d3241d670db65f994242c8e8383b169779e2d4' } });
    assert.deepEqual(honeypotSuspicions([real]), []);
  });

  it('validates its rules file with errors that name the entry', () => {
    assert.ok(honeypotRules().fingerprints.length > 0);
    assert.throws(
      () => validateHoneypotRules({ multiProduct: { minProducts: 4 }, fingerprints: [{ id: 'x', module: 'redis', match: { evil: 'y' }, description: 'd', reference: 'r' }] }, 'f.json'),
      (err: unknown) => err instanceof RulesError && /fingerprints\[0\]\.match\.evil/.test(err.message),
    );
  });
});
