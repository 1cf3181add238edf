import type { UnitOfWork } from '@domiq/bus';
import { FailedPreconditionError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { conversationStates } from '@domiq/proto/vocabulary';
import type { ConversationRow } from '../db/conversations.entities.ts';
import { IllegalTransitionError, parseState, transition, type ConversationAction, type StateTransition } from '../domain/conversation-state.ts';

/** What a state change reads and writes: an entity, or a plain row of the set-based paths. */
export type StatefulConversation = Pick<ConversationRow, 'id' | 'accountId' | 'customerId' | 'state' | 'previousState'>;

/**
 * The one way a use case changes a conversation's state: through the state machine, with its
 * conversation.state_changed event in the same unit of work (the database refuses the change at commit without it).
 * Returns the transition, or null when the action leaves the state as it is.
 */
export function changeConversationState(uow: UnitOfWork, conversation: StatefulConversation, action: ConversationAction, at: Date): StateTransition | null {
  let change: StateTransition | null;
  try {
    change = transition(parseState(conversation.state), action);
  } catch (err) {
    if (err instanceof IllegalTransitionError) throw new FailedPreconditionError(err.message);
    throw err;
  }
  if (!change) return null;
  conversation.previousState = change.from;
  conversation.state = change.to;
  const ids = { accountId: conversation.accountId, conversationId: conversation.id, customerId: conversation.customerId };
  uow.emit(events.conversationStateChanged, { ...ids, previousState: conversationStates.toProto(change.from), newState: conversationStates.toProto(change.to), changedAt: at.toISOString() }, { entityId: conversation.id, ...ids });
  return change;
}
