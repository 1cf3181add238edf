// Events conversations owns (stream CONVERSATIONS).
import { ConversationCreated, ConversationEscalated, ConversationStateChanged, ConversationUpdated, CustomerDataErased, InternalNoteAdded, InternalNoteMentioned, MessageAnnotated, MessageCreated, ReplyRequested } from '../../gen/domiq/conversations/v1/events.ts';
import { ownedEvents } from '../event-contract.ts';

const event = ownedEvents('conversations');

export const conversationsEvents = {
  conversationCreated: event('conversation.created', 'conversation', ConversationCreated),
  conversationEscalated: event('conversation.escalated', 'conversation', ConversationEscalated),
  conversationStateChanged: event('conversation.state_changed', 'conversation', ConversationStateChanged),
  conversationUpdated: event('conversation.updated', 'conversation', ConversationUpdated),
  messageCreated: event('message.created', 'message', MessageCreated),
  replyRequested: event('message.reply_requested', 'message', ReplyRequested),
  internalNoteAdded: event('internal_note.added', 'internal_note', InternalNoteAdded),
  internalNoteMentioned: event('internal_note.mentioned', 'internal_note', InternalNoteMentioned),
  customerDataErased: event('customer.data_erased', 'customer', CustomerDataErased),
  messageAnnotated: event('message.annotated', 'message', MessageAnnotated),
} as const;
