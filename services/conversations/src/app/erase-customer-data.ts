import { erasePersonalEventData, type UnitOfWork } from '@domiq/bus';
import { lockForTransaction, query } from '@domiq/db';
import { events } from '@domiq/proto/events';
import { customerLockKey } from './receive-inbound-messages.ts';

const S = '"conversations"';
export const ERASED = '[erased]';

/** The payload keys of conversations' events that carry personal data (message text, addresses, the lead, excerpts). */
export const PERSONAL_EVENT_KEYS = ['content', 'toAddress', 'lead', 'excerpt'] as const;

export interface ErasureOutcome {
  conversations: number;
  messages: number;
  eventsRedacted: number;
}

/**
 * identity.customer.erased: forgets the customer's personal data here. Message contents, HTML, voice recordings and the
 * addresses in channel metadata, the annotations' entities and suggested replies, attachments, the notes on their
 * conversations (they quote the customer), subjects and summaries, the leads, and the personal keys of this service's
 * event_log rows about them. Kept: the conversations and messages as rows (ids, channel, direction, status, times,
 * counts), so reports and SLAs still add up. Publishes customer.data_erased with the ids of what the gateway holds
 * about the same messages. Under the customer's thread lock, so no message is threaded into their conversations meanwhile.
 */
export async function eraseCustomerData(uow: UnitOfWork, target: { accountId: string; customerId: string }): Promise<ErasureOutcome> {
  const { em } = uow;
  const { accountId, customerId } = target;
  await lockForTransaction(em, customerLockKey({ accountId, customerId }));
  const conversations = (await query<{ id: string }>(em, `select id from ${S}.conversations where account_id = ? and customer_id = ?`, [accountId, customerId])).map((r) => r.id);
  const ids = JSON.stringify(conversations);
  const inConversations = `conversation_id in (select (jsonb_array_elements_text(?::jsonb))::uuid)`;
  const messages = await query<{ id: string; direction: string; inbound_id: string | null }>(em,
    `update ${S}.messages m set content = ?, content_html = null, voice_recording_url = null, ai_annotations = '{}',
            channel_metadata = m.channel_metadata - 'from' - 'to'
       from (select id, direction, channel_metadata->>'inbound_id' as inbound_id from ${S}.messages where account_id = ? and ${inConversations}) old
      where m.id = old.id
     returning m.id, old.direction, old.inbound_id`,
    [ERASED, accountId, ids]);
  const messageIds = JSON.stringify(messages.map((m) => m.id));
  const inMessages = `message_id in (select (jsonb_array_elements_text(?::jsonb))::uuid)`;
  await query(em, `update ${S}.ai_annotations set entities = '{}', suggested_response = null, suspected_root_cause = null where account_id = ? and ${inMessages}`, [accountId, messageIds]);
  await query(em, `delete from ${S}.attachments where account_id = ? and ${inMessages}`, [accountId, messageIds]);
  const notes = await query<{ id: string }>(em, `update ${S}.internal_notes set content = ? where account_id = ? and ${inConversations} returning id`, [ERASED, accountId, ids]);
  await query(em, `update ${S}.conversations set subject = null, summary = null where account_id = ? and customer_id = ?`, [accountId, customerId]);
  await query(em, `delete from ${S}.leads where account_id = ? and ${inConversations}`, [accountId, ids]);
  // By customer, and by entity too: events written before a merge carry the customer the conversation had then.
  const entityIds = [...conversations, ...messages.map((m) => m.id), ...notes.map((n) => n.id)];
  const eventsRedacted = await erasePersonalEventData(em, 'conversations', { accountId, customerId, entityIds }, PERSONAL_EVENT_KEYS);
  const erasedAt = new Date();
  uow.emit(events.customerDataErased, {
    accountId, customerId, conversationIds: conversations,
    inboundIds: messages.filter((m) => m.direction === 'inbound' && m.inbound_id).map((m) => m.inbound_id!),
    outboundMessageIds: messages.filter((m) => m.direction === 'outbound').map((m) => m.id),
    messagesErased: messages.length, erasedAt: erasedAt.toISOString(),
  }, { entityId: customerId, accountId, customerId });
  return { conversations: conversations.length, messages: messages.length, eventsRedacted };
}
