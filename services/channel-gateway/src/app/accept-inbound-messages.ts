// Use case: customers' messages, verified as the provider's, enter DomIQ together (the webhook server's group
// commit): each stored once with its raw payload and announced once as channel-gateway.message.received, all in
// the caller's one transaction.
import type { UnitOfWork } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { channels } from '@domiq/proto/vocabulary';
import type { ChannelRow } from '../db/channel-gateway.entities.ts';
import { insertInboundMessagesOnce, type NewInboundMessage } from '../db/inbound-message.repository.ts';
import type { ProviderId, ProviderInboundMessage } from '../providers/provider.ts';

export interface AcceptInboundMessageInput {
  /** The channel whose webhook it came in on. */
  channel: Pick<ChannelRow, 'id' | 'accountId' | 'propertyId' | 'type'>;
  provider: ProviderId;
  message: ProviderInboundMessage;
  /**
   * Emits this message's event instead of the unit of work's own `emit`: the webhook server passes one that runs in
   * the message's request context, so each event carries its own request's trace.
   */
  emit?: UnitOfWork['emit'];
}

/** `duplicate`: the provider sent this message before (a retry, or a racing delivery); nothing was stored or emitted. */
export type AcceptedInboundMessage = { duplicate: false; inboundId: string } | { duplicate: true };

const dedupeKey = (input: AcceptInboundMessageInput) => `${input.provider}\u0000${input.message.providerMessageId}`;

/**
 * Deduplicated on (provider, provider message id), against stored messages and within `inputs` (the first of a
 * repeated key is stored, the others are its duplicates): the provider gets the same answer either way and stops
 * retrying. One multi-row insert for all of them, then one event per message actually stored. Results in input order.
 */
export async function acceptInboundMessages(uow: UnitOfWork, inputs: readonly AcceptInboundMessageInput[]): Promise<AcceptedInboundMessage[]> {
  const receivedAt = new Date();
  const firstOfKey = new Map<string, number>();
  const rows: NewInboundMessage[] = [];
  const ids = inputs.map((input, index) => {
    const key = dedupeKey(input);
    if (firstOfKey.has(key)) return undefined;
    firstOfKey.set(key, index);
    const { channel, provider, message } = input;
    const id = crypto.randomUUID();
    rows.push({
      id, accountId: channel.accountId, channelId: channel.id, provider, providerMessageId: message.providerMessageId,
      fromAddress: message.from, toAddress: message.to, body: message.body, raw: message.raw, receivedAt,
    });
    return id;
  });
  const stored = await insertInboundMessagesOnce(uow.em, rows);
  return inputs.map((input, index): AcceptedInboundMessage => {
    const inboundId = ids[index];
    if (inboundId === undefined || !stored.has(inboundId)) return { duplicate: true };
    const { channel, provider, message } = input;
    (input.emit ?? uow.emit)(events.gatewayMessageReceived, {
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
  });
}
