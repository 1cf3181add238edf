import { erasePersonalEventData, type UnitOfWork } from '@domiq/bus';
import { query } from '@domiq/db';
import { emitDeliveryUpdate } from './deliver-reply.ts';

const S = '"channel_gateway"';
const ERASED = '[erased]';

/** The payload keys of the gateway's events that carry personal data. */
const PERSONAL_EVENT_KEYS = ['fromAddress', 'toAddress', 'body', 'senderName'];

/**
 * An erased customer's messages as the gateway holds them (conversations.customer.data_erased names them by id): the
 * inbound rows' sender, text and raw payload, the replies' address and text, the receipts' raw payloads, and the
 * personal keys of the gateway's events about them. A reply not handed to the provider yet is not sent: it fails as
 * erased (with its delivery update), and a reply_requested still in flight for one of these ids is never queued
 * (erased_messages). The dedupe keys (provider message ids) stay, so a provider's late retry is still recognised.
 */
export async function forgetMessages(uow: UnitOfWork, target: { accountId: string; inboundIds: readonly string[]; outboundMessageIds: readonly string[] }): Promise<{ inbound: number; outbound: number; events: number }> {
  const { em } = uow;
  const { accountId } = target;
  const ids = (list: readonly string[]) => JSON.stringify(list);
  const inbound = await query<{ id: string }>(em,
    `update ${S}.inbound_messages set from_address = ?, body = ?, raw = '{}'
      where account_id = ? and id in (select (jsonb_array_elements_text(?::jsonb))::uuid) returning id`,
    [ERASED, ERASED, accountId, ids(target.inboundIds)]);
  await query(em,
    `insert into ${S}.erased_messages (account_id, message_id) select ?, (jsonb_array_elements_text(?::jsonb))::uuid on conflict do nothing`,
    [accountId, ids(target.outboundMessageIds)]);
  const outbound = await query<{ message_id: string; conversation_id: string; channel_id: string; provider: string | null; provider_message_id: string | null; cancelled: boolean }>(em,
    `update ${S}.outbound_messages o
        set to_address = ?, body = ?,
            state = case when o.state in ('accepted', 'failed') then o.state else 'failed' end,
            error_code = case when o.state in ('accepted', 'failed') then o.error_code else 'domiq.erased' end,
            error_message = case when o.state in ('accepted', 'failed') then o.error_message else 'not sent: the customer was erased' end
       from ${S}.outbound_messages old
      where old.id = o.id and o.account_id = ? and o.message_id in (select (jsonb_array_elements_text(?::jsonb))::uuid)
     returning o.message_id, o.conversation_id, o.channel_id, o.provider, o.provider_message_id, old.state not in ('accepted', 'failed') as cancelled`,
    [ERASED, ERASED, accountId, ids(target.outboundMessageIds)]);
  for (const o of outbound.filter((x) => x.cancelled)) {
    emitDeliveryUpdate(uow, { accountId, conversationId: o.conversation_id, messageId: o.message_id, channelId: o.channel_id }, {
      provider: o.provider ?? '', providerMessageId: '', status: 'failed', providerStatus: '', errorCode: 'domiq.erased', errorMessage: 'not sent: the customer was erased', occurredAt: new Date(),
    });
  }
  const sids = outbound.filter((o) => o.provider_message_id).map((o) => o.provider_message_id!);
  await query(em, `update ${S}.delivery_receipts set raw = '{}' where account_id = ? and provider_message_id in (select jsonb_array_elements_text(?::jsonb))`, [accountId, JSON.stringify(sids)]);
  const events = await erasePersonalEventData(em, 'channel_gateway', { accountId, customerId: null, entityIds: [...target.inboundIds, ...target.outboundMessageIds] }, PERSONAL_EVENT_KEYS);
  return { inbound: inbound.length, outbound: outbound.length, events };
}
