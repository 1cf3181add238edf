import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, status, type PromiseClient } from '@domiq/grpc';
import { ConversationsServiceClient, type LeadChanges } from '@domiq/proto/conversations';
import { events } from '@domiq/proto/events';
import type { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { expectEventually, publishTestEvent, readStream, startTestStack, type TestStack } from '@domiq/testkit';

// The leasing lead of a conversation at a property: GetLead / UpdateLead, its rules, its version, and
// conversation.updated naming the changed fields with their values.
let stack: TestStack;
let agent: PromiseClient<ConversationsServiceClient>;
let accountId: string;
const agentId = crypto.randomUUID();
const propertyId = crypto.randomUUID();
let n = 0;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'conversations'] });
  accountId = await stack.createAccount('Lead Living');
  agent = await stack.client(ConversationsServiceClient, 'conversations', { accountId, userId: agentId, role: 'agent' });
});
afterAll(async () => stack?.stop());

async function conversation(property: string | null = propertyId): Promise<string> {
  const body = `lead test ${n++} ${crypto.randomUUID()}`;
  const event: MessageReceived = {
    inboundId: crypto.randomUUID(), accountId, propertyId: property ?? '', channelId: crypto.randomUUID(), channelType: 'CHANNEL_SMS', provider: 'twilio',
    providerMessageId: `SM${crypto.randomUUID().replaceAll('-', '')}`, fromAddress: `+1415555${String(4000 + n).padStart(4, '0')}`, toAddress: '+15005550006', body,
    receivedAt: new Date().toISOString(), senderName: '',
  };
  await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, event);
  return expectEventually(async () => {
    const rows = await stack.db.query<{ conversation_id: string }>(`select conversation_id from conversations.messages where content = $1`, [body]);
    expect(rows).toHaveLength(1);
    return rows[0]!.conversation_id;
  });
}

const changes = (c: Partial<LeadChanges>): LeadChanges => ({ pets: [], setPets: false, ...c });

async function updates(conversationId: string) {
  const published = await readStream(stack.nats.url, 'CONVERSATIONS');
  return published.filter((m) => m.subject === events.conversationUpdated.subject && (m.data as { conversationId?: string }).conversationId === conversationId)
    .map((m) => m.data as { changedFields: string[]; lead: Record<string, unknown>; source: string });
}

describe('the lead of a conversation', () => {
  it('starts as new at version 0, and an update bumps the version and publishes the changed fields with their values', async () => {
    const id = await conversation();
    const { lead: fresh } = await agent.getLead({ accountId, conversationId: id });
    expect(fresh).toMatchObject({ status: 'LEAD_STATUS_NEW', version: 0, propertyId, isQualified: false });

    const { lead, changedFields } = await agent.updateLead({
      accountId, conversationId: id,
      changes: changes({ status: 'LEAD_STATUS_CONTACTED', bedrooms: 2, moveIn: '2027-03', rentMax: 1800, setPets: true, pets: [{ type: 'Dog', count: 1 }], isBookTour: true }),
    });
    expect(changedFields.sort()).toEqual(['bedrooms', 'is_book_tour', 'move_in', 'pets', 'rent_max', 'status']);
    expect(lead).toMatchObject({ status: 'LEAD_STATUS_CONTACTED', version: 1, updatedBy: `user:${agentId}`, preferences: { bedrooms: 2, moveIn: '2027-03', rentMax: 1800, pets: [{ type: 'dog', count: 1 }] } });
    const published = await expectEventually(async () => {
      const u = await updates(id);
      expect(u).toHaveLength(1);
      return u;
    });
    expect(published[0]!.changedFields.sort()).toEqual(changedFields.sort());
    expect(published[0]).toMatchObject({ source: 'agent', lead: { status: 'LEAD_STATUS_CONTACTED', version: 1, preferences: { rentMax: 1800 } } });

    // The same values again change nothing: no version, no event.
    const again = await agent.updateLead({ accountId, conversationId: id, changes: changes({ bedrooms: 2, rentMax: 1800 }) });
    expect(again.changedFields).toEqual([]);
    expect(again.lead!.version).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await updates(id)).toHaveLength(1);
  });

  it('refuses a change made against a stale version (FAILED_PRECONDITION) and writes nothing', async () => {
    const id = await conversation();
    await agent.updateLead({ accountId, conversationId: id, changes: changes({ isQualified: true }), expectedVersion: 0 });
    await expect(agent.updateLead({ accountId, conversationId: id, changes: changes({ leadSource: 'Zillow' }), expectedVersion: 0 }))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('version') });
    const { lead } = await agent.getLead({ accountId, conversationId: id });
    expect(lead).toMatchObject({ version: 1, leadSource: '', isQualified: true });
  });

  it('loses a lead only with a reason, reactivates it without the old reason, and lets a leased lead only be lost', async () => {
    const id = await conversation();
    await expect(agent.updateLead({ accountId, conversationId: id, changes: changes({ status: 'LEAD_STATUS_LOST' }) }))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('lost_reason') });
    const lost = await agent.updateLead({ accountId, conversationId: id, changes: changes({ status: 'LEAD_STATUS_LOST', lostReason: 'Rented elsewhere' }) });
    expect(lost.lead).toMatchObject({ status: 'LEAD_STATUS_LOST', lostReason: 'Rented elsewhere' });
    const back = await agent.updateLead({ accountId, conversationId: id, changes: changes({ status: 'LEAD_STATUS_CONTACTED' }) });
    expect(back.lead).toMatchObject({ status: 'LEAD_STATUS_CONTACTED', lostReason: '' });
    expect(back.changedFields.sort()).toEqual(['lost_reason', 'status']);
    await agent.updateLead({ accountId, conversationId: id, changes: changes({ status: 'LEAD_STATUS_LEASED' }) });
    await expect(agent.updateLead({ accountId, conversationId: id, changes: changes({ status: 'LEAD_STATUS_QUALIFIED' }) }))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('leased') });
    expect((await agent.getLead({ accountId, conversationId: id })).lead!.status).toBe('LEAD_STATUS_LEASED');
  });

  it('answers INVALID_ARGUMENT naming the field for bad values, and changes nothing', async () => {
    const id = await conversation();
    const cases: Array<[Partial<LeadChanges>, string]> = [
      [{ bedrooms: 2.3 }, 'changes.bedrooms'],
      [{ moveIn: '2027-13' }, 'changes.move_in'],
      [{ moveIn: 'next spring' }, 'changes.move_in'],
      [{ tourAt: 'saturday' }, 'changes.tour_at'],
      [{ rentMin: 2000, rentMax: 1500 }, 'changes.rent_min'],
      [{ occupants: 0 }, 'changes.occupants'],
      [{ status: 'LEAD_STATUS_UNSPECIFIED' }, 'changes.status'],
      [{ pets: [{ type: 'dog', count: 1 }] }, 'changes.set_pets'],
      [{ setPets: true, pets: [{ type: 'dog', count: 0 }] }, 'changes.pets[0].count'],
    ];
    for (const [c, field] of cases) {
      await expect(agent.updateLead({ accountId, conversationId: id, changes: changes(c) }), field)
        .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(field) });
    }
    expect((await agent.getLead({ accountId, conversationId: id })).lead!.version).toBe(0);
    expect(await stack.db.query(`select 1 from conversations.leads where conversation_id = $1`, [id])).toHaveLength(0);
    // A conversation that is not about a property has no lead.
    const noProperty = await conversation(null);
    await expect(agent.getLead({ accountId, conversationId: noProperty })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
  });

  it('lets the ResMan connector (a service) write ResMan-side changes, recorded as its own; other tenants and roles are refused', async () => {
    const id = await conversation();
    const connector = createClient(ConversationsServiceClient, stack.grpcAddr('conversations'), { token: await stack.auth.serviceToken('resman-connector') });
    try {
      const { lead } = await connector.client.updateLead({ accountId, conversationId: id, changes: changes({ status: 'LEAD_STATUS_APPLICATION' }) });
      expect(lead).toMatchObject({ status: 'LEAD_STATUS_APPLICATION', updatedBy: 'service:resman-connector' });
      expect((await expectEventually(async () => {
        const u = await updates(id);
        expect(u).toHaveLength(1);
        return u;
      }))[0]!.source).toBe('service:resman-connector');
    } finally {
      connector.close();
    }
    const routing = createClient(ConversationsServiceClient, stack.grpcAddr('conversations'), { token: await stack.auth.serviceToken('routing-sla') });
    try {
      await expect(routing.client.updateLead({ accountId, conversationId: id, changes: changes({ isQualified: true }) })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    } finally {
      routing.close();
    }
    const otherAccount = crypto.randomUUID();
    const outsider = await stack.client(ConversationsServiceClient, 'conversations', { accountId: otherAccount, role: 'agent' });
    await expect(outsider.updateLead({ accountId: otherAccount, conversationId: id, changes: changes({ isQualified: true }) })).rejects.toMatchObject({ code: status.NOT_FOUND });
    const manager = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'property_manager', propertyIds: [crypto.randomUUID()] });
    await expect(manager.getLead({ accountId, conversationId: id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    const mine = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'property_manager', propertyIds: [propertyId] });
    expect((await mine.getLead({ accountId, conversationId: id })).lead!.status).toBe('LEAD_STATUS_APPLICATION');
  });
});
