import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { events } from '@domiq/proto/events';
import type { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { expectEventually, publishTestEvent, readStream, startTestStack, type TestStack } from '@domiq/testkit';

let stack: TestStack;
let conversations: PromiseClient<ConversationsServiceClient>;
let accountId: string;
const propertyId = crypto.randomUUID();

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'conversations'] });
  accountId = await stack.createAccount('Acme');
  conversations = await stack.client(ConversationsServiceClient, 'conversations', { accountId });
});
afterAll(async () => stack?.stop());

function inbound(from: string, body: string, overrides: Partial<MessageReceived> = {}): MessageReceived {
  return {
    inboundId: crypto.randomUUID(), accountId, propertyId, channelId: crypto.randomUUID(), channelType: 'CHANNEL_SMS', provider: 'twilio',
    providerMessageId: `SM${crypto.randomUUID().replaceAll('-', '')}`, fromAddress: from, toAddress: '+15005550006', body,
    receivedAt: new Date().toISOString(), senderName: '', ...overrides,
  };
}

async function conversationsOf(from: string) {
  const rows = await stack.db.query<{ id: string; message_count: number; state: string }>(
    `select c.id, c.message_count, c.state from conversations.conversations c join conversations.messages m on m.conversation_id = c.id
      where m.channel_metadata->>'from' = $1 group by c.id`, [from]);
  return rows;
}

describe('conversations: channel-gateway.message.received', () => {
  it('threads two messages from one sender into one conversation and publishes created events', async () => {
    await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, inbound('+14155550101', 'Hi, is the 2 bed still available?'));
    await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, inbound('(415) 555-0101', 'Also, pets?'));
    const [conv] = await expectEventually(async () => {
      const rows = await conversationsOf('(415) 555-0101');
      expect(rows).toHaveLength(1);
      expect(rows[0]!.message_count).toBe(2);
      return rows;
    });
    const { messages } = await conversations.listMessages({ accountId, conversationId: conv!.id });
    expect(messages.map((m) => m.content)).toEqual(['Hi, is the 2 bed still available?', 'Also, pets?']);
    const all = await expectEventually(async () => {
      const published = await readStream(stack.nats.url, 'CONVERSATIONS');
      // The created events (the annotator adds message.annotated and, for what the message states, conversation.updated).
      const mine = published.filter((m) => (m.data as { conversationId?: string }).conversationId === conv!.id && m.subject.endsWith('.created'));
      expect(mine.map((m) => m.subject).sort()).toEqual(['conversations.conversation.created', 'conversations.message.created', 'conversations.message.created']);
      return mine;
    });
    for (const m of all) expect(m.headers['Nats-Msg-Id']).toMatch(/^conversations:\d+$/);
  });

  it('stores one message when the same event is delivered twice', async () => {
    const event = inbound('+14155550102', 'only once');
    const eventId = `gateway:${Date.now()}`;
    await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, event, eventId);
    // Same payload, new event id: the provider message id still dedupes it.
    await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, event, `${eventId}-replayed`);
    await expectEventually(async () => expect((await conversationsOf('+14155550102'))[0]?.message_count).toBe(1));
    const processed = await expectEventually(async () => {
      const rows = await stack.db.query<{ n: number }>(`select count(*)::int as n from conversations.processed_event where event_id like $1`, [`${eventId}%`]);
      expect(rows[0]!.n).toBe(2);
      return rows;
    });
    expect(processed).toBeTruthy();
    const msgs = await stack.db.query<{ n: number }>(`select count(*)::int as n from conversations.messages where content = 'only once'`);
    expect(msgs[0]!.n).toBe(1);
  });

  it('threads a batch set-based: a new sender\'s messages share one conversation, a repeat is stored once, each message has its own events', async () => {
    // Filled while conversations is stopped, so the consumer takes these in batches when it starts.
    await stack.services.conversations!.stop();
    const senders = Array.from({ length: 8 }, (_, i) => `+1415555${String(300 + i).padStart(4, '0')}`);
    const sent: Array<{ event: MessageReceived; eventId: string }> = [];
    const base = Date.now() - 60_000;
    for (let round = 0; round < 3; round++) {
      for (const [n, from] of senders.entries()) {
        const event = inbound(from, `batch ${n} round ${round}`, { receivedAt: new Date(base + round * 1000 + n).toISOString() });
        sent.push({ event, eventId: `gateway:batch-${n}-${round}-${crypto.randomUUID()}` });
      }
    }
    // The same provider message once more under another event id (a racing delivery): stored once.
    const repeated = sent[3]!;
    for (const { event, eventId } of [...sent, { event: repeated.event, eventId: `${repeated.eventId}-again` }]) {
      await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, event, eventId);
    }
    await stack.services.conversations!.start();
    const rows = await expectEventually(async () => {
      const rows = await stack.db.query<{ sender: string; conversations: number; messages: number; counted: number; last: Date; contents: string[] }>(
        `select m.channel_metadata->>'from' as sender, count(distinct c.id)::int as conversations, count(*)::int as messages, max(c.message_count)::int as counted,
                max(c.last_message_at) as last, array_agg(m.content order by m.created_at) as contents
           from conversations.messages m join conversations.conversations c on c.id = m.conversation_id
          where m.channel_metadata->>'from' = any($1) group by 1 order by 1`, [senders]);
      expect(rows.map((r) => r.messages)).toEqual(senders.map(() => 3));
      return rows;
    });
    for (const [n, r] of rows.entries()) {
      expect(r).toMatchObject({ sender: senders[n], conversations: 1, messages: 3, counted: 3 });
      expect(r.contents).toEqual([0, 1, 2].map((round) => `batch ${n} round ${round}`));
      expect(r.last.getTime()).toBe(base + 2000 + n);
    }
    // Batches really formed: several events claimed by one transaction.
    const [claims] = await stack.db.query<{ biggest: number }>(
      `select max(n)::int as biggest from (select count(*) as n from conversations.processed_event where event_id like 'gateway:batch-%' group by processed_at) t`);
    expect(claims!.biggest).toBeGreaterThan(1);
    // Each stored message has one message.created caused by its own event; each conversation one conversation.created.
    const evs = await stack.db.query<{ event_type: string; causation_msg_id: string; n: number }>(
      `select event_type, causation_msg_id, count(*)::int as n from conversations.event_log where causation_msg_id like 'gateway:batch-%' group by 1, 2`);
    const created = evs.filter((e) => e.event_type === 'message.created');
    expect(created).toHaveLength(sent.length);
    expect(new Set(created.map((e) => e.causation_msg_id))).toEqual(new Set(sent.map((s) => s.eventId)));
    expect(created.every((e) => e.n === 1)).toBe(true);
    const started = evs.filter((e) => e.event_type === 'conversation.created');
    expect(started.map((e) => e.causation_msg_id).sort()).toEqual(sent.slice(0, senders.length).map((s) => s.eventId).sort());
  });

  it('dead-letters a message whose sender can never resolve, keeping the reason', async () => {
    await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, inbound('not-a-number', 'poison'));
    const dlq = await expectEventually(async () => {
      const rows = await readStream(stack.nats.url, 'DLQ', 'dlq.conversations-message-received');
      expect(rows.length).toBeGreaterThan(0);
      return rows;
    });
    expect(dlq[0]!.headers['DomIQ-Dlq-Reason']).toMatch(/identity/);
    expect((dlq[0]!.data as { body: string }).body).toBe('poison');
  });

  it('escalates a conversation (state change logged and published) and refuses bad input naming the field', async () => {
    await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, inbound('+14155550103', 'my card was charged twice'));
    const [conv] = await expectEventually(async () => {
      const rows = await conversationsOf('+14155550103');
      expect(rows).toHaveLength(1);
      return rows;
    });
    await expect(conversations.escalateConversation({ accountId, conversationId: conv!.id, issueType: 'UNRECOGNIZED', reason: 'x', severity: 'SEVERITY_UNSPECIFIED' }))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('issue_type') });
    const { conversation } = await conversations.escalateConversation({ accountId, conversationId: conv!.id, issueType: 'ISSUE_TYPE_BILLING', reason: 'double charge', severity: 'SEVERITY_P1' });
    expect(conversation!.state).toBe('CONVERSATION_STATE_ESCALATED');
    await expectEventually(async () => {
      const subjects = (await readStream(stack.nats.url, 'CONVERSATIONS')).filter((m) => (m.data as { conversationId?: string }).conversationId === conv!.id).map((m) => m.subject);
      expect(subjects).toContain('conversations.conversation.escalated');
      expect(subjects).toContain('conversations.conversation.state_changed');
    });
    // Tenant isolation: another account's admin cannot read it, and this account's token cannot name another account.
    const other = await stack.createAccount('Other');
    const otherAdmin = await stack.client(ConversationsServiceClient, 'conversations', { accountId: other });
    await expect(otherAdmin.getConversation({ accountId: other, conversationId: conv!.id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(conversations.getConversation({ accountId: other, conversationId: conv!.id })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('limits a property manager to the conversations of their properties', async () => {
    const elsewhere = crypto.randomUUID();
    await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, inbound('+14155550177', 'At my property', { propertyId }));
    await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, inbound('+14155550178', 'At another property', { propertyId: elsewhere }));
    const [mine] = await expectEventually(async () => {
      const a = await conversationsOf('+14155550177');
      const b = await conversationsOf('+14155550178');
      if (!a.length || !b.length) throw new Error('not yet stored');
      return [a[0]!, b[0]!];
    });
    const theirs = (await conversationsOf('+14155550178'))[0]!;
    const manager = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'property_manager', propertyIds: [propertyId] });
    const { conversations: listed } = await manager.listConversations({ accountId, customerId: '', limit: 500 });
    expect(listed.map((c) => c.id)).toContain(mine.id);
    expect(listed.every((c) => c.propertyId === propertyId)).toBe(true);
    expect((await manager.getConversation({ accountId, conversationId: mine.id })).conversation!.id).toBe(mine.id);
    await expect(manager.getConversation({ accountId, conversationId: theirs.id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(manager.listMessages({ accountId, conversationId: theirs.id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    // A property manager may not escalate (not in the method's roles).
    await expect(manager.escalateConversation({ accountId, conversationId: mine.id, issueType: 'ISSUE_TYPE_BILLING', reason: 'x', severity: 'SEVERITY_UNSPECIFIED' })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
