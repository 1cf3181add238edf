import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, sourceKey, WebhookRateLimiter } from '../src/http/webhook-rate-limit.ts';

function request(remoteAddress: string, forwardedFor?: string | string[]): IncomingMessage {
  return { socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }, url: '/webhooks/twilio/acme-sms' } as unknown as IncomingMessage;
}

describe('webhook client address', () => {
  it('is the socket peer by default, whatever X-Forwarded-For claims', () => {
    expect(clientAddress(request('198.51.100.7', '203.0.113.1'), 0)).toBe('198.51.100.7');
  });

  it('with trusted proxies, is the entry the outermost trusted proxy saw, counted from the right', () => {
    // client -> proxy A (appends client) -> proxy B (appends A) -> gateway; the client may prepend anything.
    const req = request('10.0.0.2', 'spoofed-by-client, 203.0.113.9, 10.0.0.1');
    expect(clientAddress(req, 1)).toBe('10.0.0.1');
    expect(clientAddress(req, 2)).toBe('203.0.113.9');
    // More hops configured than entries: the leftmost.
    expect(clientAddress(request('10.0.0.2', '203.0.113.9'), 3)).toBe('203.0.113.9');
    // No header: the peer.
    expect(clientAddress(request('10.0.0.2'), 1)).toBe('10.0.0.2');
    // Repeated headers are one list; ports and brackets are dropped.
    expect(clientAddress(request('10.0.0.2', ['203.0.113.5:4711', '10.0.0.1']), 2)).toBe('203.0.113.5');
    expect(clientAddress(request('10.0.0.2', '[2001:db8::1]:4711'), 1)).toBe('2001:db8::1');
  });

  it('counts IPv4 as is (also IPv4-mapped IPv6) and IPv6 by its /64, in RFC 5952 form', () => {
    expect(sourceKey('203.0.113.9')).toBe('203.0.113.9');
    expect(sourceKey(' 203.0.113.9 ')).toBe('203.0.113.9');
    expect(sourceKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(sourceKey('::FFFF:cb00:7109')).toBe('203.0.113.9');
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0db8:0001:0002::')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8::/64');
    expect(sourceKey('2001:db8:0:0:1::1')).toBe('2001:db8::/64');
    expect(sourceKey('::1')).toBe('::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80::/64');
    // NAT64 and IPv4-compatible forms are IPv6 addresses like any other.
    expect(sourceKey('64:ff9b::203.0.113.9')).toBe('64:ff9b::/64');
    // Not addresses: counted as the text they are (Node's strict parser decides, not ipaddr.js's lenient IPv4 one).
    expect(sourceKey('not-an-address')).toBe('not-an-address');
    expect(sourceKey('127.1')).toBe('127.1');
    expect(sourceKey('1::2::3')).toBe('1::2::3');
    expect(sourceKey('')).toBe('unknown');
  });
});

describe('WebhookRateLimiter', () => {
  it('allows the configured requests per minute per source, then refuses with a whole-second Retry-After', async () => {
    const limiter = new WebhookRateLimiter({ perSourcePerMinute: 3, failuresPerSourcePerMinute: 100, perChannelPerMinute: 100, trustProxyHops: 0 });
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push(await limiter.checkSource(request('198.51.100.7')));
    expect(decisions.slice(0, 3).every((d) => d.allowed)).toBe(true);
    const refused = decisions.slice(3);
    for (const d of refused) {
      expect(d).toMatchObject({ allowed: false, scope: 'source', key: '198.51.100.7' });
      if (!d.allowed) expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(59);
      if (!d.allowed) expect(d.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
    // Only the first refusal of the window is flagged for logging.
    expect(refused.map((d) => !d.allowed && d.firstInWindow)).toEqual([true, false, false]);
    // Another source, and the same host's other IPv6 /64, are unaffected.
    expect((await limiter.checkSource(request('198.51.100.8'))).allowed).toBe(true);
  });

  it('counts an IPv6 client by its /64 and ignores a spoofed X-Forwarded-For without trusted proxies', async () => {
    const limiter = new WebhookRateLimiter({ perSourcePerMinute: 2, failuresPerSourcePerMinute: 100, perChannelPerMinute: 100, trustProxyHops: 0 });
    expect((await limiter.checkSource(request('2001:db8:1:2::1', '203.0.113.1'))).allowed).toBe(true);
    expect((await limiter.checkSource(request('2001:db8:1:2::2', '203.0.113.2'))).allowed).toBe(true);
    expect((await limiter.checkSource(request('2001:db8:1:2::3', '203.0.113.3'))).allowed).toBe(false);
    expect((await limiter.checkSource(request('2001:db8:1:3::1'))).allowed).toBe(true);
  });

  it('limits per channel key and provider, across sources', async () => {
    const limiter = new WebhookRateLimiter({ perSourcePerMinute: 100, failuresPerSourcePerMinute: 100, perChannelPerMinute: 2, trustProxyHops: 0 });
    expect((await limiter.checkChannel('twilio', 'acme-sms')).allowed).toBe(true);
    expect((await limiter.checkChannel('twilio', 'acme-sms')).allowed).toBe(true);
    expect(await limiter.checkChannel('twilio', 'acme-sms')).toMatchObject({ allowed: false, scope: 'channel', key: 'twilio|acme-sms' });
    expect((await limiter.checkChannel('twilio', 'other-sms')).allowed).toBe(true);
    expect((await limiter.checkChannel('meta', 'acme-sms')).allowed).toBe(true);
  });

  it('refuses a source once its failed requests are spent, before anything else, and only that source', async () => {
    const limiter = new WebhookRateLimiter({ perSourcePerMinute: 100, failuresPerSourcePerMinute: 3, perChannelPerMinute: 100, trustProxyHops: 0 });
    for (let i = 0; i < 3; i++) {
      const admitted = await limiter.checkSource(request('198.51.100.7'));
      expect(admitted).toEqual({ allowed: true, source: '198.51.100.7' });
      if (admitted.allowed) await limiter.failed(admitted.source);
    }
    const refused = [await limiter.checkSource(request('198.51.100.7')), await limiter.checkSource(request('198.51.100.7'))];
    expect(refused).toMatchObject([{ allowed: false, scope: 'failures', key: '198.51.100.7', firstInWindow: true }, { allowed: false, scope: 'failures', firstInWindow: false }]);
    if (!refused[0]!.allowed) expect(refused[0]!.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect((await limiter.checkSource(request('198.51.100.8'))).allowed).toBe(true);
  });

  it('admits requests that have not failed (yet), however many are in flight at once', async () => {
    const limiter = new WebhookRateLimiter({ perSourcePerMinute: 100, failuresPerSourcePerMinute: 3, perChannelPerMinute: 100, trustProxyHops: 0 });
    const burst = await Promise.all(Array.from({ length: 20 }, () => limiter.checkSource(request('198.51.100.9'))));
    expect(burst.every((d) => d.allowed)).toBe(true);
  });

  it('credits each verified request with one failure, up to one budget\'s worth', async () => {
    const limiter = new WebhookRateLimiter({ perSourcePerMinute: 1000, failuresPerSourcePerMinute: 3, perChannelPerMinute: 100, trustProxyHops: 0 });
    const from = request('203.0.113.50');
    // Ten verified deliveries: the credit stops at 3.
    for (let i = 0; i < 10; i++) {
      const decision = await limiter.checkSource(from);
      expect(decision.allowed).toBe(true);
      if (decision.allowed) await limiter.verified(decision.source);
    }
    // Twice the budget in failures (3 of credit + 3), then refused.
    for (let i = 0; i < 6; i++) {
      const decision = await limiter.checkSource(from);
      expect(decision.allowed, `failure ${i}`).toBe(true);
      if (decision.allowed) await limiter.failed(decision.source);
    }
    expect(await limiter.checkSource(from)).toMatchObject({ allowed: false, scope: 'failures', key: '203.0.113.50', firstInWindow: true });
  });

  it('keeps admitting a shared address whose failures are offset by verified deliveries, not one that only fails', async () => {
    const limiter = new WebhookRateLimiter({ perSourcePerMinute: 1000, failuresPerSourcePerMinute: 3, perChannelPerMinute: 100, trustProxyHops: 0 });
    // A provider address: one tenant's broken deliveries between other tenants' good ones, 30 times over.
    for (let i = 0; i < 30; i++) {
      for (const outcome of ['verified', 'failed', 'verified'] as const) {
        const decision = await limiter.checkSource(request('203.0.113.60'));
        expect(decision.allowed, `${i} ${outcome}`).toBe(true);
        if (decision.allowed) await (outcome === 'verified' ? limiter.verified(decision.source) : limiter.failed(decision.source));
      }
    }
    // A source that only fails is cut off after its budget.
    for (let i = 0; i < 10; i++) {
      const decision = await limiter.checkSource(request('203.0.113.61'));
      if (i < 3) expect(decision.allowed).toBe(true);
      else expect(decision).toMatchObject({ allowed: false, scope: 'failures' });
      if (decision.allowed) await limiter.failed(decision.source);
    }
  });

  it('refuses on the general per-source limit first', async () => {
    const limiter = new WebhookRateLimiter({ perSourcePerMinute: 2, failuresPerSourcePerMinute: 5, perChannelPerMinute: 100, trustProxyHops: 0 });
    expect((await limiter.checkSource(request('203.0.113.80'))).allowed).toBe(true);
    expect((await limiter.checkSource(request('203.0.113.80'))).allowed).toBe(true);
    expect(await limiter.checkSource(request('203.0.113.80'))).toMatchObject({ allowed: false, scope: 'source', firstInWindow: true });
    expect(await limiter.checkSource(request('203.0.113.80'))).toMatchObject({ allowed: false, scope: 'source', firstInWindow: false });
  });

  it('refuses nonsensical limits', () => {
    expect(() => new WebhookRateLimiter({ perSourcePerMinute: 0, failuresPerSourcePerMinute: 1, perChannelPerMinute: 1, trustProxyHops: 0 })).toThrow(/perSourcePerMinute/);
    expect(() => new WebhookRateLimiter({ perSourcePerMinute: 1, failuresPerSourcePerMinute: 0, perChannelPerMinute: 1, trustProxyHops: 0 })).toThrow(/failuresPerSourcePerMinute/);
    expect(() => new WebhookRateLimiter({ perSourcePerMinute: 1, failuresPerSourcePerMinute: 1, perChannelPerMinute: 1.5, trustProxyHops: 0 })).toThrow(/perChannelPerMinute/);
  });
});
