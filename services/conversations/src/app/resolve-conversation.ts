import type { UnitOfWork } from '@domiq/bus';
import { FailedPreconditionError } from '@domiq/grpc';
import type { ConversationRow } from '../db/conversations.entities.ts';
import { changeConversationState } from './change-conversation-state.ts';
import { lockConversation, type ReadScope } from './conversation.queries.ts';

/**
 * Resolves (or reopens) a conversation by hand, through the state machine (an illegal move is FailedPreconditionError;
 * resolving a resolved one is refused too, so a double click cannot hide that someone else resolved it first), with
 * conversation.state_changed in the same transaction. Resolving records resolved_at; reopening, reopened_at.
 */
export async function resolveConversation(uow: UnitOfWork, scope: ReadScope, conversationId: string, action: 'resolve' | 'reopen'): Promise<ConversationRow> {
  const c = await lockConversation(uow.em, scope, conversationId);
  const now = new Date();
  if (action === 'resolve' && c.state === 'resolved') {
    throw new FailedPreconditionError(`conversation ${conversationId} is already resolved`);
  }
  changeConversationState(uow, c, action, now);
  if (action === 'resolve') c.resolvedAt = now;
  else c.reopenedAt = now;
  return c;
}
