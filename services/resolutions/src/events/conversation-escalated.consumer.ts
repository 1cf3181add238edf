import { defineHandler, eventTimestamp, eventUuid, optionalEventUuid, PoisonMessageError } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { ConversationEscalated } from '@domiq/proto/conversations/events';
import { openResolution, type ConversationEscalation } from '../app/open-resolution.ts';
import { parseIssueType, UnknownIssueTypeError } from '../domain/escalation.ts';

function parse(p: ConversationEscalated): ConversationEscalation {
  const accountId = eventUuid(p.accountId, 'account_id');
  const conversationId = eventUuid(p.conversationId, 'conversation_id');
  const propertyId = optionalEventUuid(p.propertyId, 'property_id');
  const customerId = optionalEventUuid(p.customerId, 'customer_id');
  const escalatedAt = eventTimestamp(p.escalatedAt, 'escalated_at', new Date());
  try {
    return { accountId, conversationId, propertyId, customerId, escalatedAt, issueType: parseIssueType(p.issueType), severity: p.severity, reason: p.reason };
  } catch (err) {
    if (err instanceof UnknownIssueTypeError) throw new PoisonMessageError(err.message);
    throw err;
  }
}

/** conversations.conversation.escalated -> the conversation's open resolution, opened or noted (openResolution). */
export const conversationEscalatedConsumer = defineHandler({
  durable: 'resolutions-conversation-escalated',
  contract: events.conversationEscalated,
  async handle(ctx) {
    const e = parse(ctx.payload);
    const { outcome, resolutionId } = await openResolution(ctx, e);
    if (outcome === 'noted') ctx.logger.info({ resolution_id: resolutionId, conversation_id: e.conversationId }, 'escalation noted on the open resolution');
  },
});
