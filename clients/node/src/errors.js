/**
 * Error types of the Trastpay client. Every API failure is a {@link TrastpayError} carrying the
 * HTTP status and the RFC 9457 problem body, so callers can branch on `status` or `problemType`.
 */

export class TrastpayError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number, problem?: any, requestId?: string|null, cause?: unknown}} [details]
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TrastpayError';
    /** @type {number|undefined} */
    this.status = details.status;
    /** @type {any} */
    this.problem = details.problem;
    /** @type {string|null} */
    this.requestId = details.requestId ?? null;
  }

  /** The problem slug (`token-expired`, `rate-limited`, ...) or null when the body had none. */
  get problemType() {
    const type = this.problem && typeof this.problem.type === 'string' ? this.problem.type : '';
    const slug = type.split('/problems/')[1];
    return slug ?? null;
  }
}

/** The session cannot continue: log in again (refresh token reused, revoked, expired or missing). */
export class ReauthRequired extends TrastpayError {
  constructor(message, details = {}) {
    super(message, details);
    this.name = 'ReauthRequired';
  }
}

/** A webhook signature header failed verification; `reason` is `format`, `timestamp` or `mismatch`. */
export class WebhookSignatureError extends Error {
  /**
   * @param {'format'|'timestamp'|'mismatch'} reason
   * @param {string} message
   */
  constructor(reason, message) {
    super(message);
    this.name = 'WebhookSignatureError';
    this.reason = reason;
  }
}
