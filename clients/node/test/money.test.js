import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertMinor, formatMinor, parseAmount, sumMinor } from '../src/index.js';

test('given minor units when formatting then the decimal string is exact', () => {
  assert.equal(formatMinor(-15200000, 'UZS'), '-152000.00');
  assert.equal(formatMinor(5, 'USD'), '0.05');
  assert.equal(formatMinor(-5, 'USD'), '-0.05');
  assert.equal(formatMinor(0, 'UZS'), '0.00');
  assert.equal(formatMinor(1234, 'JPY'), '1234');
  assert.equal(formatMinor(1234, 'KWD'), '1.234');
  assert.equal(formatMinor(9007199254740991, 'UZS'), '90071992547409.91');
  assert.equal(formatMinor(123456789012345678901n, 'UZS'), '1234567890123456789.01');
});

test('given a decimal string when parsing then minor units come back without float rounding', () => {
  assert.equal(parseAmount('-152000.00', 'UZS'), -15200000);
  assert.equal(parseAmount('0.1', 'USD'), 10);
  assert.equal(parseAmount('1.15', 'USD'), 115);
  assert.equal(parseAmount('7', 'UZS'), 700);
  assert.throws(() => parseAmount('1.001', 'USD'), /more than 2 decimal places/);
  assert.throws(() => parseAmount('1e3', 'USD'), /decimal string/);
  assert.throws(() => parseAmount('99999999999999999.00', 'UZS'), /safe integer/);
});

test('given unsafe values when checking or summing then a RangeError names the problem', () => {
  assert.throws(() => assertMinor(1.5, 'amount_minor'), /amount_minor must be an integer/);
  assert.throws(() => assertMinor(2 ** 53), RangeError);
  assert.throws(() => formatMinor(0.1, 'UZS'), RangeError);
  assert.throws(() => formatMinor(1, 'uzs'), /ISO 4217/);
  assert.equal(sumMinor([335000798, 342817484, -1]), 677818281);
  assert.throws(() => sumMinor([Number.MAX_SAFE_INTEGER, 1]), /safe integer/);
});
