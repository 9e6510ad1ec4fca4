import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReauthRequired, TrastpayClient } from '../src/index.js';
import { firstCustomer, hook, loggedInClient, sandboxUrl } from './helpers.js';

/** A fetch that records each request (path and bearer) into `events`. */
function recordingFetch(events) {
  return async (url, init) => {
    const auth = init.headers.authorization ?? '';
    events.push({ kind: 'fetch', path: new URL(url).pathname, bearer: auth.replace('Bearer ', ''), device: init.headers['x-device-id'] });
    return fetch(url, init);
  };
}

test('given a seeded phone when logging in with the OTP hook then the client reads its cards', async () => {
  const customer = await firstCustomer();
  const client = await loggedInClient(customer.phone);
  const cards = await client.cards();
  assert.deepEqual(cards.map((c) => c.card_token).sort(), customer.cards.map((c) => c.card_token).sort());
});

test('given a rotation when refreshing then onRotate finishes before the new access token is used and the old refresh token is rejected', async () => {
  const customer = await firstCustomer();
  const events = [];
  const rotated = [];
  const client = await loggedInClient(customer.phone, {
    fetch: recordingFetch(events),
    onRotate: async (token) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      rotated.push(token);
      events.push({ kind: 'rotate', token });
    },
  });
  assert.equal(rotated.length, 1);
  const firstRefresh = rotated[0];
  await client.refresh();
  await client.cards();
  assert.equal(rotated.length, 2);
  assert.notEqual(rotated[1], firstRefresh);

  const kinds = events.map((e) => (e.kind === 'rotate' ? 'rotate' : e.path.split('/').pop()));
  assert.deepEqual(kinds, ['otp', 'login', 'rotate', 'refresh', 'rotate', 'cards']);
  assert.ok(events.every((e) => e.kind !== 'fetch' || e.device === client.deviceId), 'X-Device-Id on every call');

  const reuse = await fetch(`${sandboxUrl()}/api/v1/trastpay/auth/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: firstRefresh, client_id: client.clientId, device_id: client.deviceId }),
  });
  assert.equal(reuse.status, 401);
  assert.match((await reuse.json()).type, /refresh-token-reused$/);

  await assert.rejects(client.refresh(), (error) => error instanceof ReauthRequired && /log in again/.test(error.message));
});

test('given expired access tokens when reading then the client refreshes once and succeeds', async () => {
  const customer = await firstCustomer();
  const rotated = [];
  const client = await loggedInClient(customer.phone, { onRotate: (token) => { rotated.push(token); } });
  await hook('POST', '/_sandbox/tokens/expire');
  const cards = await client.cards();
  assert.ok(cards.length > 0);
  assert.equal(rotated.length, 2);
});

test('given a token close to expiry when reading then the client refreshes before the call', async () => {
  const customer = await firstCustomer();
  const rotated = [];
  const client = await loggedInClient(customer.phone, {
    refreshSkewSeconds: 3600,
    onRotate: (token) => { rotated.push(token); },
  });
  await client.cards();
  await client.cards();
  assert.equal(rotated.length, 3);
  assert.equal(new Set(rotated).size, 3);
});

test('given a spent refresh token presented by another party when the client refreshes then ReauthRequired names the reuse', async () => {
  const customer = await firstCustomer();
  let current = null;
  const client = await loggedInClient(customer.phone, { onRotate: (token) => { current = token; } });
  const other = new TrastpayClient({ baseUrl: sandboxUrl(), deviceId: client.deviceId, clientId: client.clientId, refreshToken: current });
  await other.refresh();
  await assert.rejects(client.refresh(), (error) => error instanceof ReauthRequired && error.problemType === 'refresh-token-reused');
  await assert.rejects(client.cards(), ReauthRequired);
});

test('given no login when reading then ReauthRequired says to log in', async () => {
  const client = new TrastpayClient({ baseUrl: sandboxUrl(), deviceId: 'dev-x', clientId: 'c' });
  await assert.rejects(client.cards(), (error) => error instanceof ReauthRequired && /login/.test(error.message));
});

test('given bad options when constructing then the error names the option', () => {
  assert.throws(() => new TrastpayClient({ baseUrl: 'ftp://x', deviceId: 'd', clientId: 'c' }), /baseUrl/);
  assert.throws(() => new TrastpayClient({ baseUrl: 'http://x', deviceId: 'has space', clientId: 'c' }), /deviceId/);
  assert.throws(() => new TrastpayClient({ baseUrl: 'http://x', deviceId: 'd', clientId: '' }), /clientId/);
});

test('given expired tokens when many reads run at once then exactly one refresh is sent and all succeed', async () => {
  const customer = await firstCustomer();
  const events = [];
  const rotated = [];
  const client = await loggedInClient(customer.phone, {
    fetch: recordingFetch(events),
    onRotate: (token) => { rotated.push(token); },
  });
  await hook('POST', '/_sandbox/tokens/expire');
  const results = await Promise.all(Array.from({ length: 6 }, () => client.cards()));
  assert.ok(results.every((cards) => cards.length > 0));
  assert.equal(events.filter((e) => e.path.endsWith('/auth/refresh')).length, 1, 'one refresh for all readers');
  assert.equal(rotated.length, 2);
});
