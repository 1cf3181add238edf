import { defineHandler, eventEnum, eventTimestamp, eventUuid, optionalEventUuid } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { ConversationEscalated } from '@domiq/proto/conversations/events';
import { openResolution, type ConversationEscalation } from '../app/open-resolution.ts';
import { issueTypes, severities } from '@domiq/proto/vocabulary';

function parse(p: ConversationEscalated): ConversationEscalation {
  const accountId = eventUuid(p.accountId, 'account_id');
  const conversationId = eventUuid(p.conversationId, 'conversation_id');
  const propertyId = optionalEventUuid(p.propertyId, 'property_id');
  const customerId = optionalEventUuid(p.customerId, 'customer_id');
  const escalatedAt = eventTimestamp(p.escalatedAt, 'escalated_at', new Date());
  // An escalation without an issue type is 'other' (the support team's); without a severity, the default priority.
  const issueType = eventEnum(issueTypes, p.issueType, 'issue_type', 'other' as const);
  const severity = eventEnum(severities, p.severity, 'severity', null);
  return { accountId, conversationId, propertyId, customerId, escalatedAt, issueType, severity, reason: p.reason };
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
