import type { EntityManager } from '@domiq/db';
import { InboundMessage } from './channel-gateway.entities.ts';

/** A provider message as stored: the provider's fields verbatim, the time the gateway received it. */
export interface NewInboundMessage {
  id: string;
  accountId: string;
  channelId: string;
  provider: string;
  providerMessageId: string;
  fromAddress: string;
  toAddress: string;
  body: string;
  raw: Record<string, unknown>;
  receivedAt: Date;
}

/**
 * Inserts the message unless its (provider, provider_message_id) is stored already: INSERT ... ON CONFLICT DO
 * NOTHING, so a provider retry (or two racing deliveries) stores one row. False for the one that stored nothing.
 */
export async function insertInboundMessageOnce(em: EntityManager, message: NewInboundMessage): Promise<boolean> {
  const result = await em.createQueryBuilder(InboundMessage).insert(message).onConflict(['provider', 'providerMessageId']).ignore().execute('run');
  return !!result.affectedRows;
}
