import { defineHandler, eventTimestamp, eventUuid, optionalEventUuid, PoisonMessageError } from '@domiq/bus';
import { lockForTransaction } from '@domiq/db';
import { events } from '@domiq/proto/events';
import type { ConversationEscalated } from '@domiq/proto/conversations/events';
import { Resolution, ResolutionUpdate } from '../db/resolutions.entities.ts';
import {
  AUTOMATION_AUTHOR_ID, CLOSED_STATUSES, OWNING_TEAM_BY_ISSUE, parseIssueType, priorityFromSeverity, UnknownIssueTypeError, type IssueType,
} from '../domain/escalation.ts';

function parse(p: ConversationEscalated) {
  const accountId = eventUuid(p.accountId, 'account_id');
  const conversationId = eventUuid(p.conversationId, 'conversation_id');
  const propertyId = optionalEventUuid(p.propertyId, 'property_id');
  const customerId = optionalEventUuid(p.customerId, 'customer_id');
  const escalatedAt = eventTimestamp(p.escalatedAt, 'escalated_at', new Date());
  let issueType: IssueType;
  try {
    issueType = parseIssueType(p.issueType);
  } catch (err) {
    if (err instanceof UnknownIssueTypeError) throw new PoisonMessageError(err.message);
    throw err;
  }
  return {
    accountId,
    conversationId,
    propertyId,
    customerId,
    issueType,
    priority: priorityFromSeverity(p.severity),
    reason: p.reason.trim(),
    severity: p.severity.trim(),
    escalatedAt,
  };
}

/**
 * conversations.conversation.escalated -> one open resolution per conversation. The first escalation opens it
 * (status investigating, owned by the issue type's team, with an automation status_change update); any
 * escalation while it is open becomes a note on it. A per-conversation advisory lock serialises concurrent
 * escalations and the partial unique index on open resolutions backs it up.
 */
export const conversationEscalatedConsumer = defineHandler({
  durable: 'resolutions-conversation-escalated',
  contract: events.conversationEscalated,
  async handle({ em, payload, emit, logger }) {
    const e = parse(payload);
    await lockForTransaction(em, `resolutions:conversation:${e.accountId}:${e.conversationId}`);
    const reason = e.reason || 'no reason given';
    const open = await em.findOne(Resolution, { accountId: e.accountId, conversationId: e.conversationId, status: { $nin: [...CLOSED_STATUSES] } });
    if (open) {
      em.create(ResolutionUpdate, {
        accountId: e.accountId, resolutionId: open.id, updateType: 'note', visibility: 'internal', authorId: AUTOMATION_AUTHOR_ID, authorSource: 'automation',
        content: `Conversation escalated again (${e.issueType}, severity ${e.severity || 'unset'}): ${reason}`,
      });
      logger.info({ resolution_id: open.id, conversation_id: e.conversationId }, 'escalation noted on the open resolution');
      return;
    }
    const owningTeam = OWNING_TEAM_BY_ISSUE[e.issueType];
    const resolution = em.create(Resolution, {
      id: crypto.randomUUID(),
      accountId: e.accountId,
      propertyId: e.propertyId,
      customerId: e.customerId,
      conversationId: e.conversationId,
      issueType: e.issueType,
      owningTeam,
      priority: e.priority,
      status: 'investigating',
      slaStartedAt: e.escalatedAt,
    });
    // The entities hold plain ids, so the unit of work cannot see that the update's foreign key needs this row first.
    await em.flush();
    em.create(ResolutionUpdate, {
      accountId: e.accountId, resolutionId: resolution.id, updateType: 'status_change', visibility: 'internal', previousStatus: null, newStatus: 'investigating',
      authorId: AUTOMATION_AUTHOR_ID, authorSource: 'automation',
      content: `Opened from an escalated conversation for ${owningTeam} at ${e.priority}: ${reason}`,
    });
    emit(events.resolutionOpened, {
      accountId: e.accountId, resolutionId: resolution.id, conversationId: e.conversationId, issueType: e.issueType, owningTeam, priority: e.priority,
    }, { entityId: resolution.id, accountId: e.accountId, conversationId: e.conversationId, customerId: e.customerId, resolutionId: resolution.id, actorType: 'automation' });
  },
});
