import { defineHandler, eventEnum, eventTimestamp, eventUuid, optionalEventUuid } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { ConversationCreated } from '@domiq/proto/conversations/events';
import { routeConversation, type NewConversation } from '../app/route-conversation.ts';
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

/** conversations.conversation.created -> start the SLA clock and assign an agent round robin (routeConversation). */
export const conversationCreatedConsumer = defineHandler({
  durable: 'routing-sla-conversation-created',
  contract: events.conversationCreated,
  async handle(ctx) {
    const c = parse(ctx.payload);
    const routed = await routeConversation(ctx, c);
    const log = ctx.logger;
    if (routed.outcome === 'already_routed') {
      log.info({ conversation_id: c.conversationId }, 'conversation already routed');
      return;
    }
    if (!routed.slaPolicyId) log.warn({ conversation_id: c.conversationId, tier: c.tier }, 'no active SLA policy applies; no SLA clock');
    if (!routed.agentId) log.info({ conversation_id: c.conversationId }, 'no agent available; conversation left unassigned');
  },
});
