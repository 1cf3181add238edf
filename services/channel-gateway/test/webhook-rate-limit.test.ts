import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelGatewayServiceClient } from '@domiq/proto/channel-gateway';
import { expectEventually, isPortOpen, registerTestSecret, startTestStack, type TestStack } from '@domiq/testkit';
import { twilioSignature } from '@domiq/webhook-signatures';
import { accountSid, inboundSms } from './twilio.fixtures.ts';

// The webhook rate limits over real HTTP: per source (all requests), per source (failed requests) and per
// channel (verified requests). Sources are told apart by the socket's address (127.x.y.z: the whole of 127/8 is
// loopback), X-Forwarded-For is not trusted (TRUST_PROXY_HOPS=0). The limiter's state lives in the gateway for
// the whole file, so every test has its own source addresses (127.0.<test>.x) and its own channels.
const PER_SOURCE = 10;
const FAILURES = 3;
const PER_CHANNEL = 8;
const TOKEN = registerTestSecret('9a8b7c6d5e4f30211203f4e5d6c7b8a9', 'Twilio auth token (webhook-rate-limit.test.ts)');
const FORGED_SIGNATURE = 'bm90LWEtcmVhbC1zaWduYXR1cmU=';
const CHANNELS = ['burst-a', 'burst-b', 'limited-sms', 'quiet-sms', 'flooded-sms', 'probe-sms', 'shared-sms'];

let stack: TestStack;
let port: number;
const accountId = crypto.randomUUID();
const propertyId = crypto.randomUUID();
const twilioAccount = accountSid();

interface Answer { status: number; retryAfter: string | undefined; body: string }

/** A signed (with `token`) or unsigned Twilio webhook posted from `localAddress`, optionally with extra headers. */
function post(localAddress: string, channelKey: string, params: Record<string, string>, opts: { token?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const path = `/webhooks/twilio/${channelKey}`;
  const body = new URLSearchParams(params).toString();
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), ...opts.headers };
  if (opts.token) headers['x-twilio-signature'] = twilioSignature(opts.token, `http://127.0.0.1:${port}${path}`, params);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sms = () => inboundSms({ AccountSid: twilioAccount });
const sids = (params: Array<Record<string, string>>) => params.map((p) => p.MessageSid!);
const stored = async (messageSids: string[]) => (await stack.db.query<{ n: number }>(
  `select count(*)::int as n from channel_gateway.inbound_messages where provider_message_id = any($1)`, [messageSids]))[0]!.n;
const outboxed = async (messageSids: string[]) => (await stack.db.query<{ n: number }>(
  `select count(*)::int as n from channel_gateway.event_log where payload->>'providerMessageId' = any($1)`, [messageSids]))[0]!.n;

function expectTooManyRequests(answer: Answer): void {
  expect(answer.status).toBe(429);
  expect(answer.retryAfter).toMatch(/^\d+$/);
  expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
  expect(JSON.parse(answer.body)).toMatchObject({ error: 'too many requests' });
}

const gatewayLines = () => stack.services['channel-gateway']!.lines.map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } });
/** The scopes of the 'webhook rate limit reached' lines logged for `key`. */
const limitLogged = (key: string) => gatewayLines().filter((l) => l.msg === 'webhook rate limit reached' && l.key === key).map((l) => l.scope);
/** One warning per limited key and window, not one per refused request (logging is asynchronous: wait for it). */
const expectLoggedOnce = (scope: string, key: string) => expectEventually(() => expect(limitLogged(key)).toEqual([scope]));

beforeAll(async () => {
  stack = await startTestStack({
    services: ['channel-gateway'],
    env: { WEBHOOK_RATE_LIMIT_PER_SOURCE: String(PER_SOURCE), WEBHOOK_FAILURE_LIMIT_PER_SOURCE: String(FAILURES), WEBHOOK_RATE_LIMIT_PER_CHANNEL: String(PER_CHANNEL) },
  });
  port = stack.ports.gatewayHttp;
  await expectEventually(async () => expect(await isPortOpen(port)).toBe(true));
  const gateway = stack.adminClient(ChannelGatewayServiceClient, 'channel-gateway');
  for (const channelKey of CHANNELS) {
    await gateway.upsertChannel({
      accountId, propertyId, channelKey, type: 'CHANNEL_SMS', name: channelKey, address: '+1 415 555 0100',
      credentials: { $case: 'twilio', value: { accountSid: twilioAccount, authToken: TOKEN } },
    });
  }
});
afterAll(async () => stack?.stop());

describe('webhook rate limits', () => {
  it('answers a burst above the per-source limit with 429 and Retry-After, stores nothing of it, and leaves other sources alone', async () => {
    // Spread over two channels so that only the source limit is reached.
    const burst = Array.from({ length: PER_SOURCE + 4 }, sms);
    const answers = await Promise.all(burst.map((params, i) => post('127.0.1.1', i % 2 ? 'burst-a' : 'burst-b', params, { token: TOKEN })));
    const accepted = burst.filter((_, i) => answers[i]!.status === 200);
    const refused = burst.filter((_, i) => answers[i]!.status !== 200);
    expect(accepted).toHaveLength(PER_SOURCE);
    expect(refused).toHaveLength(4);
    for (const answer of answers.filter((a) => a.status !== 200)) expectTooManyRequests(answer);
    expect(await stored(sids(accepted))).toBe(PER_SOURCE);
    expect(await stored(sids(refused))).toBe(0);
    expect(await outboxed(sids(refused))).toBe(0);

    // The limit comes before the channel lookup and the signature check, and X-Forwarded-For is not believed.
    expectTooManyRequests(await post('127.0.1.1', 'nobody-here', sms(), { token: TOKEN }));
    expectTooManyRequests(await post('127.0.1.1', 'burst-a', sms()));
    const spoofed = sms();
    expectTooManyRequests(await post('127.0.1.1', 'burst-a', spoofed, { token: TOKEN, headers: { 'x-forwarded-for': '198.51.100.23' } }));
    expect(await stored(sids([spoofed]))).toBe(0);

    // Another source is unaffected.
    const other = sms();
    expect((await post('127.0.1.2', 'burst-a', other, { token: TOKEN })).status).toBe(200);
    expect(await stored(sids([other]))).toBe(1);
    await expectLoggedOnce('source', '127.0.1.1');
  });

  it('caps the verified requests to one channel key across sources, without touching other channels', async () => {
    for (let i = 0; i < PER_CHANNEL; i++) expect((await post(`127.0.2.${1 + (i % 4)}`, 'limited-sms', sms(), { token: TOKEN })).status).toBe(200);
    const over = sms();
    expectTooManyRequests(await post('127.0.2.5', 'limited-sms', over, { token: TOKEN }));
    expect(await stored(sids([over]))).toBe(0);
    const elsewhere = sms();
    expect((await post('127.0.2.5', 'quiet-sms', elsewhere, { token: TOKEN })).status).toBe(200);
    expect(await stored(sids([elsewhere]))).toBe(1);
    await expectLoggedOnce('channel', 'twilio|limited-sms');
  });

  it('does not let unsigned or forged requests spend a channel\'s budget', async () => {
    // More unsigned and forged requests than the channel's budget, from sources that each stay within their failure budget.
    let flood = 0;
    for (let source = 1; source <= 4; source++) {
      for (let i = 0; i < FAILURES; i++, flood++) {
        const forged = i % 2 === 1;
        const answer = await post(`127.0.3.${source}`, 'flooded-sms', sms(), forged ? { headers: { 'x-twilio-signature': FORGED_SIGNATURE } } : {});
        expect(answer.status, `source ${source}, request ${i}`).toBe(403);
      }
    }
    expect(flood).toBeGreaterThan(PER_CHANNEL);

    // The channel's whole budget is still there for signed deliveries, and no more than that.
    const signed = Array.from({ length: PER_CHANNEL }, sms);
    for (const [i, params] of signed.entries()) expect((await post(`127.0.3.${10 + (i % 2)}`, 'flooded-sms', params, { token: TOKEN })).status, `signed ${i}`).toBe(200);
    expect(await stored(sids(signed))).toBe(PER_CHANNEL);
    expectTooManyRequests(await post('127.0.3.12', 'flooded-sms', sms(), { token: TOKEN }));
    await expectLoggedOnce('channel', 'twilio|flooded-sms');
    for (let source = 1; source <= 4; source++) expect(limitLogged(`127.0.3.${source}`)).toEqual([]);
  });

  it('cuts off a source that keeps failing with 429 before any lookup, while another source still gets through', async () => {
    // Three kinds of failure: an unknown key, a missing signature, a malformed body.
    expect((await post('127.0.4.1', 'nobody-here', sms(), { token: TOKEN })).status).toBe(404);
    expect((await post('127.0.4.1', 'probe-sms', sms())).status).toBe(403);
    expect((await post('127.0.4.1', 'probe-sms', { Body: 'no sids' })).status).toBe(400);
    expect(FAILURES).toBe(3);

    // Spent: refused before the channel lookup (an unknown key is not a 404 any more) and before the signature
    // check (a correctly signed delivery is refused too, and a forged one is not even looked at).
    const signed = sms();
    expectTooManyRequests(await post('127.0.4.1', 'probe-sms', signed, { token: TOKEN }));
    expect(await stored(sids([signed]))).toBe(0);
    expectTooManyRequests(await post('127.0.4.1', 'nobody-else', sms(), { token: TOKEN }));
    const forged = sms();
    expectTooManyRequests(await post('127.0.4.1', 'probe-sms', forged, { headers: { 'x-twilio-signature': FORGED_SIGNATURE } }));

    // Another source: signed deliveries pass, its failures get their own answers.
    const other = sms();
    expect((await post('127.0.4.2', 'probe-sms', other, { token: TOKEN })).status).toBe(200);
    expect(await stored(sids([other]))).toBe(1);
    expect((await post('127.0.4.2', 'nobody-here', sms(), { token: TOKEN })).status).toBe(404);
    await expectLoggedOnce('failures', '127.0.4.1');
    expect(gatewayLines().some((l) => l.msg === 'twilio webhook signature rejected' && l.message_sid === forged.MessageSid)).toBe(false);
    expect(limitLogged('127.0.4.2')).toEqual([]);
  });

  it('does not cut off a source for failures offset by its verified deliveries (a provider address shared with a misconfigured tenant)', async () => {
    // Three good deliveries earn three points of credit (at most one budget's worth)...
    for (let i = 0; i < 3; i++) expect((await post('127.0.5.1', 'shared-sms', sms(), { token: TOKEN })).status).toBe(200);
    // ...so twice the budget of deliveries to a deleted channel get their 404s...
    for (let i = 0; i < 2 * FAILURES; i++) expect((await post('127.0.5.1', 'deleted-sms', sms(), { token: TOKEN })).status, `failure ${i}`).toBe(404);
    // ...and then the source is cut off.
    expect(3 + 2 * FAILURES + 1).toBeLessThanOrEqual(PER_SOURCE);
    expectTooManyRequests(await post('127.0.5.1', 'deleted-sms', sms(), { token: TOKEN }));
    await expectLoggedOnce('failures', '127.0.5.1');
  });
});
