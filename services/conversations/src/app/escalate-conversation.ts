import type { UnitOfWork } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { issueTypes, severities, type IssueType, type Severity } from '@domiq/proto/vocabulary';
import type { ConversationRow } from '../db/conversations.entities.ts';
import { lockConversation } from './conversation.queries.ts';
import { changeConversationState } from './change-conversation-state.ts';

export interface EscalateConversationInput {
  accountId: string;
  conversationId: string;
  issueType: IssueType;
  severity: Severity;
  reason: string;
}

/**
 * Escalates a conversation (a resolved one cannot be: FailedPreconditionError). Escalating an escalated one again
 * sets its severity and publishes the escalation, without a state change.
 */
export async function escalateConversation(uow: UnitOfWork, input: EscalateConversationInput): Promise<ConversationRow> {
  const { accountId, conversationId } = input;
  const c = await lockConversation(uow.em, { accountId, propertyScope: null }, conversationId);
  const escalatedAt = new Date();
  changeConversationState(uow, c, 'escalate', escalatedAt);
  c.severity = input.severity;
  uow.emit(events.conversationEscalated, {
    accountId, propertyId: c.propertyId ?? '', conversationId: c.id, customerId: c.customerId, issueType: issueTypes.toProto(input.issueType), reason: input.reason,
    severity: severities.toProto(input.severity), escalatedAt: escalatedAt.toISOString(),
  }, { entityId: c.id, accountId, conversationId: c.id, customerId: c.customerId });
  return c;
}
