/**
 * Per-detector precision tests: true cases, near-misses, and false-positive rates on random numbers
 * compared with what the constraints imply. Figures are printed (diagnostic lines start with `#`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gb11643CheckChar, luhnCheckDigit, verhoeffCheckDigit } from '../checksums.js';
import { builtinRules } from '../../rules/load.js';
import { createDetectors } from './registry.js';
import { cardBrand } from './payment-card.js';
import { IMEI_REPORTING_BODIES } from './imei.js';
import { validBirthDate } from './cn-resident-id.js';

const NOW = new Date('2025-06-01T00:00:00Z');
const D = createDetectors({ now: () => NOW });
const det = (id: Parameters<typeof D.get>[0]) => D.get(id);

/** Deterministic PRNG (mulberry32) so the measured rates are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const digits = (r: () => number, n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');

/** Upper bound of a count that a rate `p` over `n` trials exceeds with probability < 1e-4 (normal/Poisson approx). */
function upperBound(p: number, n: number): number {
  const mean = p * n;
  return Math.ceil(mean + 4 * Math.sqrt(Math.max(mean, 1)) + 1);
}
function report(name: string, observed: number, n: number, implied: number): void {
  console.log(`# ${name}: ${observed}/${n} = ${(observed / n).toExponential(2)} observed, ${implied.toExponential(2)} implied by the constraints`);
}

function cnId(prefix6: string, birth: string, seq: string): string {
  const first17 = prefix6 + birth + seq;
  return first17 + gb11643CheckChar(first17);
}

test('Chinese resident ID: valid IDs pass, every near-miss fails', () => {
  const d = det('cn_resident_id');
  const valid = ['11010519491231002X', cnId('440524', '19800101', '001'), cnId('310104', '20011130', '457'), cnId('810000', '19950606', '002')];
  for (const v of valid) assert.equal(d.detect(v), true, v);
  assert.equal(d.detect(valid[0]!.toLowerCase()), true, 'lower-case x');
  // Every single-character substitution of a valid ID fails.
  const id = valid[1]!;
  for (let i = 0; i < 18; i++) {
    for (const c of '0123456789X') {
      if (c === id[i] || (i < 17 && c === 'X')) continue;
      assert.equal(d.detect(id.slice(0, i) + c + id.slice(i + 1)), false, `substitution ${i}=${c}`);
    }
  }
  // Right checksum but impossible date, unknown province, future birth, too short/long.
  assert.equal(d.detect(cnId('110105', '19901301', '123')), false, 'month 13');
  assert.equal(d.detect(cnId('110105', '19900230', '123')), false, '30 February');
  assert.equal(d.detect(cnId('990105', '19900101', '123')), false, 'province 99');
  assert.equal(d.detect(cnId('110105', '20300101', '123')), false, 'born in the future');
  assert.equal(d.detect(cnId('110105', '18990101', '123')), false, 'born before 1900');
  assert.equal(d.detect(id.slice(0, 17)), false);
  assert.equal(d.detect(id + '1'), false);
  assert.equal(d.mask(id), '4405***********' + id.slice(-3));
});

test('Chinese resident ID: 10,000 random 18-digit strings, FP rate ≤ what region + date + checksum imply', () => {
  const d = det('cn_resident_id');
  const provinces = Object.keys(builtinRules().cnRegions.provinces).length;
  let validDates = 0;
  for (let t = Date.UTC(1900, 0, 1); t <= NOW.getTime(); t += 86_400_000) validDates++;
  // A digit-only 18th character matches the check character with probability (10/11)·(1/10) = 1/11.
  const implied = (provinces / 100) * (validDates / 1e8) * (1 / 11);
  const r = rng(18);
  const n = 10_000;
  let hits = 0;
  for (let i = 0; i < n; i++) if (d.detect(digits(r, 18))) hits++;
  report('random 18-digit strings accepted as Chinese IDs', hits, n, implied);
  assert.ok(hits <= upperBound(implied, n), `${hits} false positives, bound ${upperBound(implied, n)}`);

  // The checksum alone: strings with a valid province and date but a random 18th character pass ~1/11.
  let structured = 0;
  for (let i = 0; i < n; i++) {
    const prefix = Object.keys(builtinRules().cnRegions.provinces)[Math.floor(r() * provinces)]!;
    const year = 1930 + Math.floor(r() * 90);
    const birth = `${year}${String(1 + Math.floor(r() * 12)).padStart(2, '0')}${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
    const last = '0123456789X'[Math.floor(r() * 11)]!;
    if (d.detect(prefix + digits(r, 4) + birth + digits(r, 3) + last)) structured++;
  }
  report('valid region+date with a random check character', structured, n, 1 / 11);
  assert.ok(Math.abs(structured / n - 1 / 11) < 0.012, `checksum pass rate ${structured / n}`);
});

test('birth dates: calendar rules and range', () => {
  assert.equal(validBirthDate('20000229', NOW), true);
  assert.equal(validBirthDate('19000229', NOW), false);
  assert.equal(validBirthDate('20250601', NOW), true);
  assert.equal(validBirthDate('20250602', NOW), false);
});

test('payment cards: brands, lengths, grouping, identifier fields; random 16-digit FP rate matches Luhn × IIN coverage', () => {
  const d = det('payment_card');
  const good = ['4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '5555555555554444', '2223003122003222', '378282246310005', '6011111111111117', '3530111333300000', '6200000000000005', '4222222222222'];
  for (const v of good) assert.equal(d.detect(v), true, v);
  const bad = [
    '4111111111111112', // Luhn
    '5555555555554443',
    '1234567812345670', // Luhn-valid, no issuer range
    '9111111111111111',
    '371449635398431'.slice(0, 14), // too short for Amex
    '41111111111111111', // Visa with 17 digits
    '5105105105105100'.replace(/^51/, '56'), // 56 is not Mastercard
    '0000000000000000',
    '4111 1111 1111 1111 1', // bad grouping → 17 digits
    '4111_1111_1111_1111',
  ];
  for (const v of bad) assert.equal(d.detect(v), false, v);
  assert.equal(d.detect('4111111111111111', { fieldName: 'order_id' }), false, 'identifier field');
  assert.equal(d.detect('4111111111111111', { fieldName: 'card_no' }), true, 'card field');
  assert.equal(d.detect('4111111111111111', { fieldName: 'creditCardNumber' }), true, 'camelCase card field');
  assert.equal(d.detect('4111111111111111', { fieldName: 'sfzh' }), false, 'a field named for another number');

  // Exact IIN coverage of 16-digit numbers, from the range table (all 6-digit prefixes).
  let covered = 0;
  for (let p = 100000; p < 1000000; p++) if (cardBrand(`${p}0000000000`)) covered++;
  const coverage = covered / 1e6; // leading zero prefixes are never issued: 100000–999999 covers 90%
  const implied = coverage * 0.9 * 0.1;
  const r = rng(16);
  const n = 10_000;
  let hits = 0;
  for (let i = 0; i < n; i++) if (d.detect(digits(r, 16))) hits++;
  report('random 16-digit numbers accepted as cards (Luhn + IIN)', hits, n, implied);
  assert.ok(hits <= upperBound(implied, n), `${hits} > bound`);
  assert.ok(hits >= Math.floor(implied * n - 4 * Math.sqrt(implied * n)), 'Luhn passes ~1 in 10 of the covered numbers');
  assert.equal(d.mask('4111111111111111'), '411**********111');
});

test('IMEI: Luhn + reporting-body TAC; random 15-digit FP rate', () => {
  const d = det('imei');
  const make = (rbi: string, r: () => number) => {
    const payload = rbi + digits(r, 12);
    return payload + luhnCheckDigit(payload);
  };
  const r = rng(15);
  assert.equal(d.detect('490154203237518'), true);
  assert.equal(d.detect('35-209900-176148-1'), true);
  for (let i = 0; i < 200; i++) assert.equal(d.detect(make([...IMEI_REPORTING_BODIES][i % IMEI_REPORTING_BODIES.size]!, r)), true);
  assert.equal(d.detect('490154203237519'), false, 'Luhn');
  assert.equal(d.detect(make('77', r)), false, 'no reporting body 77');
  assert.equal(d.detect(make('00', r)), false, 'test IMEI');
  assert.equal(d.detect('490154203237518', { fieldName: 'trace_id' }), false);
  assert.equal(d.detect('490154203237518', { fieldName: 'imei' }), true);
  const implied = (IMEI_REPORTING_BODIES.size / 100) * 0.1;
  const n = 10_000;
  let hits = 0;
  for (let i = 0; i < n; i++) if (d.detect(digits(r, 15))) hits++;
  report('random 15-digit numbers accepted as IMEI', hits, n, implied);
  assert.ok(hits <= upperBound(implied, n));
});

test('Aadhaar: Verhoeff, first digit 2–9, grouping; bare digits need a national-ID field', () => {
  const d = det('in_aadhaar');
  const valid = '23456789012' + verhoeffCheckDigit('23456789012');
  assert.equal(d.detect(valid), true, 'no context');
  assert.equal(d.detect(`${valid.slice(0, 4)} ${valid.slice(4, 8)} ${valid.slice(8)}`, { fieldName: 'col_3' }), true, 'grouped');
  assert.equal(d.detect(valid, { fieldName: 'aadhaar_no' }), true);
  assert.equal(d.detect(valid, { fieldName: 'value' }), false, 'bare in an unrelated field');
  assert.equal(d.detect(valid, { fieldName: 'order_no' }), false);
  const wrong = valid.slice(0, 11) + String((Number(valid[11]) + 1) % 10);
  assert.equal(d.detect(wrong), false, 'Verhoeff');
  const one = '13456789012' + verhoeffCheckDigit('13456789012');
  assert.equal(d.detect(one), false, 'starts with 1');
  assert.equal(d.detect('222222222222'), false, 'repeated digit');
  const r = rng(12);
  const n = 10_000;
  let hits = 0;
  let hitsInField = 0;
  for (let i = 0; i < n; i++) {
    const v = digits(r, 12);
    if (d.detect(v)) hits++;
    if (d.detect(v, { fieldName: 'amount' })) hitsInField++;
  }
  report('random 12-digit numbers accepted as Aadhaar without a field name', hits, n, 0.8 * 0.1);
  report('random 12-digit numbers accepted as Aadhaar in an unrelated field', hitsInField, n, 0);
  assert.ok(hits <= upperBound(0.08, n));
  assert.equal(hitsInField, 0);
});

test('US SSN: shape rules, published numbers, bare digits only in SSN fields', () => {
  const d = det('us_ssn');
  for (const v of ['123-45-6788', '536 22 1234', '001-01-0001']) assert.equal(d.detect(v), true, v);
  for (const v of ['000-12-3456', '666-12-3456', '900-12-3456', '123-00-4567', '123-45-0000', '078-05-1120', '219-09-9999', '123-45-6789', '111-11-1111', '123-45 6788', '12-345-6789']) {
    assert.equal(d.detect(v), false, v);
  }
  assert.equal(d.detect('536221234'), false, 'bare, no field name');
  assert.equal(d.detect('536221234', { fieldName: 'ssn' }), true);
  assert.equal(d.detect('536221234', { fieldName: 'zip_code' }), false);
  const r = rng(9);
  const n = 10_000;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const v = digits(r, 9);
    if (d.detect(`${v.slice(0, 3)}-${v.slice(3, 5)}-${v.slice(5)}`)) hits++;
  }
  // No check digit: the shape rules only remove area 000/666/9xx, group 00, serial 0000.
  const implied = (1 - 0.002 - 0.1) * 0.99 * 0.9999;
  report('random AAA-GG-SSSS strings accepted as SSN (shape only, no checksum)', hits, n, implied);
  assert.ok(Math.abs(hits / n - implied) < 0.02);
});

test('phone numbers: international, national with separators, bare digits by context', () => {
  const d = det('phone');
  const yes: Array<[string, string?]> = [
    ['+86 138 1234 5678'],
    ['+8613812345678'],
    ['008613812345678'],
    ['13812345678'], // Chinese mobile, bare, any field
    ['(415) 555-0134'],
    ['+1 212-555-1234'],
    ['020 7946 0958'],
    ['+44 20 7946 0958'],
    ['030 12345678'],
    ['98765 43210'],
    ['9876543210', 'mobile_no'],
    ['tel:+49 30 901820'],
    ['4155550134', 'phone'],
  ];
  for (const [v, f] of yes) assert.equal(d.detect(v, f ? { fieldName: f } : undefined), true, `${v} ${f ?? ''}`);
  const no: Array<[string, string?]> = [
    ['9876543210'], // bare 10 digits, no phone field
    ['1700000000'], // a Unix timestamp
    ['2024-01-15'],
    ['15.01.2024'],
    ['192.168.1.10'],
    ['1234.56'],
    ['12345', 'phone'],
    ['+86 138 1234 567'], // too short for a Chinese mobile
    ['+1 555 0134'],
    ['13812345678', 'order_no'],
    ['call 13812345678'],
    ['030 1234', 'remark'],
  ];
  for (const [v, f] of no) assert.equal(d.detect(v, f ? { fieldName: f } : undefined), false, `${v} ${f ?? ''}`);
  const onlyUs = createDetectors({ phoneRegions: ['US'] }).get('phone');
  assert.equal(onlyUs.detect('020 7946 0958'), false, 'GB national form outside the configured regions');
  assert.equal(onlyUs.detect('+44 20 7946 0958'), true, 'international form always');
});

test('e-mail addresses', () => {
  const d = det('email');
  for (const v of ['alice@example.org', 'a.b-c+tag@mail.example.co.uk', "o'brien@example.ie", 'mailto:x@example.com', 'user@xn--fiqs8s.xn--fiqs8s']) assert.equal(d.detect(v), true, v);
  for (const v of ['user@localhost', 'a@b.c', 'john..doe@example.com', 'john.doe@@example.com', '@example.com', 'x@123.456', 'name@example..com', 'name@-example.com', 'a b@example.com', `${'a'.repeat(65)}@example.com`, 'alice@example.org.']) {
    assert.equal(d.detect(v), false, v);
  }
  assert.equal(d.mask('alice@example.org'), 'a***@example.org');
});

test('IP addresses', () => {
  const d = det('ip_address');
  for (const v of ['203.0.113.7', '10.1.2.3', '2001:db8::7']) assert.equal(d.detect(v), true, v);
  for (const v of ['256.1.1.1', '1.2.3', '127.0.0.1', '::1', '0.0.0.0', '01.02.03.04', '203.0.113.7/24']) assert.equal(d.detect(v), false, v);
  assert.equal(d.detect('1.2.3.4', { fieldName: 'version' }), false);
  assert.equal(d.mask('203.0.113.7'), '203.*.*.*');
});

test('GPS coordinates: strings, WKT, GeoJSON text; precision and range', () => {
  const d = det('gps');
  for (const v of ['39.904211,116.407395', '(31.2304, 121.4737)', '-33.868820, 151.209290', 'POINT(121.473701 31.230416)', '{"type":"Point","coordinates":[121.4737,31.2304]}']) {
    assert.equal(d.detect(v), true, v);
  }
  for (const v of ['39.9,116.4', '0.000000,0.000000', '91.123456,10.123456', '45.123456,181.123456', '12,34', '1.5,2.25', 'version 1.2345,6.789', '{"type":"LineString","coordinates":[[1.123,2.123],[3.123,4.123]]}']) {
    assert.equal(d.detect(v), false, v);
  }
  assert.equal(d.mask('39.904211,116.407395'), '39.9,116.4');
});

test('images by magic bytes, not by the declared type', () => {
  const d = det('image');
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), Buffer.from('JFIF'), Buffer.alloc(12 * 1024, 7)]);
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 1)]);
  assert.equal(d.detect(`data:image/jpeg;base64,${jpeg.toString('base64')}`), true);
  assert.equal(d.mask(`data:image/jpeg;base64,${jpeg.toString('base64')}`), '[image/jpeg 12 KB]');
  assert.equal(d.detect(png.toString('base64')), true);
  assert.equal(d.detect(png.toString('latin1')), true);
  assert.equal(d.detect(`data:image/png;base64,${Buffer.alloc(300, 9).toString('base64')}`), false, 'declared PNG, no PNG bytes');
  assert.equal(d.detect(Buffer.alloc(300, 9).toString('base64')), false, 'random base64');
  assert.equal(d.detect('/9j/'), false, 'too short');
  assert.equal(d.detect('GIF89a'.padEnd(20, 'x')), true);
});

test('password hashes: formats, and bare hex digests only in password fields', () => {
  const d = det('password_hash');
  const bcrypt = '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';
  const yes = [
    bcrypt,
    '$2y$12$' + 'a'.repeat(53),
    '$1$saltsalt$qjXMvbEw8oaL.CzflDugX/',
    '$6$rounds=5000$saltsaltsalt$' + 'b'.repeat(86),
    '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG',
    'pbkdf2_sha256$600000$abcdefgh$' + 'A'.repeat(44),
    '*' + 'A'.repeat(40),
  ];
  for (const v of yes) assert.equal(d.detect(v), true, v);
  for (const v of ['$2b$10$short', '$2b$99$' + 'a'.repeat(53), '$1$$', '$6$salt$tooshort', 'argon2id']) assert.equal(d.detect(v), false, v);
  const md5 = '5f4dcc3b5aa765d61d8327deb882cf99';
  assert.equal(d.detect(md5), false, 'bare hex without a password field');
  assert.equal(d.detect(md5, { fieldName: 'etag' }), false);
  assert.equal(d.detect(md5, { fieldName: 'password' }), true);
  assert.equal(d.detect(md5, { fieldName: 'user_pwd' }), true);
  assert.equal(d.detect('a'.repeat(40), { fieldName: 'passwd' }), true, 'sha1');
  assert.equal(d.detect('a'.repeat(31), { fieldName: 'passwd' }), false);
  assert.equal(d.mask(bcrypt), '[bcrypt hash]');
  assert.equal(d.mask(md5), '[md5 hash]');
});

test('clear-text passwords and chat text need their field names', () => {
  const p = det('cleartext_password');
  assert.equal(p.detect('hunter22', { fieldName: 'password' }), true);
  assert.equal(p.detect('hunter22', { fieldName: '密码' }), true);
  assert.equal(p.detect('hunter22', { fieldName: 'comment' }), false);
  assert.equal(p.detect('/home/bob', { fieldName: 'PWD' }), false, 'PWD is a directory');
  assert.equal(p.detect('2024-01-01T00:00:00Z', { fieldName: 'password_changed_at' }), false);
  assert.equal(p.detect('******', { fieldName: 'password' }), false);
  assert.equal(p.mask('hunter22'), '[clear-text secret, 8 chars]');
  const c = det('chat_text');
  assert.equal(c.detect('see you tomorrow at nine', { fieldName: 'content', fieldPath: ['app', 'messages'] }), true);
  assert.equal(c.detect('明天见，老地方', { fieldName: 'liaotian_jilu' }), true);
  assert.equal(c.detect('see you tomorrow', { fieldName: 'content', fieldPath: ['cms', 'pages'] }), false, 'page content is not a message');
  assert.equal(c.detect('Connection refused by peer', { fieldName: 'error_message' }), false);
  assert.equal(c.detect('https://example.org/x', { fieldName: 'chat_msg' }), false);
});

test('classify: the field name decides between detectors that both accept a value', () => {
  assert.equal(D.classify('13812345678', { fieldName: 'password' })?.id, 'cleartext_password');
  assert.equal(D.classify('13812345678', { fieldName: 'shouji' })?.id, 'phone');
  assert.equal(D.classify('13812345678')?.id, 'phone');
  // A Chinese ID from Gansu (62…) that also passes Luhn is an ID, not a UnionPay card, unless the field says card.
  let gansu = '';
  for (let seq = 0; seq < 1000 && !gansu; seq++) {
    const first17 = `620102199001011${String(seq).padStart(3, '0')}`.slice(0, 17);
    const id = first17 + gb11643CheckChar(first17);
    if (/^\d{18}$/.test(id) && det('payment_card').detect(id)) gansu = id;
  }
  assert.ok(gansu, 'found a Luhn-valid Gansu ID');
  assert.equal(D.classify(gansu)?.id, 'cn_resident_id');
  assert.equal(D.classify(gansu, { fieldName: 'sfzh' })?.id, 'cn_resident_id');
  assert.equal(D.classify(gansu, { fieldName: 'card_no' })?.id, 'payment_card');
  assert.equal(D.classify('nothing to see here'), undefined);
});

test('findEmbedded: contact details inside free text', () => {
  const found = D.findEmbedded('ping me at li.wei@example.cn or 13812345678, ID 11010519491231002X, card 4111111111111111', { fieldName: 'content' });
  assert.deepEqual(found.map((f) => f.detector.id).sort(), ['cn_resident_id', 'email', 'payment_card', 'phone']);
  assert.equal(D.findEmbedded('x'.repeat(10) + ' a@example.org '.repeat(50), {}, 5).length, 5);
});
