import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldName, singular, tokenVariants, tokenize } from './tokenize.js';

test('tokenize splits camelCase, snake_case, kebab-case, dots and script boundaries', () => {
  assert.deepEqual(tokenize('idCardNo'), ['id', 'card', 'no']);
  assert.deepEqual(tokenize('ID_CARD'), ['id', 'card']);
  assert.deepEqual(tokenize('user-phone.number'), ['user', 'phone', 'number']);
  assert.deepEqual(tokenize('XMLHttpRequest'), ['xml', 'http', 'request']);
  assert.deepEqual(tokenize('ipv4Address'), ['ipv4', 'address']);
  assert.deepEqual(tokenize('user手机号'), ['user', '手机号']);
  assert.deepEqual(tokenize('ｐｈｏｎｅ'), ['phone']);
  assert.deepEqual(tokenize('Teléfono_Móvil'), ['telefono', 'movil']);
  assert.deepEqual(tokenize('Straße'), ['strasse']);
  assert.deepEqual(tokenize('__'), []);
});

test('folding keeps kana and Hangul marks', () => {
  assert.equal(foldName('パスワード'), 'パスワード');
  assert.equal(foldName('비밀번호'), '비밀번호');
});

test('variants: naive singular and trailing digits', () => {
  assert.equal(singular('addresses'), 'address');
  assert.equal(singular('phones'), 'phone');
  assert.equal(singular('cities'), 'city');
  assert.equal(singular('gps'), 'gps');
  assert.equal(singular('status'), 'status');
  assert.deepEqual(tokenVariants('addr1').sort(), ['addr', 'addr1']);
  assert.deepEqual(tokenVariants('backup2').sort(), ['backup', 'backup2']);
});
