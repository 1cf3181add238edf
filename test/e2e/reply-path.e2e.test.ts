import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { ChannelGatewayServiceClient } from '@domiq/proto/channel-gateway';
import { ConversationsServiceClient, type Message } from '@domiq/proto/conversations';
import { IdentityServiceClient } from '@domiq/proto/identity';
import { events } from '@domiq/proto/events';
import { expectEventually, isPortOpen, publishTestEvent, readStream, registerTestSecret, startTestStack, type TestStack } from '@domiq/testkit';
import {
  addTwilioSimFault, addTwilioSimOptOut, clearTwilioSimFaults, newAccountSid, registerTwilioSimAccount, sendInboundSms, twilioSimMessages,
} from '@domiq/twilio-sim';

// The reply path end to end: a customer's SMS comes in through the gateway, an agent answers over gRPC, the gateway
// sends it through Twilio's Messages API (the simulator, a process like Twilio), and Twilio's status callbacks come
// back through the gateway's signed webhook to the message's status in conversations.
const TOKEN = registerTestSecret('5f4dcc3b5aa765d61d8327deb882cf99', 'Twilio auth token (reply-path.e2e.test.ts)');
const CHANNEL_NUMBER = '+14155550100';

let stack: TestStack;
let accountId: string;
let agentId: string;
let agent: PromiseClient<ConversationsServiceClient>;
let twilioAccount: string;
let webhookUrl: string;
let nextCustomer = 0;

beforeAll(async () => {
  stack = await startTestStack({
    services: ['identity', 'conversations', 'channel-gateway'], twilioSim: true,
    // Retries in milliseconds rather than seconds, so outages and lost answers are over within a test.
    env: { OUTBOUND_RETRY_INITIAL_MS: '50', OUTBOUND_RETRY_MAX_MS: '400', OUTBOUND_TIMEOUT_MS: '1500', OUTBOUND_POLL_MS: '100' },
  });
  accountId = await stack.createAccount('Reply Living');
  agentId = crypto.randomUUID();
  agent = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'agent', userId: agentId });
  twilioAccount = newAccountSid();
  await registerTwilioSimAccount(stack.twilioSimUrl, { accountSid: twilioAccount, authToken: TOKEN });
  const gateway = stack.adminClient(ChannelGatewayServiceClient, 'channel-gateway');
  await gateway.upsertChannel({
    accountId, propertyId: crypto.randomUUID(), channelKey: 'reply-sms', type: 'CHANNEL_SMS', name: 'Leasing line', address: CHANNEL_NUMBER,
    credentials: { $case: 'twilio', value: { accountSid: twilioAccount, authToken: TOKEN } },
  });
  await expectEventually(async () => {
    if (!(await isPortOpen(stack.ports.gatewayHttp))) throw new Error('webhook port not open yet');
  });
  webhookUrl = `http://127.0.0.1:${stack.ports.gatewayHttp}/webhooks/twilio/reply-sms`;
}, 180_000);
afterAll(async () => stack?.stop());

/** A new customer writes in; resolves to their conversation's id once it is stored. */
async function customerWritesIn(body = 'Hi, is the 2 bed still available?'): Promise<{ conversationId: string; phone: string }> {
  const phone = `+1415555${String(2000 + nextCustomer++).padStart(4, '0')}`;
  const res = await sendInboundSms(webhookUrl, TOKEN, { accountSid: twilioAccount, to: CHANNEL_NUMBER, from: phone, body });
  expect(res.status).toBe(200);
  const conversationId = await expectEventually(async () => {
    const rows = await stack.db.query<{ id: string }>(
      `select conversation_id as id from conversations.messages where channel_metadata->>'from' = $1 and direction = 'inbound'`, [phone]);
    expect(rows).toHaveLength(1);
    return rows[0]!.id;
  });
  return { conversationId, phone };
}

async function replyOf(conversationId: string, messageId: string): Promise<Message> {
  const { messages } = await agent.listMessages({ accountId, conversationId });
  const m = messages.find((x) => x.id === messageId);
  if (!m) throw new Error(`message ${messageId} not in the timeline`);
  return m;
}

async function statusBecomes(conversationId: string, messageId: string, wanted: string): Promise<Message> {
  return expectEventually(async () => {
    const m = await replyOf(conversationId, messageId);
    expect(m.status).toBe(wanted);
    return m;
  }, { timeoutMs: 20_000 });
}

const sentTo = async (phone: string) => (await twilioSimMessages(stack.twilioSimUrl, { to: phone }));
const key = () => crypto.randomUUID();

describe('the reply path: SendReply -> Twilio -> status callbacks -> the message status', () => {
  it('sends the reply through Twilio from the channel number, and records queued -> sent -> delivered from the signed callbacks', async () => {
    const { conversationId, phone } = await customerWritesIn();
    const { message, created } = await agent.sendReply({ accountId, conversationId, content: 'Yes! Want to tour it on Saturday?', idempotencyKey: key() });
    expect(created).toBe(true);
    expect(message).toMatchObject({ direction: 'outbound', senderType: 'agent', senderId: agentId, status: 'pending', channel: 'CHANNEL_SMS' });
    const delivered = await statusBecomes(conversationId, message!.id, 'delivered');
    const [sent, ...more] = await sentTo(phone);
    expect(more).toHaveLength(0);
    expect(sent).toMatchObject({ accountSid: twilioAccount, from: CHANNEL_NUMBER, to: phone, body: 'Yes! Want to tour it on Saturday?', status: 'delivered' });
    expect(sent!.statusCallback).toBe(`http://127.0.0.1:${stack.ports.gatewayHttp}/webhooks/twilio/reply-sms/status`);
    // Every callback the simulator made was accepted by the gateway (signature verified).
    expect(sent!.callbacks.map((c) => [c.status, c.httpStatus])).toEqual([['queued', 200], ['sent', 200], ['delivered', 200]]);
    expect(delivered.channelMessageId).toBe(sent!.sid);
    expect(delivered.deliveredAt).not.toBe('');
    const { conversation } = await agent.getConversation({ accountId, conversationId });
    expect(conversation!.state).toBe('CONVERSATION_STATE_AWAITING_CUSTOMER');
    const [row] = await stack.db.query<{ first_response_at: Date | null; last_agent_message_at: Date | null; message_count: number }>(
      `select first_response_at, last_agent_message_at, message_count from conversations.conversations where id = $1`, [conversationId]);
    expect(row!.first_response_at).not.toBeNull();
    expect(row!.last_agent_message_at).not.toBeNull();
    expect(row!.message_count).toBe(2);
    const published = await readStream(stack.nats.url, 'CONVERSATIONS');
    const mine = published.filter((m) => (m.data as { messageId?: string }).messageId === message!.id).map((m) => m.subject).sort();
    expect(mine).toEqual(['conversations.message.created', 'conversations.message.reply_requested']);
  });

  it('sends once for a retried call: the same idempotency key returns the first reply; reused for other content it is INVALID_ARGUMENT', async () => {
    const { conversationId, phone } = await customerWritesIn();
    const idempotencyKey = key();
    const first = await agent.sendReply({ accountId, conversationId, content: 'We allow cats and small dogs.', idempotencyKey });
    const again = await agent.sendReply({ accountId, conversationId, content: 'We allow cats and small dogs.', idempotencyKey });
    expect(again.created).toBe(false);
    expect(again.message!.id).toBe(first.message!.id);
    const err = await agent.sendReply({ accountId, conversationId, content: 'Something else', idempotencyKey }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(String((err as Error).message)).toContain('idempotency_key');
    await statusBecomes(conversationId, first.message!.id, 'delivered');
    expect(await sentTo(phone)).toHaveLength(1);
    const stored = await stack.db.query<{ n: number }>(`select count(*)::int as n from conversations.messages where conversation_id = $1 and direction = 'outbound'`, [conversationId]);
    expect(stored[0]!.n).toBe(1);
  });

  it('shows the agent a failed delivery with the provider\'s reason (undelivered, ErrorCode 30003)', async () => {
    const { conversationId, phone } = await customerWritesIn();
    await addTwilioSimFault(stack.twilioSimUrl, { kind: 'undelivered', to: phone, errorCode: 30003 });
    const { message } = await agent.sendReply({ accountId, conversationId, content: 'Your application is approved.', idempotencyKey: key() });
    const failed = await statusBecomes(conversationId, message!.id, 'failed');
    expect(failed.errorMessage).toBe('30003: Unreachable destination handset');
    expect(await sentTo(phone)).toHaveLength(1);
  });

  it('fails at once, with Twilio\'s reason, a reply Twilio refuses for good (21610: the customer opted out), sending nothing', async () => {
    const { conversationId, phone } = await customerWritesIn();
    await addTwilioSimOptOut(stack.twilioSimUrl, phone);
    const { message } = await agent.sendReply({ accountId, conversationId, content: 'Following up on your tour.', idempotencyKey: key() });
    const failed = await statusBecomes(conversationId, message!.id, 'failed');
    expect(failed.errorMessage).toMatch(/^21610: Attempt to send to unsubscribed recipient/);
    expect(await sentTo(phone)).toHaveLength(0);
    const [row] = await stack.db.query<{ attempts: number }>(`select attempts from channel_gateway.outbound_messages where message_id = $1`, [message!.id]);
    expect(row!.attempts).toBe(1);
  });

  it('retries through a Twilio outage (500, 503, 429) and delivers exactly once', async () => {
    const { conversationId, phone } = await customerWritesIn();
    for (const kind of ['http500', 'http503', 'http429'] as const) await addTwilioSimFault(stack.twilioSimUrl, { kind, to: phone, times: 1 });
    const { message } = await agent.sendReply({ accountId, conversationId, content: 'The unit is ready for move-in.', idempotencyKey: key() });
    await statusBecomes(conversationId, message!.id, 'delivered');
    expect(await sentTo(phone)).toHaveLength(1);
    const [row] = await stack.db.query<{ attempts: number; state: string }>(`select attempts, state from channel_gateway.outbound_messages where message_id = $1`, [message!.id]);
    expect(row).toEqual({ attempts: 4, state: 'accepted' });
  });

  it('never sends twice when Twilio took the message but the answer was lost (dropped after accept, then a timeout)', async () => {
    const { conversationId, phone } = await customerWritesIn();
    await addTwilioSimFault(stack.twilioSimUrl, { kind: 'drop_after_accept', to: phone, times: 1 });
    const { message } = await agent.sendReply({ accountId, conversationId, content: 'See you at 10 am.', idempotencyKey: key() });
    const delivered = await statusBecomes(conversationId, message!.id, 'delivered');
    const sent = await sentTo(phone);
    expect(sent).toHaveLength(1);
    expect(delivered.channelMessageId).toBe(sent[0]!.sid);
    const [row] = await stack.db.query<{ attempts: number }>(`select attempts from channel_gateway.outbound_messages where message_id = $1`, [message!.id]);
    // The second attempt looked the message up (it was there) instead of sending it again.
    expect(row!.attempts).toBe(2);

    // No answer at all (the request held until our timeout; Twilio stored nothing): looked up, not found, sent.
    const other = await customerWritesIn();
    await addTwilioSimFault(stack.twilioSimUrl, { kind: 'timeout', to: other.phone, times: 1 });
    const second = await agent.sendReply({ accountId, conversationId: other.conversationId, content: 'Parking is free.', idempotencyKey: key() });
    await statusBecomes(other.conversationId, second.message!.id, 'delivered');
    expect(await sentTo(other.phone)).toHaveLength(1);
    // The timed-out attempt was looked up before the second one sent (its outcome was unknown until then).
    const [held] = await stack.db.query<{ attempts: number; outcome_unknown: boolean }>(`select attempts, outcome_unknown from channel_gateway.outbound_messages where message_id = $1`, [second.message!.id]);
    expect(held).toEqual({ attempts: 2, outcome_unknown: false });
    expect(stack.services['channel-gateway']!.lines.some((l) => l.includes(second.message!.id) && l.includes('"outcome_unknown":true'))).toBe(true);
  });

  it('moves a status only forward: duplicated and reordered callbacks end delivered, each receipt stored once', async () => {
    const a = await customerWritesIn();
    await addTwilioSimFault(stack.twilioSimUrl, { kind: 'duplicate_callbacks', to: a.phone });
    const dup = await agent.sendReply({ accountId, conversationId: a.conversationId, content: 'Rent is due on the 1st.', idempotencyKey: key() });
    await statusBecomes(a.conversationId, dup.message!.id, 'delivered');
    await expectEventually(async () => expect((await sentTo(a.phone))[0]!.callbacks).toHaveLength(6));
    const [sent] = await sentTo(a.phone);
    const receipts = await stack.db.query<{ provider_status: string }>(`select provider_status from channel_gateway.delivery_receipts where provider_message_id = $1 order by provider_status`, [sent!.sid]);
    expect(receipts.map((r) => r.provider_status)).toEqual(['delivered', 'queued', 'sent']);

    const b = await customerWritesIn();
    await addTwilioSimFault(stack.twilioSimUrl, { kind: 'reorder_callbacks', to: b.phone });
    const reordered = await agent.sendReply({ accountId, conversationId: b.conversationId, content: 'Your package arrived.', idempotencyKey: key() });
    await statusBecomes(b.conversationId, reordered.message!.id, 'delivered');
    await expectEventually(async () => expect((await sentTo(b.phone))[0]!.callbacks).toHaveLength(3));
    // "sent" and "queued" came after "delivered": still delivered.
    await new Promise((r) => setTimeout(r, 500));
    expect((await replyOf(b.conversationId, reordered.message!.id)).status).toBe('delivered');
    await clearTwilioSimFaults(stack.twilioSimUrl);
  });

  it('queues a redelivered reply_requested event once: the customer gets one message', async () => {
    const { conversationId, phone } = await customerWritesIn();
    const { message } = await agent.sendReply({ accountId, conversationId, content: 'Here is the application link.', idempotencyKey: key() });
    await statusBecomes(conversationId, message!.id, 'delivered');
    const published = await readStream(stack.nats.url, 'CONVERSATIONS');
    const request = published.find((m) => m.subject === 'conversations.message.reply_requested' && (m.data as { messageId?: string }).messageId === message!.id);
    expect(request).toBeDefined();
    // The same reply again under another event id (a replayed stream, an upstream retry): nothing new is queued.
    await publishTestEvent(stack.nats.url, events.replyRequested, events.replyRequested.codec.fromJSON(request!.data), `conversations:replayed-${message!.id}`);
    await expectEventually(async () => {
      const rows = await stack.db.query<{ n: number }>(`select count(*)::int as n from channel_gateway.processed_event where event_id = $1`, [`conversations:replayed-${message!.id}`]);
      expect(rows[0]!.n).toBe(1);
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await sentTo(phone)).toHaveLength(1);
  });
});

describe('consent', () => {
  it('refuses a reply on a channel the customer opted out of (FAILED_PRECONDITION, nothing stored or sent), and sends once they opt in again', async () => {
    const { conversationId, phone } = await customerWritesIn('STOP texting me please');
    const { conversation } = await agent.getConversation({ accountId, conversationId });
    const identity = await stack.client(IdentityServiceClient, 'identity', { accountId, role: 'agent' });
    await identity.setConsent({ accountId, customerId: conversation!.customerId, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_OUT', source: 'CONSENT_SOURCE_SMS_STOP_KEYWORD' });
    // Conversations learns it from identity.customer.consent_changed.
    await expectEventually(async () => expect(await stack.db.query(`select status from conversations.customer_consents where customer_id = $1`, [conversation!.customerId])).toEqual([{ status: 'opted_out' }]));
    const err = await agent.sendReply({ accountId, conversationId, content: 'Sorry to bother you', idempotencyKey: key() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('opted out of sms') });
    expect(await stack.db.query(`select 1 from conversations.messages where conversation_id = $1 and direction = 'outbound'`, [conversationId])).toHaveLength(0);
    await identity.setConsent({ accountId, customerId: conversation!.customerId, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_IN', source: 'CONSENT_SOURCE_SMS_START_KEYWORD' });
    await expectEventually(async () => expect(await stack.db.query(`select status from conversations.customer_consents where customer_id = $1`, [conversation!.customerId])).toEqual([{ status: 'opted_in' }]));
    const { message } = await agent.sendReply({ accountId, conversationId, content: 'Welcome back!', idempotencyKey: key() });
    await statusBecomes(conversationId, message!.id, 'delivered');
    expect(await sentTo(phone)).toHaveLength(1);
  });
});

describe('consent by SMS keyword', () => {
  it('a customer texting STOP opts out of SMS (identity records it, replies are refused), and START opts back in', async () => {
    const { conversationId, phone } = await customerWritesIn('Is parking included?');
    const { conversation } = await agent.getConversation({ accountId, conversationId });
    const consent = () => stack.db.query<{ status: string }>(`select status from conversations.customer_consents where customer_id = $1 and channel = 'sms'`, [conversation!.customerId]);
    expect((await sendInboundSms(webhookUrl, TOKEN, { accountSid: twilioAccount, to: CHANNEL_NUMBER, from: phone, body: 'STOP' })).status).toBe(200);
    await expectEventually(async () => expect(await consent()).toEqual([{ status: 'opted_out' }]));
    const [recorded] = await stack.db.query<{ status: string; source: string }>(`select status, source from identity.customer_consents where customer_id = $1 and channel = 'sms'`, [conversation!.customerId]);
    expect(recorded).toEqual({ status: 'opted_out', source: 'sms_stop_keyword' });
    await expect(agent.sendReply({ accountId, conversationId, content: 'Yes, one space', idempotencyKey: key() })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    expect((await sendInboundSms(webhookUrl, TOKEN, { accountSid: twilioAccount, to: CHANNEL_NUMBER, from: phone, body: 'start' })).status).toBe(200);
    await expectEventually(async () => expect(await consent()).toEqual([{ status: 'opted_in' }]));
    const { message } = await agent.sendReply({ accountId, conversationId, content: 'Yes, one space', idempotencyKey: key() });
    await statusBecomes(conversationId, message!.id, 'delivered');
    expect(await sentTo(phone)).toHaveLength(1);
  });
});

describe('SendReply: bad input and other tenants change nothing', () => {
  async function nothingStored<T>(call: () => Promise<T>): Promise<unknown> {
    const before = await stack.db.query<{ n: number }>(`select count(*)::int as n from conversations.messages where direction = 'outbound'`);
    const err = await call().then(() => undefined, (e: unknown) => e);
    const after = await stack.db.query<{ n: number }>(`select count(*)::int as n from conversations.messages where direction = 'outbound'`);
    expect(after[0]!.n).toBe(before[0]!.n);
    return err;
  }

  it('answers INVALID_ARGUMENT naming the field for empty or oversized content, a missing or malformed key, a bad conversation id', async () => {
    const { conversationId } = await customerWritesIn();
    const cases: Array<[Record<string, string>, string]> = [
      [{ content: '   ' }, 'content'],
      [{ content: 'x'.repeat(1601) }, 'content'],
      [{ idempotencyKey: '' }, 'idempotency_key'],
      [{ idempotencyKey: 'has spaces in it' }, 'idempotency_key'],
      [{ idempotencyKey: 'k'.repeat(101) }, 'idempotency_key'],
      [{ conversationId: 'not-a-uuid' }, 'conversation_id'],
    ];
    for (const [over, field] of cases) {
      const err = await nothingStored(() => agent.sendReply({ accountId, conversationId, content: 'Hello', idempotencyKey: key(), ...over }));
      expect(err, field).toMatchObject({ code: status.INVALID_ARGUMENT });
      expect(String((err as Error).message)).toContain(field);
    }
  });

  it('answers NOT_FOUND for another account\'s conversation and PERMISSION_DENIED for a request naming another account', async () => {
    const { conversationId } = await customerWritesIn();
    const otherAccount = await stack.createAccount('Other Living');
    const outsider = await stack.client(ConversationsServiceClient, 'conversations', { accountId: otherAccount, role: 'agent' });
    const notFound = await nothingStored(() => outsider.sendReply({ accountId: otherAccount, conversationId, content: 'Hello', idempotencyKey: key() }));
    expect(notFound).toMatchObject({ code: status.NOT_FOUND });
    const denied = await nothingStored(() => outsider.sendReply({ accountId, conversationId, content: 'Hello', idempotencyKey: key() }));
    expect(denied).toMatchObject({ code: status.PERMISSION_DENIED });
    // A property manager of another property of the same account sees no such conversation.
    const manager = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'property_manager', propertyIds: [crypto.randomUUID()] });
    const hidden = await nothingStored(() => manager.sendReply({ accountId, conversationId, content: 'Hello', idempotencyKey: key() }));
    expect(hidden).toMatchObject({ code: status.NOT_FOUND });
    // An engineer may read conversations but not answer customers.
    const engineer = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'engineer' });
    const refused = await nothingStored(() => engineer.sendReply({ accountId, conversationId, content: 'Hello', idempotencyKey: key() }));
    expect(refused).toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
