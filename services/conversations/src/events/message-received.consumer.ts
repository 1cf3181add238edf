import { defineHandler, eventEnum, eventUuid, PoisonMessageError } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { PromiseClient } from '@domiq/grpc';
import { status } from '@grpc/grpc-js';
import type { IdentityServiceClient } from '@domiq/proto/identity';
import { channels, slaTiers } from '@domiq/proto/vocabulary';
import { identifierKindForChannel } from '../domain/conversation-threading.ts';
import { receiveInboundMessage } from '../app/receive-inbound-message.ts';

/**
 * channel-gateway.message.received -> resolve the sender through identity (before the transaction), then
 * receiveInboundMessage threads and stores it in the consumer's transaction.
 */
export function messageReceivedConsumer(identity: PromiseClient<IdentityServiceClient>) {
  return defineHandler({
    durable: 'conversations-message-received',
    contract: events.gatewayMessageReceived,
    async prepare({ payload }) {
      eventUuid(payload.accountId, 'account_id');
      const channel = eventEnum(channels, payload.channelType, 'channel_type');
      try {
        const { customer } = await identity.resolveCustomer({
          accountId: payload.accountId,
          kind: identifierKindForChannel(channel),
          value: payload.fromAddress,
          network: channel,
          displayName: payload.senderName,
          defaultRegion: 'US',
        });
        return { channel, customerId: customer!.id, slaTier: eventEnum(slaTiers, customer!.slaTier, 'customer.sla_tier', 'standard' as const) };
      } catch (err) {
        const code = (err as { code?: number }).code;
        // A sender identity can never resolve (bad address, unknown account): park it with the reason.
        if (code === status.INVALID_ARGUMENT || code === status.NOT_FOUND) throw new PoisonMessageError(`identity: ${(err as Error).message}`);
        throw err;
      }
    },
    async handle(ctx) {
      const { payload, prepared } = ctx;
      await receiveInboundMessage(ctx, {
        accountId: payload.accountId,
        propertyId: payload.propertyId || null,
        customerId: prepared.customerId,
        slaTier: prepared.slaTier,
        channel: prepared.channel,
        provider: payload.provider,
        providerMessageId: payload.providerMessageId,
        channelId: payload.channelId,
        inboundId: payload.inboundId,
        fromAddress: payload.fromAddress,
        toAddress: payload.toAddress,
        body: payload.body,
        receivedAt: payload.receivedAt ? new Date(payload.receivedAt) : new Date(),
      });
    },
  });
}
