import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertRedacted, keyedHash, maskEmail, maskMiddle, MASK_MAX_FRACTION } from './mask.js';

test('maskMiddle keeps ≤ 4 leading and ≤ 4 trailing characters and never more than 40%', () => {
  assert.equal(maskMiddle('110105199003071234'), '1101***********234');
  assert.equal(maskMiddle('4111 1111 1111 1111'), '411* **** **** *111');
  assert.equal(maskMiddle('+86 138 1234 5678', /\d/), '+86 1** **** **78');
  assert.equal(maskMiddle('ab'), '**');
  for (let len = 1; len <= 80; len++) {
    const v = 'x'.repeat(len);
    const m = maskMiddle(v);
    const kept = [...m].filter((c) => c === 'x').length;
    assert.ok(kept <= Math.floor(len * MASK_MAX_FRACTION) && kept <= 8, `length ${len} kept ${kept}`);
    assert.equal(m.length, len);
  }
});

test('maskEmail, keyedHash and assertRedacted', () => {
  assert.equal(maskEmail('alice.smith@example.org'), 'a***@example.org');
  const h = keyedHash('13812345678', 'k'.repeat(32));
  assert.match(h, /^hmac-sha256:[0-9a-f]{16}$/);
  assert.equal(h, keyedHash('13812345678', 'k'.repeat(32)), 'deterministic per key');
  assert.notEqual(h, keyedHash('13812345678', 'j'.repeat(32)), 'depends on the key');
  assert.equal(assertRedacted(maskMiddle('secret-value'), 'secret-value'), maskMiddle('secret-value'));
  assert.equal(assertRedacted(maskEmail('x@example.org') as never, 'example.org'), '[redacted]');
});
