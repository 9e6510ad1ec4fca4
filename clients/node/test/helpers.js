/** Shared test helpers: the sandbox URL from the environment, sandbox hooks and logged-in clients. */
import { TrastpayClient } from '../src/index.js';

/** @returns {string} the sandbox root URL; a clear failure when TRASTPAY_SANDBOX_URL is unset. */
export function sandboxUrl() {
  const url = process.env.TRASTPAY_SANDBOX_URL;
  if (!url) {
    throw new Error(
      'TRASTPAY_SANDBOX_URL is not set: start a sandbox (make sandbox, or '
      + '.venv/bin/trastpay-sandbox --port 0 --customers 1) and export its base URL, '
      + 'or run tests/clients/test_node_client.py which does both',
    );
  }
  return url.replace(/\/+$/, '');
}

/**
 * Call a /_sandbox hook and parse the JSON answer.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
export async function hook(method, path, body) {
  const response = await fetch(sandboxUrl() + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** @returns {Promise<{phone: string, cards: Array<{card_token: string}>}>} the first seeded customer */
export async function firstCustomer() {
  const customers = await hook('GET', '/_sandbox/customers');
  return customers[0];
}

/**
 * Every record of a stream for a phone, as the sandbox's ground truth (JSON lines).
 * @param {string} stream
 * @param {string} phone
 */
export async function truth(stream, phone) {
  const response = await fetch(`${sandboxUrl()}/_sandbox/truth/${stream}?phone=${encodeURIComponent(phone)}`);
  if (!response.ok) throw new Error(`truth ${stream} answered ${response.status}`);
  const text = await response.text();
  return text.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line));
}

/**
 * A client logged in as `phone` through the OTP hook.
 * @param {string} phone
 * @param {Partial<import('../index.js').ClientOptions>} [options]
 */
export async function loggedInClient(phone, options = {}) {
  const client = new TrastpayClient({
    baseUrl: sandboxUrl(),
    deviceId: `node-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    clientId: 'node-client-tests',
    ...options,
  });
  await client.requestOtp(phone);
  const { otp } = await hook('GET', `/_sandbox/otp?phone=${encodeURIComponent(phone)}`);
  await client.login({ phone, otp });
  return client;
}
