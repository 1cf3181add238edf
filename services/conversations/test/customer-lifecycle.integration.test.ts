import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PromiseClient } from '@domiq/grpc';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { events } from '@domiq/proto/events';
import type { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { expectEventually, publishTestEvent, readStream, startTestStack, type TestStack } from '@domiq/testkit';

// What identity's customer lifecycle does to conversations: a merge re-points the source's conversations (and
// leads) to the target, the unmerge moves exactly those back, in either order of arrival; an erasure forgets the
// customer's personal data and names what the gateway holds.
let stack: TestStack;
let accountId: string;
let agent: PromiseClient<ConversationsServiceClient>;
const propertyId = crypto.randomUUID();
let n = 0;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'conversations'] });
  accountId = await stack.createAccount('Lifecycle Living');
  agent = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'agent' });
});
afterAll(async () => stack?.stop());

/** A message from `from`; resolves to its conversation and customer once stored. */
async function receive(from: string, body = `hello ${n++} ${crypto.randomUUID()}`): Promise<{ conversationId: string; customerId: string; inboundId: string }> {
  const inboundId = crypto.randomUUID();
  const event: MessageReceived = {
    inboundId, accountId, propertyId, channelId: crypto.randomUUID(), channelType: 'CHANNEL_SMS', provider: 'twilio',
    providerMessageId: `SM${crypto.randomUUID().replaceAll('-', '')}`, fromAddress: from, toAddress: '+15005550006', body, receivedAt: new Date().toISOString(), senderName: '',
  };
  await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, event);
  const row = await expectEventually(async () => {
    const rows = await stack.db.query<{ conversation_id: string; customer_id: string }>(
      `select m.conversation_id, c.customer_id from conversations.messages m join conversations.conversations c on c.id = m.conversation_id where m.content = $1`, [body]);
    expect(rows).toHaveLength(1);
    return rows[0]!;
  });
  return { conversationId: row.conversation_id, customerId: row.customer_id, inboundId };
}

const ownerOf = async (conversationId: string) =>
  (await stack.db.query<{ customer_id: string }>(`select customer_id from conversations.conversations where id = $1`, [conversationId]))[0]!.customer_id;

const merge = (mergeId: string, source: string, target: string, eventId?: string) =>
  publishTestEvent(stack.nats.url, events.identityCustomerMerged, { accountId, sourceCustomerId: source, targetCustomerId: target, mergeId, mergedAt: new Date().toISOString() }, eventId);
const unmerge = (mergeId: string, source: string, target: string, eventId?: string) =>
  publishTestEvent(stack.nats.url, events.identityCustomerUnmerged, { accountId, sourceCustomerId: source, targetCustomerId: target, mergeId, unmergedAt: new Date().toISOString() }, eventId);
/** Waits until conversations has handled the event with this id. */
const handled = (eventId: string) => expectEventually(async () =>
  expect(await stack.db.query(`select 1 from conversations.processed_event where event_id = $1`, [eventId])).toHaveLength(1));

describe('customer merges in conversations', () => {
  it('re-points the source\'s conversations and leads to the target, and the unmerge moves exactly those back', async () => {
    const source = await receive('+14155550701');
    const target = await receive('+14155550702');
    await agent.updateLead({ accountId, conversationId: source.conversationId, changes: { isQualified: true, pets: [], setPets: false } });
    const mergeId = crypto.randomUUID();
    await merge(mergeId, source.customerId, target.customerId);
    await expectEventually(async () => expect(await ownerOf(source.conversationId)).toBe(target.customerId));
    const [lead] = await stack.db.query<{ customer_id: string }>(`select customer_id from conversations.leads where conversation_id = $1`, [source.conversationId]);
    expect(lead!.customer_id).toBe(target.customerId);
    // A conversation the target starts after the merge is theirs, and stays theirs after the unmerge.
    const later = await receive('+14155550703');
    await stack.db.query(`update conversations.conversations set customer_id = $1 where id = $2`, [target.customerId, later.conversationId]);
    await unmerge(mergeId, source.customerId, target.customerId);
    await expectEventually(async () => expect(await ownerOf(source.conversationId)).toBe(source.customerId));
    expect(await ownerOf(target.conversationId)).toBe(target.customerId);
    expect(await ownerOf(later.conversationId)).toBe(target.customerId);
    const [leadBack] = await stack.db.query<{ customer_id: string }>(`select customer_id from conversations.leads where conversation_id = $1`, [source.conversationId]);
    expect(leadBack!.customer_id).toBe(source.customerId);
  });

  it('an unmerge that arrives before its merge leaves the merge moving nothing; a redelivered merge moves nothing twice', async () => {
    const source = await receive('+14155550711');
    const target = await receive('+14155550712');
    const mergeId = crypto.randomUUID();
    await unmerge(mergeId, source.customerId, target.customerId);
    await expectEventually(async () => expect(await stack.db.query(`select 1 from conversations.customer_repoints where merge_id = $1 and undone_at is not null`, [mergeId])).toHaveLength(1));
    const late = `identity:late-merge-${mergeId}`;
    await merge(mergeId, source.customerId, target.customerId, late);
    await handled(late);
    expect(await ownerOf(source.conversationId)).toBe(source.customerId);

    const other = crypto.randomUUID();
    await merge(other, source.customerId, target.customerId);
    await expectEventually(async () => expect(await ownerOf(source.conversationId)).toBe(target.customerId));
    // The same merge again under another event id (a replay): nothing more is recorded.
    const replay = `identity:replayed-merge-${other}`;
    await merge(other, source.customerId, target.customerId, replay);
    await handled(replay);
    const rows = await stack.db.query(`select 1 from conversations.customer_repoints where merge_id = $1`, [other]);
    expect(rows).toHaveLength(2);
  });
});

describe('customer erasure in conversations', () => {
  it('forgets contents, addresses, notes and leads, redacts its own events, and names what the gateway holds', async () => {
    const phone = '+14155550721';
    const first = await receive(phone, 'My SSN is 078-05-1120 and I need the unit');
    const keep = await receive('+14155550722', 'someone else entirely');
    await agent.addInternalNote({ accountId, conversationId: first.conversationId, content: 'She said her SSN on the phone', visibility: 'team', mentions: [] });
    await agent.updateLead({ accountId, conversationId: first.conversationId, changes: { bedrooms: 2, pets: [], setPets: false } });
    await publishTestEvent(stack.nats.url, events.identityCustomerErased, { accountId, customerId: first.customerId, erasedAt: new Date().toISOString(), erasureId: crypto.randomUUID() });
    const erased = await expectEventually(async () => {
      const published = await readStream(stack.nats.url, 'CONVERSATIONS');
      const e = published.find((m) => m.subject === 'conversations.customer.data_erased' && (m.data as { customerId?: string }).customerId === first.customerId);
      expect(e).toBeDefined();
      return e!.data as { conversationIds: string[]; inboundIds: string[]; messagesErased: number };
    });
    expect(erased).toMatchObject({ conversationIds: [first.conversationId], inboundIds: [first.inboundId], messagesErased: 1 });
    const [msg] = await stack.db.query<{ content: string; meta: Record<string, unknown> }>(`select content, channel_metadata as meta from conversations.messages where conversation_id = $1`, [first.conversationId]);
    expect(msg!.content).toBe('[erased]');
    expect(msg!.meta).not.toHaveProperty('from');
    expect((await stack.db.query<{ content: string }>(`select content from conversations.internal_notes where conversation_id = $1`, [first.conversationId]))[0]!.content).toBe('[erased]');
    expect(await stack.db.query(`select 1 from conversations.leads where conversation_id = $1`, [first.conversationId])).toHaveLength(0);
    // No event of this service still carries the text; the other customer's are untouched.
    const leaked = await stack.db.query(`select id from conversations.event_log where payload::text like '%078-05-1120%'`);
    expect(leaked).toHaveLength(0);
    expect((await stack.db.query(`select 1 from conversations.event_log where payload::text like '%someone else entirely%'`)).length).toBeGreaterThan(0);
    const [audit] = await stack.db.query<{ customer_id: string; events_redacted: number }>(`select customer_id, events_redacted from conversations.event_log_erasure where customer_id = $1`, [first.customerId]);
    expect(audit!.events_redacted).toBeGreaterThan(0);
    // The append-only guard still refuses every other change.
    await expect(stack.db.query(`update conversations.event_log set payload = '{}' where customer_id = $1`, [keep.customerId])).rejects.toThrow(/append-only/);
    // A new message from the same number afterwards is stored as usual.
    const again = await receive(phone, 'hello again');
    expect(again.conversationId).toBeTruthy();
  });
});
