import { LockMode } from '@mikro-orm/core';
import type { UnitOfWork } from '@domiq/bus';
import { lockForTransaction } from '@domiq/db';
import { events } from '@domiq/proto/events';
import { channels, slaTiers, type Channel, type SlaTier } from '@domiq/proto/vocabulary';
import { Conversation, Message, type ConversationRow } from '../db/conversations.entities.ts';
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

/**
 * Threads an inbound message into the customer's conversation (new, continued or reopened), stores it, and emits
 * conversation.created / conversation.state_changed / message.created. A provider message id already stored is
 * not stored again.
 */
export async function receiveInboundMessage(uow: UnitOfWork, input: InboundMessage): Promise<InboundOutcome> {
  const { em } = uow;
  const { accountId, customerId, propertyId } = input;
  // One writer per customer at a time, so two quick messages cannot open two conversations.
  await lockForTransaction(em, `conversation|${accountId}|${customerId}`);
  const existing = await em.findOne(Message, { accountId, channel: input.channel, channelMessageId: input.providerMessageId, direction: 'inbound' });
  if (existing) return { stored: false };
  // Row lock too: an escalation of the same conversation changes its state before or after us, never meanwhile.
  const latest = await em.findOne(Conversation, { accountId, customerId, propertyId }, { orderBy: { createdAt: 'desc' }, lockMode: LockMode.PESSIMISTIC_WRITE });
  const decision = chooseThread(latest, input.receivedAt);
  const now = new Date();
  const created = decision === 'create' || !latest;
  let conversation: ConversationRow;
  if (created) {
    conversation = em.create(Conversation, {
      id: crypto.randomUUID(),
      accountId,
      propertyId,
      customerId,
      initialChannel: input.channel,
      currentChannel: input.channel,
      channelsUsed: [input.channel],
      slaTier: input.slaTier,
      state: 'open',
    });
  } else {
    conversation = latest;
    if (decision === 'reopen') {
      changeConversationState(uow, conversation, 'reopen', now);
      conversation.reopenedAt = input.receivedAt;
    }
    changeConversationState(uow, conversation, 'customer_message', now);
    conversation.currentChannel = input.channel;
    if (!conversation.channelsUsed.includes(input.channel)) conversation.channelsUsed = [...conversation.channelsUsed, input.channel];
  }
  const message = em.create(Message, {
    id: crypto.randomUUID(),
    accountId,
    conversation,
    channel: input.channel,
    direction: 'inbound',
    senderType: 'customer',
    content: input.body,
    channelMessageId: input.providerMessageId,
    channelMetadata: {
      provider: input.provider, from: input.fromAddress, to: input.toAddress, inbound_id: input.inboundId, channel_id: input.channelId,
      received_at: input.receivedAt.toISOString(),
    },
    status: 'delivered',
    createdAt: input.receivedAt,
  });
  const ids = { accountId, conversationId: conversation.id, customerId };
  if (created) {
    uow.emit(events.conversationCreated, {
      ...ids, propertyId: propertyId ?? '', channel: channels.toProto(input.channel), createdAt: conversation.createdAt.toISOString(), slaTier: slaTiers.toProto(conversation.slaTier),
    }, { entityId: conversation.id, ...ids });
  }
  uow.emit(events.messageCreated, {
    ...ids,
    propertyId: propertyId ?? '',
    messageId: message.id,
    channel: channels.toProto(input.channel),
    direction: message.direction,
    senderType: message.senderType,
    content: message.content,
    createdAt: message.createdAt.toISOString(),
    conversationCreated: created,
    channelMessageId: input.providerMessageId,
  }, { entityId: message.id, ...ids });
  return { stored: true, conversationId: conversation.id, messageId: message.id, conversationCreated: created };
}
