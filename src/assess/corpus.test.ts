/**
 * A labelled corpus generated here (synthetic people plus near-miss decoys), used to measure
 * precision/recall per detector and to prove that assessSample never returns a clear value.
 * Deterministic (seeded PRNG). Figures are printed as `#` diagnostic lines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidPhoneNumber, type CountryCode } from 'libphonenumber-js/max';
import { gb11643CheckChar, luhnCheckDigit, verhoeffCheckDigit } from './checksums.js';
import { createDetectors } from './detectors/registry.js';
import { coordinatesFromObject } from './detectors/gps.js';
import { sniffImageBytes } from './detectors/image.js';
import { DETECTOR_IDS, type DetectorId } from './detectors/types.js';
import { assessSample } from './sample.js';
import { builtinRules } from '../rules/load.js';

const NOW = new Date('2025-06-01T00:00:00Z');
const D = createDetectors({ now: () => NOW });

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
const r = rng(20250601);
const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const digits = (n: number) => Array.from({ length: n }, () => int(0, 9)).join('');
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const B64C = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const b64c = (n: number) => Array.from({ length: n }, () => pick([...B64C])).join('');
const hex = (n: number) => Array.from({ length: n }, () => pick([...'0123456789abcdef'])).join('');

// ---------------------------------------------------------------- generators of true values

const PROVINCES = Object.keys(builtinRules().cnRegions.provinces).filter((p) => p !== '71');
function cnId(): string {
  const first17 = `${pick(PROVINCES)}${pad(int(1, 30), 2)}${pad(int(1, 30), 2)}${int(1940, 2010)}${pad(int(1, 12), 2)}${pad(int(1, 28), 2)}${digits(3)}`;
  return first17 + gb11643CheckChar(first17);
}
function card(): string {
  const prefix = pick(['4', '51', '52', '53', '54', '55', '2221', '2720', '6011', '65', '3530', '3589', '62']);
  const len = prefix === '4' ? pick([16, 16, 13]) : 16;
  const payload = prefix + digits(len - 1 - prefix.length);
  const n = payload + luhnCheckDigit(payload);
  return r() < 0.3 && len === 16 ? n.replace(/(\d{4})(?=\d)/g, '$1 ') : n;
}
function amex(): string {
  const payload = pick(['34', '37']) + digits(12);
  return payload + luhnCheckDigit(payload);
}
function imei(): string {
  const payload = pick(['35', '86', '01', '99', '49', '91']) + digits(12);
  return payload + luhnCheckDigit(payload);
}
function aadhaar(): string {
  const payload = String(int(2, 9)) + digits(10);
  return payload + verhoeffCheckDigit(payload);
}
function ssn(): string {
  let area = int(1, 899);
  if (area === 666) area = 665;
  return `${pad(area, 3)}-${pad(int(1, 99), 2)}-${pad(int(1, 9999), 4)}`;
}
function validPhone(make: () => string, region: CountryCode): string {
  for (;;) {
    const n = make();
    if (isValidPhoneNumber(n, region)) return n;
  }
}
function phone(): { value: string; field: string } {
  const kind = int(0, 6);
  const cn = validPhone(() => `1${pick(['30', '31', '35', '36', '38', '39', '50', '58', '59', '86', '88', '89'])}${digits(8)}`, 'CN');
  switch (kind) {
    case 0:
      return { value: cn, field: pick(['shouji', 'mobile_no', 'phone', 'col_3']) };
    case 1:
      return { value: `+86 ${cn.slice(0, 3)} ${cn.slice(3, 7)} ${cn.slice(7)}`, field: pick(['phone', 'contact']) };
    case 2: {
      const us = validPhone(() => `${pick(['212', '415', '646', '312', '617', '202', '305', '713'])}${int(2, 9)}${digits(6)}`, 'US');
      return { value: pick([`(${us.slice(0, 3)}) ${us.slice(3, 6)}-${us.slice(6)}`, `+1 ${us.slice(0, 3)}-${us.slice(3, 6)}-${us.slice(6)}`, `${us.slice(0, 3)}.${us.slice(3, 6)}.${us.slice(6)}`]), field: pick(['phone', 'tel', 'data']) };
    }
    case 3: {
      const gb = validPhone(() => `020 7${digits(3)} ${digits(4)}`, 'GB');
      return { value: pick([gb, `+44 ${gb.slice(1)}`]), field: 'telephone' };
    }
    case 4: {
      const de = validPhone(() => `030 ${int(2, 9)}${digits(7)}`, 'DE');
      return { value: pick([de, `+49 ${de.slice(1)}`]), field: 'telefon' };
    }
    case 5: {
      const inm = validPhone(() => `${int(7, 9)}${digits(9)}`, 'IN');
      return { value: pick([`${inm.slice(0, 5)} ${inm.slice(5)}`, `+91 ${inm.slice(0, 5)} ${inm.slice(5)}`]), field: 'mobile' };
    }
    default:
      return { value: cn, field: 'lxdh' };
  }
}
const FIRST = ['li', 'wang', 'zhang', 'liu', 'chen', 'anna', 'ravi', 'priya', 'john', 'maria', 'lukas', 'emma'];
const LAST = ['wei', 'fang', 'na', 'smith', 'kumar', 'sharma', 'muller', 'garcia', 'jones', 'yang'];
function email(): string {
  return `${pick(FIRST)}${pick(['.', '_', ''])}${pick(LAST)}${int(1, 999)}@${pick(['example.org', 'mail.example.com', 'example.co.uk', 'example.cn', 'corp.example.net'])}`;
}
function coord(decimals: number): [string, string] {
  return [(int(-60, 60) + r()).toFixed(decimals), (int(-170, 170) + r()).toFixed(decimals)];
}
function jpegBytes(): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.from(Array.from({ length: int(200, 600) }, () => int(0, 255))), Buffer.from([0xff, 0xd9])]);
}
function pngBytes(): Buffer {
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(Array.from({ length: int(200, 600) }, () => int(0, 255)))]);
}
const WORDS = ['see', 'you', 'tomorrow', 'at', 'the', 'station', 'call', 'me', 'when', 'home', 'dinner', 'is', 'ready', 'send', 'photos', 'please', 'love', 'meeting', 'moved', 'to', 'friday'];
const ZH = ['明天见', '老地方等你', '晚饭好了', '照片发我一下', '会议改到周五', '到家给我打电话', '我在车站'];
function sentence(): string {
  return r() < 0.3 ? `${pick(ZH)}，${pick(ZH)}` : Array.from({ length: int(3, 9) }, () => pick(WORDS)).join(' ');
}
function publicIp(): string {
  return pick([`${int(11, 99)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`, `2001:db8:${hex(4)}::${hex(3)}`]);
}

// ---------------------------------------------------------------- the labelled corpus

interface Item {
  collection: string;
  field: string;
  value: unknown;
  /** The detector that should claim the value, or null for a decoy. */
  label: DetectorId | null;
  /** Clear values that must never appear in the scanner's output (value itself and variants). */
  secrets: string[];
}

const PEOPLE = 400;
const items: Item[] = [];
const add = (collection: string, field: string, value: unknown, label: DetectorId | null, secrets: string[] = []) =>
  items.push({ collection, field, value, label, secrets: label === null ? [] : secrets.length > 0 ? secrets : typeof value === 'string' ? [value] : [] });

for (let i = 0; i < PEOPLE; i++) {
  const c = 'people';
  const id = cnId();
  add(c, pick(['sfzh', 'id_card', 'idCardNo', '身份证号', 'col_7']), id, 'cn_resident_id', [id, id.toLowerCase()]);
  const p = phone();
  add(c, p.field, p.value, 'phone', [p.value, p.value.replace(/\D/g, '')]);
  const e = email();
  add(c, pick(['email', 'youxiang', 'contact_mail', 'data']), e, 'email');
  const k = r() < 0.15 ? amex() : card();
  add(c, pick(['card_no', 'credit_card', 'yinhangka', 'pan']), k, 'payment_card', [k, k.replace(/\D/g, '')]);
  const m = imei();
  add(c, pick(['imei', 'device_imei', 'col_12']), m, 'imei');
  const s = ssn();
  add(c, 'ssn', r() < 0.5 ? s : s.replace(/-/g, ''), 'us_ssn', [s, s.replace(/-/g, '')]);
  const a = aadhaar();
  const aGrouped = `${a.slice(0, 4)} ${a.slice(4, 8)} ${a.slice(8)}`;
  if (r() < 0.5) add(c, pick(['aadhaar', 'aadhaar_no', 'uid_no']), a, 'in_aadhaar', [a]);
  else add(c, pick(['aadhaar', 'kyc_document', 'col_9']), aGrouped, 'in_aadhaar', [aGrouped, a]);
  const [lat, lng] = coord(6);
  const gpsForm = int(0, 3);
  if (gpsForm === 0) add(c, 'location', { lat: Number(lat), lng: Number(lng) }, 'gps', [lat, lng]);
  else if (gpsForm === 1) add(c, pick(['latlng', 'pos', 'last_seen']), `${lat},${lng}`, 'gps', [`${lat},${lng}`, lat, lng]);
  else if (gpsForm === 2) add(c, 'geo', { type: 'Point', coordinates: [Number(lng), Number(lat)] }, 'gps', [lat, lng]);
  else add(c, 'wkt', `POINT(${lng} ${lat})`, 'gps', [lat, lng]);
  const img = r() < 0.5 ? jpegBytes() : pngBytes();
  const imgForm = int(0, 2);
  const b64 = img.toString('base64');
  if (imgForm === 0) add(c, 'avatar', `data:image/${img[0] === 0xff ? 'jpeg' : 'png'};base64,${b64}`, 'image', [b64]);
  else if (imgForm === 1) add(c, pick(['photo', 'zhaopian', 'blob']), b64, 'image', [b64]);
  else add(c, 'id_photo', img, 'image', [b64]);
  const hashForm = int(0, 4);
  if (hashForm === 0) add(c, 'password', `$2b$${pick(['10', '12'])}$${b64c(53)}`, 'password_hash');
  else if (hashForm === 1) add(c, 'pwd', hex(32), 'password_hash');
  else if (hashForm === 2) add(c, 'shadow', `$6$${b64c(16)}$${b64c(86)}`, 'password_hash');
  else if (hashForm === 3) add(c, 'passwd_hash', `$argon2id$v=19$m=65536,t=3,p=4$${b64c(22).replace(/\./g, 'a')}$${b64c(43).replace(/\./g, 'b')}`, 'password_hash');
  else {
    const pw = `${pick(['Summer', 'dragon', 'Passw0rd', 'iloveyou', 'qwerty'])}${int(10, 9999)}!`;
    add(c, pick(['password', 'mima', 'user_pass']), pw, 'cleartext_password');
  }
  add(c, pick(['last_login_ip', 'client_ip', 'remote_addr']), publicIp(), 'ip_address');
  const msg = sentence();
  add('messages', pick(['content', 'body', 'text']), msg, 'chat_text');
}

// Decoys: near misses of every detector, and ordinary values that look similar.
for (let i = 0; i < PEOPLE; i++) {
  const c = 'decoys';
  const id = cnId();
  const pos = int(0, 16);
  add(c, 'sfzh', id.slice(0, pos) + String((Number(id[pos]) + int(1, 9)) % 10) + id.slice(pos + 1), null); // one digit changed
  const badDate = `${pick(PROVINCES)}0101${int(1950, 2000)}13${pad(int(1, 28), 2)}${digits(3)}`;
  add(c, 'sfzh', badDate + gb11643CheckChar(badDate), null); // month 13, right checksum
  const badRegion = `${pick(['00', '10', '19', '66', '99'])}0101${int(1950, 2000)}${pad(int(1, 12), 2)}${pad(int(1, 28), 2)}${digits(3)}`;
  add(c, 'id_card', badRegion + gb11643CheckChar(badRegion), null); // no such province, right checksum
  add(c, pick(['order_no', 'trace_id', 'txn_id']), digits(18), null);
  const k = card().replace(/\D/g, '');
  add(c, 'card_no', k.slice(0, -1) + String((Number(k.slice(-1)) + int(1, 9)) % 10), null); // Luhn fails
  const noIin = '9' + digits(14);
  add(c, 'card_no', noIin + luhnCheckDigit(noIin), null); // Luhn passes, no issuer
  add(c, pick(['order_id', 'tracking_no', 'sku']), digits(16), null);
  if (i % 4 === 0) add(c, pick(['value', 'data', 'col_4']), String(int(1, 9)) + digits(15), null); // unrelated field: Luhn+IIN may collide
  const m = imei();
  add(c, 'imei', m.slice(0, -1) + String((Number(m.slice(-1)) + int(1, 9)) % 10), null);
  const badTac = pick(['00', '77', '12']) + digits(12);
  add(c, 'imei', badTac + luhnCheckDigit(badTac), null);
  const a = aadhaar();
  add(c, 'aadhaar', a.slice(0, -1) + String((Number(a.slice(-1)) + int(1, 9)) % 10), null);
  add(c, 'aadhaar', '1' + a.slice(1, -1) + verhoeffCheckDigit('1' + a.slice(1, -1)), null);
  add(c, pick(['order_no', 'amount', 'value']), a, null); // valid Verhoeff, bare, unrelated field
  add(c, 'ssn', pick(['000', '666', '9' + digits(2)]) + `-${pad(int(1, 99), 2)}-${pad(int(1, 9999), 4)}`, null);
  add(c, 'ssn', pick(['078-05-1120', '219-09-9999', '123-45-6789', `${pad(int(1, 665), 3)}-00-1234`, `${pad(int(1, 665), 3)}-12-0000`]), null);
  add(c, 'zip_code', digits(9), null);
  add(c, pick(['created', 'updated_at', 'ts']), pick([`2024-${pad(int(1, 12), 2)}-${pad(int(1, 28), 2)}`, String(int(1_600_000_000, 1_750_000_000)), `${int(10, 23)}:${pad(int(0, 59), 2)}`]), null);
  add(c, 'phone', pick(['12345', '000', '1.2.3', '+1 555 01', 'n/a']), null);
  add(c, pick(['order_no', 'quantity']), String(int(1_000_000_000, 1_699_999_999)), null); // 10 digits, not a phone field
  add(c, 'email', pick(['user@localhost', 'a@b.c', 'john.doe@@example.com', '@example.com', 'x@123.456', 'name@example..com', 'no-at-sign.example.com']), null);
  add(c, 'last_login_ip', pick(['256.1.1.1', '1.2.3', '127.0.0.1', '::1', `${int(1, 9)}.${int(0, 9)}.${int(0, 9)}`]), null);
  add(c, 'version', `${int(1, 9)}.${int(0, 20)}.${int(0, 20)}.${int(0, 99)}`, null);
  const [lat, lng] = coord(1);
  add(c, 'location', pick<unknown>([{ lat: 0, lng: 0 }, { lat: 91.123456, lng: 10.123456 }, `${lat},${lng}`, { lat: Number(lat), lng: Number(lng) }, { lat: int(-80, 80), lng: int(-170, 170) }, `${int(1, 9)}.${int(0, 9)},${int(1, 9)}.${int(0, 9)}`]), null);
  add(c, pick(['avatar', 'photo']), pick([Buffer.from(Array.from({ length: 300 }, () => int(0, 255))).toString('base64'), `data:image/png;base64,${Buffer.alloc(200, int(0, 255)).toString('base64')}`, '/9j/4AAQ']), null);
  add(c, 'password', pick(['$2b$10$short', '$1$$', '******', 'null']), null);
  add(c, pick(['etag', 'checksum', 'commit']), hex(pick([32, 40])), null);
  add(c, pick(['error_message', 'log_message', 'status_message']), pick(['connection refused by peer', 'Query took 35 ms', 'user not found']), null);
  add(c, 'password_changed_at', `2024-${pad(int(1, 12), 2)}-01T00:00:00Z`, null);
  add(c, 'PWD', pick(['/home/app', '/var/lib/redis', '/root']), null);
  add(c, pick(['title', 'comment', 'description']), sentence(), null);
  add(c, 'uuid', `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`, null);
}

function classify(item: Item): DetectorId | null {
  const ctx = { fieldName: item.field, fieldPath: [item.collection] };
  if (typeof item.value === 'string') return D.classify(item.value, ctx)?.id ?? null;
  if (item.value instanceof Uint8Array) return sniffImageBytes(item.value) ? 'image' : null;
  if (typeof item.value === 'object' && item.value !== null) return coordinatesFromObject(item.value as Record<string, unknown>) ? 'gps' : null;
  return null;
}

test('labelled corpus: precision and recall per detector', () => {
  const stats = new Map<DetectorId, { tp: number; fp: number; fn: number }>(DETECTOR_IDS.map((id) => [id, { tp: 0, fp: 0, fn: 0 }]));
  const mistakes = new Map<string, number>();
  for (const item of items) {
    const got = classify(item);
    if (got === item.label) {
      if (got) stats.get(got)!.tp++;
      continue;
    }
    if (got) stats.get(got)!.fp++;
    if (item.label) stats.get(item.label)!.fn++;
    const key = `${item.collection}.${item.field}: labelled ${item.label}, got ${got}`;
    mistakes.set(key, (mistakes.get(key) ?? 0) + 1);
  }
  for (const [k, n] of mistakes) console.log(`# misclassified ×${n}: ${k}`);
  const positives = items.filter((i) => i.label).length;
  console.log(`# corpus: ${items.length} values (${positives} sensitive from ${PEOPLE} synthetic people, ${items.length - positives} decoys)`);
  console.log('# detector            checksum  TP    FP  FN   precision  recall');
  for (const d of D.detectors) {
    const s = stats.get(d.id)!;
    const precision = s.tp + s.fp === 0 ? 1 : s.tp / (s.tp + s.fp);
    const recall = s.tp + s.fn === 0 ? 1 : s.tp / (s.tp + s.fn);
    console.log(`# ${d.id.padEnd(20)} ${String(d.checksumBacked).padEnd(9)} ${String(s.tp).padEnd(5)} ${String(s.fp).padEnd(3)} ${String(s.fn).padEnd(4)} ${precision.toFixed(4).padEnd(10)} ${recall.toFixed(4)}`);
    assert.ok(s.tp > 0, `${d.id} has true positives in the corpus`);
    if (d.checksumBacked) assert.ok(precision >= 0.99, `${d.id} precision ${precision} < 0.99`);
    else assert.ok(precision >= 0.95, `${d.id} precision ${precision} < 0.95`);
    assert.ok(recall >= 0.95, `${d.id} recall ${recall} < 0.95`);
  }
});

test('assessSample over the corpus returns no clear value', () => {
  // Documents of ≤ 100 per collection, as the sampler would read them; a field appears once per document.
  const people = new Map<string, Record<string, unknown>[]>();
  const part = new Map<string, number>();
  for (const item of items) {
    let n = part.get(item.collection) ?? 0;
    let docs = people.get(`${item.collection}_${n}`) ?? [];
    let doc = docs[docs.length - 1];
    if (!doc || item.field in doc || Object.keys(doc).length >= 14) {
      if (docs.length >= 100) {
        part.set(item.collection, ++n);
        docs = [];
      }
      doc = {};
      docs.push(doc);
    }
    doc[item.field] = item.value;
    people.set(`${item.collection}_${n}`, docs);
  }
  // Chat messages that carry contact details inline.
  const inline: string[] = [];
  const chats = Array.from({ length: 60 }, () => {
    const e = email();
    const p = validPhone(() => `1${pick(['38', '39', '86'])}${digits(8)}`, 'CN');
    inline.push(e, p);
    return { content: `${sentence()} — mail ${e} or call ${p}` };
  });
  const collections = [...people.entries()].map(([name, documents]) => ({ name, documents })).concat([{ name: 'chat_messages', documents: chats }]);
  const totalDocs = collections.reduce((n, c) => n + c.documents.length, 0);
  assert.ok(collections.every((c) => c.documents.length <= 100));

  for (const mode of ['mask', 'hmac'] as const) {
    const result = assessSample({ collections }, mode === 'hmac' ? { example: 'hmac', hmacKey: 'per-install-key-0123456789' } : {});
    assert.equal(result.documents, totalDocs);
    assert.deepEqual(result.truncated, [], 'the whole corpus fits the default bounds');
    const json = JSON.stringify(result);
    const secrets = new Set(items.flatMap((i) => i.secrets).concat(inline).filter((s) => s.length >= 5));
    const leaked = [...secrets].filter((s) => json.includes(s));
    assert.deepEqual(leaked, [], `${mode}: clear values in the output`);
    const found = Object.fromEntries(result.byDetector.map((f) => [f.detector, f.count]));
    if (mode === 'mask') {
      console.log(`# assessSample: ${result.documents} documents, ${result.values} values, ${(result.bytes / 1024).toFixed(0)} KiB; ${secrets.size} seeded clear values, none in the ${json.length}-character output`);
      console.log(`# counts by detector: ${JSON.stringify(found)}`);
      for (const f of result.byDetector) assert.ok(f.example.length > 0 && !secrets.has(f.example), f.detector);
    } else {
      for (const f of result.byDetector) assert.match(f.example, /^hmac-sha256:[0-9a-f]{16}$/);
    }
    assert.ok((found.email ?? 0) >= PEOPLE + 60, 'inline e-mails in chat text are counted too');
    assert.ok((found.phone ?? 0) >= PEOPLE + 60, 'inline phones in chat text are counted too');
    assert.ok((found.cn_resident_id ?? 0) >= PEOPLE);
  }
});
