// routing-sla's conversation.created consumer is batch-first (docs/hot-path.md): conversations waiting in the stream
// are routed many per transaction. These tests fill the stream while routing-sla is stopped, then start it, and check
// that batching changes nothing of what routing does one conversation at a time: each conversation routed once, agents
// filled exactly to capacity, the round-robin order, the policies and the events with their own causation; a
// conversation twice in a batch is routed once, and a poison event is dead-lettered alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headers } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { events } from '@domiq/proto/events';
import type { ConversationCreated } from '@domiq/proto/conversations/events';
import { RoutingSlaServiceClient, type SlaPolicy } from '@domiq/proto/routing-sla';
import type { PromiseClient } from '@domiq/grpc';
import { consumerIdle, expectEventually, publishTestEvent, readStream, startTestStack, type TestStack } from '@domiq/testkit';
import { slaTiers, type SlaTier } from '@domiq/proto/vocabulary';

const DURABLE = 'routing-sla-conversation-created';
let stack: TestStack;
let routing: PromiseClient<RoutingSlaServiceClient>;

beforeAll(async () => {
  stack = await startTestStack({
    services: ['routing-sla'],
    // One batch at a time per process, so the stream order is the routing order within an account (what "as the
    // single path would" means); a killed replica's events come back after 2 s instead of 30; small pools.
    env: { CONSUMER_CONCURRENCY: '1', CONSUMER_ACK_WAIT_MS: '2000', DB_POOL_MAX: '4' },
  });
  routing = stack.adminClient(RoutingSlaServiceClient, 'routing-sla');
});
afterAll(async () => stack?.stop());

const uuid = (): string => crypto.randomUUID();
const START = Date.parse('2026-03-03T15:00:00.000Z');
const plus = (at: string, minutes: number) => new Date(Date.parse(at) + minutes * 60_000).toISOString();

function policy(accountId: string, over: Partial<SlaPolicy> = {}): SlaPolicy {
  return {
    id: '', accountId, propertyId: '', name: 'Standard', tier: 'SLA_TIER_STANDARD', firstResponseMinutes: 60, resolutionMinutes: 480, businessHoursOnly: false,
    businessHours: [], timezone: 'UTC', updateIntervalMinutes: 0, channelOverrides: {}, priorityOverrides: {}, isDefault: false, isActive: undefined, ...over,
  };
}

/** Agents of the account with this capacity, available (routing must be running); sorted by id, the round-robin order of fresh agents. */
async function agents(accountId: string, count: number, capacity: number, status = 'available'): Promise<string[]> {
  const ids = Array.from({ length: count }, uuid);
  for (const userId of ids) {
    await publishTestEvent(stack.nats.url, events.identityUserCreated, {
      accountId, userId, teamId: '', role: 'ROLE_AGENT', skills: [], maxConcurrentConversations: capacity, email: `${userId}@example.com`, firstName: 'A', lastName: 'Gent',
    });
  }
  for (const agentId of ids) await expectEventually(() => routing.setAgentStatus({ accountId, agentId, status }), { message: `agent ${agentId} known to routing` });
  return ids.sort();
}

interface Published {
  eventId: string;
  payload: ConversationCreated;
}

function created(accountId: string, n: number, over: { propertyId?: string; slaTier?: SlaTier; conversationId?: string } = {}): ConversationCreated {
  return {
    accountId, propertyId: over.propertyId ?? '', conversationId: over.conversationId ?? uuid(), customerId: uuid(), channel: 'CHANNEL_SMS',
    createdAt: new Date(START + n * 1000).toISOString(), slaTier: slaTiers.toProto(over.slaTier ?? 'standard'),
  };
}

/** Publishes the events in this order on one connection, as conversations' relay would (event id header, dedupe id). */
async function publishAll(payloads: ConversationCreated[]): Promise<Published[]> {
  const nc = await stack.nats.connectAdmin();
  try {
    const js = jetstream(nc);
    const out: Published[] = [];
    for (const payload of payloads) {
      const eventId = `test:${uuid()}`;
      const h = headers();
      h.set('DomIQ-Event-Id', eventId);
      h.set('DomIQ-Event-Type', events.conversationCreated.eventType);
      await js.publish(events.conversationCreated.subject, JSON.stringify(events.conversationCreated.codec.toJSON(payload)), { msgID: eventId, headers: h });
      out.push({ eventId, payload });
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** Until the durable has acked everything in the stream: nothing more is coming. */
const settled = () => expectEventually(async () => {
  if (!(await consumerIdle(stack.nats.url, 'CONVERSATIONS', DURABLE))) throw new Error('consumer still has events pending');
}, { timeoutMs: 60_000, message: 'conversation.created all consumed' });

const slaRows = (conversationIds: string[]) => stack.db.query<{ conversation_id: string; sla_policy_id: string | null; first_response_due_at: Date | null; resolution_due_at: Date | null }>(
  `select conversation_id, sla_policy_id, first_response_due_at, resolution_due_at from routing_sla.conversation_slas where conversation_id = any($1)`, [conversationIds]);
const assignmentRows = (accountId: string) => stack.db.query<{ conversation_id: string; agent_id: string; assigned_at: Date }>(
  `select conversation_id, agent_id, assigned_at from routing_sla.assignments where account_id = $1 order by assigned_at, id`, [accountId]);
const agentLoads = (accountId: string) => stack.db.query<{ agent_id: string; current_conversation_count: number; max_concurrent_conversations: number }>(
  `select agent_id, current_conversation_count, max_concurrent_conversations from routing_sla.agents where account_id = $1 order by agent_id`, [accountId]);
const eventLog = (accountIds: string[]) => stack.db.query<{ conversation_id: string; subject: string; causation_msg_id: string; payload: Record<string, string> }>(
  `select conversation_id, subject, causation_msg_id, payload from routing_sla.event_log where account_id = any($1) and conversation_id is not null order by id`, [accountIds]);

describe('routing-sla: batch-first conversation.created', () => {
  it('routes a backlog of two accounts in batches exactly as one by one: once each, capacity exact, round robin, own policies, own causation; a duplicate once, a poison event dead-lettered', async () => {
    const accountA = uuid();
    const accountB = uuid();
    const propertyP = uuid();
    const { policy: aWide } = await routing.upsertSlaPolicy({ policy: policy(accountA) });
    const { policy: aOwn } = await routing.upsertSlaPolicy({ policy: policy(accountA, { propertyId: propertyP, name: 'Property', firstResponseMinutes: 20, resolutionMinutes: 120 }) });
    const { policy: bDefault } = await routing.upsertSlaPolicy({ policy: policy(accountB, { isDefault: true, firstResponseMinutes: 240, resolutionMinutes: 2880 }) });
    const { policy: bPremium } = await routing.upsertSlaPolicy({ policy: policy(accountB, { tier: 'SLA_TIER_PREMIUM', firstResponseMinutes: 30, resolutionMinutes: 600 }) });
    // A: 3 agents x 2 = 6 slots for 10 conversations; B: 2 agents x 3 = 6 slots for 8. An offline agent each, never used.
    const agentsA = await agents(accountA, 3, 2);
    const agentsB = await agents(accountB, 2, 3);
    const [offlineA] = await agents(accountA, 1, 5, 'offline');
    const [offlineB] = await agents(accountB, 1, 5, 'offline');

    await stack.services['routing-sla']!.stop();
    const a = Array.from({ length: 10 }, (_, n) => created(accountA, n, n % 3 === 0 ? { propertyId: propertyP } : {}));
    const b = Array.from({ length: 8 }, (_, n) => created(accountB, n, { slaTier: n % 2 === 0 ? 'premium' : 'enterprise' }));
    const poison = { ...created(accountA, 99), conversationId: 'not-a-uuid' };
    // Interleaved A0 B0 A1 B1 ...; A3 again under another event id right after it; the poison event after B5.
    const order: ConversationCreated[] = [];
    for (let n = 0; n < 10; n++) {
      order.push(a[n]!);
      if (n === 3) order.push({ ...a[3]! });
      if (b[n]) order.push(b[n]!);
      if (n === 5) order.push(poison);
    }
    const published = await publishAll(order);
    await stack.start('routing-sla');
    await settled();

    // Batches for real: several events claimed by one transaction (processed_at is the transaction's start).
    const [batch] = await stack.db.query<{ n: number }>(
      `select max(n)::int as n from (select count(*) as n from routing_sla.processed_event where consumer = $1 and event_id = any($2) group by processed_at) t`,
      [DURABLE, published.map((p) => p.eventId)]);
    expect(batch!.n).toBeGreaterThan(1);

    // The poison event alone is dead-lettered, with its reason, and left no trace.
    const poisonEvent = published.find((p) => p.payload === poison)!;
    const dead = (await readStream(stack.nats.url, 'DLQ', `dlq.${DURABLE}`)).filter((m) => m.headers['DomIQ-Event-Id'] === poisonEvent.eventId);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.headers['DomIQ-Dlq-Reason']).toMatch(/conversation_id is not a UUID/);
    const claimed = await stack.db.query<{ event_id: string }>(`select event_id from routing_sla.processed_event where consumer = $1 and event_id = any($2)`, [DURABLE, published.map((p) => p.eventId)]);
    expect(new Set(claimed.map((r) => r.event_id))).toEqual(new Set(published.filter((p) => p !== poisonEvent).map((p) => p.eventId)));

    // Every conversation has one SLA row, under its account's policy for its property and tier.
    const all = [...a, ...b];
    const slas = new Map((await slaRows(all.map((c) => c.conversationId))).map((r) => [r.conversation_id, r]));
    expect(slas.size).toBe(18);
    const expectedPolicy = (c: ConversationCreated) => c.accountId === accountA
      ? (c.propertyId ? { p: aOwn!, fr: 20, res: 120 } : { p: aWide!, fr: 60, res: 480 })
      : (c.slaTier === 'SLA_TIER_PREMIUM' ? { p: bPremium!, fr: 30, res: 600 } : { p: bDefault!, fr: 240, res: 2880 });
    for (const c of all) {
      const e = expectedPolicy(c);
      const row = slas.get(c.conversationId)!;
      expect([row.sla_policy_id, row.first_response_due_at?.toISOString(), row.resolution_due_at?.toISOString()], c.conversationId)
        .toEqual([e.p.id, plus(c.createdAt, e.fr), plus(c.createdAt, e.res)]);
    }

    // Round robin in stream order, as one by one: fresh agents in id order, each up to capacity, then nobody.
    const expectedA = [0, 1, 2, 0, 1, 2].map((i) => agentsA[i]);
    const expectedB = [0, 1, 0, 1, 0, 1].map((i) => agentsB[i]);
    const assignedA = await assignmentRows(accountA);
    const assignedB = await assignmentRows(accountB);
    expect(assignedA.map((r) => [r.conversation_id, r.agent_id])).toEqual(a.slice(0, 6).map((c, n) => [c.conversationId, expectedA[n]]));
    expect(assignedB.map((r) => [r.conversation_id, r.agent_id])).toEqual(b.slice(0, 6).map((c, n) => [c.conversationId, expectedB[n]]));
    // No agent over capacity, and the load booked equals the conversations given.
    expect((await agentLoads(accountA)).map((r) => [r.agent_id, r.current_conversation_count])).toEqual([...agentsA.map((id) => [id, 2]), [offlineA, 0]].sort());
    expect((await agentLoads(accountB)).map((r) => [r.agent_id, r.current_conversation_count])).toEqual([...agentsB.map((id) => [id, 3]), [offlineB, 0]].sort());

    // Events: once per conversation (the duplicate's second event emitted nothing), each caused by its own event.
    const causeOf = new Map<string, string>();
    for (const p of published) if (!causeOf.has(p.payload.conversationId)) causeOf.set(p.payload.conversationId, p.eventId);
    const logged = await eventLog([accountA, accountB]);
    const scheduled = logged.filter((r) => r.subject === events.slaScheduled.subject);
    const assigned = logged.filter((r) => r.subject === events.conversationAssigned.subject);
    expect(scheduled.map((r) => r.conversation_id).sort()).toEqual(all.map((c) => c.conversationId).sort());
    expect(assigned.map((r) => r.conversation_id).sort()).toEqual([...a.slice(0, 6), ...b.slice(0, 6)].map((c) => c.conversationId).sort());
    for (const r of [...scheduled, ...assigned]) expect(r.causation_msg_id, `${r.subject} of ${r.conversation_id}`).toBe(causeOf.get(r.conversation_id));
    for (const r of scheduled) {
      const c = all.find((x) => x.conversationId === r.conversation_id)!;
      const e = expectedPolicy(c);
      expect(r.payload).toMatchObject({ accountId: c.accountId, slaPolicyId: e.p.id, firstResponseDueAt: plus(c.createdAt, e.fr), resolutionDueAt: plus(c.createdAt, e.res) });
    }
    const assignedAt = new Map([...assignedA, ...assignedB].map((r) => [r.conversation_id, r]));
    for (const r of assigned) {
      expect(r.payload).toMatchObject({ agentId: assignedAt.get(r.conversation_id)!.agent_id, assignedAt: assignedAt.get(r.conversation_id)!.assigned_at.toISOString(), assignedBy: 'routing_engine' });
    }
    // And the relay published them.
    await expectEventually(async () => {
      const out = (await readStream(stack.nats.url, 'ROUTING_SLA')).filter((m) => [accountA, accountB].includes((m.data as { accountId: string }).accountId));
      expect(out.filter((m) => m.subject !== events.slaPolicyUpserted.subject)).toHaveLength(scheduled.length + assigned.length);
    });
  });

  it('two replicas sharing the stream, one of them killed mid-way and restarted: each conversation routed once, no agent over capacity, round robin exact', async () => {
    const accountC = uuid();
    const accountD = uuid();
    await routing.upsertSlaPolicy({ policy: policy(accountC) });
    await routing.upsertSlaPolicy({ policy: policy(accountD) });
    // C: 4 agents x 5 = 20 slots, D: 3 x 4 = 12, for 100 conversations each.
    const agentsC = await agents(accountC, 4, 5);
    const agentsD = await agents(accountD, 3, 4);

    // Both processes pull from the durable while the events arrive, so their batches of the same accounts race.
    const replica = await stack.startReplica('routing-sla');
    const payloads = Array.from({ length: 200 }, (_, n) => created(n % 2 ? accountD : accountC, n));
    await publishAll(payloads.slice(0, 100));
    // Whatever the replica held unacknowledged comes back after the ack wait, to either process.
    await replica.kill('SIGKILL');
    await publishAll(payloads.slice(100, 150));
    await replica.start();
    await publishAll(payloads.slice(150));
    await settled();

    const slas = await slaRows(payloads.map((c) => c.conversationId));
    expect(slas).toHaveLength(200);
    for (const [accountId, ids, capacity] of [[accountC, agentsC, 5], [accountD, agentsD, 4]] as const) {
      const rows = await assignmentRows(accountId);
      // Every slot filled once, no conversation twice; in the order they were given (the account lock serialises
      // the two processes), agents take turns in id order.
      expect(rows).toHaveLength(ids.length * capacity);
      expect(new Set(rows.map((r) => r.conversation_id)).size).toBe(rows.length);
      expect(rows.map((r) => r.agent_id)).toEqual(rows.map((_, n) => ids[n % ids.length]));
      expect((await agentLoads(accountId)).map((r) => r.current_conversation_count)).toEqual(ids.map(() => capacity));
    }
    const logged = await eventLog([accountC, accountD]);
    const perConversation = new Map<string, string[]>();
    for (const r of logged) perConversation.set(r.conversation_id, [...(perConversation.get(r.conversation_id) ?? []), r.subject]);
    expect(perConversation.size).toBe(200);
    for (const subjects of perConversation.values()) expect(subjects.filter((s) => s === events.slaScheduled.subject)).toHaveLength(1);
    expect(logged.filter((r) => r.subject === events.conversationAssigned.subject)).toHaveLength(20 + 12);
  });
});
