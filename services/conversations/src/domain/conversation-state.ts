import { CONVERSATION_STATES, type ConversationState } from '@domiq/proto/vocabulary';

/**
 * The conversation state machine over the shared ConversationState vocabulary. A use case changes
 * `conversations.state` only through `transition`, and emits `conversation.state_changed` for every change it
 * returns (the database refuses a change without that event).
 */
export { CONVERSATION_STATES, type ConversationState };

/** What happens to a conversation. */
export type ConversationAction = 'customer_message' | 'agent_reply' | 'escalate' | 'resolve' | 'reopen';

export interface StateTransition {
  from: ConversationState;
  to: ConversationState;
}

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
  readonly from: ConversationState;
  readonly action: ConversationAction;
  constructor(from: ConversationState, action: ConversationAction) {
    super(`a ${from} conversation cannot be ${PAST[action]}`);
    this.from = from;
    this.action = action;
  }
}

export class UnknownStateError extends Error {
  override name = 'UnknownStateError';
}

const PAST: Record<ConversationAction, string> = {
  customer_message: 'continued by a customer message',
  agent_reply: 'replied to',
  escalate: 'escalated',
  resolve: 'resolved',
  reopen: 'reopened',
};

/** Where each action takes each state: `same` leaves it as it is, `illegal` refuses the action. */
type Outcome = ConversationState | 'same' | 'illegal';

const MACHINE: Record<ConversationState, Record<ConversationAction, Outcome>> = {
  open: { customer_message: 'same', agent_reply: 'awaiting_customer', escalate: 'escalated', resolve: 'resolved', reopen: 'illegal' },
  awaiting_customer: { customer_message: 'awaiting_agent', agent_reply: 'same', escalate: 'escalated', resolve: 'resolved', reopen: 'illegal' },
  awaiting_agent: { customer_message: 'same', agent_reply: 'awaiting_customer', escalate: 'escalated', resolve: 'resolved', reopen: 'illegal' },
  // An escalation ends with its resolution; replies do not de-escalate it.
  escalated: { customer_message: 'same', agent_reply: 'same', escalate: 'same', resolve: 'resolved', reopen: 'illegal' },
  // A customer writing again after resolution is threading's decision: it reopens (or starts a new conversation) first.
  resolved: { customer_message: 'illegal', agent_reply: 'same', escalate: 'illegal', resolve: 'same', reopen: 'reopened' },
  reopened: { customer_message: 'same', agent_reply: 'awaiting_customer', escalate: 'escalated', resolve: 'resolved', reopen: 'illegal' },
};

export function isConversationState(value: string): value is ConversationState {
  return (CONVERSATION_STATES as readonly string[]).includes(value);
}

/** A stored state; anything else means the row was written around the state machine. */
export function parseState(value: string): ConversationState {
  if (!isConversationState(value)) throw new UnknownStateError(`unknown conversation state "${value}"`);
  return value;
}

/**
 * What `action` does to a conversation in state `from`: the transition, null when the state stays as it is, or
 * IllegalTransitionError when the action is not allowed in that state.
 */
export function transition(from: ConversationState, action: ConversationAction): StateTransition | null {
  const outcome = MACHINE[from][action];
  if (outcome === 'illegal') throw new IllegalTransitionError(from, action);
  if (outcome === 'same' || outcome === from) return null;
  return { from, to: outcome };
}
