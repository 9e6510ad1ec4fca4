import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { parseSignatureHeader, verifyWebhookSignature, WebhookSignatureError } from '../src/index.js';
import { firstCustomer, hook, loggedInClient } from './helpers.js';

/** Wait until `count` deliveries arrived (deadline, no fixed sleep). */
async function waitFor(deliveries, count, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (deliveries.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${deliveries.length} of ${count} webhook deliveries arrived`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('given real sandbox deliveries when verifying then the current and, during rotation, the previous secret are accepted', async () => {
  const deliveries = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const customer = await firstCustomer();
    const client = await loggedInClient(customer.phone);
    const [event] = await (async () => {
      for await (const item of client.list('/events', { pageSize: 1 })) return [item];
      return [];
    })();
    assert.ok(event, 'the customer has events');
    const url = `http://127.0.0.1:${server.address().port}/hook`;
    const { subscription_id: subscriptionId } = await hook('POST', '/_sandbox/webhooks', {
      url, secret: 'whsec_old_0001', phone: customer.phone,
    });

    await hook('POST', '/_sandbox/webhooks/replay', { from_event: event.id, to_event: event.id });
    await waitFor(deliveries, 1);
    const first = deliveries[0];
    assert.equal(first.headers['x-idempotency-key'], event.id);
    const header = first.headers['x-trastpay-signature'];
    assert.ok(verifyWebhookSignature({ header, body: first.body, secrets: 'whsec_old_0001' }) > 0);
    assert.throws(() => verifyWebhookSignature({ header, body: first.body, secrets: 'whsec_new_0002' }), WebhookSignatureError);
    const tampered = Buffer.from(first.body.toString('utf8').replace(event.id, `${event.id}x`));
    assert.throws(() => verifyWebhookSignature({ header, body: tampered, secrets: 'whsec_old_0001' }), /no v1 signature/);

    await hook('POST', '/_sandbox/webhooks/rotate-secret', {
      subscription_id: subscriptionId, secret: 'whsec_new_0002', grace_seconds: 600,
    });
    await hook('POST', '/_sandbox/webhooks/replay', { from_event: event.id, to_event: event.id });
    await waitFor(deliveries, 2);
    const rotated = deliveries[1];
    const rotatedHeader = rotated.headers['x-trastpay-signature'];
    assert.equal(parseSignatureHeader(rotatedHeader).signatures.length, 2, 'two v1 entries during the grace period');
    for (const secret of ['whsec_new_0002', 'whsec_old_0001']) {
      assert.ok(verifyWebhookSignature({ header: rotatedHeader, body: rotated.body, secrets: [secret] }) > 0, secret);
    }
  } finally {
    server.close();
  }
});
