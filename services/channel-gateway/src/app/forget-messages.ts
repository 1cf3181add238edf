import { erasePersonalEventData } from '@domiq/bus';
import { query, type EntityManager } from '@domiq/db';

const S = '"channel_gateway"';
const ERASED = '[erased]';

/** The payload keys of the gateway's events that carry personal data. */
const PERSONAL_EVENT_KEYS = ['fromAddress', 'toAddress', 'body', 'senderName'];

/**
 * An erased customer's messages as the gateway holds them (conversations.customer.data_erased names them by id): the
 * inbound rows' sender, text and raw payload, the replies' address and text (a reply still waiting is not sent: it
 * fails as erased), the receipts' raw payloads, and the personal keys of the gateway's events about them. The dedupe
 * keys (provider message ids) stay, so a provider's late retry is still recognised and not stored again.
 */
export async function forgetMessages(em: EntityManager, target: { accountId: string; inboundIds: readonly string[]; outboundMessageIds: readonly string[] }): Promise<{ inbound: number; outbound: number; events: number }> {
  const { accountId } = target;
  const ids = (list: readonly string[]) => JSON.stringify(list);
  const inbound = await query<{ id: string }>(em,
    `update ${S}.inbound_messages set from_address = ?, body = ?, raw = '{}'
      where account_id = ? and id in (select (jsonb_array_elements_text(?::jsonb))::uuid) returning id`,
    [ERASED, ERASED, accountId, ids(target.inboundIds)]);
  const outbound = await query<{ id: string; provider: string | null; provider_message_id: string | null }>(em,
    `update ${S}.outbound_messages
        set to_address = ?, body = ?,
            state = case when state = 'queued' then 'failed' else state end,
            error_code = case when state = 'queued' then 'domiq.erased' else error_code end,
            error_message = case when state = 'queued' then 'not sent: the customer was erased' else error_message end
      where account_id = ? and message_id in (select (jsonb_array_elements_text(?::jsonb))::uuid)
     returning id, provider, provider_message_id`,
    [ERASED, ERASED, accountId, ids(target.outboundMessageIds)]);
  const sids = outbound.filter((o) => o.provider_message_id).map((o) => o.provider_message_id!);
  await query(em, `update ${S}.delivery_receipts set raw = '{}' where account_id = ? and provider_message_id in (select jsonb_array_elements_text(?::jsonb))`, [accountId, JSON.stringify(sids)]);
  const events = await erasePersonalEventData(em, 'channel_gateway', { accountId, customerId: null, entityIds: [...target.inboundIds, ...target.outboundMessageIds] }, PERSONAL_EVENT_KEYS);
  return { inbound: inbound.length, outbound: outbound.length, events };
}
