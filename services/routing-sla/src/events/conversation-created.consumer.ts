import { defineHandler, eventTimestamp, eventUuid, optionalEventUuid, PoisonMessageError } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { ConversationCreated } from '@domiq/proto/conversations/events';
import { routeConversation, type NewConversation } from '../app/route-conversation.ts';
import { slaTierOf, UnknownSlaTierError } from '../domain/sla-policy.ts';

function parse(p: ConversationCreated): NewConversation {
  const accountId = eventUuid(p.accountId, 'account_id');
  const conversationId = eventUuid(p.conversationId, 'conversation_id');
  const propertyId = optionalEventUuid(p.propertyId, 'property_id');
  const customerId = optionalEventUuid(p.customerId, 'customer_id');
  const createdAt = eventTimestamp(p.createdAt, 'created_at');
  try {
    return { accountId, conversationId, propertyId, customerId, channel: p.channel, createdAt, tier: slaTierOf(p.slaTier) };
  } catch (err) {
    if (err instanceof UnknownSlaTierError) throw new PoisonMessageError(err.message);
    throw err;
  }
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
