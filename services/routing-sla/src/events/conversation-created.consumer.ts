import { defineHandler, eventTimestamp, eventUuid, optionalEventUuid, PoisonMessageError } from '@domiq/bus';
import { lockForTransaction } from '@domiq/db';
import { events } from '@domiq/proto/events';
import type { ConversationCreated } from '@domiq/proto/conversations/events';
import { Agent, Assignment, ConversationSla, Sla } from '../db/routing-sla.entities.ts';
import { nextAssignedAt, pickRoundRobin } from '../domain/round-robin.ts';
import { scheduleSla, selectSlaPolicy, SLA_TIERS } from '../domain/sla-policy.ts';

function parse(p: ConversationCreated) {
  const accountId = eventUuid(p.accountId, 'account_id');
  const conversationId = eventUuid(p.conversationId, 'conversation_id');
  const propertyId = optionalEventUuid(p.propertyId, 'property_id');
  const customerId = optionalEventUuid(p.customerId, 'customer_id');
  const createdAt = eventTimestamp(p.createdAt, 'created_at');
  const tier = p.slaTier || 'standard';
  if (!(SLA_TIERS as readonly string[]).includes(tier)) throw new PoisonMessageError(`sla_tier must be one of ${SLA_TIERS.join(', ')}: "${p.slaTier}"`);
  return {
    accountId,
    conversationId,
    propertyId,
    customerId,
    channel: p.channel,
    createdAt,
    tier,
  };
}

/**
 * conversations.conversation.created -> start the SLA clock and assign an agent round robin.
 * A transaction-scoped advisory lock per account serialises routing within the account, so two conversations
 * arriving together cannot both take an agent's last slot, and a conversation already seen (under any event
 * id) is left alone. With no agent free the SLA still starts and the conversation stays unassigned.
 */
export const conversationCreatedConsumer = defineHandler({
  durable: 'routing-sla-conversation-created',
  contract: events.conversationCreated,
  async handle({ em, payload, emit, logger }) {
    const c = parse(payload);
    await lockForTransaction(em, `routing-sla:account:${c.accountId}`);
    if (await em.count(ConversationSla, { conversationId: c.conversationId })) {
      logger.info({ conversation_id: c.conversationId }, 'conversation already routed');
      return;
    }
    const context = { entityId: c.conversationId, accountId: c.accountId, conversationId: c.conversationId, customerId: c.customerId };

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
    if (policy && schedule) {
      emit(events.slaScheduled, {
        accountId: c.accountId,
        conversationId: c.conversationId,
        slaPolicyId: policy.id,
        firstResponseDueAt: schedule.firstResponseDueAt.toISOString(),
        resolutionDueAt: schedule.resolutionDueAt.toISOString(),
      }, context);
    } else {
      logger.warn({ conversation_id: c.conversationId, tier: c.tier }, 'no active SLA policy applies; no SLA clock');
    }

    const agents = await em.find(Agent, { accountId: c.accountId, status: 'available' });
    const agent = pickRoundRobin(agents);
    if (!agent) {
      logger.info({ conversation_id: c.conversationId }, 'no agent available; conversation left unassigned');
      return;
    }
    const assignedAt = nextAssignedAt(new Date(), agents);
    agent.currentConversationCount += 1;
    agent.lastAssignedAt = assignedAt;
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
    }, context);
  },
});
