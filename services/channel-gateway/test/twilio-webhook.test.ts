import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromiseClient } from '@domiq/grpc';
import { ChannelGatewayServiceClient } from '@domiq/proto/channel-gateway';
import { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { expectEventually, readStream, registerTestSecret, type TestStack } from '@domiq/testkit';
import { accountSid, gatewayWithSmsChannel, inboundSms, messageSid, postWebhook } from './twilio.fixtures.ts';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const TOKEN = registerTestSecret('f0e1d2c3b4a5968778695a4b3c2d1e0f', 'Twilio auth token (twilio-webhook.test.ts)');

let stack: TestStack;
let gateway: PromiseClient<ChannelGatewayServiceClient>;
let base: string;
let accountId: string;
let propertyId: string;
let twilioAccount: string;
let channelId: string;

beforeAll(async () => {
  ({ stack, gateway, base, accountId, propertyId, twilioAccount, channelId } = await gatewayWithSmsChannel('acme-sms', TOKEN, { name: 'Acme leasing line', address: '+1 415 555 0100' }));
});
afterAll(async () => stack?.stop());

const sms = (over: Record<string, string> = {}) => inboundSms({ AccountSid: twilioAccount, ...over });
const rows = async (sid: string) => stack.db.query<{ id: string; body: string; raw: Record<string, string> }>(`select id, body, raw from channel_gateway.inbound_messages where provider_message_id = $1`, [sid]);
const outbox = async (sid: string) => stack.db.query(`select id from channel_gateway.event_log where payload->>'providerMessageId' = $1`, [sid]);
const published = async () => (await readStream(stack.nats.url, 'CHANNEL_GATEWAY', 'channel-gateway.message.received')).map((m) => ({ ...m, message: MessageReceived.fromJSON(m.data) }));

/** Posts a fresh valid message and waits for its event: everything written before it has been relayed by then. */
async function barrier(): Promise<void> {
  const params = sms();
  expect((await postWebhook(base, 'acme-sms', params, { token: TOKEN })).status).toBe(200);
  await expectEventually(async () => expect((await published()).some((m) => m.message.providerMessageId === params.MessageSid)).toBe(true));
}

describe('POST /webhooks/twilio/{channelKey}', () => {
  it('stores a signed inbound SMS once, answers empty TwiML and publishes channel-gateway.message.received', async () => {
    const params = sms({ Body: 'Hi! Is unit 4B still available? 👋 +more' });
    const res = await postWebhook(base, 'acme-sms', params, { token: TOKEN });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await res.text()).toBe(EMPTY_TWIML);

    const stored = await rows(params.MessageSid!);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.body).toBe('Hi! Is unit 4B still available? 👋 +more');
    expect(stored[0]!.raw).toEqual(params);

    const events = await expectEventually(async () => {
      const found = (await published()).filter((m) => m.message.providerMessageId === params.MessageSid);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(events[0]!.message).toMatchObject({
      inboundId: stored[0]!.id, accountId, propertyId, channelId, channelType: 'CHANNEL_SMS', provider: 'twilio',
      providerMessageId: params.MessageSid, fromAddress: '+14155550199', toAddress: '+14155550100',
      body: 'Hi! Is unit 4B still available? 👋 +more', senderName: '',
    });
    expect(Date.parse(events[0]!.message.receivedAt)).not.toBeNaN();
    expect(events[0]!.headers['DomIQ-Account-Id']).toBe(accountId);

    const { message } = await gateway.getInboundMessage({ accountId, provider: 'twilio', providerMessageId: params.MessageSid! });
    expect(message).toMatchObject({ id: stored[0]!.id, channelId, body: params.Body, fromAddress: params.From });
    expect(JSON.parse(message!.rawJson)).toEqual(params);
  });

  it('dedupes a retried MessageSid: one row, one event, the same 200 answer', async () => {
    const params = sms();
    const answers = await Promise.all([1, 2, 3].map(() => postWebhook(base, 'acme-sms', params, { token: TOKEN })));
    const again = await postWebhook(base, 'acme-sms', params, { token: TOKEN });
    for (const res of [...answers, again]) {
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(EMPTY_TWIML);
    }
    expect(await rows(params.MessageSid!)).toHaveLength(1);
    expect(await outbox(params.MessageSid!)).toHaveLength(1);
    await barrier();
    expect((await published()).filter((m) => m.message.providerMessageId === params.MessageSid)).toHaveLength(1);
  });

  it('signs the public URL with its query string exactly as posted', async () => {
    const params = sms();
    const path = '/webhooks/twilio/acme-sms?source=twilio&x=1';
    expect((await postWebhook(base, 'acme-sms', params, { token: TOKEN, path, signedUrl: `${base}/webhooks/twilio/acme-sms` })).status).toBe(403);
    expect((await postWebhook(base, 'acme-sms', params, { token: TOKEN, path })).status).toBe(200);
  });

  it('refuses a wrong or missing signature with 403 and stores and publishes nothing', async () => {
    const wrongToken = sms();
    const tampered = sms();
    const unsigned = sms();
    const wrongHost = sms();
    expect((await postWebhook(base, 'acme-sms', wrongToken, { token: 'not-the-token' })).status).toBe(403);
    // Signed, then changed in flight.
    const body = new URLSearchParams({ ...tampered, Body: 'changed' }).toString();
    expect((await postWebhook(base, 'acme-sms', tampered, { token: TOKEN, body })).status).toBe(403);
    const res = await postWebhook(base, 'acme-sms', unsigned);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: expect.stringContaining('signature') });
    expect((await postWebhook(base, 'acme-sms', wrongHost, { token: TOKEN, signedUrl: 'https://evil.example/webhooks/twilio/acme-sms' })).status).toBe(403);

    const sids = [wrongToken, tampered, unsigned, wrongHost].map((p) => p.MessageSid!);
    for (const sid of sids) {
      expect(await rows(sid)).toHaveLength(0);
      expect(await outbox(sid)).toHaveLength(0);
    }
    await barrier();
    expect((await published()).filter((m) => sids.includes(m.message.providerMessageId))).toHaveLength(0);
  });

  it('refuses a correctly signed message from another Twilio account with 403', async () => {
    const params = sms({ AccountSid: accountSid() });
    const res = await postWebhook(base, 'acme-sms', params, { token: TOKEN });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ field: 'AccountSid' });
    expect(await rows(params.MessageSid!)).toHaveLength(0);
  });

  it('answers 400 naming the field for a missing From, MessageSid, AccountSid or Body, and a malformed body', async () => {
    for (const field of ['From', 'To', 'MessageSid', 'AccountSid', 'Body']) {
      const params = sms();
      delete params[field];
      const res = await postWebhook(base, 'acme-sms', params, { token: TOKEN });
      expect(res.status, field).toBe(400);
      expect(await res.json()).toMatchObject({ field, error: expect.stringContaining(field) });
    }
    const empty = await postWebhook(base, 'acme-sms', sms({ Body: '', NumMedia: '0' }), { token: TOKEN });
    expect(await empty.json()).toMatchObject({ field: 'Body' });
    const media = sms({ Body: '', NumMedia: '1', MediaUrl0: 'https://api.twilio.com/media/ME1', MediaContentType0: 'image/jpeg' });
    expect((await postWebhook(base, 'acme-sms', media, { token: TOKEN })).status).toBe(200);

    const malformed = await postWebhook(base, 'acme-sms', sms(), { token: TOKEN, body: 'MessageSid=%ZZ&From=%E0%A4' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: expect.stringContaining('form') });
  });

  it('answers 415 for another content type, 405 for another method, 413 for a body over 64 KiB', async () => {
    const params = sms();
    const json = await postWebhook(base, 'acme-sms', params, { token: TOKEN, contentType: 'application/json', body: JSON.stringify(params) });
    expect(json.status).toBe(415);
    const get = await fetch(`${base}/webhooks/twilio/acme-sms`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const big = await postWebhook(base, 'acme-sms', params, { token: TOKEN, body: new URLSearchParams({ ...params, Padding: 'x'.repeat(65 * 1024) }).toString() });
    expect(big.status).toBe(413);
    // Without a Content-Length the limit is enforced while reading.
    const chunk = new TextEncoder().encode('Padding=' + 'x'.repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 6) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const chunked = await fetch(`${base}/webhooks/twilio/acme-sms`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: stream, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await postWebhook(base, 'acme-sms', params, { token: TOKEN, contentType: 'application/x-www-form-urlencoded; charset=UTF-8' })).status).toBe(200);
    expect(await rows(params.MessageSid!)).toHaveLength(1);
  });

  it('answers 404 for an unknown channel or path and 410 for an inactive channel', async () => {
    expect((await postWebhook(base, 'nobody-here', sms(), { token: TOKEN })).status).toBe(404);
    expect((await postWebhook(base, 'acme-sms', sms(), { token: TOKEN, path: '/webhooks/other/acme-sms' })).status).toBe(404);
    const other = await gateway.upsertChannel({
      accountId, propertyId, channelKey: 'acme-old', type: 'CHANNEL_SMS', name: 'Old line', address: '+14155550101',
      credentials: { $case: 'twilio', value: { accountSid: twilioAccount, authToken: TOKEN } },
    });
    await stack.db.query(`update channel_gateway.channels set status = 'inactive' where id = $1`, [other.channel!.id]);
    const params = sms();
    expect((await postWebhook(base, 'acme-old', params, { token: TOKEN })).status).toBe(410);
    expect(await rows(params.MessageSid!)).toHaveLength(0);
  });

  it('never writes the auth token or the signature to its logs', () => {
    const logs = stack.services['channel-gateway']!.lines.join('\n');
    expect(logs).not.toContain(TOKEN);
    expect(logs.toLowerCase()).not.toContain('x-twilio-signature');
  });
});
