import { LockMode } from '@mikro-orm/core';
import type { UnitOfWork } from '@domiq/bus';
import { NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { issueTypes, severities, type IssueType, type Severity } from '@domiq/proto/vocabulary';
import { Conversation, type ConversationRow } from '../db/conversations.entities.ts';
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
  // Row lock: a message being threaded into it meanwhile changes state after us, from our state.
  const c = await uow.em.findOne(Conversation, { id: conversationId, accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!c) throw new NotFoundError(`conversation ${conversationId} not found`);
  const escalatedAt = new Date();
  changeConversationState(uow, c, 'escalate', escalatedAt);
  c.severity = input.severity;
  uow.emit(events.conversationEscalated, {
    accountId, propertyId: c.propertyId ?? '', conversationId: c.id, customerId: c.customerId, issueType: issueTypes.toProto(input.issueType), reason: input.reason,
    severity: severities.toProto(input.severity), escalatedAt: escalatedAt.toISOString(),
  }, { entityId: c.id, accountId, conversationId: c.id, customerId: c.customerId });
  return c;
}
