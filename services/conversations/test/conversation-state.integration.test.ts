// Conversation state changes are written one way: by the use case, with their conversation.state_changed event in
// the same transaction; the database refuses a change without it at commit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { events } from '@domiq/proto/events';
import type { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { expectEventually, publishTestEvent, startTestStack, type TestStack } from '@domiq/testkit';

let stack: TestStack;
let conversations: PromiseClient<ConversationsServiceClient>;
let accountId: string;
const agentId = crypto.randomUUID();

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'conversations'] });
  accountId = await stack.createAccount('State Machine Living');
  conversations = await stack.client(ConversationsServiceClient, 'conversations', { accountId, userId: agentId, role: 'agent' });
});
afterAll(async () => stack?.stop());

function inbound(from: string, body: string): MessageReceived {
  return {
    inboundId: crypto.randomUUID(), accountId, propertyId: '', channelId: crypto.randomUUID(), channelType: 'CHANNEL_SMS', provider: 'twilio',
    providerMessageId: `SM${crypto.randomUUID().replaceAll('-', '')}`, fromAddress: from, toAddress: '+15005550006', body,
    receivedAt: new Date().toISOString(), senderName: '',
  };
}

interface StateEvent {
  previous: string;
  next: string;
  actor_type: string;
  actor_id: string | null;
  causation_msg_id: string | null;
  customer_id: string;
}

/** A stored state as the contract's ConversationState enum name. */
const S = (state: string) => `CONVERSATION_STATE_${state.toUpperCase()}`;

const stateEvents = (conversationId: string) => stack.db.query<StateEvent>(
  `select payload->>'previousState' as previous, payload->>'newState' as next, actor_type, actor_id, causation_msg_id, payload->>'customerId' as customer_id
     from conversations.event_log where entity_type = 'conversation' and entity_id = $1 and event_type = 'conversation.state_changed' order by id`,
  [conversationId],
);

const conversationRow = async (id: string) =>
  (await stack.db.query<{ state: string; previous_state: string | null; message_count: number; customer_id: string }>(
    `select state, previous_state, message_count, customer_id from conversations.conversations where id = $1`, [id]))[0]!;

/** Sends a message and waits until it is stored; returns its conversation. */
async function receive(from: string, body: string, eventId?: string): Promise<string> {
  await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, inbound(from, body), eventId);
  const [row] = await expectEventually(async () => {
    const rows = await stack.db.query<{ conversation_id: string }>(`select conversation_id from conversations.messages where content = $1`, [body]);
    expect(rows).toHaveLength(1);
    return rows;
  });
  return row!.conversation_id;
}

/**
 * Moves a conversation as another writer of this service would, with its event, backdating a resolution. The event
 * is written after the update, in another statement of the transaction: the guard runs at commit.
 */
async function moveTo(id: string, state: string) {
  const { state: from } = await conversationRow(id);
  // The payload carries the states as the ConversationState enum's proto3 JSON names.
  const json = S;
  // One simple-protocol query (no parameters) so the statements share a transaction; the values are ours.
  await stack.db.query(`begin;
    update conversations.conversations set previous_state = state, state = '${state}',
           resolved_at = ${state === 'resolved' ? `now() - interval '1 day'` : 'resolved_at'} where id = '${id}';
    insert into conversations.event_log (event_type, entity_type, entity_id, payload, subject, account_id, conversation_id, customer_id, actor_type)
    select 'conversation.state_changed', 'conversation', c.id,
           jsonb_build_object('accountId', c.account_id, 'conversationId', c.id, 'customerId', c.customer_id, 'previousState', '${json(from)}', 'newState', '${json(state)}', 'changedAt', now()),
           'conversations.conversation.state_changed', c.account_id, c.id, c.customer_id, 'system'
      from conversations.conversations c where c.id = '${id}';
    commit;`);
  expect((await conversationRow(id)).state).toBe(state);
}

describe('conversation state changes', () => {
  it('an escalation writes exactly one state_changed event, with the states and the agent who escalated', async () => {
    const id = await receive('+14155550301', 'please escalate me');
    expect(await stateEvents(id)).toEqual([]);
    const { conversation } = await conversations.escalateConversation({ accountId, conversationId: id, issueType: 'ISSUE_TYPE_BILLING', reason: 'charged twice', severity: 'SEVERITY_P1' });
    expect(conversation!.state).toBe('CONVERSATION_STATE_ESCALATED');
    const row = await conversationRow(id);
    expect(row).toMatchObject({ state: 'escalated', previous_state: 'open' });
    expect(await stateEvents(id)).toEqual([{ previous: S('open'), next: S('escalated'), actor_type: 'user', actor_id: agentId, causation_msg_id: null, customer_id: row.customer_id }]);

    // Escalating again raises the severity and publishes the escalation, but the state does not change.
    await conversations.escalateConversation({ accountId, conversationId: id, issueType: 'ISSUE_TYPE_BILLING', reason: 'still charged', severity: 'SEVERITY_P0' });
    expect(await stateEvents(id)).toHaveLength(1);
    const escalations = await stack.db.query(`select 1 from conversations.event_log where entity_id = $1 and event_type = 'conversation.escalated'`, [id]);
    expect(escalations).toHaveLength(2);
  });

  it('a resolved conversation cannot be escalated, and nothing is written', async () => {
    const id = await receive('+14155550302', 'resolved already');
    await moveTo(id, 'resolved');
    const before = await stack.db.query(`select count(*)::int as n from conversations.event_log where entity_id = $1`, [id]);
    await expect(conversations.escalateConversation({ accountId, conversationId: id, issueType: 'ISSUE_TYPE_OPS', reason: 'x', severity: 'SEVERITY_UNSPECIFIED' }))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('resolved') });
    expect(await stack.db.query(`select count(*)::int as n from conversations.event_log where entity_id = $1`, [id])).toEqual(before);
    expect((await conversationRow(id)).state).toBe('resolved');
  });

  it('a customer writing to a conversation awaiting them moves it to awaiting_agent, caused by the received event', async () => {
    const id = await receive('+14155550303', 'first question');
    await moveTo(id, 'awaiting_customer');
    const eventId = `test:${crypto.randomUUID()}`;
    expect(await receive('+14155550303', 'here is my answer', eventId)).toBe(id);
    expect(await conversationRow(id)).toMatchObject({ state: 'awaiting_agent', previous_state: 'awaiting_customer', message_count: 2 });
    const changes = await stateEvents(id);
    expect(changes.map((e) => [e.previous, e.next])).toEqual([[S('open'), S('awaiting_customer')], [S('awaiting_customer'), S('awaiting_agent')]]);
    expect(changes[1]).toMatchObject({ actor_type: 'system', actor_id: null, causation_msg_id: eventId });

    // A further message changes nothing: no event.
    await receive('+14155550303', 'and one more thing');
    expect(await stateEvents(id)).toHaveLength(2);
  });

  it('a customer writing soon after resolution reopens the conversation, with one state_changed event', async () => {
    const id = await receive('+14155550304', 'my sink leaks');
    await moveTo(id, 'resolved');
    const eventId = `test:${crypto.randomUUID()}`;
    expect(await receive('+14155550304', 'it leaks again', eventId)).toBe(id);
    expect(await conversationRow(id)).toMatchObject({ state: 'reopened', previous_state: 'resolved' });
    const changes = await stateEvents(id);
    expect(changes.map((e) => [e.previous, e.next])).toEqual([[S('open'), S('resolved')], [S('resolved'), S('reopened')]]);
    expect(changes[1]).toMatchObject({ actor_type: 'system', causation_msg_id: eventId });
  });

  it('resolves and reopens over gRPC, each change with previous_state, its time and one state_changed event by the agent', async () => {
    const id = await receive('+14155550306', 'my key fob does not work');
    const { conversation: resolved } = await conversations.resolveConversation({ accountId, conversationId: id });
    expect(resolved).toMatchObject({ state: S('resolved'), previousState: S('open') });
    expect(resolved!.resolvedAt).not.toBe('');
    // Resolving again is refused (someone else resolved it first), and nothing is written.
    await expect(conversations.resolveConversation({ accountId, conversationId: id })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    const { conversation: reopened } = await conversations.reopenConversation({ accountId, conversationId: id });
    expect(reopened).toMatchObject({ state: S('reopened'), previousState: S('resolved') });
    expect(reopened!.reopenedAt).not.toBe('');
    // Only a resolved conversation can be reopened.
    await expect(conversations.reopenConversation({ accountId, conversationId: id })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('reopened') });
    const changes = await stateEvents(id);
    expect(changes.map((e) => [e.previous, e.next, e.actor_type, e.actor_id])).toEqual([
      [S('open'), S('resolved'), 'user', agentId], [S('resolved'), S('reopened'), 'user', agentId],
    ]);
    expect(await conversationRow(id)).toMatchObject({ state: 'reopened', previous_state: 'resolved' });
    // Another account's agent cannot see it.
    const otherAccount = crypto.randomUUID();
    const outsider = await stack.client(ConversationsServiceClient, 'conversations', { accountId: otherAccount, role: 'agent' });
    await expect(outsider.resolveConversation({ accountId: otherAccount, conversationId: id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(conversations.resolveConversation({ accountId, conversationId: 'nope' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('conversation_id') });
  });

  it('the database refuses a state change without its event at commit, and keeps other updates', async () => {
    const id = await receive('+14155550305', 'raw sql target');
    await expect(stack.db.query(`update conversations.conversations set state = 'resolved' where id = $1`, [id]))
      .rejects.toThrow(/changed state from open to resolved without a conversation.state_changed event/);
    // In an explicit transaction the update goes through and the commit fails, rolling it back.
    await expect(stack.db.query(`begin; update conversations.conversations set state = 'resolved' where id = '${id}'; commit;`))
      .rejects.toThrow(/without a conversation.state_changed event/);
    // An event of an earlier transaction does not cover a later change to the same state.
    await moveTo(id, 'escalated');
    await moveTo(id, 'open');
    await expect(stack.db.query(`update conversations.conversations set state = 'escalated' where id = $1`, [id])).rejects.toThrow(/without a conversation.state_changed event/);
    // Nor does an event naming another state.
    await expect(stack.db.query(
      `with u as (update conversations.conversations set state = 'resolved' where id = $1 returning id)
       insert into conversations.event_log (event_type, entity_type, entity_id, payload, subject)
       select 'conversation.state_changed', 'conversation', u.id, jsonb_build_object('previousState', '${S('open')}', 'newState', '${S('escalated')}'), 'conversations.conversation.state_changed' from u`,
      [id],
    )).rejects.toThrow(/without a conversation.state_changed event/);
    expect((await conversationRow(id)).state).toBe('open');
    expect((await stateEvents(id)).map((e) => e.next)).toEqual([S('escalated'), S('open')]);
    // Updates that leave the state alone need no event.
    await stack.db.query(`update conversations.conversations set subject = 'kept' where id = $1`, [id]);
    expect((await stack.db.query(`select subject from conversations.conversations where id = $1`, [id]))[0]).toEqual({ subject: 'kept' });
  });
});
