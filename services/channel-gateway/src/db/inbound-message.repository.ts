import type { EntityManager } from '@domiq/db';
import { appendEvent } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { InboundMessage } from './channel-gateway.entities.ts';

export interface InboundRecord {
  accountId: string;
  propertyId: string;
  channelId: string;
  channelType: string;
  provider: string;
  providerMessageId: string;
  fromAddress: string;
  toAddress: string;
  body: string;
  senderName: string;
  raw: Record<string, unknown>;
}

/**
 * Stores one provider message and its `gateway.message.received` event in one transaction. INSERT ... ON CONFLICT
 * DO NOTHING on (provider, provider_message_id) makes a provider retry (or two racing deliveries) insert one row
 * and append one event; the loser learns it was a duplicate and appends nothing.
 */
export async function recordInbound(em: EntityManager, input: InboundRecord): Promise<{ inserted: true; id: string } | { inserted: false }> {
  return em.transactional(async (tx) => {
    const id = crypto.randomUUID();
    const receivedAt = new Date();
    const result = await tx
      .createQueryBuilder(InboundMessage)
      .insert({
        id,
        accountId: input.accountId,
        channelId: input.channelId,
        provider: input.provider,
        providerMessageId: input.providerMessageId,
        fromAddress: input.fromAddress,
        toAddress: input.toAddress,
        body: input.body,
        raw: input.raw,
        receivedAt,
      })
      .onConflict(['provider', 'providerMessageId'])
      .ignore()
      .execute('run');
    if (!result.affectedRows) return { inserted: false };
    appendEvent(tx, events.gatewayMessageReceived, {
      inboundId: id,
      accountId: input.accountId,
      propertyId: input.propertyId,
      channelId: input.channelId,
      channelType: input.channelType,
      provider: input.provider,
      providerMessageId: input.providerMessageId,
      fromAddress: input.fromAddress,
      toAddress: input.toAddress,
      body: input.body,
      receivedAt: receivedAt.toISOString(),
      senderName: input.senderName,
    }, { entityId: id, accountId: input.accountId });
    return { inserted: true, id };
  });
}
