import type { UnitOfWork } from '@domiq/bus';
import { FailedPreconditionError, InvalidArgumentError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { channels, type Channel } from '@domiq/proto/vocabulary';
import { Message, type ConversationRow, type MessageRow } from '../db/conversations.entities.ts';
import { replyTargetOf, type ReplyTarget } from '../db/reply-target.repository.ts';
import { optedOut } from './record-consent.ts';
import { getConversation, lockConversation, type ReadScope } from './conversation.queries.ts';
import { customerLockKey } from './receive-inbound-messages.ts';
import { lockForTransaction } from '@domiq/db';
import { changeConversationState } from './change-conversation-state.ts';

export interface SendReplyInput {
  scope: ReadScope;
  conversationId: string;
  /** The agent: the token's user. */
  senderId: string;
  content: string;
  idempotencyKey: string;
}

export interface SendReplyResult {
  message: MessageRow;
  /** False when the key had been used: `message` is the first reply, and nothing was sent again. */
  created: boolean;
}

/**
 * An agent's reply: stored as an outbound message `pending` on the channel the customer last wrote on, with
 * message.created (the timeline's consumers) and message.reply_requested (channel-gateway delivers it) in the same
 * transaction. The conversation moves by the state machine's `agent_reply`, and its first response is recorded.
 *
 * Exactly once per idempotency key: the conversation's row lock serialises replies to it, so a retry waits for the
 * first call and then finds its message; the partial unique index catches a key reused on another conversation.
 */
export async function sendReply(uow: UnitOfWork, input: SendReplyInput): Promise<SendReplyResult> {
  const { scope, conversationId } = input;
  // The customer's thread lock first, as threading and erasure take it: a reply is never written into a conversation
  // being erased, and the row lock below is always taken second.
  const seen = await getConversation(uow.em, scope, conversationId);
  await lockForTransaction(uow.em, customerLockKey({ accountId: seen.accountId, customerId: seen.customerId }));
  const c = await lockConversation(uow.em, scope, conversationId);

  const earlier = await uow.em.findOne(Message, { accountId: scope.accountId, idempotencyKey: input.idempotencyKey });
  if (earlier) {
    if (earlier.conversation.id !== c.id || earlier.content !== input.content) {
      throw new InvalidArgumentError('idempotency_key', 'was already used for a different reply');
    }
    return { message: earlier, created: false };
  }

  const target = await replyTargetOf(uow.em, c);
  if (!target) throw new FailedPreconditionError(`conversation ${conversationId} has no customer channel to reply on`);
  const out = await optedOut(uow.em, c.accountId, c.customerId, target.channel);
  if (out) throw new FailedPreconditionError(`the customer opted out of ${target.channel} messages on ${out.since.toISOString().slice(0, 10)}: nothing was sent`);

  const now = new Date();
  changeConversationState(uow, c, 'agent_reply', now);
  c.firstResponseAt ??= now;
  // The id is ours (not the database's default), so both events can name it before the flush.
  const message = uow.em.create(Message, {
    id: crypto.randomUUID(), accountId: c.accountId, conversation: c, channel: target.channel, direction: 'outbound', senderType: 'agent', senderId: input.senderId,
    contentType: 'text', content: input.content, status: 'pending', idempotencyKey: input.idempotencyKey,
    channelMetadata: { channel_id: target.channelId, to: target.toAddress }, createdAt: now,
  });
  emitReply(uow, c, message, target, now);
  return { message, created: true };
}

function emitReply(uow: UnitOfWork, c: ConversationRow, m: MessageRow, target: ReplyTarget, at: Date): void {
  const ids = { accountId: c.accountId, conversationId: c.id, customerId: c.customerId };
  const channel = channels.toProto(target.channel satisfies Channel);
  const meta = { entityId: m.id, ...ids };
  uow.emit(events.messageCreated, {
    ...ids, propertyId: c.propertyId ?? '', messageId: m.id, channel, direction: 'outbound', senderType: 'agent', content: m.content,
    createdAt: at.toISOString(), conversationCreated: false, channelMessageId: '',
  }, meta);
  uow.emit(events.replyRequested, {
    ...ids, propertyId: c.propertyId ?? '', messageId: m.id, channel, channelId: target.channelId, toAddress: target.toAddress,
    content: m.content, senderId: m.senderId ?? '', requestedAt: at.toISOString(),
  }, meta);
}
