/**
 * TrastpayClient: OTP login, refresh-token rotation, retries and paginated reads.
 *
 * Promises kept:
 * - every request carries `X-Device-Id` (and `Authorization` once logged in);
 * - each new refresh token is handed to `onRotate` and awaited BEFORE the matching access token
 *   is used, so a crash can never lose the only valid refresh token;
 * - a refresh token is sent at most once: it is forgotten the moment it is presented, concurrent
 *   callers share one refresh, and a failed refresh leaves the session needing a new login
 *   ({@link ReauthRequired}) rather than risking a reuse that revokes the whole token family;
 * - the access token is refreshed shortly before it expires and once more on a 401;
 * - 429 waits `Retry-After` seconds, 5xx and network errors back off exponentially (capped).
 */

import { ReauthRequired, TrastpayError } from './errors.js';

export const API_PREFIX = '/api/v1/trastpay';
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const REFRESHABLE_401 = new Set(['token-expired', 'unauthorized']);

/** @param {number} ms */
const defaultSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class TrastpayClient {
  /** @type {string|null} */ #accessToken = null;
  /** @type {string|null} */ #refreshToken = null;
  /** @type {number} */ #accessExpiresAt = 0;
  /** @type {Promise<void>|null} */ #refreshing = null;

  /**
   * @param {import('../index.js').ClientOptions} options
   */
  constructor(options) {
    const { baseUrl, deviceId, clientId } = options ?? {};
    if (typeof baseUrl !== 'string' || !/^https?:\/\//.test(baseUrl)) {
      throw new TypeError(`baseUrl must be an http(s) URL of the server root, got ${JSON.stringify(baseUrl)}`);
    }
    if (typeof deviceId !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(deviceId)) {
      throw new TypeError('deviceId must be 1-128 printable ASCII characters without spaces');
    }
    if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 128) {
      throw new TypeError('clientId must be a non-empty string of at most 128 characters');
    }
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.deviceId = deviceId;
    this.clientId = clientId;
    this.onRotate = options.onRotate ?? null;
    this.maxRetries = options.maxRetries ?? 4;
    this.backoffBaseMs = options.backoffBaseMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 8000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.refreshSkewMs = (options.refreshSkewSeconds ?? 60) * 1000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.consentId = options.consentId ?? null;
    if (options.refreshToken) this.#refreshToken = options.refreshToken;
  }

  /** True while an access token or an unspent refresh token is held. */
  get hasSession() {
    return this.#accessToken !== null || this.#refreshToken !== null;
  }

  // --- auth -------------------------------------------------------------------------------

  /**
   * Ask for a one-time password for a phone (`+998` and nine digits).
   * @param {string} phone
   * @returns {Promise<{otp_id: string, expires_in: number}>}
   */
  async requestOtp(phone) {
    return this.#send('POST', '/auth/otp', { body: { phone }, auth: false });
  }

  /**
   * Log in with the OTP; the new refresh token goes to `onRotate` before this resolves.
   * @param {{phone: string, otp: string, scopes?: string[]}} credentials
   * @returns {Promise<import('../index.js').TokenPair>}
   */
  async login({ phone, otp, scopes }) {
    const body = { phone, otp, device_id: this.deviceId, client_id: this.clientId };
    if (scopes !== undefined) body.scopes = scopes;
    const pair = await this.#send('POST', '/auth/login', { body, auth: false });
    await this.#adopt(pair);
    return pair;
  }

  /**
   * Rotate the refresh token now. Concurrent calls share one request.
   * @returns {Promise<void>}
   */
  async refresh() {
    if (this.#refreshing === null) {
      this.#refreshing = this.#rotate().finally(() => {
        this.#refreshing = null;
      });
    }
    return this.#refreshing;
  }

  async #rotate() {
    const token = this.#refreshToken;
    if (token === null) {
      this.#accessToken = null;
      throw new ReauthRequired('no unspent refresh token: log in again');
    }
    this.#refreshToken = null;
    this.#accessToken = null;
    let pair;
    try {
      pair = await this.#send('POST', '/auth/refresh', {
        body: { refresh_token: token, client_id: this.clientId, device_id: this.deviceId },
        auth: false,
        retries: 0,
      });
    } catch (error) {
      if (error instanceof TrastpayError && (error.status === 401 || error.status === 400)) {
        const why = error.problemType === 'refresh-token-reused'
          ? 'refresh token was already used; the server revoked the whole login'
          : `refresh rejected (${error.problemType ?? error.status})`;
        throw new ReauthRequired(`${why}: log in again`, {
          status: error.status, problem: error.problem, requestId: error.requestId, cause: error,
        });
      }
      throw error;
    }
    await this.#adopt(pair);
  }

  /** @param {import('../index.js').TokenPair} pair */
  async #adopt(pair) {
    if (!pair || typeof pair.access_token !== 'string' || typeof pair.refresh_token !== 'string') {
      throw new TrastpayError('token answer lacks access_token/refresh_token');
    }
    if (this.onRotate) await this.onRotate(pair.refresh_token);
    this.#refreshToken = pair.refresh_token;
    this.#accessToken = pair.access_token;
    this.#accessExpiresAt = Date.now() + Number(pair.expires_in) * 1000;
  }

  async #accessTokenForUse() {
    if (this.#refreshing) await this.#refreshing;
    const stale = this.#accessToken === null || Date.now() >= this.#accessExpiresAt - this.refreshSkewMs;
    if (stale && this.#refreshToken !== null) await this.refresh();
    if (this.#accessToken === null) throw new ReauthRequired('not logged in: call login() first');
    return this.#accessToken;
  }

  // --- transport ----------------------------------------------------------------------------

  /**
   * Call an API path (relative to /api/v1/trastpay) with auth, one refresh on 401 and retries.
   * @param {string} method
   * @param {string} path
   * @param {{query?: Record<string, string|number|boolean|undefined|null>, body?: unknown}} [options]
   * @returns {Promise<any>}
   */
  async request(method, path, { query, body } = {}) {
    let refreshed = false;
    for (;;) {
      const token = await this.#accessTokenForUse();
      try {
        return await this.#send(method, path, { query, body, token });
      } catch (error) {
        const expired = error instanceof TrastpayError && error.status === 401 && !refreshed
          && REFRESHABLE_401.has(error.problemType ?? 'unauthorized');
        if (!expired) throw error;
        refreshed = true;
        if (this.#refreshing) await this.#refreshing;
        else if (this.#accessToken === token) await this.refresh();
      }
    }
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {{query?: object, body?: unknown, token?: string, auth?: boolean, retries?: number}} options
   */
  async #send(method, path, { query, body, token, retries = this.maxRetries }) {
    const url = new URL(API_PREFIX + path, this.baseUrl + '/');
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const headers = { accept: 'application/json', 'x-device-id': this.deviceId };
    if (token) headers.authorization = `Bearer ${token}`;
    if (this.consentId) headers['x-consent-id'] = this.consentId;
    if (body !== undefined) headers['content-type'] = 'application/json';
    for (let attempt = 0; ; attempt += 1) {
      let response;
      try {
        response = await this.fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (cause) {
        if (attempt >= retries) {
          throw new TrastpayError(`${method} ${path}: network error after ${attempt + 1} attempt(s)`, { cause });
        }
        await this.sleep(this.#backoff(attempt));
        continue;
      }
      const requestId = response.headers.get('x-request-id');
      const text = await response.text().catch(() => null);
      if (response.ok) {
        try {
          return text ? JSON.parse(text) : null;
        } catch (cause) {
          if (attempt >= retries) {
            throw new TrastpayError(`${method} ${path}: answer is not valid JSON`, { status: response.status, requestId, cause });
          }
          await this.sleep(this.#backoff(attempt));
          continue;
        }
      }
      if (RETRYABLE_STATUS.has(response.status) && attempt < retries) {
        await this.sleep(this.#retryDelay(response, attempt));
        continue;
      }
      let problem = null;
      try {
        problem = text ? JSON.parse(text) : null;
      } catch {
        problem = null;
      }
      const detail = problem && problem.detail ? `: ${problem.detail}` : '';
      throw new TrastpayError(`${method} ${path} answered ${response.status}${detail}`, {
        status: response.status, problem, requestId,
      });
    }
  }

  /** @param {number} attempt */
  #backoff(attempt) {
    const ceiling = Math.min(this.maxBackoffMs, this.backoffBaseMs * 2 ** attempt);
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  /**
   * @param {Response} response
   * @param {number} attempt
   */
  #retryDelay(response, attempt) {
    const header = response.headers.get('retry-after');
    if (header !== null) {
      let ms = null;
      if (/^\d+$/.test(header.trim())) ms = Number(header.trim()) * 1000;
      else if (!Number.isNaN(Date.parse(header))) ms = Math.max(0, Date.parse(header) - Date.now());
      if (ms !== null) return Math.min(ms, this.maxRetryAfterMs);
    }
    return this.#backoff(attempt);
  }

  // --- reads ------------------------------------------------------------------------------

  /**
   * Every item of a keyset-paginated list endpoint, following `next_page` tokens.
   * @param {string} path
   * @param {{since?: string, until?: string, pageSize?: number}} [filters]
   * @returns {AsyncGenerator<any>}
   */
  async *list(path, { since, until, pageSize } = {}) {
    let pageToken = null;
    do {
      const page = await this.request('GET', path, {
        query: { since, until, page_size: pageSize, page_token: pageToken },
      });
      if (!page || !Array.isArray(page.items)) throw new TrastpayError(`GET ${path}: answer has no items array`);
      yield* page.items;
      pageToken = page.next_page ?? null;
    } while (pageToken !== null);
  }

  /**
   * Pages of `POST /statement` for one card: yields `{page, items}` until `next_page` is null.
   * Pages are 1-based; `from`/`to` are RFC 3339 timestamps or plain dates (Tashkent days, `to` inclusive).
   * @param {{cardToken: string, from: string, to: string, rail?: string, includeCommission?: boolean, pageSize?: number}} options
   * @returns {AsyncGenerator<{page: number, items: any[]}>}
   */
  async *statementPages({ cardToken, from, to, rail, includeCommission, pageSize = 100 }) {
    let page = 1;
    while (page !== null) {
      const body = { card_token: cardToken, from, to, page, page_size: pageSize };
      if (rail !== undefined) body.rail = rail;
      if (includeCommission !== undefined) body.include_commission = includeCommission;
      const answer = await this.request('POST', '/statement', { body });
      if (!answer || !Array.isArray(answer.items)) throw new TrastpayError('POST /statement: answer has no items array');
      yield { page, items: answer.items };
      page = answer.next_page ?? null;
    }
  }

  /** @returns {Promise<any[]>} every linked card */
  async cards() {
    const cards = [];
    for await (const card of this.list('/cards')) cards.push(card);
    return cards;
  }

  /** @param {{since?: string, until?: string, pageSize?: number}} [filters] */
  microloans(filters) {
    return this.list('/microloan', filters);
  }

  /**
   * One microloan with its status (`active`, `closed`, ...).
   * @param {string} loanId
   */
  async microloan(loanId) {
    return this.request('GET', `/microloan/${encodeURIComponent(loanId)}`);
  }

  /**
   * The fast eligibility answer for an online microloan (12 months, up to 50,000,000 UZS): decision
   * code (`APPROVED`, `REJECTED_DAILY_LIMIT`, ...), `max_amount_minor`, `instalment_minor`. No application is made.
   * @param {number} amountMinor amount in tiyin
   */
  async microloanEligibility(amountMinor) {
    return this.request('POST', '/microloan/eligibility', { body: { amount_minor: amountMinor, term_months: 12 } });
  }

  /**
   * The repayment schedule of a loan.
   * @param {string} loanId
   * @param {{since?: string, until?: string, pageSize?: number}} [filters]
   */
  microloanSchedule(loanId, filters) {
    return this.list(`/microloan/${encodeURIComponent(loanId)}/schedule`, filters);
  }

  /** @param {{since?: string, until?: string, pageSize?: number}} [filters] */
  fxConversions(filters) {
    return this.list('/fx/conversions', filters);
  }
}
