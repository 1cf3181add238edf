import { query, type EntityManager } from '@domiq/db';

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
 * Many messages in one statement: `insert ... select from json_to_recordset(?) on conflict (provider,
 * provider_message_id) do nothing returning id` (one JSON parameter: the driver would expand a JS array into a list
 * of scalars). Returns the ids of the rows it stored; a message whose key is stored already, by an earlier
 * statement or by another transaction that commits first, stores nothing. Rows are inserted in key order, so two
 * transactions inserting overlapping keys wait for each other instead of deadlocking. Callers pass each key once.
 */
export async function insertInboundMessagesOnce(em: EntityManager, messages: readonly NewInboundMessage[]): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const rows = await query<{ id: string }>(em,
    `insert into "channel_gateway"."inbound_messages"
       (id, account_id, channel_id, provider, provider_message_id, from_address, to_address, body, raw, received_at)
     select r.id, r.account_id, r.channel_id, r.provider, r.provider_message_id, r.from_address, r.to_address, r.body, r.raw, r.received_at
       from json_to_recordset(?::json) as r(id uuid, account_id uuid, channel_id uuid, provider text, provider_message_id text,
                                             from_address text, to_address text, body text, raw jsonb, received_at timestamptz)
      order by r.provider, r.provider_message_id
     on conflict (provider, provider_message_id) do nothing
     returning id`,
    [JSON.stringify(messages.map((m) => ({
      id: m.id, account_id: m.accountId, channel_id: m.channelId, provider: m.provider, provider_message_id: m.providerMessageId,
      from_address: m.fromAddress, to_address: m.toAddress, body: m.body, raw: m.raw, received_at: m.receivedAt.toISOString(),
    })))],
  );
  return new Set(rows.map((r) => r.id));
}
