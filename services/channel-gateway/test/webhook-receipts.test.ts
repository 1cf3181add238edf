import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromiseClient } from '@domiq/grpc';
import { ChannelGatewayServiceClient } from '@domiq/proto/channel-gateway';
import { expectEventually, registerTestSecret, type TestStack } from '@domiq/testkit';
import { accountSid, gatewayWithSmsChannel, inboundSms, messageSid, postWebhook } from './twilio.fixtures.ts';

// The provider-neutral webhook server's other routes: delivery receipts (`/webhooks/<provider>/<key>/status`: verified,
// stored once, published as delivery updates of the replies they are about; test/e2e/reply-path.e2e.test.ts covers
// replies) and unknown providers.
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const TOKEN = registerTestSecret('0a1b2c3d4e5f60718293a4b5c6d7e8f9', 'Twilio auth token (webhook-receipts.test.ts)');

let stack: TestStack;
let gateway: PromiseClient<ChannelGatewayServiceClient>;
let base: string;
let accountId: string;
let propertyId: string;
let twilioAccount: string;
let channelId: string;

beforeAll(async () => {
  ({ stack, gateway, base, accountId, propertyId, twilioAccount, channelId } = await gatewayWithSmsChannel('receipts-sms', TOKEN, { name: 'Receipts line', address: '+14155550100' }));
});
afterAll(async () => stack?.stop());

const STATUS_PATH = '/webhooks/twilio/receipts-sms/status';
const statusCallback = (over: Record<string, string> = {}): Record<string, string> => ({
  SmsSid: over.MessageSid ?? '', SmsStatus: over.MessageStatus ?? 'delivered', MessageStatus: 'delivered', To: '+14155550199',
  MessagingServiceSid: '', MessageSid: messageSid(), AccountSid: twilioAccount, From: '+14155550100', ApiVersion: '2010-04-01', ...over,
});
const logged = () => stack.services['channel-gateway']!.lines.flatMap((line) => {
  try {
    return [JSON.parse(line) as Record<string, unknown>];
  } catch {
    return [];
  }
});
const storedAnything = async (sid: string) => (await stack.db.query<{ n: number }>(
  `select (select count(*) from channel_gateway.inbound_messages where provider_message_id = $1)
        + (select count(*) from channel_gateway.event_log where payload::text like '%' || $1 || '%') as n`, [sid]))[0]!.n;

describe('POST /webhooks/{provider}/{channelKey}/status (delivery receipts)', () => {
  it('verifies a signed Twilio status callback, stores it once as a neutral receipt waiting for its reply, answers empty TwiML, publishes nothing', async () => {
    const params = statusCallback({ MessageStatus: 'undelivered', ErrorCode: '30003' });
    const res = await postWebhook(base, 'receipts-sms', params, { token: TOKEN, path: STATUS_PATH });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(EMPTY_TWIML);
    const line = await expectEventually(async () => {
      const found = logged().find((l) => l.msg === 'delivery receipt received' && l.provider_message_id === params.MessageSid);
      expect(found).toBeDefined();
      return found!;
    });
    expect(line).toMatchObject({ provider: 'twilio', channel_key: 'receipts-sms', channel_id: channelId, status: 'undelivered', provider_status: 'undelivered', error_code: '30003' });
    expect(Number(await storedAnything(params.MessageSid!))).toBe(0);
    // Twilio's retry of the same callback: the same answer, still one receipt; none is applied (no reply has that sid).
    expect((await postWebhook(base, 'receipts-sms', params, { token: TOKEN, path: STATUS_PATH })).status).toBe(200);
    const receipts = await stack.db.query<{ status: string; provider_status: string; error_code: string; applied: boolean; account_id: string; channel_id: string }>(
      `select status, provider_status, error_code, applied, account_id, channel_id from channel_gateway.delivery_receipts where provider_message_id = $1`, [params.MessageSid]);
    expect(receipts).toEqual([{ status: 'undelivered', provider_status: 'undelivered', error_code: '30003', applied: false, account_id: accountId, channel_id: channelId }]);
  });

  it('refuses a wrong or missing signature, a signature over the inbound URL, and another Twilio account with 403', async () => {
    const params = statusCallback();
    expect((await postWebhook(base, 'receipts-sms', params, { token: 'not-the-token', path: STATUS_PATH })).status).toBe(403);
    expect((await postWebhook(base, 'receipts-sms', params, { path: STATUS_PATH })).status).toBe(403);
    // Signed for the inbound route, replayed to the status route.
    expect((await postWebhook(base, 'receipts-sms', params, { token: TOKEN, path: STATUS_PATH, signedUrl: `${base}/webhooks/twilio/receipts-sms` })).status).toBe(403);
    const foreign = await postWebhook(base, 'receipts-sms', statusCallback({ AccountSid: accountSid() }), { token: TOKEN, path: STATUS_PATH });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ field: 'AccountSid' });
    expect(logged().some((l) => l.msg === 'delivery receipt received' && l.provider_message_id === params.MessageSid)).toBe(false);
  });

  it('answers 400 naming the field for a callback without MessageStatus, 415/405 like the inbound route', async () => {
    const params = statusCallback();
    delete params.MessageStatus;
    const res = await postWebhook(base, 'receipts-sms', params, { token: TOKEN, path: STATUS_PATH });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'MessageStatus' });
    expect((await postWebhook(base, 'receipts-sms', statusCallback(), { token: TOKEN, path: STATUS_PATH, contentType: 'application/json' })).status).toBe(415);
    expect((await fetch(base + STATUS_PATH)).status).toBe(405);
  });

  it('does not take an inbound message on the status route, nor a receipt on the inbound route', async () => {
    // An inbound SMS has no MessageStatus; a status callback has no Body.
    expect((await postWebhook(base, 'receipts-sms', inboundSms({ AccountSid: twilioAccount }), { token: TOKEN, path: STATUS_PATH })).status).toBe(400);
    const receipt = statusCallback();
    const res = await postWebhook(base, 'receipts-sms', receipt, { token: TOKEN });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'Body' });
    expect(Number(await storedAnything(receipt.MessageSid!))).toBe(0);
  });

  it('answers 404 for an unknown provider, an unknown channel, or a channel of a type the provider does not serve', async () => {
    expect((await postWebhook(base, 'receipts-sms', statusCallback(), { token: TOKEN, path: '/webhooks/nexmo/receipts-sms/status' })).status).toBe(404);
    expect((await postWebhook(base, 'receipts-sms', statusCallback(), { token: TOKEN, path: '/webhooks/twilio/nobody-here/status' })).status).toBe(404);
    expect((await postWebhook(base, 'receipts-sms', statusCallback(), { token: TOKEN, path: '/webhooks/twilio/receipts-sms/status/more' })).status).toBe(404);
    await gateway.upsertChannel({ accountId, propertyId, channelKey: 'receipts-chat', type: 'CHANNEL_WEB_CHAT', name: 'Chat', address: '' });
    expect((await postWebhook(base, 'receipts-chat', inboundSms({ AccountSid: twilioAccount }), { token: TOKEN })).status).toBe(404);
  });

  it('takes Twilio webhooks for a WhatsApp channel with Twilio credentials (the adapter serves sms and whatsapp)', async () => {
    await gateway.upsertChannel({
      accountId, propertyId, channelKey: 'receipts-wa', type: 'CHANNEL_WHATSAPP', name: 'WhatsApp', address: 'whatsapp:+14155550100',
      credentials: { $case: 'twilio', value: { accountSid: twilioAccount, authToken: TOKEN } },
    });
    const params = inboundSms({ AccountSid: twilioAccount, From: 'whatsapp:+14155550199', To: 'whatsapp:+14155550100' });
    expect((await postWebhook(base, 'receipts-wa', params, { token: TOKEN })).status).toBe(200);
    const rows = await stack.db.query<{ from_address: string }>(`select from_address from channel_gateway.inbound_messages where provider_message_id = $1`, [params.MessageSid]);
    expect(rows).toEqual([{ from_address: 'whatsapp:+14155550199' }]);
  });
});
