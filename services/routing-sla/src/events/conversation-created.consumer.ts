import { defineBatchHandler, eventEnum, eventTimestamp, eventUuid, optionalEventUuid } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { ConversationCreated } from '@domiq/proto/conversations/events';
import { routeConversations, type NewConversation } from '../app/route-conversations.ts';
import { channels, slaTiers } from '@domiq/proto/vocabulary';

function parse(p: ConversationCreated): NewConversation {
  const accountId = eventUuid(p.accountId, 'account_id');
  const conversationId = eventUuid(p.conversationId, 'conversation_id');
  const propertyId = optionalEventUuid(p.propertyId, 'property_id');
  const customerId = optionalEventUuid(p.customerId, 'customer_id');
  const createdAt = eventTimestamp(p.createdAt, 'created_at');
  const channel = eventEnum(channels, p.channel, 'channel');
  // A conversation whose customer has no tier is standard.
  const tier = eventEnum(slaTiers, p.slaTier, 'sla_tier', 'standard' as const);
  return { accountId, conversationId, propertyId, customerId, channel, createdAt, tier };
}

/**
 * conversations.conversation.created, batch-first -> start the SLA clocks and assign agents round robin for the whole
 * batch in its one transaction (routeConversations). The payloads are checked before the transaction (prepareBatch):
 * one that can never be routed throws PoisonMessageError, the platform splits the batch until that event is alone
 * and dead-letters it with the reason, and the others are routed once.
 */
export const conversationCreatedConsumer = defineBatchHandler<ConversationCreated, NewConversation>({
  durable: 'routing-sla-conversation-created',
  contract: events.conversationCreated,
  // Up to 50 conversations, or what arrived within 5 ms of the first: a quiet system still answers in milliseconds.
  batch: { maxMessages: 50, maxWaitMs: 5 },
  async prepareBatch(items) {
    return items.map(({ payload }) => parse(payload));
  },
  async handleBatch({ em, items, logger }) {
    const outcomes = await routeConversations({ em, items: items.map((item) => ({ conversation: item.prepared, emit: item.emit })) });
    outcomes.forEach((routed, n) => {
      const { eventId, prepared: c } = items[n]!;
      const fields = { event_id: eventId, conversation_id: c.conversationId };
      if (routed.outcome === 'already_routed') return logger.info(fields, 'conversation already routed');
      if (!routed.slaPolicyId) logger.warn({ ...fields, tier: c.tier }, 'no active SLA policy applies; no SLA clock');
      if (!routed.agentId) logger.info(fields, 'no agent available; conversation left unassigned');
    });
  },
});
