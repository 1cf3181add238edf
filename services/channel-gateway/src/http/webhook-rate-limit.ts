// Rate limits for the public provider webhooks (Twilio SMS today; every channel's webhook takes the same limiter).
//
// Three budgets, per minute, each answered with 429 and Retry-After when spent:
//
// - Per source, all requests (WEBHOOK_RATE_LIMIT_PER_SOURCE): checked first, before the body is read or anything
//   else is done, so a flood costs a map lookup per request. Generous on purpose: in production every tenant's
//   deliveries arrive from the provider's few shared sending addresses, so this is a bound on one address's load,
//   not a per-tenant quota (that is the channel budget below).
// - Per source, failures (WEBHOOK_FAILURE_LIMIT_PER_SOURCE): strict. Every request answered with a 4xx of its
//   own (unknown or malformed key, missing or bad signature, wrong method, type or body, inactive channel) costs
//   its source a point; once they are spent the source gets 429 at the door, right after the general check and
//   before the body, the channel lookup or the signature check, so key enumeration and signature guessing stop at
//   N attempts a minute. Each request whose signature verifies earns its source a point of credit (at most one
//   budget's worth, gone with the window): a minority of failures among real deliveries from a provider's shared
//   address (one tenant's stale auth token, a number still pointing at a deleted channel) does not cut that
//   address off for every other tenant. Credit takes valid signatures, each charged to the general and the
//   channel budget, so a source buys at most one failure per real delivery. Requests are charged when they fail,
//   not on arrival (that would count a legitimate concurrent burst as failures): a burst already admitted can
//   overshoot the budget by its own size, within the general limit. Our own errors (5xx) cost nothing.
// - Per channel key (WEBHOOK_RATE_LIMIT_PER_CHANNEL): charged only for requests whose signature verified, i.e.
//   that come from the provider account holding the channel's auth token. Unsigned or forged floods to a known
//   key cannot spend a tenant's budget and cause its real deliveries to be refused; they spend their own
//   source's failure budget instead.
//
// The counters are in process memory (rate-limiter-flexible's RateLimiterMemory): with N gateway replicas behind
// a load balancer the effective limit is N times the configured one. If that matters, the follow-up is a shared
// store (rate-limiter-flexible's RateLimiterPostgres, or a NATS KV bucket), at the price of a round trip per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Counter } from 'prom-client';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

const rateLimited = new Counter({
  name: 'domiq_webhook_rate_limited_total',
  help: 'Provider webhook requests refused with 429, by limit (source: all requests per source; failures: per source, once its failed requests are spent; channel: verified requests per channel key)',
  labelNames: ['scope'],
});

export interface WebhookRateLimitOptions {
  /** Requests per minute from one client address (an IPv6 client counts by its /64), whatever their outcome. */
  perSourcePerMinute: number;
  /** Failed requests (4xx) per minute from one client address, net of the credit its verified requests earn. */
  failuresPerSourcePerMinute: number;
  /** Verified requests per minute to one channel key, whoever sends them. */
  perChannelPerMinute: number;
  /**
   * Reverse proxies in front of the gateway that append to X-Forwarded-For (0: none, the socket's peer is the
   * client and X-Forwarded-For is ignored, since anyone can send it).
   */
  trustProxyHops: number;
}

export type RateLimitScope = 'source' | 'failures' | 'channel';

export interface RateLimitRefusal {
  allowed: false;
  scope: RateLimitScope;
  key: string;
  retryAfterSeconds: number;
  /** The first refusal of this key in this window (log that one, not the flood behind it). */
  firstInWindow: boolean;
}

export type RateLimitDecision = { allowed: true } | RateLimitRefusal;

/** Admitted: `source` is the key the request was counted under, for `failed` or `verified` later. */
export type SourceDecision = { allowed: true; source: string } | RateLimitRefusal;

/**
 * The key a client address is counted under: an IPv4 address as is (also when written as IPv4-mapped IPv6),
 * an IPv6 address by its /64 in RFC 5952 form (one host usually holds a whole /64, so counting single addresses
 * is no limit). Anything else is counted as the text it is.
 */
export function sourceKey(address: string): string {
  const text = address.trim();
  if (isIP(text) === 4) return text;
  if (isIP(text.split('%')[0]!) !== 6 || !ipaddr.IPv6.isValid(text)) return text || 'unknown';
  const parsed = ipaddr.IPv6.parse(text);
  if (parsed.isIPv4MappedAddress()) return parsed.toIPv4Address().toString();
  return `${new ipaddr.IPv6([...parsed.parts.slice(0, 4), 0, 0, 0, 0]).toRFC5952String()}/64`;
}

/**
 * The client's address: the socket's peer, or with `trustProxyHops` = n > 0 the address the n-th trusted proxy
 * saw, i.e. the n-th entry of X-Forwarded-For counted from the right (entries further left are the client's
 * own claims and are not trusted). A list shorter than that yields its leftmost entry.
 */
export function clientAddress(req: IncomingMessage, trustProxyHops: number): string {
  const peer = req.socket.remoteAddress ?? '';
  if (trustProxyHops <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) return peer;
  const candidate = entries[Math.max(0, entries.length - trustProxyHops)]!;
  // "[2001:db8::1]:4711" and "192.0.2.1:4711" both occur in the wild.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(candidate);
  if (bracketed) return bracketed[1]!;
  const withPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(candidate);
  return withPort ? withPort[1]! : candidate;
}

export class WebhookRateLimiter {
  readonly options: WebhookRateLimitOptions;
  readonly #bySource: RateLimiterMemory;
  readonly #failures: RateLimiterMemory;
  readonly #byChannel: RateLimiterMemory;

  constructor(options: WebhookRateLimitOptions) {
    const { perSourcePerMinute, failuresPerSourcePerMinute, perChannelPerMinute } = options;
    for (const [name, value] of Object.entries({ perSourcePerMinute, failuresPerSourcePerMinute, perChannelPerMinute })) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
    }
    this.options = options;
    this.#bySource = new RateLimiterMemory({ keyPrefix: 'webhook-source', points: perSourcePerMinute, duration: 60 });
    this.#failures = new RateLimiterMemory({ keyPrefix: 'webhook-failures', points: failuresPerSourcePerMinute, duration: 60 });
    this.#byChannel = new RateLimiterMemory({ keyPrefix: 'webhook-channel', points: perChannelPerMinute, duration: 60 });
  }

  /**
   * Admits one request from the client of `req` (call it first, before anything else is done): counts it against
   * its source's general limit, and refuses it if the source's failure budget is spent. An admitted request should
   * end in `failed` (a 4xx of its own) or `verified` (a valid signature), with the returned `source`.
   */
  async checkSource(req: IncomingMessage): Promise<SourceDecision> {
    const source = sourceKey(clientAddress(req, this.options.trustProxyHops));
    const general = await this.#consume(this.#bySource, source, 'source', this.options.perSourcePerMinute);
    if (!general.allowed) return general;
    const limit = this.options.failuresPerSourcePerMinute;
    if (((await this.#failures.get(source))?.consumedPoints ?? 0) < limit) return { allowed: true, source };
    // Spent: the refusal is counted too, so that the first one of the window is the one at limit + 1.
    const refused = await this.#consume(this.#failures, source, 'failures', limit);
    return refused.allowed ? { allowed: true, source } : refused;
  }

  /** The request admitted under `source` failed (4xx): one point of the source's failure budget. */
  async failed(source: string): Promise<void> {
    await this.#failures.penalty(source, 1);
  }

  /** The request admitted under `source` carried a valid signature: one point of credit, up to one budget's worth. */
  async verified(source: string): Promise<void> {
    const limit = this.options.failuresPerSourcePerMinute;
    if (((await this.#failures.get(source))?.consumedPoints ?? 0) > -limit) await this.#failures.reward(source, 1);
  }

  /**
   * Counts one verified request to a channel key (call it only once the signature has verified, so that nobody
   * without the channel's credentials can spend its budget). `provider` keeps one provider's traffic from
   * starving another's channel of the same key.
   */
  checkChannel(provider: string, channelKey: string): Promise<RateLimitDecision> {
    return this.#consume(this.#byChannel, `${provider}|${channelKey}`, 'channel', this.options.perChannelPerMinute);
  }

  async #consume(limiter: RateLimiterMemory, key: string, scope: RateLimitScope, points: number): Promise<RateLimitDecision> {
    try {
      await limiter.consume(key);
      return { allowed: true };
    } catch (rejection) {
      // The memory limiter rejects with a RateLimiterRes when the points are spent; anything else is a bug.
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      rateLimited.inc({ scope });
      return {
        allowed: false, scope, key,
        retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
        firstInWindow: rejection.consumedPoints === points + 1,
      };
    }
  }
}

/** `429 Too Many Requests` with Retry-After (whole seconds, rounded up) and a short JSON body. */
export function sendTooManyRequests(res: ServerResponse, decision: RateLimitRefusal): void {
  const text = JSON.stringify({ error: 'too many requests', retry_after_seconds: decision.retryAfterSeconds });
  res.writeHead(429, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'retry-after': String(decision.retryAfterSeconds),
  });
  res.end(text);
}
