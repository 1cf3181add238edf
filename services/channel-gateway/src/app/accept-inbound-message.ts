// Use case: a customer's message, verified as the provider's, enters DomIQ: stored once with its raw payload and
// announced once as channel-gateway.message.received.
import type { UnitOfWork } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { channels } from '@domiq/proto/vocabulary';
import type { ChannelRow } from '../db/channel-gateway.entities.ts';
import { insertInboundMessageOnce } from '../db/inbound-message.repository.ts';
import type { ProviderId, ProviderInboundMessage } from '../providers/provider.ts';

export interface AcceptInboundMessageInput {
  /** The channel whose webhook it came in on. */
  channel: Pick<ChannelRow, 'id' | 'accountId' | 'propertyId' | 'type'>;
  provider: ProviderId;
  message: ProviderInboundMessage;
}

/** `duplicate`: the provider sent this message before (a retry, or a racing delivery); nothing was stored or emitted. */
export type AcceptedInboundMessage = { duplicate: false; inboundId: string } | { duplicate: true };

/** Deduplicated on (provider, provider message id): the provider gets the same answer either way and stops retrying. */
export async function acceptInboundMessage(uow: UnitOfWork, input: AcceptInboundMessageInput): Promise<AcceptedInboundMessage> {
  const { channel, provider, message } = input;
  const inboundId = crypto.randomUUID();
  const receivedAt = new Date();
  const stored = await insertInboundMessageOnce(uow.em, {
    id: inboundId, accountId: channel.accountId, channelId: channel.id, provider, providerMessageId: message.providerMessageId,
    fromAddress: message.from, toAddress: message.to, body: message.body, raw: message.raw, receivedAt,
  });
  if (!stored) return { duplicate: true };
  uow.emit(events.gatewayMessageReceived, {
    inboundId,
    accountId: channel.accountId,
    propertyId: channel.propertyId,
    channelId: channel.id,
    channelType: channels.toProto(channel.type),
    provider,
    providerMessageId: message.providerMessageId,
    fromAddress: message.from,
    toAddress: message.to,
    body: message.body,
    receivedAt: receivedAt.toISOString(),
    senderName: message.senderName,
  }, { entityId: inboundId, accountId: channel.accountId });
  return { duplicate: false, inboundId };
}
