import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { verifyWebhookSignature, WebhookSignatureError } from '../src/index.js';

const body = JSON.stringify({ id: 'evt_1', type: 'transaction.posted', amount_minor: -3880000 });
const now = 1_790_000_000;

function sign(secret, t, payload) {
  return createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex');
}

test('given a fresh signed delivery when verifying then it is accepted', () => {
  const header = `t=${now - 10},v1=${sign('whsec_a', now - 10, body)}`;
  assert.equal(verifyWebhookSignature({ header, body, secrets: 'whsec_a', now }), now - 10);
  assert.equal(verifyWebhookSignature({ header, body: Buffer.from(body), secrets: ['whsec_a'], now }), now - 10);
});

test('given a tampered body when verifying then it is rejected as a mismatch', () => {
  const header = `t=${now},v1=${sign('whsec_a', now, body)}`;
  assert.throws(
    () => verifyWebhookSignature({ header, body: body.replace('-3880000', '-3880001'), secrets: 'whsec_a', now }),
    (error) => error instanceof WebhookSignatureError && error.reason === 'mismatch',
  );
  assert.throws(() => verifyWebhookSignature({ header, body, secrets: 'whsec_other', now }), /no v1 signature matches/);
});

test('given a stale or future timestamp when verifying then it is rejected beyond five minutes only', () => {
  const stale = now - 301;
  const header = `t=${stale},v1=${sign('s', stale, body)}`;
  assert.throws(() => verifyWebhookSignature({ header, body, secrets: 's', now }),
    (error) => error.reason === 'timestamp' && /old/.test(error.message));
  const edge = now - 300;
  assert.equal(verifyWebhookSignature({ header: `t=${edge},v1=${sign('s', edge, body)}`, body, secrets: 's', now }), edge);
  const future = now + 400;
  assert.throws(() => verifyWebhookSignature({ header: `t=${future},v1=${sign('s', future, body)}`, body, secrets: 's', now }),
    (error) => error.reason === 'timestamp' && /future/.test(error.message));
});

test('given two v1 signatures during secret rotation when verifying with either secret then it is accepted', () => {
  const header = `t=${now},v1=${sign('new', now, body)},v1=${sign('old', now, body)}`;
  assert.equal(verifyWebhookSignature({ header, body, secrets: 'old', now }), now);
  assert.equal(verifyWebhookSignature({ header, body, secrets: ['unrelated', 'new'], now }), now);
});

test('given a malformed header when verifying then the format error names the problem', () => {
  for (const header of ['', 'v1=abc', `t=${now}`, `t=x,v1=${'a'.repeat(64)}`, `t=${now},v1=${'A'.repeat(64)}`, 'garbage']) {
    assert.throws(() => verifyWebhookSignature({ header, body, secrets: 's', now }),
      (error) => error instanceof WebhookSignatureError && error.reason === 'format', header);
  }
  assert.throws(() => verifyWebhookSignature({ header: `t=${now},v1=${'a'.repeat(64)}`, body: JSON.parse(body), secrets: 's', now }), /raw request body/);
  assert.throws(() => verifyWebhookSignature({ header: `t=${now},v1=${'a'.repeat(64)}`, body, secrets: [], now }), /secret/);
});
