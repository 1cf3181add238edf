// What can go wrong talking to ResMan, split by what the caller should do about it.

/** Base of every ResMan failure; `retryable` tells the retry policy and the queue worker what to do. */
export class ResmanError extends Error {
  override name = 'ResmanError';
  readonly method: string;
  readonly retryable: boolean;
  readonly code: string;
  constructor(method: string, message: string, opts: { retryable: boolean; code: string }) {
    super(`${method}: ${message}`);
    this.method = method;
    this.retryable = opts.retryable;
    this.code = opts.code;
  }
}

/** HTTP 401: wrong partner id / key, or a method the partner is not entitled to. Retrying cannot help. */
export class ResmanAuthError extends ResmanError {
  override name = 'ResmanAuthError';
  constructor(method: string, description: string) {
    super(method, `authentication failed: ${description}`, { retryable: false, code: 'auth' });
  }
}

/** HTTP 200 with Status Error/Failed: ResMan understood and refused (e.g. "Transaction Source could not be found"). */
export class ResmanApiError extends ResmanError {
  override name = 'ResmanApiError';
  readonly description: string;
  readonly status: string;
  constructor(method: string, status: string, description: string) {
    super(method, `${status}: ${description}`, { retryable: false, code: 'rejected' });
    this.status = status;
    this.description = description;
  }
}

/**
 * The integration's base_url points where we may not connect (DOMIQ_ALLOWED_TARGETS, @domiq/outbound): checked
 * on every new connection, so a host re-pointed at a private address after it was saved lands here. Permanent.
 */
export class ResmanTargetRefusedError extends ResmanError {
  override name = 'ResmanTargetRefusedError';
  readonly reason: string;
  constructor(method: string, reason: string) {
    super(method, `base_url refused: ${reason}`, { retryable: false, code: 'target_refused' });
    this.reason = reason;
  }
}

/** Timeouts, 5xx, 429, cut connections and bodies that do not parse: worth another try after a pause. */
export class ResmanTransientError extends ResmanError {
  override name = 'ResmanTransientError';
  readonly retryAfterMs: number | null;
  constructor(method: string, message: string, opts: { code: string; retryAfterMs?: number | null }) {
    super(method, message, { retryable: true, code: opts.code });
    this.retryAfterMs = opts.retryAfterMs ?? null;
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof ResmanError ? err.retryable : false;
}

/** ResMan refused for good (or may never be called at that address): sending the same thing again cannot help. */
export function isPermanent(err: unknown): err is ResmanError {
  return err instanceof ResmanError && !err.retryable;
}
