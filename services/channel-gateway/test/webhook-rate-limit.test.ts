import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelGatewayServiceClient } from '@domiq/proto/channel-gateway';
import { expectEventually, isPortOpen, registerTestSecret, startTestStack, type TestStack } from '@domiq/testkit';
import { twilioSignature } from '@domiq/webhook-signatures';
import { accountSid, inboundSms } from './twilio.fixtures.ts';

// Per-source and per-channel webhook rate limits, over real HTTP: sources are told apart by the socket's address
// (127.0.0.x: the whole of 127/8 is loopback), X-Forwarded-For is not trusted (TRUST_PROXY_HOPS=0).
const PER_SOURCE = 5;
const PER_CHANNEL = 8;
const TOKEN = registerTestSecret('9a8b7c6d5e4f30211203f4e5d6c7b8a9', 'Twilio auth token (webhook-rate-limit.test.ts)');

let stack: TestStack;
let port: number;
const accountId = crypto.randomUUID();
const propertyId = crypto.randomUUID();
const twilioAccount = accountSid();

interface Answer { status: number; retryAfter: string | undefined; body: string }

/** A signed (or unsigned) Twilio webhook posted from `localAddress`, optionally with extra headers. */
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
const stored = async (sids: string[]) => (await stack.db.query<{ n: number }>(
  `select count(*)::int as n from channel_gateway.inbound_messages where provider_message_id = any($1)`, [sids]))[0]!.n;
const outboxed = async (sids: string[]) => (await stack.db.query<{ n: number }>(
  `select count(*)::int as n from channel_gateway.event_log where payload->>'providerMessageId' = any($1)`, [sids]))[0]!.n;

function expectTooManyRequests(answer: Answer): void {
  expect(answer.status).toBe(429);
  expect(answer.retryAfter).toMatch(/^\d+$/);
  expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
  expect(JSON.parse(answer.body)).toMatchObject({ error: 'too many requests' });
}

beforeAll(async () => {
  stack = await startTestStack({
    services: ['channel-gateway'],
    env: { WEBHOOK_RATE_LIMIT_PER_SOURCE: String(PER_SOURCE), WEBHOOK_RATE_LIMIT_PER_CHANNEL: String(PER_CHANNEL) },
  });
  port = stack.ports.gatewayHttp;
  await expectEventually(async () => expect(await isPortOpen(port)).toBe(true));
  const gateway = stack.adminClient(ChannelGatewayServiceClient, 'channel-gateway');
  for (const channelKey of ['limited-sms', 'quiet-sms']) {
    await gateway.upsertChannel({
      accountId, propertyId, channelKey, type: 'sms', name: channelKey, address: '+1 415 555 0100',
      credentials: { $case: 'twilio', value: { accountSid: twilioAccount, authToken: TOKEN } },
    });
  }
});
afterAll(async () => stack?.stop());

describe('webhook rate limits', () => {
  it('answers a burst above the per-source limit with 429 and Retry-After, stores nothing of it, and leaves other sources alone', async () => {
    const burst = Array.from({ length: PER_SOURCE + 4 }, sms);
    const answers = await Promise.all(burst.map((params) => post('127.0.0.2', 'limited-sms', params, { token: TOKEN })));
    const accepted = burst.filter((_, i) => answers[i]!.status === 200).map((p) => p.MessageSid!);
    const refused = burst.filter((_, i) => answers[i]!.status !== 200).map((p) => p.MessageSid!);
    expect(accepted).toHaveLength(PER_SOURCE);
    expect(refused).toHaveLength(4);
    for (const answer of answers.filter((a) => a.status !== 200)) expectTooManyRequests(answer);
    expect(await stored(accepted)).toBe(PER_SOURCE);
    expect(await stored(refused)).toBe(0);
    expect(await outboxed(refused)).toBe(0);

    // The limit comes before the channel lookup and the signature check, and X-Forwarded-For is not believed.
    expectTooManyRequests(await post('127.0.0.2', 'nobody-here', sms(), { token: TOKEN }));
    expectTooManyRequests(await post('127.0.0.2', 'limited-sms', sms()));
    const spoofed = sms();
    expectTooManyRequests(await post('127.0.0.2', 'limited-sms', spoofed, { token: TOKEN, headers: { 'x-forwarded-for': '198.51.100.23' } }));
    expect(await stored([spoofed.MessageSid!])).toBe(0);

    // Another source is unaffected.
    const other = sms();
    expect((await post('127.0.0.3', 'limited-sms', other, { token: TOKEN })).status).toBe(200);
    expect(await stored([other.MessageSid!])).toBe(1);
  });

  it('caps one channel key across sources, without touching other channels', async () => {
    // PER_SOURCE + 1 requests have reached limited-sms so far (refused ones never reached the channel count).
    const remaining = PER_CHANNEL - (PER_SOURCE + 1);
    for (let i = 0; i < remaining; i++) expect((await post(`127.0.0.${10 + i}`, 'limited-sms', sms(), { token: TOKEN })).status).toBe(200);
    const over = sms();
    expectTooManyRequests(await post('127.0.0.30', 'limited-sms', over, { token: TOKEN }));
    expect(await stored([over.MessageSid!])).toBe(0);
    const elsewhere = sms();
    expect((await post('127.0.0.30', 'quiet-sms', elsewhere, { token: TOKEN })).status).toBe(200);
    expect(await stored([elsewhere.MessageSid!])).toBe(1);
  });

  it('logs one line per limited key and window, not one per refused request', () => {
    const limited = stack.services['channel-gateway']!.lines.filter((l) => l.includes('webhook rate limit reached')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(limited.map((l) => [l.scope, l.key])).toEqual([['source', '127.0.0.2'], ['channel', 'twilio|limited-sms']]);
  });
});
