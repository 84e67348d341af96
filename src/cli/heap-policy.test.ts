import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../core/errors.js';
import { applyHeapPolicy, DEFAULT_HEAP_GROWTH_PERCENT } from './heap-policy.js';

describe('heap policy', () => {
  it('defaults, takes LOCKDOWN_HEAP_GROWTH, and leaves an explicit node flag alone', () => {
    assert.equal(applyHeapPolicy({}, []), DEFAULT_HEAP_GROWTH_PERCENT);
    assert.equal(applyHeapPolicy({ LOCKDOWN_HEAP_GROWTH: '0' }, []), 0);
    assert.equal(applyHeapPolicy({ LOCKDOWN_HEAP_GROWTH: '50' }, []), 50);
    assert.equal(applyHeapPolicy({ LOCKDOWN_HEAP_GROWTH: '50' }, ['--heap-growing-percent=20']), 0);
    assert.equal(applyHeapPolicy({ NODE_OPTIONS: '--heap_growing_percent=20' }, []), 0);
    for (const bad of ['-1', 'lots', '2.5', '5000']) assert.throws(() => applyHeapPolicy({ LOCKDOWN_HEAP_GROWTH: bad }, []), UsageError, bad);
  });
});
