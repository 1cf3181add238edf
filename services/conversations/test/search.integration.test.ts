import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { events } from '@domiq/proto/events';
import type { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { expectEventually, publishTestEvent, startTestStack, type TestStack } from '@domiq/testkit';

// Full-text search over messages: stemmed, ranked, tenant- and property-scoped.
let stack: TestStack;
let accountId: string;
let otherAccount: string;
let agent: PromiseClient<ConversationsServiceClient>;
const propertyA = crypto.randomUUID();
const propertyB = crypto.randomUUID();
let n = 0;

async function receive(account: string, property: string, from: string, body: string): Promise<string> {
  const event: MessageReceived = {
    inboundId: crypto.randomUUID(), accountId: account, propertyId: property, channelId: crypto.randomUUID(), channelType: 'CHANNEL_SMS', provider: 'twilio',
    providerMessageId: `SM${crypto.randomUUID().replaceAll('-', '')}`, fromAddress: from, toAddress: '+15005550006', body,
    receivedAt: new Date(Date.now() + n++).toISOString(), senderName: '',
  };
  await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, event);
  return expectEventually(async () => {
    const rows = await stack.db.query<{ conversation_id: string }>(`select conversation_id from conversations.messages where content = $1`, [body]);
    expect(rows).toHaveLength(1);
    return rows[0]!.conversation_id;
  });
}

let leakA: string;
let leakB: string;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'conversations'] });
  accountId = await stack.createAccount('Search Living');
  otherAccount = await stack.createAccount('Other Search Living');
  agent = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'agent' });
  leakA = await receive(accountId, propertyA, '+14155550601', 'My kitchen faucet is leaking');
  await receive(accountId, propertyA, '+14155550601', 'The faucet leak is worse, water leaks everywhere under the sink');
  leakB = await receive(accountId, propertyB, '+14155550602', 'Small leak in the bathroom ceiling');
  await receive(accountId, propertyB, '+14155550603', 'When is rent due this month?');
  await receive(otherAccount, propertyA, '+14155550604', 'Our faucet is leaking too');
});
afterAll(async () => stack?.stop());

describe('SearchMessages', () => {
  it('finds stemmed words, ranks the message that matches best first, and marks the words in the snippet', async () => {
    const { hits } = await agent.searchMessages({ accountId, query: 'faucet leaks', limit: 0, conversationId: '', groupByConversation: false });
    // ts_headline drops the fragment's leading stop words ("The", "My").
    expect(hits.map((h) => h.snippet.replaceAll(/\[\[|\]\]/g, ''))).toEqual(['faucet leak is worse, water leaks everywhere under the sink', 'kitchen faucet is leaking']);
    expect(hits[0]!.rank).toBeGreaterThan(hits[1]!.rank);
    expect(hits[1]!.snippet).toContain('[[faucet]]');
    expect(hits[1]!.snippet).toContain('[[leaking]]');
    expect(hits.every((h) => h.conversationId === leakA && h.direction === 'inbound' && h.channel === 'CHANNEL_SMS')).toBe(true);
  });

  it('keeps to the account, and to a property manager\'s properties; groups by conversation and filters one', async () => {
    const { hits } = await agent.searchMessages({ accountId, query: 'leak', limit: 10, conversationId: '', groupByConversation: false });
    expect(hits).toHaveLength(3);
    expect(hits.some((h) => h.snippet.includes('too'))).toBe(false);
    const grouped = await agent.searchMessages({ accountId, query: 'leak', limit: 10, conversationId: '', groupByConversation: true });
    expect(grouped.hits.map((h) => h.conversationId).sort()).toEqual([leakA, leakB].sort());
    const one = await agent.searchMessages({ accountId, query: 'leak', limit: 10, conversationId: leakB, groupByConversation: false });
    expect(one.hits.map((h) => h.conversationId)).toEqual([leakB]);
    const manager = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'property_manager', propertyIds: [propertyB] });
    const theirs = await manager.searchMessages({ accountId, query: 'leak', limit: 10, conversationId: '', groupByConversation: false });
    expect(theirs.hits.map((h) => h.conversationId)).toEqual([leakB]);
    // Phrases, negation, and a query of stop words only (nothing to match).
    expect((await agent.searchMessages({ accountId, query: '"rent due"', limit: 10, conversationId: '', groupByConversation: false })).hits).toHaveLength(1);
    expect((await agent.searchMessages({ accountId, query: 'leak -faucet', limit: 10, conversationId: '', groupByConversation: false })).hits.map((h) => h.conversationId)).toEqual([leakB]);
    expect((await agent.searchMessages({ accountId, query: 'the and of', limit: 10, conversationId: '', groupByConversation: false })).hits).toEqual([]);
  });

  it('answers INVALID_ARGUMENT naming the field for an empty or long query, a bad limit or conversation id', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ query: ' ' }, 'query'], [{ query: 'x'.repeat(201) }, 'query'], [{ limit: 101 }, 'limit'], [{ limit: -1 }, 'limit'], [{ conversationId: 'abc' }, 'conversation_id'],
    ];
    for (const [over, field] of cases) {
      await expect(agent.searchMessages({ accountId, query: 'leak', limit: 10, conversationId: '', groupByConversation: false, ...over }), field)
        .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(field) });
    }
  });
});
