// ResMan's legacy partner API (RESMAN.md): form-encoded POST {base_url}/{Controller}/{Method} with the
// credentials in the body, JSON envelope back. One request at a time per ResMan account, a per-request
// timeout, retries with exponential backoff for transient failures and a circuit breaker per account.
import {
  BrokenCircuitError, ConsecutiveBreaker, DelegateBackoff, circuitBreaker, handleWhen, retry,
  type CircuitBreakerPolicy, type IRetryBackoffContext, type RetryPolicy,
} from 'cockatiel';
import type { Logger } from '@domiq/logging';
import { OutboundTargetRefusedError, type OutboundAnswer, type OutboundGuard } from '@domiq/outbound';
import { KeyedQueue } from './keyed-queue.ts';
import { parsePostLeadResponse, parseSearchProspects, MitsResponseError, type ResmanProspect } from './mits.ts';
import { ResmanApiError, ResmanAuthError, ResmanError, ResmanTargetRefusedError, ResmanTransientError } from './resman.errors.ts';

export interface ResmanCredentials {
  integrationPartnerId: string;
  apiKey: string;
}

export interface ResmanTarget {
  baseUrl: string;
  accountId: number;
  propertyId: string;
  credentials: ResmanCredentials;
}

export interface ResmanConnectionOptions {
  /** Per-request timeout (RESMAN_TIMEOUT_MS). */
  timeoutMs: number;
  /** Every request goes through it: base_url must be an https public address unless DOMIQ_ALLOWED_TARGETS allows it. */
  outbound: OutboundGuard;
  /** Attempts per call, the first included. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Consecutive transient failures that open an account's circuit, and how long it stays open. */
  breakerThreshold?: number;
  breakerHalfOpenMs?: number;
  logger?: Logger;
}

export type ResmanEnvelope = Record<string, unknown>;

export type SearchCriteria =
  | { ProspectID: string }
  | { Phone: string }
  | { Email: string }
  | { FirstName: string; LastName: string };

const MAX_RETRY_AFTER_MS = 30_000;

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/**
 * Connection state shared by every integration that talks to the same ResMan account: its request lane
 * and its circuit breaker. One per process.
 */
export class ResmanConnections {
  readonly #opts: Required<Omit<ResmanConnectionOptions, 'logger' | 'outbound'>> & { logger: Logger | undefined; outbound: OutboundGuard };
  readonly #lanes = new KeyedQueue();
  readonly #breakers = new Map<string, CircuitBreakerPolicy>();
  readonly #retry: RetryPolicy;

  constructor(opts: ResmanConnectionOptions) {
    this.#opts = {
      timeoutMs: opts.timeoutMs,
      outbound: opts.outbound,
      maxAttempts: opts.maxAttempts ?? 4,
      initialBackoffMs: opts.initialBackoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 5_000,
      breakerThreshold: opts.breakerThreshold ?? 5,
      breakerHalfOpenMs: opts.breakerHalfOpenMs ?? 10_000,
      logger: opts.logger,
    };
    const { initialBackoffMs, maxBackoffMs } = this.#opts;
    // Exponential with jitter, or the server's Retry-After on a 429 when it gave one.
    const backoff = new DelegateBackoff<IRetryBackoffContext<unknown>>((ctx) => {
      const err = 'error' in ctx.result ? ctx.result.error : undefined;
      if (err instanceof ResmanTransientError && err.retryAfterMs !== null) return Math.min(err.retryAfterMs, MAX_RETRY_AFTER_MS);
      const ceiling = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (ctx.attempt - 1));
      return ceiling / 2 + Math.random() * (ceiling / 2);
    });
    // An open circuit is not retried here: the lead-sync queue puts the push off (without spending a retry).
    this.#retry = retry(handleWhen((err) => err instanceof ResmanTransientError && err.code !== 'circuit_open'), {
      maxAttempts: this.#opts.maxAttempts - 1,
      backoff,
    });
    this.#retry.onRetry((event) => {
      const reason = 'error' in event ? event.error.message : 'unexpected result';
      this.#opts.logger?.warn({ reason, attempt: event.attempt, delay_ms: Math.round(event.delay) }, 'resman call failed, retrying');
    });
  }

  client(target: ResmanTarget): ResmanClient {
    const key = `${target.baseUrl}|${target.accountId}`;
    let breaker = this.#breakers.get(key);
    if (!breaker) {
      breaker = circuitBreaker(handleWhen((err) => err instanceof ResmanTransientError), {
        halfOpenAfter: this.#opts.breakerHalfOpenMs,
        breaker: new ConsecutiveBreaker(this.#opts.breakerThreshold),
      });
      breaker.onBreak(() => this.#opts.logger?.warn({ resman_account_id: target.accountId }, 'resman circuit opened'));
      breaker.onReset(() => this.#opts.logger?.info({ resman_account_id: target.accountId }, 'resman circuit closed'));
      this.#breakers.set(key, breaker);
    }
    return new ResmanClient(target, {
      lane: <T>(task: () => Promise<T>) => this.#lanes.run(key, task),
      breaker,
      retry: this.#retry,
      timeoutMs: this.#opts.timeoutMs,
      outbound: this.#opts.outbound,
      logger: this.#opts.logger,
    });
  }
}

interface ClientWiring {
  lane<T>(task: () => Promise<T>): Promise<T>;
  breaker: CircuitBreakerPolicy;
  retry: RetryPolicy;
  timeoutMs: number;
  outbound: OutboundGuard;
  logger: Logger | undefined;
}

/** One integration's view of ResMan. Never logs or returns the API key. */
export class ResmanClient {
  readonly #target: ResmanTarget;
  readonly #wiring: ClientWiring;

  constructor(target: ResmanTarget, wiring: ClientWiring) {
    this.#target = target;
    this.#wiring = wiring;
  }

  /** Runs `fn` under the retry policy; for a unit (check, then write) that is only safe to repeat as a whole. */
  retrying<T>(fn: (attempt: number) => Promise<T>): Promise<T> {
    return this.#wiring.retry.execute((ctx) => fn(ctx.attempt));
  }

  /** One legacy API call; retried on transient failures unless `retry` is false. Resolves to a Success envelope. */
  call(method: string, fields: Record<string, string>, opts: { retry?: boolean } = {}): Promise<ResmanEnvelope> {
    const once = () => this.#once(method, fields);
    return opts.retry === false ? once() : this.retrying(once);
  }

  async searchProspects(criteria: SearchCriteria, opts: { retry?: boolean } = {}): Promise<ResmanProspect[]> {
    const envelope = await this.call('MITS/SearchProspects', { ...criteria }, opts);
    return this.#read('MITS/SearchProspects', () => parseSearchProspects(envelope));
  }

  /**
   * Posts one guest card. Never retried on its own: a request that timed out may still have been applied,
   * so callers retry it inside `retrying`, after checking whether ResMan already has it.
   */
  async postLeadManagement(xml: string): Promise<{ prospectId: string; personId: string }> {
    const envelope = await this.#once('MITS/PostLeadManagement4_0', { Xml: xml });
    return this.#read('MITS/PostLeadManagement4_0', () => parsePostLeadResponse(envelope));
  }

  #read<T>(method: string, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (err instanceof MitsResponseError) throw new ResmanTransientError(method, err.message, { code: 'malformed' });
      throw err;
    }
  }

  async #once(method: string, fields: Record<string, string>): Promise<ResmanEnvelope> {
    try {
      return await this.#wiring.breaker.execute(() => this.#wiring.lane(() => this.#post(method, fields)));
    } catch (err) {
      if (err instanceof BrokenCircuitError) throw new ResmanTransientError(method, 'circuit open after repeated failures', { code: 'circuit_open' });
      throw err;
    }
  }

  async #post(method: string, fields: Record<string, string>): Promise<ResmanEnvelope> {
    const { baseUrl, accountId, propertyId, credentials } = this.#target;
    const body = new URLSearchParams({
      IntegrationPartnerID: credentials.integrationPartnerId,
      ApiKey: credentials.apiKey,
      AccountID: String(accountId),
      PropertyID: propertyId,
      ...fields,
    });
    const started = performance.now();
    let res: OutboundAnswer;
    try {
      res = await this.#wiring.outbound.request(`${baseUrl}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: body.toString(),
        signal: AbortSignal.timeout(this.#wiring.timeoutMs),
      });
    } catch (err) {
      if (err instanceof OutboundTargetRefusedError) throw new ResmanTargetRefusedError(method, err.reason);
      const timedOut = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
      throw timedOut
        ? new ResmanTransientError(method, `no answer within ${this.#wiring.timeoutMs} ms`, { code: 'timeout' })
        : new ResmanTransientError(method, `request failed: ${(err as Error).message}`, { code: 'network' });
    }
    const { text } = res;
    this.#wiring.logger?.debug({ method, status: res.status, ms: Math.round(performance.now() - started) }, 'resman call');
    const parsed = parseJson(text);
    const description = typeof parsed?.['ErrorDescription'] === 'string' ? parsed['ErrorDescription'] : text.slice(0, 200);
    if (res.status === 401) throw new ResmanAuthError(method, description);
    if (res.status === 429) {
      throw new ResmanTransientError(method, 'rate limited (HTTP 429)', { code: 'http_429', retryAfterMs: retryAfterMs(res.header('retry-after')) });
    }
    if (res.status >= 500) throw new ResmanTransientError(method, `HTTP ${res.status}: ${text.slice(0, 200)}`, { code: `http_${res.status}` });
    if (res.status !== 200) throw new ResmanError(method, `HTTP ${res.status}: ${description}`, { retryable: false, code: `http_${res.status}` });
    if (parsed === null) throw new ResmanTransientError(method, 'answer is not a JSON envelope', { code: 'malformed' });
    const status = typeof parsed['Status'] === 'string' ? parsed['Status'] : '';
    if (status.toLowerCase() !== 'success') throw new ResmanApiError(method, status || 'Error', description || 'no description');
    return parsed;
  }
}

function parseJson(text: string): ResmanEnvelope | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as ResmanEnvelope) : null;
  } catch {
    return null;
  }
}
