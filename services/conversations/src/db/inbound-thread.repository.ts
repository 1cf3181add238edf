// Threading inbound messages, set-based: a whole batch of messages in a few statements of plain SQL (the hot path
// of every inbound message), outside the unit of work. None opens a transaction: they run in the caller's. Many
// values travel as one JSON parameter read with json_to_recordset (the driver would expand a JS array into a list of
// scalars; a JSON array becomes a text[] column).
import { pgTextArray, query, rowDate, type EntityManager } from '@domiq/db';
import type { Channel, ConversationState, SlaTier } from '@domiq/proto/vocabulary';

const S = '"conversations"';

/** The columns of a conversation that threading reads and writes. */
export interface ThreadConversation {
  id: string;
  accountId: string;
  propertyId: string | null;
  customerId: string;
  state: ConversationState;
  previousState: ConversationState | null;
  initialChannel: Channel;
  currentChannel: Channel | null;
  channelsUsed: Channel[];
  slaTier: SlaTier;
  lastMessageAt: Date | null;
  resolvedAt: Date | null;
  reopenedAt: Date | null;
  createdAt: Date;
}

interface ConversationSqlRow {
  id: string;
  account_id: string;
  property_id: string | null;
  customer_id: string;
  state: ConversationState;
  previous_state: ConversationState | null;
  initial_channel: Channel;
  current_channel: Channel | null;
  channels_used: Channel[];
  sla_tier: SlaTier;
  last_message_at: Date | null;
  resolved_at: Date | null;
  reopened_at: Date | null;
  created_at: Date;
}


function toConversation(r: ConversationSqlRow): ThreadConversation {
  return {
    id: r.id, accountId: r.account_id, propertyId: r.property_id, customerId: r.customer_id, state: r.state, previousState: r.previous_state,
    initialChannel: r.initial_channel, currentChannel: r.current_channel, channelsUsed: r.channels_used, slaTier: r.sla_tier,
    lastMessageAt: rowDate(r.last_message_at), resolvedAt: rowDate(r.resolved_at), reopenedAt: rowDate(r.reopened_at), createdAt: rowDate(r.created_at),
  };
}

/** The key of a customer's thread at a property: one writer at a time (the caller holds its advisory lock). */
export interface ThreadKey {
  accountId: string;
  customerId: string;
  propertyId: string | null;
}

export const threadKeyOf = (k: ThreadKey) => `${k.accountId}|${k.customerId}|${k.propertyId ?? ''}`;

/**
 * Each customer's latest conversation at each property (of those given), row-locked until the transaction ends, so
 * an escalation or a reply of the same conversation changes it before or after us, never meanwhile. One statement.
 */
export async function latestConversations(em: EntityManager, keys: readonly ThreadKey[]): Promise<Map<string, ThreadConversation>> {
  const found = new Map<string, ThreadConversation>();
  if (keys.length === 0) return found;
  const rows = await query<ConversationSqlRow>(em,
    `select c.* from json_to_recordset(?::json) as k(account_id uuid, customer_id uuid, property_id uuid)
       cross join lateral (
         select c.id, c.account_id, c.property_id, c.customer_id, c.state, c.previous_state, c.initial_channel, c.current_channel, c.channels_used,
                c.sla_tier, c.last_message_at, c.resolved_at, c.reopened_at, c.created_at
           from ${S}.conversations c
          where c.account_id = k.account_id and c.customer_id = k.customer_id and c.property_id is not distinct from k.property_id
          order by c.created_at desc limit 1
            for update) c`,
    [JSON.stringify(keys.map((k) => ({ account_id: k.accountId, customer_id: k.customerId, property_id: k.propertyId })))],
  );
  for (const r of rows) found.set(threadKeyOf({ accountId: r.account_id, customerId: r.customer_id, propertyId: r.property_id }), toConversation(r));
  return found;
}

export interface InboundMessageKey {
  accountId: string;
  channel: Channel;
  providerMessageId: string;
}

export const messageKeyOf = (k: InboundMessageKey) => `${k.accountId}|${k.channel}|${k.providerMessageId}`;

/** Which of these provider messages are stored already (uq_messages_inbound_channel_message). One statement. */
export async function storedInboundMessages(em: EntityManager, keys: readonly InboundMessageKey[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await query<{ account_id: string; channel: Channel; channel_message_id: string }>(em,
    `select k.account_id, k.channel, k.channel_message_id
       from unnest(?::uuid[], ?::text[], ?::text[]) as k(account_id, channel, channel_message_id)
       cross join lateral (
         select 1 from ${S}.messages m
          where m.account_id = k.account_id and m.channel = k.channel and m.channel_message_id = k.channel_message_id
            and m.direction = 'inbound' and m.channel_message_id is not null
          limit 1) m`,
    // One lookup in the unique index per key (its predicate spelled out), whatever the table's statistics say:
    // KEY_LOOKUPS in @domiq/db.
    [pgTextArray(keys.map((k) => k.accountId)), pgTextArray(keys.map((k) => k.channel)), pgTextArray(keys.map((k) => k.providerMessageId))],
  );
  return new Set(rows.map((r) => messageKeyOf({ accountId: r.account_id, channel: r.channel, providerMessageId: r.channel_message_id })));
}

/** New conversations, one statement. */
export async function insertConversations(em: EntityManager, conversations: readonly ThreadConversation[]): Promise<void> {
  if (conversations.length === 0) return;
  await query(em,
    `insert into ${S}.conversations (id, account_id, property_id, customer_id, state, initial_channel, current_channel, channels_used, sla_tier, created_at, updated_at)
     select r.id, r.account_id, r.property_id, r.customer_id, r.state, r.initial_channel, r.current_channel, r.channels_used, r.sla_tier, r.created_at, r.created_at
       from json_to_recordset(?::json) as r(id uuid, account_id uuid, property_id uuid, customer_id uuid, state text, initial_channel text, current_channel text,
                                            channels_used text[], sla_tier text, created_at timestamptz)`,
    [JSON.stringify(conversations.map((c) => ({
      id: c.id, account_id: c.accountId, property_id: c.propertyId, customer_id: c.customerId, state: c.state, initial_channel: c.initialChannel,
      current_channel: c.currentChannel, channels_used: c.channelsUsed, sla_tier: c.slaTier, created_at: c.createdAt.toISOString(),
    })))],
  );
}

/** What threading changed on existing conversations (state, reopening, the channel), one statement. */
export async function updateThreadedConversations(em: EntityManager, conversations: readonly ThreadConversation[]): Promise<void> {
  if (conversations.length === 0) return;
  await query(em,
    `update ${S}.conversations c
        set state = r.state, previous_state = r.previous_state, reopened_at = r.reopened_at, current_channel = r.current_channel, channels_used = r.channels_used
       from json_to_recordset(?::json) as r(id uuid, account_id uuid, state text, previous_state text, reopened_at timestamptz, current_channel text, channels_used text[])
      where c.id = r.id and c.account_id = r.account_id`,
    [JSON.stringify(conversations.map((c) => ({
      id: c.id, account_id: c.accountId, state: c.state, previous_state: c.previousState, reopened_at: c.reopenedAt?.toISOString() ?? null,
      current_channel: c.currentChannel, channels_used: c.channelsUsed,
    })))],
  );
}

export interface NewInboundMessageRow {
  id: string;
  accountId: string;
  conversationId: string;
  channel: Channel;
  content: string;
  providerMessageId: string;
  channelMetadata: Record<string, unknown>;
  createdAt: Date;
}

/** Customers' messages, one statement (the seed's row trigger keeps each conversation's counts and last-message times). */
export async function insertInboundMessages(em: EntityManager, messages: readonly NewInboundMessageRow[]): Promise<void> {
  if (messages.length === 0) return;
  await query(em,
    `insert into ${S}.messages (id, account_id, conversation_id, channel, direction, sender_type, content, channel_message_id, channel_metadata, status, created_at)
     select r.id, r.account_id, r.conversation_id, r.channel, 'inbound', 'customer', r.content, r.channel_message_id, r.channel_metadata, 'delivered', r.created_at
       from json_to_recordset(?::json) as r(id uuid, account_id uuid, conversation_id uuid, channel text, content text, channel_message_id text,
                                            channel_metadata jsonb, created_at timestamptz)`,
    [JSON.stringify(messages.map((m) => ({
      id: m.id, account_id: m.accountId, conversation_id: m.conversationId, channel: m.channel, content: m.content, channel_message_id: m.providerMessageId,
      channel_metadata: m.channelMetadata, created_at: m.createdAt.toISOString(),
    })))],
  );
}
