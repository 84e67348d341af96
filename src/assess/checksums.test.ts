import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gb11643CheckChar, luhnCheckDigit, luhnValid, verhoeffCheckDigit, verhoeffValid } from './checksums.js';
import { base58CheckEncode, bech32Encode, findBitcoinAddresses, isBase58Address, isBech32Address, isBitcoinAddress } from './bitcoin.js';

test('Luhn: known card numbers and IMEI pass, every single-digit change fails', () => {
  for (const n of ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '490154203237518', '79927398713']) {
    assert.equal(luhnValid(n), true, n);
    for (let i = 0; i < n.length; i++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === n[i]) continue;
        assert.equal(luhnValid(n.slice(0, i) + d + n.slice(i + 1)), false, `${n} with digit ${i} = ${d}`);
      }
    }
  }
  assert.equal(luhnCheckDigit('7992739871'), '3');
  assert.equal(luhnCheckDigit('411111111111111'), '1');
  assert.equal(luhnValid('41111111111111a1'), false);
});

test('Verhoeff: reference value 236→3, catches all single-digit errors and adjacent transpositions', () => {
  assert.equal(verhoeffCheckDigit('236'), '3');
  assert.equal(verhoeffValid('2363'), true);
  assert.equal(verhoeffValid('2364'), false);
  const n = '23456789012' + verhoeffCheckDigit('23456789012');
  assert.equal(verhoeffValid(n), true);
  for (let i = 0; i < n.length; i++) {
    for (let d = 0; d <= 9; d++) {
      if (String(d) !== n[i]) assert.equal(verhoeffValid(n.slice(0, i) + d + n.slice(i + 1)), false);
    }
    if (i + 1 < n.length && n[i] !== n[i + 1]) {
      assert.equal(verhoeffValid(n.slice(0, i) + n[i + 1] + n[i] + n.slice(i + 2)), false, `transposition at ${i}`);
    }
  }
});

test('GB 11643 MOD 11-2: the published example ID and the X check character', () => {
  // GB 11643-1999 appendix example: 11010519491231002X.
  assert.equal(gb11643CheckChar('11010519491231002'), 'X');
  assert.equal(gb11643CheckChar('44052418800101001'), '4');
});

test('Bitcoin: base58check P2PKH/P2SH and BIP 173/350 segwit vectors', () => {
  assert.equal(isBase58Address('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa'), true); // genesis block address
  assert.equal(isBase58Address('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb'), false);
  assert.equal(isBase58Address('3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy'), true);
  assert.equal(isBech32Address('BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4'), true); // BIP 173/350 v0
  assert.equal(isBech32Address('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'), true);
  assert.equal(isBech32Address('bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y'), true); // v1 bech32m
  assert.equal(isBech32Address('BC1SW50QGDZ25J'), true); // v16
  assert.equal(isBech32Address('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5'), false); // bad checksum
  assert.equal(isBech32Address('bc1Qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'), false); // mixed case
  assert.equal(isBech32Address('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx'), false); // testnet: not a ransom address
  const hash = Uint8Array.from({ length: 20 }, (_, i) => i * 7);
  assert.equal(isBitcoinAddress(base58CheckEncode(0, hash)), true);
  assert.equal(isBitcoinAddress(base58CheckEncode(5, hash)), true);
  assert.equal(isBitcoinAddress(base58CheckEncode(0x6f, hash)), false); // testnet version byte
  assert.equal(isBitcoinAddress(bech32Encode(0, hash)), true);
  assert.equal(isBitcoinAddress(bech32Encode(1, new Uint8Array(32).fill(3))), true);
  assert.deepEqual(findBitcoinAddresses('send 0.015 BTC to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa or bc1qfake, thanks'), ['1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa']);
});
