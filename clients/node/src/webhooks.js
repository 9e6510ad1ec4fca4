/**
 * Webhook signature verification.
 *
 * Header: `X-Trastpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
 * with a second `v1=` while a rotated secret is in its grace period. A delivery is accepted when
 * its timestamp is within the tolerance (default 300 s, both directions) and any `v1` matches
 * under any of the receiver's secrets. Comparison is constant-time (`crypto.timingSafeEqual`).
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookSignatureError } from './errors.js';

export const SIGNATURE_HEADER = 'x-trastpay-signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Hex HMAC-SHA256 of `"<timestamp>.<body>"`.
 * @param {string|Uint8Array} secret
 * @param {number} timestamp unix seconds
 * @param {string|Uint8Array} body the raw request body, exactly as received
 * @returns {string}
 */
export function signWebhook(secret, timestamp, body) {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(body);
  return hmac.digest('hex');
}

/**
 * Split a signature header into its timestamp and v1 signatures; unknown schemes are ignored.
 * @param {string} header
 * @returns {{timestamp: number, signatures: string[]}}
 */
export function parseSignatureHeader(header) {
  if (typeof header !== 'string' || header.length === 0 || header.length > 4096) {
    throw new WebhookSignatureError('format', 'signature header is missing or too long');
  }
  let timestamp = null;
  const signatures = [];
  for (const part of header.split(',')) {
    const index = part.indexOf('=');
    if (index < 1) throw new WebhookSignatureError('format', 'signature header part is not key=value');
    const key = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    if (key === 't') {
      if (timestamp !== null || !/^\d{1,12}$/.test(value)) {
        throw new WebhookSignatureError('format', 'signature header needs exactly one t=<unix seconds>');
      }
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) {
        throw new WebhookSignatureError('format', 'a v1 signature is not 64 lowercase hex digits');
      }
      signatures.push(value);
    }
  }
  if (timestamp === null) throw new WebhookSignatureError('format', 'signature header has no t=<unix seconds>');
  if (signatures.length === 0) throw new WebhookSignatureError('format', 'signature header has no v1 signature');
  return { timestamp, signatures };
}

/**
 * Verify a delivery; returns the signed timestamp or throws {@link WebhookSignatureError}.
 * @param {{header: string, body: string|Uint8Array, secrets: string|Uint8Array|Array<string|Uint8Array>,
 *   toleranceSeconds?: number, now?: number}} options `now` in unix seconds (default: wall clock)
 * @returns {number}
 */
export function verifyWebhookSignature({ header, body, secrets, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now }) {
  const keys = Array.isArray(secrets) ? secrets : [secrets];
  if (keys.length === 0 || keys.some((key) => key == null || key.length === 0)) {
    throw new TypeError('verifyWebhookSignature needs at least one non-empty secret');
  }
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new TypeError('body must be the raw request body (string or Buffer), not parsed JSON');
  }
  const { timestamp, signatures } = parseSignatureHeader(header);
  const current = now ?? Math.floor(Date.now() / 1000);
  const age = current - timestamp;
  if (age > toleranceSeconds) {
    throw new WebhookSignatureError('timestamp', `signature timestamp is ${age} s old (tolerance ${toleranceSeconds} s)`);
  }
  if (-age > toleranceSeconds) {
    throw new WebhookSignatureError('timestamp', `signature timestamp is ${-age} s in the future (tolerance ${toleranceSeconds} s)`);
  }
  const candidates = signatures.map((hex) => Buffer.from(hex, 'hex'));
  let matched = false;
  for (const key of keys) {
    const expected = Buffer.from(signWebhook(key, timestamp, body), 'hex');
    for (const candidate of candidates) {
      if (timingSafeEqual(expected, candidate)) matched = true;
    }
  }
  if (!matched) throw new WebhookSignatureError('mismatch', 'no v1 signature matches the body under the given secrets');
  return timestamp;
}
