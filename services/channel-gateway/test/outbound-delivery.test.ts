import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelGatewayServiceClient } from '@domiq/proto/channel-gateway';
import { events } from '@domiq/proto/events';
import { expectEventually, publishTestEvent, readStream, registerTestSecret, startTestStack, type TestStack } from '@domiq/testkit';
import { addTwilioSimFault, newAccountSid, registerTwilioSimAccount, sendInboundSms, twilioSimMessages } from '@domiq/twilio-sim';

// The reply-delivery queue when a gateway dies mid-attempt: the claim committed before the provider was called, so
// the row is found `sending` with its lease run out, and the next claimer looks at what the provider holds before it
// sends anything (test/e2e/reply-path.e2e.test.ts covers the path through conversations).
const TOKEN = registerTestSecret('9b74c9897bac770ffc029102a200c5de', 'Twilio auth token (outbound-delivery.test.ts)');
const FROM = '+14155550110';

let stack: TestStack;
let accountId: string;
let channelId: string;
let twilioAccount: string;
let n = 0;

beforeAll(async () => {
  stack = await startTestStack({
    services: ['channel-gateway'], twilioSim: true,
    // A lease just over the minimum (2 x timeout + 1 s), so a dead worker's claim comes back within seconds.
    env: { OUTBOUND_LEASE_MS: '5000', OUTBOUND_TIMEOUT_MS: '2000', OUTBOUND_RETRY_INITIAL_MS: '50', OUTBOUND_RETRY_MAX_MS: '200', OUTBOUND_POLL_MS: '100' },
  });
  accountId = crypto.randomUUID();
  twilioAccount = newAccountSid();
  await registerTwilioSimAccount(stack.twilioSimUrl, { accountSid: twilioAccount, authToken: TOKEN });
  const gateway = stack.adminClient(ChannelGatewayServiceClient, 'channel-gateway');
  const { channel } = await gateway.upsertChannel({
    accountId, propertyId: crypto.randomUUID(), channelKey: 'outbound-sms', type: 'CHANNEL_SMS', name: 'Outbound line', address: FROM,
    credentials: { $case: 'twilio', value: { accountSid: twilioAccount, authToken: TOKEN } },
  });
  channelId = channel!.id;
}, 120_000);
afterAll(async () => stack?.stop());

const customer = () => `+1415555${String(3000 + n++).padStart(4, '0')}`;

function replyRequested(to: string, body: string) {
  return {
    accountId, propertyId: '', conversationId: crypto.randomUUID(), customerId: crypto.randomUUID(), messageId: crypto.randomUUID(), channel: 'CHANNEL_SMS' as const,
    channelId, toAddress: to, content: body, senderId: crypto.randomUUID(), requestedAt: new Date().toISOString(),
  };
}

async function row(messageId: string) {
  const [r] = await stack.db.query<{ state: string; attempts: number; provider_message_id: string | null; outcome_unknown: boolean }>(
    `select state, attempts, provider_message_id, outcome_unknown from channel_gateway.outbound_messages where message_id = $1`, [messageId]);
  return r;
}

async function deliveryUpdates(messageId: string): Promise<Array<{ status: string; providerMessageId: string }>> {
  const published = await readStream(stack.nats.url, 'CHANNEL_GATEWAY');
  return published.filter((m) => m.subject === events.gatewayMessageDeliveryUpdated.subject && (m.data as { messageId?: string }).messageId === messageId)
    .map((m) => m.data as { status: string; providerMessageId: string });
}

describe('reply delivery across a gateway crash', () => {
  it('adopts what a dead worker already sent (found at Twilio) instead of sending it again', async () => {
    const to = customer();
    const reply = replyRequested(to, 'Sent just before the crash');
    // A dead worker's attempt: the row says `sending` with its lease run out, and Twilio has the message.
    const res = await fetch(`${stack.twilioSimUrl}/2010-04-01/Accounts/${twilioAccount}/Messages.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${twilioAccount}:${TOKEN}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: to, From: FROM, Body: reply.content }).toString(),
    });
    expect(res.status).toBe(201);
    const { sid } = (await res.json()) as { sid: string };
    await stack.db.query(
      `insert into channel_gateway.outbound_messages (account_id, channel_id, conversation_id, message_id, to_address, body, state, attempts, locked_until, last_attempt_at, created_at)
       values ($1, $2, $3, $4, $5, $6, 'sending', 1, now() - interval '1 second', now() - interval '2 seconds', now() - interval '3 seconds')`,
      [accountId, channelId, reply.conversationId, reply.messageId, to, reply.content]);
    await expectEventually(async () => expect(await row(reply.messageId)).toMatchObject({ state: 'accepted', attempts: 2, provider_message_id: sid }));
    expect(await twilioSimMessages(stack.twilioSimUrl, { to })).toHaveLength(1);
    const updates = await expectEventually(async () => {
      const u = await deliveryUpdates(reply.messageId);
      expect(u.length).toBeGreaterThan(0);
      return u;
    });
    expect(updates[0]).toMatchObject({ providerMessageId: sid });
  });

  it('a SIGKILL while Twilio holds the request: after the restart the reply is looked up, then sent once', async () => {
    const to = customer();
    const reply = replyRequested(to, 'Held while the gateway died');
    await addTwilioSimFault(stack.twilioSimUrl, { kind: 'timeout', to, times: 1 });
    await publishTestEvent(stack.nats.url, events.replyRequested, reply);
    await expectEventually(async () => expect(await row(reply.messageId)).toMatchObject({ state: 'sending', attempts: 1 }), { intervalMs: 20 });
    // Killed while Twilio holds the request (well within the 2 s timeout): the attempt never records anything.
    await stack.services['channel-gateway']!.kill('SIGKILL');
    const before = stack.services['channel-gateway']!.lines.length;
    await stack.start('channel-gateway');
    // Taken over by the restarted process once the lease ran out, and looked up before it sent (on a loaded machine
    // the kill can come after the first attempt's own timeout: then a later attempt is the one killed).
    const done = await expectEventually(async () => {
      const r = await row(reply.messageId);
      expect(r).toMatchObject({ state: 'accepted' });
      return r!;
    }, { timeoutMs: 30_000 });
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    const after = stack.services['channel-gateway']!.lines.slice(before).filter((l) => l.includes(reply.messageId));
    expect(after.some((l) => l.includes('reply handed to the provider') && l.includes(`"attempt":${done.attempts}`))).toBe(true);
    const sent = await twilioSimMessages(stack.twilioSimUrl, { to });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toBe(reply.content);
  });

  it('gives a reply up after the attempts allowed when Twilio keeps failing, with the last reason', async () => {
    await stack.services['channel-gateway']!.stop();
    stack.services['channel-gateway']!.opts.env.OUTBOUND_MAX_ATTEMPTS = '3';
    await stack.start('channel-gateway');
    const to = customer();
    await addTwilioSimFault(stack.twilioSimUrl, { kind: 'http503', to, times: 5 });
    const reply = replyRequested(to, 'Never makes it');
    await publishTestEvent(stack.nats.url, events.replyRequested, reply);
    await expectEventually(async () => expect(await row(reply.messageId)).toMatchObject({ state: 'failed', attempts: 3 }));
    const [failed] = await stack.db.query<{ error_code: string; error_message: string }>(`select error_code, error_message from channel_gateway.outbound_messages where message_id = $1`, [reply.messageId]);
    expect(failed).toMatchObject({ error_code: 'domiq.retries_exhausted' });
    expect(failed!.error_message).toMatch(/gave up after 3 attempts; last: .*503/);
    const updates = await expectEventually(async () => {
      const u = await deliveryUpdates(reply.messageId);
      expect(u.map((x) => x.status)).toEqual(['failed']);
      return u;
    });
    expect(updates).toHaveLength(1);
    expect(await twilioSimMessages(stack.twilioSimUrl, { to })).toHaveLength(0);
  });
});

describe('an erased customer\'s messages (conversations.customer.data_erased)', () => {
  it('forgets the inbound sender and text, the replies\' address and text, cancels a reply not sent yet, and redacts the gateway\'s events', async () => {
    const from = customer();
    const res = await sendInboundSms(`http://127.0.0.1:${stack.ports.gatewayHttp}/webhooks/twilio/outbound-sms`, TOKEN, { accountSid: twilioAccount, to: FROM, from, body: 'my card is 4242 4242 4242 4242' });
    expect(res.status).toBe(200);
    const [inbound] = await stack.db.query<{ id: string }>(`select id from channel_gateway.inbound_messages where provider_message_id = $1`, [res.messageSid]);
    // A reply still waiting (due in an hour): erasure must keep it from ever being sent.
    const waiting = replyRequested(from, 'Thanks, we got your card number');
    await stack.db.query(
      `insert into channel_gateway.outbound_messages (account_id, channel_id, conversation_id, message_id, to_address, body, next_attempt_at)
       values ($1, $2, $3, $4, $5, $6, now() + interval '1 hour')`, [accountId, channelId, waiting.conversationId, waiting.messageId, from, waiting.content]);
    // A reply requested before the erasure whose event is still on its way.
    const inFlight = replyRequested(from, 'Your card ending 4242 is saved');
    await publishTestEvent(stack.nats.url, events.customerDataErased, {
      accountId, customerId: crypto.randomUUID(), conversationIds: [], inboundIds: [inbound!.id], outboundMessageIds: [waiting.messageId, inFlight.messageId], messagesErased: 3, erasedAt: new Date().toISOString(),
    });
    await expectEventually(async () => {
      const [row] = await stack.db.query<{ from_address: string; body: string; raw: Record<string, unknown> }>(`select from_address, body, raw from channel_gateway.inbound_messages where id = $1`, [inbound!.id]);
      expect(row).toEqual({ from_address: '[erased]', body: '[erased]', raw: {} });
    });
    const [reply] = await stack.db.query<{ to_address: string; body: string; state: string; error_code: string }>(
      `select to_address, body, state, error_code from channel_gateway.outbound_messages where message_id = $1`, [waiting.messageId]);
    expect(reply).toEqual({ to_address: '[erased]', body: '[erased]', state: 'failed', error_code: 'domiq.erased' });
    // The cancelled reply's failure is published, so conversations does not show it pending for ever.
    await expectEventually(async () => expect((await deliveryUpdates(waiting.messageId)).map((u) => u.status)).toEqual(['failed']));
    // The in-flight request arrives after the erasure: handled, and nothing is queued or sent.
    const late = `conversations:late-${inFlight.messageId}`;
    await publishTestEvent(stack.nats.url, events.replyRequested, inFlight, late);
    await expectEventually(async () => expect(await stack.db.query(`select 1 from channel_gateway.processed_event where event_id = $1`, [late])).toHaveLength(1));
    expect(await row(inFlight.messageId)).toBeUndefined();
    expect(await twilioSimMessages(stack.twilioSimUrl, { to: from })).toHaveLength(0);
    expect(await stack.db.query(`select id from channel_gateway.event_log where payload::text like '%4242 4242%' or payload::text like $1`, [`%${from}%`])).toHaveLength(0);
    // The dedupe key stays: Twilio retrying the same webhook stores nothing new.
    expect((await stack.db.query(`select 1 from channel_gateway.inbound_messages where provider_message_id = $1`, [res.messageSid]))).toHaveLength(1);
  });
});

