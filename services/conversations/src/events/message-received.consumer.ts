import { defineHandler, eventUuid, PoisonMessageError } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { PromiseClient } from '@domiq/grpc';
import { currentTraceparent } from '@domiq/telemetry';
import { status } from '@grpc/grpc-js';
import type { IdentityServiceClient } from '@domiq/proto/identity';
import { Conversation, Message, CHANNELS } from '../db/conversations.entities.ts';
import { chooseThread, identifierKindForChannel } from '../domain/conversation-threading.ts';

/**
 * gateway.message.received -> resolve the sender through identity, thread the message into the customer's
 * conversation (new, continued or reopened), store it, and publish conversation.created / message.created.
 */
export function messageReceivedConsumer(identity: PromiseClient<IdentityServiceClient>) {
  return defineHandler({
    durable: 'conversations-message-received',
    contract: events.gatewayMessageReceived,
    async prepare({ payload }) {
      eventUuid(payload.accountId, 'account_id');
      if (!(CHANNELS as readonly string[]).includes(payload.channelType)) throw new PoisonMessageError(`unknown channel ${payload.channelType}`);
      try {
        const { customer } = await identity.resolveCustomer({
          accountId: payload.accountId,
          kind: identifierKindForChannel(payload.channelType),
          value: payload.fromAddress,
          network: payload.channelType,
          displayName: payload.senderName,
          defaultRegion: 'US',
        });
        return { customerId: customer!.id, slaTier: customer!.slaTier };
      } catch (err) {
        const code = (err as { code?: number }).code;
        // A sender identity can never resolve (bad address, unknown account): park it with the reason.
        if (code === status.INVALID_ARGUMENT || code === status.NOT_FOUND) throw new PoisonMessageError(`identity: ${(err as Error).message}`);
        throw err;
      }
    },
    async handle({ em, payload, prepared, emit }) {
      const { accountId } = payload;
      const { customerId } = prepared;
      // One writer per customer at a time, so two quick messages cannot open two conversations; and the
      // state-change trigger's outbox rows get this transaction's trace. One round trip for both.
      await em.execute(`select pg_advisory_xact_lock(hashtextextended(?, 0)), set_config('domiq.traceparent', ?, true)`, [`conversation|${accountId}|${customerId}`, currentTraceparent() ?? '']);
      const existing = await em.findOne(Message, { accountId, channel: payload.channelType, channelMessageId: payload.providerMessageId, direction: 'inbound' });
      if (existing) return;
      const receivedAt = payload.receivedAt ? new Date(payload.receivedAt) : new Date();
      const latest = await em.findOne(Conversation, { accountId, customerId, propertyId: payload.propertyId || null }, { orderBy: { createdAt: 'desc' } });
      const decision = chooseThread(latest, receivedAt);
      let conversation = latest;
      if (decision === 'create' || !conversation) {
        conversation = em.create(Conversation, {
          id: crypto.randomUUID(),
          accountId,
          propertyId: payload.propertyId || null,
          customerId,
          initialChannel: payload.channelType,
          currentChannel: payload.channelType,
          channelsUsed: [payload.channelType],
          slaTier: prepared.slaTier || 'standard',
          state: 'open',
        });
      } else {
        if (decision === 'reopen') {
          conversation.previousState = conversation.state;
          conversation.state = 'reopened';
          conversation.reopenedAt = receivedAt;
        } else if (conversation.state === 'awaiting_customer') {
          conversation.previousState = conversation.state;
          conversation.state = 'awaiting_agent';
        }
        conversation.currentChannel = payload.channelType;
        if (!conversation.channelsUsed.includes(payload.channelType)) conversation.channelsUsed = [...conversation.channelsUsed, payload.channelType];
      }
      const message = em.create(Message, {
        id: crypto.randomUUID(),
        accountId,
        conversation,
        channel: payload.channelType,
        direction: 'inbound',
        senderType: 'customer',
        content: payload.body,
        channelMessageId: payload.providerMessageId,
        channelMetadata: { provider: payload.provider, from: payload.fromAddress, to: payload.toAddress, inbound_id: payload.inboundId, channel_id: payload.channelId, received_at: receivedAt.toISOString() },
        status: 'delivered',
        createdAt: receivedAt,
      });
      const created = decision === 'create' || !latest;
      const base = { accountId, conversationId: conversation.id, customerId };
      if (created) {
        emit(events.conversationCreated, { ...base, propertyId: payload.propertyId, channel: payload.channelType, createdAt: conversation.createdAt.toISOString(), slaTier: conversation.slaTier }, { entityId: conversation.id, ...base });
      }
      emit(events.messageCreated, {
        ...base,
        propertyId: payload.propertyId,
        messageId: message.id,
        channel: message.channel,
        direction: message.direction,
        senderType: message.senderType,
        content: message.content,
        createdAt: message.createdAt.toISOString(),
        conversationCreated: created,
        channelMessageId: payload.providerMessageId,
      }, { entityId: message.id, ...base });
    },
  });
}
