// Where an agent's reply goes: back through the gateway channel the customer last wrote to, to the address they wrote
// from (kept in the inbound message's channel_metadata by receive-inbound-messages).
import { query, type EntityManager } from '@domiq/db';
import { CHANNELS, type Channel } from '@domiq/proto/vocabulary';

export interface ReplyTarget {
  channel: Channel;
  /** channel-gateway's channel id. */
  channelId: string;
  /** The customer's address on it. */
  toAddress: string;
}

/** The customer's latest inbound message that names a gateway channel, or null (nothing to reply on). One statement. */
export async function replyTargetOf(em: EntityManager, c: { id: string; accountId: string }): Promise<ReplyTarget | null> {
  const [row] = await query<{ channel: string; channel_id: string; to_address: string }>(em,
    `select channel, channel_metadata->>'channel_id' as channel_id, channel_metadata->>'from' as to_address
       from "conversations".messages
      where conversation_id = ? and account_id = ? and direction = 'inbound'
        and channel_metadata->>'channel_id' is not null and channel_metadata->>'from' is not null
      order by created_at desc limit 1`,
    [c.id, c.accountId],
  );
  if (!row || !(CHANNELS as readonly string[]).includes(row.channel)) return null;
  return { channel: row.channel as Channel, channelId: row.channel_id, toAddress: row.to_address };
}
