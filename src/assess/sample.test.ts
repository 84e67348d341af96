import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Binary, Long, ObjectId } from 'bson';
import { ConfigError } from '../core/errors.js';
import { assessSample, SAMPLE_HARD_CAPS } from './sample.js';

const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(2048, 3)]);

test('walks nested documents and reports counts per detector, category and field path', () => {
  const r = assessSample({
    collections: [
      {
        name: 'users',
        documents: [
          { profile: { phone: '13812345678', emails: ['a.one@example.org', 'a.two@example.org'] }, loc: { lat: 31.230416, lng: 121.473701 } },
          { profile: { phone: '+44 20 7946 0958', emails: [] }, avatar: new Binary(png), big: Long.fromString('13912345678'), _id: new ObjectId() },
        ],
      },
    ],
  });
  const by = Object.fromEntries(r.byDetector.map((f) => [f.detector, f]));
  assert.equal(r.documents, 2);
  assert.deepEqual(by.phone!.fields, [
    { path: 'users.big', count: 1 },
    { path: 'users.profile.phone', count: 2 },
  ].sort((a, b) => b.count - a.count || a.path.localeCompare(b.path)));
  assert.equal(by.phone!.count, 3);
  assert.deepEqual(by.email!.fields, [{ path: 'users.profile.emails[]', count: 2 }]);
  assert.deepEqual(by.gps!.fields, [{ path: 'users.loc', count: 1 }]);
  assert.equal(by.gps!.example, '31.2,121.5');
  assert.equal(by.image!.example, '[image/png 2 KB]');
  assert.deepEqual(r.byCategory.map((c) => c.category).sort(), ['email', 'location', 'phone', 'photo']);
  assert.deepEqual(r.truncated, []);
});

test('JSON text values are parsed and walked (Redis values), records use their key names as paths (numbers grouped as {n})', () => {
  const r = assessSample({
    records: [
      { path: 'user:1001', value: JSON.stringify({ mobile_no: '9876543210', name: 'x' }) },
      { path: 'user:{n}:email', value: 'b@example.org' },
      { path: 'session:13812345678', value: 'opaque' },
    ],
  });
  const by = Object.fromEntries(r.byDetector.map((f) => [f.detector, f]));
  assert.deepEqual(by.phone!.fields, [{ path: 'user:{n}.mobile_no', count: 1 }]);
  assert.deepEqual(by.email!.fields, [{ path: 'user:{n}:email', count: 1 }]);
  assert.ok(!JSON.stringify(r).includes('13812345678'), 'a key that holds a number is sanitised');
});

test('keys that are values never appear in paths', () => {
  const r = assessSample({ collections: [{ name: 'contacts', documents: [{ '13812345678': { email: 'c@example.org' }, 'bob@example.org': { email: 'd@example.org' } }] }] });
  const json = JSON.stringify(r);
  assert.ok(!json.includes('13812345678') && !json.includes('bob@example.org'), json);
  assert.deepEqual(r.byDetector[0]!.fields.map((f) => f.path).sort(), ['contacts.{email}.email', 'contacts.{n}.email']);
});

test('at most maxDocuments per collection; the cap can be lowered, never raised', () => {
  const docs = Array.from({ length: 150 }, (_, i) => ({ email: `u${i}@example.org` }));
  const r = assessSample({ collections: [{ name: 'a', documents: docs }, { name: 'b', documents: docs.slice(0, 10) }] });
  assert.equal(r.documents, 110);
  assert.equal(r.byDetector[0]!.count, 110);
  assert.deepEqual(r.truncated, ['documents']);
  const low = assessSample({ collections: [{ name: 'a', documents: docs }] }, { maxDocuments: 5 });
  assert.equal(low.documents, 5);
  assert.equal(low.limits.maxDocuments, 5);
  assert.throws(() => assessSample({ collections: [] }, { maxDocuments: SAMPLE_HARD_CAPS.maxDocuments + 1 }), (e: unknown) => e instanceof ConfigError && /hard cap of 100/.test(e.message));
  assert.throws(() => assessSample({ collections: [] }, { maxBytes: SAMPLE_HARD_CAPS.maxBytes + 1 }), ConfigError);
  assert.throws(() => assessSample({ collections: [] }, { maxDepth: 0 }), ConfigError);
  assert.throws(() => assessSample({ collections: [] }, { example: 'hmac' }), /hmacKey/);
  // The iterator is not drained past the cap (a lazy source is read one item beyond, to know it had more).
  let pulled = 0;
  function* lazy() {
    for (let i = 0; i < 1_000_000; i++) {
      pulled++;
      yield { n: i };
    }
  }
  assessSample({ collections: [{ name: 'lazy', documents: lazy() }] }, { maxDocuments: 10 });
  assert.equal(pulled, 11);
});

test('byte budget per call stops the scan', () => {
  const doc = { blob: 'x'.repeat(100_000), email: 'e@example.org' };
  const r = assessSample({ collections: [{ name: 'c', documents: Array.from({ length: 20 }, () => doc) }] }, { maxBytes: 350_000 });
  assert.ok(r.bytes <= 350_000);
  assert.equal(r.documents, 4);
  assert.deepEqual(r.truncated, ['bytes']);
});

test('depth and values-per-document bounds', () => {
  let deep: Record<string, unknown> = { email: 'deep@example.org' };
  for (let i = 0; i < 50; i++) deep = { next: deep };
  const r = assessSample({ collections: [{ name: 'd', documents: [deep] }] }, { maxDepth: 10 });
  assert.deepEqual(r.byDetector, []);
  assert.deepEqual(r.truncated, ['depth']);
  const wide = { list: Array.from({ length: SAMPLE_HARD_CAPS.maxValuesPerDocument + 50 }, () => 'v') };
  const w = assessSample({ collections: [{ name: 'w', documents: [wide, { email: 'after@example.org' }] }] });
  assert.deepEqual(w.truncated, ['values']);
  assert.equal(w.values, SAMPLE_HARD_CAPS.maxValuesPerDocument + 2, 'the next document is still scanned');
  assert.equal(w.byDetector[0]!.count, 1);
});

test('distinct field paths per detector are capped', () => {
  const doc = Object.fromEntries(Array.from({ length: SAMPLE_HARD_CAPS.maxFieldPaths + 20 }, (_, i) => [`email_${i}`, `x${i}@example.org`]));
  const r = assessSample({ collections: [{ name: 'f', documents: [doc] }] });
  const f = r.byDetector[0]!;
  assert.equal(f.count, SAMPLE_HARD_CAPS.maxFieldPaths + 20);
  assert.equal(f.fields.length, SAMPLE_HARD_CAPS.maxFieldPaths + 1);
  assert.ok(f.fields.some((x) => x.path === '{other}' && x.count === 20));
  assert.deepEqual(r.truncated, ['fields']);
});

test('hmac examples: keyed, stable, never the value', () => {
  const key = 'install-secret-0123456789abcdef';
  const input = { collections: [{ name: 'u', documents: [{ email: 'keyed@example.org' }] }] };
  const a = assessSample(input, { example: 'hmac', hmacKey: key });
  const b = assessSample(input, { example: 'hmac', hmacKey: key });
  assert.match(a.byDetector[0]!.example, /^hmac-sha256:[0-9a-f]{16}$/);
  assert.equal(a.byDetector[0]!.example, b.byDetector[0]!.example);
  assert.ok(!JSON.stringify(a).includes('keyed@'));
});
