import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { status, type PromiseClient } from '@domiq/grpc';
import { events, type EventContract } from '@domiq/proto/events';
import { RoutingSlaServiceClient, type SlaPolicy } from '@domiq/proto/routing-sla';
import { expectEventually, publishTestEvent, readStream, startTestStack, type TestStack } from '@domiq/testkit';
import { channels, roles, slaTiers, type Channel, type Role, type SlaTier } from '@domiq/proto/vocabulary';

let stack: TestStack;
let routing: PromiseClient<RoutingSlaServiceClient>;

beforeAll(async () => {
  stack = await startTestStack({ services: ['routing-sla'] });
  routing = stack.adminClient(RoutingSlaServiceClient, 'routing-sla');
});
afterAll(async () => stack?.stop());

const uuid = () => crypto.randomUUID();
const nineToFive = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, start: '09:00', end: '17:00' }));

function policy(accountId: string, over: Partial<SlaPolicy> = {}): SlaPolicy {
  return {
    id: '', accountId, propertyId: '', name: 'Standard', tier: 'SLA_TIER_STANDARD', firstResponseMinutes: 60, resolutionMinutes: 480, businessHoursOnly: false,
    businessHours: [], timezone: 'UTC', updateIntervalMinutes: 0, channelOverrides: {}, priorityOverrides: {}, isDefault: false, isActive: undefined, ...over,
  };
}

/** identity.user.created for a new user; resolves once routing knows the agent (SetAgentStatus stops answering NOT_FOUND). */
async function agent(accountId: string, status = 'available', role: Role = 'agent'): Promise<string> {
  const userId = uuid();
  await publishTestEvent(stack.nats.url, events.identityUserCreated, {
    accountId, userId, teamId: '', role: roles.toProto(role), skills: ['leasing'], maxConcurrentConversations: 5, email: `${userId}@example.com`, firstName: 'A', lastName: 'Gent',
  });
  await expectEventually(() => routing.setAgentStatus({ accountId, agentId: userId, status }), { message: `agent ${userId} known to routing` });
  return userId;
}

async function conversation(accountId: string, over: { propertyId?: string; createdAt?: string; channel?: Channel; slaTier?: SlaTier } = {}, eventId?: string): Promise<string> {
  const conversationId = uuid();
  await publishTestEvent(stack.nats.url, events.conversationCreated, {
    accountId, propertyId: over.propertyId ?? '', conversationId, customerId: uuid(), channel: channels.toProto(over.channel ?? 'web_chat'),
    createdAt: over.createdAt ?? new Date().toISOString(), slaTier: slaTiers.toProto(over.slaTier ?? 'standard'),
  }, eventId);
  return conversationId;
}

const routed = (accountId: string, conversationId: string) =>
  expectEventually(() => routing.getConversationRouting({ accountId, conversationId }), { message: `conversation ${conversationId} routed` });

/** Publishes with the same DomIQ-Event-Id but a fresh Nats-Msg-Id, so the stream keeps it and the consumer sees it again. */
async function deliverAgain<T>(contract: EventContract<T>, payload: T, eventId: string): Promise<number> {
  const nc = await stack.nats.connectAdmin();
  try {
    const h = headers();
    h.set('DomIQ-Event-Id', eventId);
    h.set('DomIQ-Event-Type', contract.eventType);
    const ack = await jetstream(nc).publish(contract.subject, JSON.stringify(contract.codec.toJSON(payload)), { msgID: `${eventId}:again`, headers: h });
    return ack.seq;
  } finally {
    await nc.close();
  }
}

/** Waits until the durable consumer has acknowledged everything up to `seq` in its stream. */
async function consumed(stream: string, durable: string, seq: number): Promise<void> {
  const nc = await stack.nats.connectAdmin();
  try {
    const jsm = await jetstreamManager(nc);
    await expectEventually(async () => {
      const info = await jsm.consumers.info(stream, durable);
      if (info.ack_floor.stream_seq < seq || info.num_ack_pending > 0) throw new Error(`ack floor ${info.ack_floor.stream_seq} < ${seq}`);
    });
  } finally {
    await nc.close();
  }
}

describe('routing-sla: assignment', () => {
  it('round-robins 6 conversations across 3 available agents (2 each) and never picks the offline or busy agent', async () => {
    const accountId = uuid();
    await routing.upsertSlaPolicy({ policy: policy(accountId) });
    const available = [await agent(accountId), await agent(accountId), await agent(accountId)];
    const offline = await agent(accountId, 'offline');
    const busy = await agent(accountId, 'busy');

    const conversations = await Promise.all(Array.from({ length: 6 }, () => conversation(accountId)));
    const results = await Promise.all(conversations.map((id) => expectEventually(async () => {
      const r = await routing.getConversationRouting({ accountId, conversationId: id });
      if (!r.assignedAgentId) throw new Error('not assigned yet');
      return r;
    })));
    const perAgent = new Map<string, number>();
    for (const r of results) perAgent.set(r.assignedAgentId, (perAgent.get(r.assignedAgentId) ?? 0) + 1);
    expect(Object.fromEntries(perAgent)).toEqual(Object.fromEntries(available.map((id) => [id, 2])));
    expect(perAgent.has(offline)).toBe(false);
    expect(perAgent.has(busy)).toBe(false);

    const rows = await stack.db.query<{ agent_id: string; current_conversation_count: number }>(
      `select agent_id, current_conversation_count from routing_sla.agents where account_id = $1 order by agent_id`, [accountId]);
    expect(rows.filter((r) => r.current_conversation_count > 0).map((r) => [r.agent_id, r.current_conversation_count]).sort())
      .toEqual(available.map((id) => [id, 2]).sort());

    const published = await expectEventually(async () => {
      const msgs = (await readStream(stack.nats.url, 'ROUTING_SLA', events.conversationAssigned.subject)).filter((m) => (m.data as { accountId: string }).accountId === accountId);
      expect(msgs).toHaveLength(6);
      return msgs;
    });
    expect(published.every((m) => (m.data as { assignedBy: string }).assignedBy === 'routing_engine')).toBe(true);
    expect(new Set(published.map((m) => (m.data as { conversationId: string }).conversationId))).toEqual(new Set(conversations));
  });

  it('keeps only agents and supervisors in the read model', async () => {
    const accountId = uuid();
    const supervisor = await agent(accountId, 'available', 'supervisor');
    const engineerId = uuid();
    await publishTestEvent(stack.nats.url, events.identityUserCreated, {
      accountId, userId: engineerId, teamId: '', role: 'ROLE_ENGINEER', skills: [], maxConcurrentConversations: 5, email: 'e@example.com', firstName: 'E', lastName: 'N',
    });
    const info = await stack.db.query(`select 1 from routing_sla.agents where agent_id = $1`, [supervisor]);
    expect(info).toHaveLength(1);
    // The engineer's event is acked without a row: SetAgentStatus keeps answering NOT_FOUND once it has been consumed.
    const nc = await stack.nats.connectAdmin();
    const last = (await (await jetstreamManager(nc)).streams.info('IDENTITY')).state.last_seq;
    await nc.close();
    await consumed('IDENTITY', 'routing-sla-user-created', last);
    await expect(routing.setAgentStatus({ accountId, agentId: engineerId, status: 'available' })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('assigns once when the same event (same event id) is delivered twice, and once per conversation whatever the event id', async () => {
    const accountId = uuid();
    await routing.upsertSlaPolicy({ policy: policy(accountId) });
    const only = await agent(accountId);
    const eventId = `test:${uuid()}`;
    const payload = {
      accountId, propertyId: '', conversationId: uuid(), customerId: uuid(), channel: 'CHANNEL_SMS' as const, createdAt: new Date().toISOString(), slaTier: 'SLA_TIER_STANDARD' as const,
    };
    await publishTestEvent(stack.nats.url, events.conversationCreated, payload, eventId);
    const first = await routed(accountId, payload.conversationId);
    expect(first.assignedAgentId).toBe(only);

    const seqAgain = await deliverAgain(events.conversationCreated, payload, eventId);
    const seqOtherId = await deliverAgain(events.conversationCreated, payload, `test:${uuid()}`);
    await consumed('CONVERSATIONS', 'routing-sla-conversation-created', Math.max(seqAgain, seqOtherId));

    const assignments = await stack.db.query(`select 1 from routing_sla.assignments where conversation_id = $1`, [payload.conversationId]);
    expect(assignments).toHaveLength(1);
    const [row] = await stack.db.query<{ current_conversation_count: number }>(`select current_conversation_count from routing_sla.agents where agent_id = $1`, [only]);
    expect(row!.current_conversation_count).toBe(1);
    const published = (await readStream(stack.nats.url, 'ROUTING_SLA')).filter((m) => (m.data as { conversationId?: string }).conversationId === payload.conversationId);
    expect(published.map((m) => m.subject).sort()).toEqual([events.conversationAssigned.subject, events.slaScheduled.subject]);
  });

  it('records the SLA and leaves the conversation unassigned when no agent is available', async () => {
    const accountId = uuid();
    await routing.upsertSlaPolicy({ policy: policy(accountId) });
    await agent(accountId, 'away');
    const id = await conversation(accountId);
    const r = await routed(accountId, id);
    expect(r.assignedAgentId).toBe('');
    expect(r.firstResponseDueAt).not.toBe('');
  });
});

describe('routing-sla: SLA clock', () => {
  it('computes due times in business hours (Friday evening in New York -> Monday, across the DST change)', async () => {
    const accountId = uuid();
    const { policy: saved } = await routing.upsertSlaPolicy({ policy: policy(accountId, { businessHoursOnly: true, businessHours: nineToFive, timezone: 'America/New_York' }) });
    // Fri 6 Mar 2026 16:30 EST. First response 60 = 30 on Friday + 30 on Monday 9 Mar (EDT, UTC-4) -> 09:30 EDT.
    // Resolution 480 = 30 on Friday + 450 on Monday -> 16:30 EDT.
    const id = await conversation(accountId, { createdAt: '2026-03-06T21:30:00.000Z' });
    const r = await routed(accountId, id);
    expect(r.slaPolicyId).toBe(saved!.id);
    expect(r.firstResponseDueAt).toBe('2026-03-09T13:30:00.000Z');
    expect(r.resolutionDueAt).toBe('2026-03-09T20:30:00.000Z');
    await expectEventually(async () => {
      const [msg] = (await readStream(stack.nats.url, 'ROUTING_SLA', events.slaScheduled.subject)).filter((m) => (m.data as { conversationId: string }).conversationId === id);
      expect(msg?.data).toMatchObject({ accountId, slaPolicyId: saved!.id, firstResponseDueAt: '2026-03-09T13:30:00.000Z', resolutionDueAt: '2026-03-09T20:30:00.000Z' });
    });
  });

  it("uses the property's own policy over the account default, the tier's policy, and channel overrides", async () => {
    const accountId = uuid();
    const propertyId = uuid();
    await routing.upsertSlaPolicy({ policy: policy(accountId, { isDefault: true, firstResponseMinutes: 240, resolutionMinutes: 2880 }) });
    const { policy: premium } = await routing.upsertSlaPolicy({ policy: policy(accountId, { tier: 'SLA_TIER_PREMIUM', firstResponseMinutes: 30, resolutionMinutes: 600 }) });
    const { policy: own } = await routing.upsertSlaPolicy({
      policy: policy(accountId, { propertyId, name: 'Property', firstResponseMinutes: 20, resolutionMinutes: 120, channelOverrides: { email: { firstResponseMinutes: 90, resolutionMinutes: 0 } } }),
    });
    const start = '2026-03-03T15:00:00.000Z';
    const plus = (m: number) => new Date(Date.parse(start) + m * 60_000).toISOString();

    const atProperty = await routed(accountId, await conversation(accountId, { propertyId, createdAt: start }));
    expect([atProperty.slaPolicyId, atProperty.firstResponseDueAt, atProperty.resolutionDueAt]).toEqual([own!.id, plus(20), plus(120)]);
    const byEmail = await routed(accountId, await conversation(accountId, { propertyId, createdAt: start, channel: 'email' }));
    expect([byEmail.firstResponseDueAt, byEmail.resolutionDueAt]).toEqual([plus(90), plus(120)]);
    const premiumElsewhere = await routed(accountId, await conversation(accountId, { createdAt: start, slaTier: 'premium' }));
    expect([premiumElsewhere.slaPolicyId, premiumElsewhere.firstResponseDueAt]).toEqual([premium!.id, plus(30)]);
    const enterprise = await routed(accountId, await conversation(accountId, { createdAt: start, slaTier: 'enterprise' }));
    expect(enterprise.firstResponseDueAt).toBe(plus(240));
  });

  it('dead-letters a conversation.created it can never route, with the reason', async () => {
    const id = await conversation(uuid(), { createdAt: 'last tuesday' });
    const dead = await expectEventually(async () => {
      const [m] = (await readStream(stack.nats.url, 'DLQ', 'dlq.routing-sla-conversation-created')).filter((x) => (x.data as { conversationId: string }).conversationId === id);
      if (!m) throw new Error('not dead-lettered yet');
      return m;
    });
    expect(dead.headers['DomIQ-Dlq-Reason']).toMatch(/created_at/);
  });
});

describe('routing-sla: tenancy and validation', () => {
  it("keeps tenants apart: another account sees neither the conversation nor the agents, nor can it edit the policy", async () => {
    const accountA = uuid();
    const accountB = uuid();
    const { policy: policyA } = await routing.upsertSlaPolicy({ policy: policy(accountA) });
    await routing.upsertSlaPolicy({ policy: policy(accountB) });
    const agentA = await agent(accountA);
    const convA = await conversation(accountA);
    expect((await routed(accountA, convA)).assignedAgentId).toBe(agentA);

    // B has no agents: its conversation is never given A's free agent.
    const convB = await conversation(accountB);
    expect((await routed(accountB, convB)).assignedAgentId).toBe('');

    await expect(routing.getConversationRouting({ accountId: accountB, conversationId: convA })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(routing.setAgentStatus({ accountId: accountB, agentId: agentA, status: 'offline' })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(routing.upsertSlaPolicy({ policy: policy(accountB, { id: policyA!.id, name: 'Hijack' }) })).rejects.toMatchObject({ code: status.NOT_FOUND });
    const [row] = await stack.db.query<{ name: string; status: string }>(
      `select s.name, a.status from routing_sla.slas s, routing_sla.agents a where s.id = $1 and a.agent_id = $2`, [policyA!.id, agentA]);
    expect(row).toEqual({ name: 'Standard', status: 'available' });
  });

  it('rejects bad input with INVALID_ARGUMENT naming the field, and stores nothing', async () => {
    const accountId = uuid();
    const before = await stack.db.query<{ n: number }>(`select count(*)::int as n from routing_sla.slas`);
    const cases: Array<[Partial<SlaPolicy>, string]> = [
      [{ accountId: 'nope' }, 'policy.account_id'],
      [{ name: '' }, 'policy.name'],
      [{ tier: 'UNRECOGNIZED' }, 'policy.tier'],
      [{ tier: 'SLA_TIER_UNSPECIFIED' }, 'policy.tier'],
      [{ firstResponseMinutes: 0 }, 'policy.first_response_minutes'],
      [{ firstResponseMinutes: 120, resolutionMinutes: 60 }, 'policy.resolution_minutes'],
      [{ timezone: 'Mars/Olympus_Mons' }, 'policy.timezone'],
      [{ businessHoursOnly: true, businessHours: [{ day: 'monday', start: '9am', end: '17:00' }] }, 'policy.business_hours[0].start'],
      [{ businessHoursOnly: true, businessHours: [{ day: 'monday', start: '09:00', end: '25:00' }] }, 'policy.business_hours[0].end'],
      [{ businessHoursOnly: true, businessHours: [{ day: 'funday', start: '09:00', end: '17:00' }] }, 'policy.business_hours[0].day'],
      [{ businessHoursOnly: true, businessHours: [] }, 'policy.business_hours'],
      [{ channelOverrides: { pigeon: { firstResponseMinutes: 5, resolutionMinutes: 0 } } }, 'policy.channel_overrides[pigeon]'],
      [{ priorityOverrides: { P0: { firstResponseMinutes: -5, resolutionMinutes: 0 } } }, 'policy.priority_overrides[P0].first_response_minutes'],
      [{ propertyId: 'not-a-uuid' }, 'policy.property_id'],
    ];
    for (const [bad, field] of cases) {
      const err = await routing.upsertSlaPolicy({ policy: policy(accountId, bad) }).then(() => undefined, (e: unknown) => e);
      expect(err, field).toMatchObject({ code: status.INVALID_ARGUMENT });
      expect((err as { details: string }).details.startsWith(`${field}:`), `${field} in "${(err as { details: string }).details}"`).toBe(true);
    }
    await expect(routing.upsertSlaPolicy({})).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('policy') });
    await expect(routing.setAgentStatus({ accountId, agentId: uuid(), status: 'sleeping' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('status') });
    await expect(routing.getConversationRouting({ accountId, conversationId: 'x' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('conversation_id') });
    const after = await stack.db.query<{ n: number }>(`select count(*)::int as n from routing_sla.slas`);
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('answers NOT_FOUND for an agent routing has never heard of', async () => {
    await expect(routing.setAgentStatus({ accountId: uuid(), agentId: uuid(), status: 'available' })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });
});

describe('routing-sla: audit and presence', () => {
  it('records which supervisor changed an SLA policy in the event log', async () => {
    const accountId = uuid();
    const supervisorId = uuid();
    const supervisor = await stack.client(RoutingSlaServiceClient, 'routing-sla', { accountId, role: 'supervisor', userId: supervisorId });
    const { policy: created } = await supervisor.upsertSlaPolicy({ policy: policy(accountId) });
    await supervisor.upsertSlaPolicy({ policy: policy(accountId, { id: created!.id, name: 'Renamed' }) });
    const rows = await stack.db.query<{ subject: string; actor_type: string; actor_id: string; payload: { created?: boolean; name: string } }>(
      `select subject, actor_type, actor_id, payload from routing_sla.event_log where entity_id = $1 order by id`, [created!.id]);
    expect(rows.map((r) => [r.subject, r.actor_type, r.actor_id, r.payload.created ?? false, r.payload.name])).toEqual([
      ['routing-sla.sla_policy.upserted', 'user', supervisorId, true, 'Standard'],
      ['routing-sla.sla_policy.upserted', 'user', supervisorId, false, 'Renamed'],
    ]);
  });

  it('lets an agent set only their own status', async () => {
    const accountId = uuid();
    const me = await agent(accountId, 'offline');
    const colleague = await agent(accountId, 'offline');
    const asMe = await stack.client(RoutingSlaServiceClient, 'routing-sla', { accountId, role: 'agent', userId: me });
    await expect(asMe.setAgentStatus({ accountId, agentId: me, status: 'available' })).resolves.toMatchObject({ status: 'available' });
    await expect(asMe.setAgentStatus({ accountId, agentId: colleague, status: 'available' })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
