import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { TrastpayError } from '../src/index.js';
import { firstCustomer, hook, loggedInClient } from './helpers.js';

after(async () => {
  await hook('DELETE', '/_sandbox/faults');
});

test('given a rate-limit storm when reading then the client waits Retry-After and succeeds', async () => {
  const customer = await firstCustomer();
  const delays = [];
  const client = await loggedInClient(customer.phone, {
    sleep: (ms) => {
      delays.push(ms);
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
  });
  await hook('POST', '/_sandbox/faults', { rate_limit_storm: { duration_s: 1.5, retry_after_s: 1 } });
  const started = Date.now();
  const cards = await client.cards();
  const elapsed = Date.now() - started;
  await hook('DELETE', '/_sandbox/faults');
  assert.ok(cards.length > 0);
  assert.ok(delays.length >= 1, 'at least one 429 was retried');
  assert.ok(delays.every((ms) => ms === 1000), `every wait is the Retry-After of 1 s, got ${delays}`);
  assert.ok(elapsed >= 1000, `the client waited (${elapsed} ms)`);
  const state = await hook('GET', '/_sandbox/faults');
  assert.ok(state.counters.rate_limit_storm >= 1);
});

test('given a persistent 503 when retries run out then the error carries the status and backoff stayed capped', async () => {
  const customer = await firstCustomer();
  const delays = [];
  const client = await loggedInClient(customer.phone, {
    maxRetries: 3,
    backoffBaseMs: 10,
    maxBackoffMs: 40,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  });
  await hook('POST', '/_sandbox/faults', { error_rate: { ratio: 1, status: 503 } });
  try {
    await assert.rejects(client.cards(), (error) => error instanceof TrastpayError && error.status === 503);
  } finally {
    await hook('DELETE', '/_sandbox/faults');
  }
  assert.equal(delays.length, 3);
  assert.ok(delays.every((ms) => ms > 0 && ms <= 40), `capped backoff, got ${delays}`);
});
