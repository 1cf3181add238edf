import type { UnitOfWork } from '@domiq/bus';
import { lockForTransaction } from '@domiq/db';
import { events } from '@domiq/proto/events';
import { Agent, Assignment, ConversationSla, Sla } from '../db/routing-sla.entities.ts';
import { assignRoundRobin } from '../domain/round-robin.ts';
import { scheduleSla, selectSlaPolicy } from '../domain/sla-policy.ts';
import type { Channel, SlaTier } from '@domiq/proto/vocabulary';

/** A conversation routing has not seen yet (conversations.conversation.created). */
export interface NewConversation {
  accountId: string;
  conversationId: string;
  propertyId: string | null;
  customerId: string | null;
  channel: Channel;
  createdAt: Date;
  tier: SlaTier;
}

/** What routing did: nothing for a conversation seen before; otherwise the policy that started its clock and the agent it went to, if any. */
export type RoutingOutcome =
  | { outcome: 'already_routed' }
  | { outcome: 'routed'; slaPolicyId: string | null; agentId: string | null };

/**
 * Starts a new conversation's SLA clock and assigns it an agent round robin. A transaction-scoped advisory lock
 * per account serialises routing within the account, so two conversations arriving together cannot both take an
 * agent's last slot, and a conversation already seen (under any event id) is left alone. With no policy the
 * clock row still records the conversation; with no agent free it stays unassigned.
 */
export async function routeConversation(uow: UnitOfWork, c: NewConversation): Promise<RoutingOutcome> {
  await lockForTransaction(uow.em, `routing-sla:account:${c.accountId}`);
  if (await uow.em.count(ConversationSla, { conversationId: c.conversationId })) return { outcome: 'already_routed' };
  const slaPolicyId = await startSlaClock(uow, c);
  const agentId = await assignAgent(uow, c);
  return { outcome: 'routed', slaPolicyId, agentId };
}

/** The conversation's SLA row, and `routing.sla.scheduled` when a policy applies; returns that policy's id. */
async function startSlaClock({ em, emit }: UnitOfWork, c: NewConversation): Promise<string | null> {
  const policies = await em.find(Sla, { accountId: c.accountId, isActive: true, $or: [{ propertyId: null }, { propertyId: c.propertyId }] });
  const policy = selectSlaPolicy(policies, { propertyId: c.propertyId, tier: c.tier });
  const schedule = policy ? scheduleSla(policy, { startedAt: c.createdAt, channel: c.channel }) : undefined;
  em.create(ConversationSla, {
    conversationId: c.conversationId,
    accountId: c.accountId,
    propertyId: c.propertyId,
    slaPolicyId: policy?.id ?? null,
    startedAt: c.createdAt,
    firstResponseDueAt: schedule?.firstResponseDueAt ?? null,
    resolutionDueAt: schedule?.resolutionDueAt ?? null,
  });
  if (!policy || !schedule) return null;
  emit(events.slaScheduled, {
    accountId: c.accountId,
    conversationId: c.conversationId,
    slaPolicyId: policy.id,
    firstResponseDueAt: schedule.firstResponseDueAt.toISOString(),
    resolutionDueAt: schedule.resolutionDueAt.toISOString(),
  }, eventContext(c));
  return policy.id;
}

/** The round-robin assignment and `routing.conversation.assigned`; returns the agent's id, null when nobody is free. */
async function assignAgent({ em, emit }: UnitOfWork, c: NewConversation): Promise<string | null> {
  const agents = await em.find(Agent, { accountId: c.accountId, status: 'available' });
  const assigned = assignRoundRobin(agents, new Date());
  if (!assigned) return null;
  const { agent, assignedAt } = assigned;
  em.create(Assignment, {
    accountId: c.accountId,
    conversationId: c.conversationId,
    agentId: agent.agentId,
    teamId: agent.teamId,
    assignedBy: 'routing_engine',
    reason: 'round_robin',
    assignedAt,
  });
  emit(events.conversationAssigned, {
    accountId: c.accountId,
    conversationId: c.conversationId,
    agentId: agent.agentId,
    assignedAt: assignedAt.toISOString(),
    assignedBy: 'routing_engine',
  }, eventContext(c));
  return agent.agentId;
}

function eventContext(c: NewConversation) {
  return { entityId: c.conversationId, accountId: c.accountId, conversationId: c.conversationId, customerId: c.customerId };
}
