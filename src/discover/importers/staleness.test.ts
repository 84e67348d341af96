import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nowLabel, staleness, stalenessByClaim } from './staleness.js';

describe('staleness', () => {
  it('is stale when the claim no longer holds, in either direction, or nothing listens any more', () => {
    assert.equal(staleness('open', 'success', 'auth_required'), true);
    assert.equal(staleness('auth_required', 'success', 'open'), true);
    assert.equal(staleness('open', 'connection-refused', null), true);
    assert.equal(staleness(null, 'connection-timeout', null), true);
    assert.equal(staleness('auth_required', 'unreachable', null), true);
  });

  it('is not stale when the verdict is the same, or a bare "port open" still answers', () => {
    assert.equal(staleness('open', 'success', 'open'), false);
    assert.equal(staleness('auth_required', 'success', 'auth_required'), false);
    assert.equal(staleness(null, 'success', 'auth_required'), false);
  });

  it('cannot tell when either side is inconclusive or the service answered but not in protocol', () => {
    assert.equal(staleness('inconclusive', 'success', 'open'), null);
    assert.equal(staleness('open', 'success', 'inconclusive'), null);
    assert.equal(staleness('open', 'protocol-error', null), null);
    assert.equal(staleness('open', 'io-timeout', null), null);
    assert.equal(staleness('open', 'cancelled', null), null);
  });

  it('gives one answer per possible claim, and a short label for what we saw', () => {
    assert.deepEqual(stalenessByClaim('success', 'auth_required'), { none: false, open: true, auth_required: false, inconclusive: null });
    assert.equal(nowLabel('connection-refused', null), 'closed');
    assert.equal(nowLabel('connection-timeout', null), 'no answer');
    assert.equal(nowLabel('success', 'open'), 'open');
    assert.equal(nowLabel('protocol-error', null), 'protocol-error');
  });
});
