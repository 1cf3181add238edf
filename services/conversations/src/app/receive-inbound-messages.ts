import type { UnitOfWork } from '@domiq/bus';
import { lockAllForTransaction } from '@domiq/db';
import { events } from '@domiq/proto/events';
import { channels, slaTiers, type Channel, type SlaTier } from '@domiq/proto/vocabulary';
import {
  insertConversations, insertInboundMessages, latestConversations, messageKeyOf, storedInboundMessages, threadKeyOf, updateThreadedConversations,
  type NewInboundMessageRow, type ThreadConversation,
} from '../db/inbound-thread.repository.ts';
import { chooseThread } from '../domain/conversation-threading.ts';
import { changeConversationState } from './change-conversation-state.ts';

/** A customer's message as the gateway received it, with the sender already resolved to a customer. */
export interface InboundMessage {
  accountId: string;
  propertyId: string | null;
  customerId: string;
  /** The customer's SLA tier, for a conversation this message starts. */
  slaTier: SlaTier;
  channel: Channel;
  provider: string;
  providerMessageId: string;
  channelId: string;
  inboundId: string;
  fromAddress: string;
  toAddress: string;
  body: string;
  receivedAt: Date;
}

export type InboundOutcome =
  | { stored: false }
  | { stored: true; conversationId: string; messageId: string; conversationCreated: boolean };

/** One message of a batch, and where its events go (a consumer's item: its own causation and trace). */
export interface InboundItem {
  message: InboundMessage;
  emit: UnitOfWork['emit'];
}

/** The per-customer lock every writer of a customer's threads takes (one writer per customer at a time). */
export const customerLockKey = (m: Pick<InboundMessage, 'accountId' | 'customerId'>) => `conversation|${m.accountId}|${m.customerId}`;

/**
 * Threads inbound messages into their customers' conversations (new, continued or reopened), stores them, and emits
 * conversation.created / conversation.state_changed / message.created with each message's own `emit`; a provider
 * message already stored (or twice in the batch) is not stored again. Set-based: whatever the batch size, one
 * statement locks the customers (sorted, so batches sharing customers wait instead of deadlocking), one finds what is
 * stored, one reads and row-locks the latest conversations, and one each inserts conversations, updates the continued
 * ones and inserts the messages. The messages are threaded in the order given (stream order), so a customer's second
 * message continues the conversation their first one started. A single message is a batch of one.
 */
export async function receiveInboundMessages(em: UnitOfWork['em'], items: readonly InboundItem[]): Promise<InboundOutcome[]> {
  if (items.length === 0) return [];
  const messages = items.map((i) => i.message);
  await lockAllForTransaction(em, messages.map(customerLockKey));
  const stored = await storedInboundMessages(em, messages);
  const threads = new Map<string, { key: ReturnType<typeof threadKeyOf>; accountId: string; customerId: string; propertyId: string | null }>();
  for (const m of messages) threads.set(threadKeyOf(m), { key: threadKeyOf(m), accountId: m.accountId, customerId: m.customerId, propertyId: m.propertyId });
  const latest = await latestConversations(em, [...threads.values()]);

  const created: ThreadConversation[] = [];
  const changed = new Map<string, ThreadConversation>();
  const rows: NewInboundMessageRow[] = [];
  const now = new Date();
  const outcomes = items.map(({ message: m, emit }): InboundOutcome => {
    const messageKey = messageKeyOf(m);
    if (stored.has(messageKey)) return { stored: false };
    stored.add(messageKey);
    const threadKey = threadKeyOf(m);
    const current = latest.get(threadKey) ?? null;
    const decision = chooseThread(current, m.receivedAt);
    let conversation: ThreadConversation;
    const isNew = decision === 'create' || current === null;
    if (isNew) {
      conversation = {
        id: crypto.randomUUID(), accountId: m.accountId, propertyId: m.propertyId, customerId: m.customerId, state: 'open', previousState: null,
        initialChannel: m.channel, currentChannel: m.channel, channelsUsed: [m.channel], slaTier: m.slaTier, lastMessageAt: null, resolvedAt: null,
        reopenedAt: null, createdAt: now,
      };
      created.push(conversation);
      latest.set(threadKey, conversation);
    } else {
      conversation = current;
      const uow: UnitOfWork = { em, emit };
      // An inbound message changes a conversation's state at most once in a batch (after it, customer_message leaves
      // every state as it is), so the one UPDATE below carries exactly the change its event describes.
      if (decision === 'reopen') {
        changeConversationState(uow, conversation, 'reopen', now);
        conversation.reopenedAt = m.receivedAt;
      }
      changeConversationState(uow, conversation, 'customer_message', now);
      conversation.currentChannel = m.channel;
      if (!conversation.channelsUsed.includes(m.channel)) conversation.channelsUsed = [...conversation.channelsUsed, m.channel];
      if (!created.includes(conversation)) changed.set(conversation.id, conversation);
    }
    if (!conversation.lastMessageAt || conversation.lastMessageAt < m.receivedAt) conversation.lastMessageAt = m.receivedAt;
    const messageId = crypto.randomUUID();
    rows.push({
      id: messageId, accountId: m.accountId, conversationId: conversation.id, channel: m.channel, content: m.body, providerMessageId: m.providerMessageId,
      channelMetadata: {
        provider: m.provider, from: m.fromAddress, to: m.toAddress, inbound_id: m.inboundId, channel_id: m.channelId, received_at: m.receivedAt.toISOString(),
      },
      createdAt: m.receivedAt,
    });
    const ids = { accountId: m.accountId, conversationId: conversation.id, customerId: m.customerId };
    if (isNew) {
      emit(events.conversationCreated, {
        ...ids, propertyId: m.propertyId ?? '', channel: channels.toProto(m.channel), createdAt: conversation.createdAt.toISOString(), slaTier: slaTiers.toProto(conversation.slaTier),
      }, { entityId: conversation.id, ...ids });
    }
    emit(events.messageCreated, {
      ...ids,
      propertyId: m.propertyId ?? '',
      messageId,
      channel: channels.toProto(m.channel),
      direction: 'inbound',
      senderType: 'customer',
      content: m.body,
      createdAt: m.receivedAt.toISOString(),
      conversationCreated: isNew,
      channelMessageId: m.providerMessageId,
    }, { entityId: messageId, ...ids });
    return { stored: true, conversationId: conversation.id, messageId, conversationCreated: isNew };
  });
  await insertConversations(em, created);
  await updateThreadedConversations(em, [...changed.values()]);
  await insertInboundMessages(em, rows);
  return outcomes;
}
