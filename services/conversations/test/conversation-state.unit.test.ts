import { describe, expect, it } from 'vitest';
import {
  CONVERSATION_STATES, IllegalTransitionError, parseState, transition, UnknownStateError, type ConversationAction, type ConversationState,
} from '../src/domain/conversation-state.ts';
import { Conversation } from '../src/db/conversations.entities.ts';

const ACTIONS: ConversationAction[] = ['customer_message', 'agent_reply', 'escalate', 'resolve', 'reopen'];

describe('conversation state machine', () => {
  it('has the states of the table check constraint', () => {
    const check = Conversation.meta.checks.find((c) => c.name === 'conversations_state_check');
    expect(check?.expression).toBe(`state in (${CONVERSATION_STATES.map((s) => `'${s}'`).join(', ')})`);
  });

  it('moves a conversation awaiting the customer to awaiting the agent on a customer message, and only that one', () => {
    expect(transition('awaiting_customer', 'customer_message')).toEqual({ from: 'awaiting_customer', to: 'awaiting_agent' });
    for (const s of ['open', 'awaiting_agent', 'escalated', 'reopened'] as const) expect(transition(s, 'customer_message')).toBeNull();
  });

  it('refuses a customer message on a resolved conversation (threading reopens it first)', () => {
    expect(() => transition('resolved', 'customer_message')).toThrow(IllegalTransitionError);
  });

  it('reopens only a resolved conversation', () => {
    expect(transition('resolved', 'reopen')).toEqual({ from: 'resolved', to: 'reopened' });
    for (const s of CONVERSATION_STATES.filter((s) => s !== 'resolved')) expect(() => transition(s, 'reopen')).toThrow(IllegalTransitionError);
  });

  it('escalates any conversation that is not resolved; escalating an escalated one changes nothing', () => {
    for (const s of ['open', 'awaiting_customer', 'awaiting_agent', 'reopened'] as const) expect(transition(s, 'escalate')).toEqual({ from: s, to: 'escalated' });
    expect(transition('escalated', 'escalate')).toBeNull();
    expect(() => transition('resolved', 'escalate')).toThrow('a resolved conversation cannot be escalated');
  });

  it('resolves any conversation; an agent reply awaits the customer unless escalated or resolved', () => {
    for (const s of CONVERSATION_STATES.filter((s) => s !== 'resolved')) expect(transition(s, 'resolve')).toEqual({ from: s, to: 'resolved' });
    expect(transition('resolved', 'resolve')).toBeNull();
    for (const s of ['open', 'awaiting_agent', 'reopened'] as const) expect(transition(s, 'agent_reply')).toEqual({ from: s, to: 'awaiting_customer' });
    for (const s of ['awaiting_customer', 'escalated', 'resolved'] as const) expect(transition(s, 'agent_reply')).toBeNull();
  });

  it('never returns a transition to the same state, and every target is a state', () => {
    for (const from of CONVERSATION_STATES) {
      for (const action of ACTIONS) {
        let t: ReturnType<typeof transition> = null;
        try {
          t = transition(from, action);
        } catch (err) {
          expect(err).toBeInstanceOf(IllegalTransitionError);
          continue;
        }
        if (t) {
          expect(t.from).toBe(from);
          expect(t.to).not.toBe(from);
          expect(CONVERSATION_STATES).toContain(t.to);
        }
      }
    }
  });

  it('parses stored states and refuses anything else', () => {
    for (const s of CONVERSATION_STATES) expect(parseState(s)).toBe<ConversationState>(s);
    expect(() => parseState('closed')).toThrow(UnknownStateError);
  });
});
