// Per-source and per-channel rate limits for the public provider webhooks (Twilio SMS today; every channel's
// webhook takes the same limiter). Checked before the body is read, before any database work and before the
// signature is verified, so a flood costs a map lookup per request.
//
// The counters are in process memory (rate-limiter-flexible's RateLimiterMemory): with N gateway replicas behind
// a load balancer the effective limit is N times the configured one. If that matters, the follow-up is a shared
// store (rate-limiter-flexible's RateLimiterPostgres, or a NATS KV bucket), at the price of a round trip per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { Counter } from 'prom-client';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

const rateLimited = new Counter({
  name: 'domiq_webhook_rate_limited_total',
  help: 'Provider webhook requests refused with 429, by limit (source or channel)',
  labelNames: ['scope'],
});

export interface WebhookRateLimitOptions {
  /** Requests per minute from one client address (an IPv6 client counts by its /64). */
  perSourcePerMinute: number;
  /** Requests per minute to one channel key, whoever sends them. */
  perChannelPerMinute: number;
  /**
   * Reverse proxies in front of the gateway that append to X-Forwarded-For (0: none, the socket's peer is the
   * client and X-Forwarded-For is ignored, since anyone can send it).
   */
  trustProxyHops: number;
}

export type RateLimitDecision =
  | { allowed: true }
  /** `firstInWindow`: the first refusal of this key in this window (log that one, not the flood behind it). */
  | { allowed: false; scope: 'source' | 'channel'; key: string; retryAfterSeconds: number; firstInWindow: boolean };

/** Expands an IPv6 address to its eight groups (numbers); undefined if it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0]!.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail].map((g) => Number.parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The key a client address is counted under: an IPv4 address as is (also when written as IPv4-mapped IPv6),
 * an IPv6 address by its /64 (one host usually holds a whole /64, so counting single addresses is no limit).
 */
export function sourceKey(address: string): string {
  const text = address.trim();
  if (isIP(text) === 4) return text;
  const groups = isIP(text.split('%')[0]!) === 6 ? ipv6Groups(text) : undefined;
  if (!groups) return text || 'unknown';
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
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
  readonly #byChannel: RateLimiterMemory;

  constructor(options: WebhookRateLimitOptions) {
    for (const [name, value] of Object.entries({ perSourcePerMinute: options.perSourcePerMinute, perChannelPerMinute: options.perChannelPerMinute })) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
    }
    this.options = options;
    this.#bySource = new RateLimiterMemory({ keyPrefix: 'webhook-source', points: options.perSourcePerMinute, duration: 60 });
    this.#byChannel = new RateLimiterMemory({ keyPrefix: 'webhook-channel', points: options.perChannelPerMinute, duration: 60 });
  }

  /** Counts one request from the client of `req` (call it first, before anything else is done). */
  checkSource(req: IncomingMessage): Promise<RateLimitDecision> {
    return this.#consume(this.#bySource, sourceKey(clientAddress(req, this.options.trustProxyHops)), 'source', this.options.perSourcePerMinute);
  }

  /**
   * Counts one request to a channel key (a syntactically valid one: garbage keys are refused without a counter,
   * so they cannot fill memory). `provider` keeps one provider's flood from starving another's channel of the same key.
   */
  checkChannel(provider: string, channelKey: string): Promise<RateLimitDecision> {
    return this.#consume(this.#byChannel, `${provider}|${channelKey}`, 'channel', this.options.perChannelPerMinute);
  }

  async #consume(limiter: RateLimiterMemory, key: string, scope: 'source' | 'channel', points: number): Promise<RateLimitDecision> {
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
export function sendTooManyRequests(res: ServerResponse, decision: Extract<RateLimitDecision, { allowed: false }>): void {
  const text = JSON.stringify({ error: 'too many requests', retry_after_seconds: decision.retryAfterSeconds });
  res.writeHead(429, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'retry-after': String(decision.retryAfterSeconds),
  });
  res.end(text);
}
