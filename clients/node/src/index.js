/** Public entry point of `@trastpay/client`. */
export { TrastpayClient, API_PREFIX } from './client.js';
export { TrastpayError, ReauthRequired, WebhookSignatureError } from './errors.js';
export {
  verifyWebhookSignature, parseSignatureHeader, signWebhook, SIGNATURE_HEADER, DEFAULT_TOLERANCE_SECONDS,
} from './webhooks.js';
export { formatMinor, parseAmount, sumMinor, assertMinor, currencyExponent } from './money.js';
