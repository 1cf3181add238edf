import type { EntityManager } from '@domiq/db';
import { Channel, InboundMessage, type ChannelRow, type InboundMessageRow } from '../db/channel-gateway.entities.ts';

/** The account's channel with this key; another account's key is not found here (though it is taken). */
export async function lookupChannel(em: EntityManager, accountId: string, channelKey: string): Promise<ChannelRow | null> {
  return em.findOne(Channel, { accountId, channelKey });
}

/** One provider message as it arrived, if it is the account's. */
export async function getInboundMessage(em: EntityManager, accountId: string, k: { provider: string; providerMessageId: string }): Promise<InboundMessageRow | null> {
  return em.findOne(InboundMessage, { accountId, provider: k.provider, providerMessageId: k.providerMessageId });
}
