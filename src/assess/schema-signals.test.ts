import assert from 'node:assert/strict';
import { test } from 'node:test';
import { schemaSignals } from './schema-signals.js';

function categoriesOf(path: string[]): string[] {
  return schemaSignals([path]).map((s) => s.category).sort();
}

test('realistic English, Chinese and pinyin names map to their categories', () => {
  const cases: Array<[string[], string[]]> = [
    [['shop', 'users', 'id_card'], ['national_id']],
    [['shop', 'users', 'idCardNo'], ['national_id']],
    [['hr', 'employee', 'sfzh'], ['national_id']],
    [['hr', 'employee', 'shenfenzhenghao'], ['national_id']],
    [['app', '用户表', '身份证号码'], ['national_id']],
    [['crm', 'customers', 'passport_no'], ['passport']],
    [['crm', 'customers', 'mobilePhone'], ['phone']],
    [['crm', 'customers', 'shoujihao'], ['phone']],
    [['crm', 'customers', '手机号'], ['phone']],
    [['crm', 'customers', 'tel'], ['phone']],
    [['crm', 'customers', 'home_address'], ['postal_address']],
    [['crm', 'customers', 'dizhi'], ['postal_address']],
    [['crm', 'customers', '家庭住址'], ['postal_address']],
    [['tracking', 'points', 'latitude'], ['location']],
    [['tracking', 'points', 'gps_lng'], ['location']],
    [['app', 'dingwei_log', 'jingweidu'], ['location']],
    [['app', 'users', 'location'], ['location']],
    [['mdm', 'devices', 'imei'], ['device_id']],
    [['auth', 'users', 'password_hash'], ['credential']],
    [['auth', 'users', 'passwd'], ['credential']],
    [['auth', 'users', 'pwd'], ['credential']],
    [['auth', 'users', 'mima'], ['credential']],
    [['auth', 'users', '登录密码'], ['credential']],
    [['im', 'chat_logs', 'content'], ['communication']],
    [['im', 'messages', 'content'], ['communication']],
    [['im', 'liaotian_jilu'], ['communication']],
    [['im', '聊天记录', 'body'], ['communication']],
    [['app', 'users', 'avatar_url'], ['photo']],
    [['app', 'users', 'touxiang'], ['photo']],
    [['app', 'users', 'image'], ['photo']],
    [['app', 'users', 'email'], ['email']],
    [['app', 'users', 'EmailAddress'], ['email']],
    [['us', 'people', 'ssn'], ['national_id']],
    [['in', 'kyc', 'aadhaar_number'], ['national_id']],
    [['pay', 'cards', 'credit_card_number'], ['payment_card']],
    [['pay', 'cards', 'card_no'], ['payment_card']],
    [['app', 'users', 'birth_date'], ['birth_date']],
    [['app', 'users', 'dob'], ['birth_date']],
    [['app', 'users', 'real_name'], ['personal_name']],
    [['app', 'users', 'xingming'], ['personal_name']],
    [['app', 'users', '姓名'], ['personal_name']],
    [['app', 'users', 'name'], ['personal_name']],
    [['web', 'sessions', 'ip_address'], ['network']],
    [['de', 'kunden', 'Telefonnummer'], ['phone']],
    [['es', 'clientes', 'teléfono'], ['phone']],
    [['jp', 'users', 'パスワード'], ['credential']],
  ];
  for (const [path, expected] of cases) assert.deepEqual(categoriesOf(path), expected, path.join('.'));
});

test('no silly false positives', () => {
  const none: string[][] = [
    ['shop', 'products', 'name'], // a product name is not a personal name
    ['shop', 'users', 'username'],
    ['web', 'sessions'],
    ['net', 'hosts'],
    ['app', 'config', 'server_address'],
    ['app', 'config', 'bind_addr'],
    ['env', 'PWD'], // the working directory, not a password
    ['env', 'OLDPWD'],
    ['app', 'logs', 'message'], // a log message
    ['app', 'errors', 'error_message'],
    ['cms', 'pages', 'content'],
    ['app', 'files', 'file_name'],
    ['app', 'users', 'is_mobile'],
    ['app', 'telemetry', 'value'],
    ['app', 'products', 'image'],
    ['app', 'metrics', 'latency'],
    ['billing', 'invoices', 'address_family'],
    ['app', 'storage', 'location'],
    ['app', 'passes', 'pass_rate'],
  ];
  for (const path of none) assert.deepEqual(categoriesOf(path), [], path.join('.'));
  // ip_address is a network identifier, not a postal address.
  assert.deepEqual(categoriesOf(['web', 'sessions', 'ip_address']), ['network']);
  assert.deepEqual(categoriesOf(['net', 'hosts', 'mac_address']), ['device_id']);
  assert.deepEqual(categoriesOf(['crm', 'contacts', 'email_address']), ['email']);
});

test('output: category, matched names with their paths, count; names sanitised', () => {
  const signals = schemaSignals([
    ['shop', 'users', 'phone'],
    ['shop', 'users', 'phone2'],
    ['shop', 'orders', 'contact_phone'],
    { path: ['redis', 'user:13812345678:phone'] },
    ['shop', 'users', 'created_at'],
  ]);
  assert.equal(signals.length, 1);
  const [s] = signals;
  assert.equal(s!.category, 'phone');
  assert.equal(s!.count, 4);
  assert.deepEqual(
    s!.matches.map((m) => m.path),
    ['shop.users.phone', 'shop.users.phone2', 'shop.orders.contact_phone', 'redis.user:{n}:phone'],
  );
  assert.ok(!JSON.stringify(signals).includes('13812345678'), 'a number inside a key name is not echoed');
  assert.equal(s!.matches[0]!.ruleId, 'phone');
  assert.equal(s!.matches[0]!.strength, 'strong');
  const capped = schemaSignals(Array.from({ length: 80 }, (_, i) => ['db', `t${i}`, 'email']), { maxMatchesPerCategory: 10 });
  assert.equal(capped[0]!.count, 80);
  assert.equal(capped[0]!.matches.length, 10);
});
