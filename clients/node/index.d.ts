// Type declarations for @trastpay/client (the implementation is plain ESM JavaScript in src/).

export const API_PREFIX: '/api/v1/trastpay';
export const SIGNATURE_HEADER: 'x-trastpay-signature';
export const DEFAULT_TOLERANCE_SECONDS: 300;

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scopes: string[];
}

export interface ClientOptions {
  /** Server root, e.g. `http://127.0.0.1:8765` (the API prefix is added). */
  baseUrl: string;
  /** Sent as `X-Device-Id` on every call; tokens are bound to it. */
  deviceId: string;
  clientId: string;
  /** A stored refresh token to resume a session without a new OTP login. */
  refreshToken?: string;
  /** Receives every new refresh token (login and rotation); awaited before the access token is used. */
  onRotate?: (refreshToken: string) => void | Promise<void>;
  /** Retries for 429, 5xx, network errors and truncated JSON (default 4). */
  maxRetries?: number;
  backoffBaseMs?: number;
  maxBackoffMs?: number;
  /** Upper bound on an honoured Retry-After (default 60 000 ms). */
  maxRetryAfterMs?: number;
  /** Refresh this many seconds before the access token expires (default 60). */
  refreshSkewSeconds?: number;
  timeoutMs?: number;
  consentId?: string;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof globalThis.fetch;
}

export interface ListFilters {
  since?: string;
  until?: string;
  pageSize?: number;
}

export interface StatementQuery {
  cardToken: string;
  from: string;
  to: string;
  rail?: 'UZCARD' | 'HUMO' | 'VISA' | 'MASTERCARD';
  includeCommission?: boolean;
  pageSize?: number;
}

export type Json = any;

export interface MicroloanEligibility {
  eligible: boolean;
  decision_code: 'APPROVED' | 'REJECTED_DTI' | 'REJECTED_SCORE' | 'REJECTED_DAILY_LIMIT' | 'REJECTED_INCOME_MULTIPLE';
  requested_amount_minor: number;
  max_amount_minor: number;
  max_amount: string;
  currency: 'UZS';
  term_months: 12;
  annual_rate: string;
  instalment_minor: number | null;
}

export class TrastpayClient {
  constructor(options: ClientOptions);
  readonly baseUrl: string;
  readonly deviceId: string;
  readonly clientId: string;
  readonly hasSession: boolean;
  requestOtp(phone: string): Promise<{ otp_id: string; expires_in: number }>;
  login(credentials: { phone: string; otp: string; scopes?: string[] }): Promise<TokenPair>;
  refresh(): Promise<void>;
  request(method: string, path: string, options?: { query?: Record<string, string | number | boolean | null | undefined>; body?: unknown }): Promise<Json>;
  list(path: string, filters?: ListFilters): AsyncGenerator<Json>;
  statementPages(query: StatementQuery): AsyncGenerator<{ page: number; items: Json[] }>;
  cards(): Promise<Json[]>;
  microloans(filters?: ListFilters): AsyncGenerator<Json>;
  microloan(loanId: string): Promise<Json>;
  microloanEligibility(amountMinor: number): Promise<MicroloanEligibility>;
  microloanSchedule(loanId: string, filters?: ListFilters): AsyncGenerator<Json>;
  fxConversions(filters?: ListFilters): AsyncGenerator<Json>;
}

export class TrastpayError extends Error {
  constructor(message: string, details?: { status?: number; problem?: unknown; requestId?: string | null; cause?: unknown });
  readonly status: number | undefined;
  readonly problem: any;
  readonly requestId: string | null;
  readonly problemType: string | null;
}

export class ReauthRequired extends TrastpayError {}

export class WebhookSignatureError extends Error {
  constructor(reason: 'format' | 'timestamp' | 'mismatch', message: string);
  readonly reason: 'format' | 'timestamp' | 'mismatch';
}

export function signWebhook(secret: string | Uint8Array, timestamp: number, body: string | Uint8Array): string;
export function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] };
export function verifyWebhookSignature(options: {
  header: string;
  body: string | Uint8Array;
  secrets: string | Uint8Array | Array<string | Uint8Array>;
  toleranceSeconds?: number;
  now?: number;
}): number;

export function currencyExponent(currency: string): number;
export function assertMinor<T extends number | bigint>(value: T, name?: string): T;
export function formatMinor(minor: number | bigint, currency: string): string;
export function parseAmount(text: string, currency: string): number;
export function sumMinor(amounts: Iterable<number | bigint>): number;
