// The reply-delivery queue's statements (outbound_messages, delivery_receipts), set-based plain SQL. None opens a
// transaction: each runs in the caller's, or alone (autocommit) where the caller says so.
import { query, rowDate, type EntityManager } from '@domiq/db';
import type { DeliveryReceipt as ReceiptInput } from '../providers/provider.ts';

const S = '"channel_gateway"';

/** The channel on which PostgreSQL tells every replica's runner that replies were queued (at the commit). */
export const OUTBOUND_QUEUED_CHANNEL = 'channel_gateway_outbound_queued';

export interface QueuedReply {
  accountId: string;
  channelId: string;
  conversationId: string;
  messageId: string;
  toAddress: string;
  body: string;
}

/** Queues replies (a reply already queued is left as it is); NOTIFYs the runners at commit. Two statements. */
export async function insertQueuedReplies(em: EntityManager, replies: readonly QueuedReply[]): Promise<number> {
  if (replies.length === 0) return 0;
  const inserted = await query<{ id: string }>(em,
    `insert into ${S}.outbound_messages (account_id, channel_id, conversation_id, message_id, to_address, body)
     select r.account_id, r.channel_id, r.conversation_id, r.message_id, r.to_address, r.body
       from json_to_recordset(?::json) as r(account_id uuid, channel_id uuid, conversation_id uuid, message_id uuid, to_address text, body text)
      where not exists (select 1 from ${S}.erased_messages e where e.account_id = r.account_id and e.message_id = r.message_id)
     on conflict (account_id, message_id) do nothing
     returning id`,
    [JSON.stringify(replies.map((r) => ({
      account_id: r.accountId, channel_id: r.channelId, conversation_id: r.conversationId, message_id: r.messageId, to_address: r.toAddress, body: r.body,
    })))],
  );
  if (inserted.length) await query(em, `select pg_notify(?, '')`, [OUTBOUND_QUEUED_CHANNEL]);
  return inserted.length;
}

/** A claimed reply: the row as the attempt sees it. */
export interface ClaimedReply {
  id: string;
  accountId: string;
  channelId: string;
  conversationId: string;
  messageId: string;
  toAddress: string;
  body: string;
  /** This attempt's number: the fencing token its record must match (a row taken over meanwhile is not ours). */
  attempts: number;
  /** An earlier attempt may have reached the provider: reconcile before sending. */
  outcomeUnknown: boolean;
  /** When the earlier attempts began (the first), to look for what they sent. */
  createdAt: Date;
  lastAttemptAt: Date | null;
}

/**
 * Claims up to `limit` due replies (queued and due, or `sending` with the lease run out: a dead worker's), marks each
 * `sending` with attempts + 1 and a lease of `leaseMs`, and returns them. SKIP LOCKED: replicas claim disjoint rows.
 * Run it alone (autocommit): the claim must be durable before any provider is called, so a crash after the call
 * leaves a `sending` row that the next claim reconciles.
 */
export async function claimDueReplies(em: EntityManager, limit: number, leaseMs: number): Promise<ClaimedReply[]> {
  const rows = await query<{
    id: string; account_id: string; channel_id: string; conversation_id: string; message_id: string; to_address: string; body: string;
    attempts: number; outcome_unknown: boolean; created_at: Date | string; previous_attempt_at: Date | string | null;
  }>(em,
    `with due as (
       select id, state as previous_state, last_attempt_at as previous_attempt_at from ${S}.outbound_messages
        where (state = 'queued' and next_attempt_at <= now()) or (state = 'sending' and locked_until < now())
        order by next_attempt_at
        limit ? for update skip locked)
     update ${S}.outbound_messages o
        set state = 'sending', attempts = o.attempts + 1, locked_until = now() + ?::int * interval '1 millisecond', last_attempt_at = now(),
            outcome_unknown = o.outcome_unknown or due.previous_state = 'sending'
       from due where o.id = due.id
     returning o.id, o.account_id, o.channel_id, o.conversation_id, o.message_id, o.to_address, o.body, o.attempts, o.outcome_unknown, o.created_at,
               due.previous_attempt_at`,
    [limit, leaseMs],
  );
  return rows.map((r) => ({
    id: r.id, accountId: r.account_id, channelId: r.channel_id, conversationId: r.conversation_id, messageId: r.message_id, toAddress: r.to_address,
    body: r.body, attempts: r.attempts, outcomeUnknown: r.outcome_unknown, createdAt: rowDate(r.created_at), lastAttemptAt: r.previous_attempt_at === null ? null : rowDate(r.previous_attempt_at),
  }));
}

/** What an attempt ended with, as written to its row. */
export type AttemptRecord =
  | { state: 'accepted'; provider: string; providerMessageId: string; fromAddress: string; deliveryStatus: string }
  | { state: 'queued'; nextAttemptAt: Date; outcomeUnknown: boolean; errorCode: string | null; errorMessage: string }
  | { state: 'failed'; provider: string | null; errorCode: string; errorMessage: string };

/**
 * Writes an attempt's outcome if the row is still this attempt's (state `sending`, same attempt number); false when
 * another worker took it over after the lease ran out (then its outcome is that worker's to record).
 */
export async function recordAttempt(em: EntityManager, claim: Pick<ClaimedReply, 'id' | 'attempts'>, r: AttemptRecord): Promise<boolean> {
  const set = r.state === 'accepted'
    ? { state: 'accepted', provider: r.provider, provider_message_id: r.providerMessageId, from_address: r.fromAddress, delivery_status: r.deliveryStatus, next_attempt_at: null, outcome_unknown: false, error_code: null, error_message: null }
    : r.state === 'queued'
      ? { state: 'queued', provider: null, provider_message_id: null, from_address: null, delivery_status: null, next_attempt_at: r.nextAttemptAt.toISOString(), outcome_unknown: r.outcomeUnknown, error_code: r.errorCode, error_message: r.errorMessage }
      : { state: 'failed', provider: r.provider, provider_message_id: null, from_address: null, delivery_status: 'failed', next_attempt_at: null, outcome_unknown: false, error_code: r.errorCode, error_message: r.errorMessage };
  const rows = await query<{ id: string }>(em,
    `update ${S}.outbound_messages o
        set state = s.state, provider = coalesce(s.provider, o.provider), provider_message_id = coalesce(s.provider_message_id, o.provider_message_id),
            from_address = coalesce(s.from_address, o.from_address), delivery_status = coalesce(s.delivery_status, o.delivery_status),
            next_attempt_at = coalesce(s.next_attempt_at, o.next_attempt_at), outcome_unknown = s.outcome_unknown, locked_until = null,
            error_code = s.error_code, error_message = s.error_message
       from json_to_record(?::json) as s(state text, provider text, provider_message_id text, from_address text, delivery_status text,
                                         next_attempt_at timestamptz, outcome_unknown boolean, error_code text, error_message text)
      where o.id = ? and o.state = 'sending' and o.attempts = ?
     returning o.id`,
    [JSON.stringify(set), claim.id, claim.attempts],
  );
  return rows.length === 1;
}

/** A stored receipt, with the reply it belongs to once known. */
export interface StoredReceipt {
  id: string;
  providerMessageId: string;
  status: string;
  providerStatus: string;
  errorCode: string | null;
  receivedAt: Date;
}

/** Stores receipts, dropping the provider's duplicates (per account); returns the new ones. One statement. */
export async function insertReceipts(em: EntityManager, channel: { accountId: string; channelId: string }, provider: string, receipts: readonly ReceiptInput[]): Promise<StoredReceipt[]> {
  if (receipts.length === 0) return [];
  const rows = await query<{ id: string; provider_message_id: string; status: string; provider_status: string; error_code: string | null; received_at: Date | string }>(em,
    `insert into ${S}.delivery_receipts (account_id, channel_id, provider, provider_message_id, status, provider_status, error_code, raw)
     select ?, ?, ?, r.provider_message_id, r.status, r.provider_status, r.error_code, r.raw
       from json_to_recordset(?::json) as r(provider_message_id text, status text, provider_status text, error_code text, raw jsonb)
     on conflict (account_id, provider, provider_message_id, provider_status) do nothing
     returning id, provider_message_id, status, provider_status, error_code, received_at`,
    [channel.accountId, channel.channelId, provider, JSON.stringify(receipts.map((r) => ({
      provider_message_id: r.providerMessageId, status: r.status, provider_status: r.providerStatus, error_code: r.errorCode ?? null, raw: r.raw,
    })))],
  );
  return rows.map(toReceipt);
}

const toReceipt = (r: { id: string; provider_message_id: string; status: string; provider_status: string; error_code: string | null; received_at: Date | string }): StoredReceipt => ({
  id: r.id, providerMessageId: r.provider_message_id, status: r.status, providerStatus: r.provider_status, errorCode: r.error_code, receivedAt: rowDate(r.received_at),
});

/** The replies these provider messages are (accepted ones of the account), by provider message id. One statement. */
export async function repliesByProviderId(em: EntityManager, accountId: string, provider: string, providerMessageIds: readonly string[]): Promise<Map<string, { channelId: string; conversationId: string; messageId: string }>> {
  if (providerMessageIds.length === 0) return new Map();
  const rows = await query<{ provider_message_id: string; channel_id: string; conversation_id: string; message_id: string }>(em,
    `select provider_message_id, channel_id, conversation_id, message_id from ${S}.outbound_messages
      where account_id = ? and provider = ? and provider_message_id in (select jsonb_array_elements_text(?::jsonb))`,
    [accountId, provider, JSON.stringify(providerMessageIds)],
  );
  return new Map(rows.map((r) => [r.provider_message_id, { channelId: r.channel_id, conversationId: r.conversation_id, messageId: r.message_id }]));
}

/** Marks receipts applied (their delivery update is emitted in the same transaction). One statement. */
export async function markReceiptsApplied(em: EntityManager, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await query(em, `update ${S}.delivery_receipts set applied = true where id in (select (jsonb_array_elements_text(?::jsonb))::uuid)`, [JSON.stringify(ids)]);
}

/** The receipts that came before the send's answer was recorded: marked applied and returned, oldest first. */
export async function takeWaitingReceipts(em: EntityManager, accountId: string, provider: string, providerMessageId: string): Promise<StoredReceipt[]> {
  const rows = await query<{ id: string; provider_message_id: string; status: string; provider_status: string; error_code: string | null; received_at: Date | string }>(em,
    `update ${S}.delivery_receipts set applied = true
      where account_id = ? and provider = ? and provider_message_id = ? and not applied
     returning id, provider_message_id, status, provider_status, error_code, received_at`,
    [accountId, provider, providerMessageId],
  );
  return rows.map(toReceipt).sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

/** The latest provider status of each reply (delivery_status), as receipts arrive. One statement. */
export async function updateDeliveryStatuses(em: EntityManager, accountId: string, provider: string, statuses: ReadonlyMap<string, string>): Promise<void> {
  if (statuses.size === 0) return;
  await query(em,
    `update ${S}.outbound_messages o set delivery_status = s.status
       from json_to_recordset(?::json) as s(provider_message_id text, status text)
      where o.account_id = ? and o.provider = ? and o.provider_message_id = s.provider_message_id`,
    [JSON.stringify([...statuses].map(([id, status]) => ({ provider_message_id: id, status }))), accountId, provider],
  );
}
