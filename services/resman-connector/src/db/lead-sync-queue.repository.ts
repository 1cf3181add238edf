// lead_sync_queue (resman-lead-sync.md), the connector's durable work queue of ResMan pushes: one 'push' row per
// DomIQ message to log on a guest card (UNIQUE message_id). Rows go pending -> processing -> completed, or back to
// pending with a later next_retry_at, or failed / cancelled with error_message. A push carries one customer's rows
// at one property; a group is due when all its pending rows are. None of these opens a transaction.
import { pgTextArray, query, type EntityManager } from '@domiq/db';

const S = '"resman_connector"';

/** What the worker needs of a queued message besides its communication row (lead_sync_queue.sync_data). */
export interface QueuedPushData {
  messageId: string;
  channel: string;
  eventType: string;
  /** When the customer sent it (ISO): a customer's messages are pushed in this order. */
  sentAt: string;
  /** The consumed event (conversations.message.created) the push was queued for: the causation of resman.lead.synced. */
  eventId: string;
  /** Its communication row was there before it was queued: an earlier push may already have sent it. */
  seenBefore: boolean;
}

export interface QueuedPush {
  accountId: string;
  propertyId: string;
  customerId: string;
  conversationId: string | null;
  priority: number;
  maxRetries: number;
  data: QueuedPushData;
}

/**
 * One multi-row insert: a pending row per message whose communication row is this account's and not yet logged, due
 * now, unless the message has a row already (a redelivered or republished event enqueues nothing). Returns the
 * message ids queued.
 */
export async function enqueuePushes(em: EntityManager, pushes: readonly QueuedPush[]): Promise<string[]> {
  if (pushes.length === 0) return [];
  const rows = await query<{ message_id: string }>(em,
    `insert into ${S}.lead_sync_queue
       (account_id, property_id, customer_id, conversation_id, message_id, sync_operation, sync_data, priority, retry_count, max_retries, next_retry_at, status)
     select r.account_id, r.property_id, r.customer_id, r.conversation_id, r.message_id, 'push', r.sync_data, r.priority, 0, r.max_retries, now(), 'pending'
       from json_to_recordset(?::json) as r(account_id uuid, property_id uuid, customer_id uuid, conversation_id uuid, message_id text,
                                            sync_data jsonb, priority int, max_retries int)
       cross join lateral (
         select 1 from ${S}.communication_log_sync c
          where c.message_id = r.message_id and c.account_id = r.account_id and c.sync_status is distinct from 'success' limit 1) c
     on conflict (message_id) do nothing
     returning message_id`,
    [JSON.stringify(pushes.map((p) => ({
      account_id: p.accountId, property_id: p.propertyId, customer_id: p.customerId, conversation_id: p.conversationId, message_id: p.data.messageId,
      sync_data: p.data, priority: p.priority, max_retries: p.maxRetries,
    })))],
  );
  return rows.map((r) => r.message_id);
}

/** NOTIFY channel the consumer signals on when its transaction enqueued rows (delivered at commit). */
export const LEAD_SYNC_QUEUE_CHANNEL = 'domiq_resman_lead_sync_queue';

export async function notifyQueued(em: EntityManager): Promise<void> {
  await query(em, `select pg_notify(?, '')`, [LEAD_SYNC_QUEUE_CHANNEL]);
}

/** One customer's due work at one property, and the ResMan account it goes to (null: the integration is gone). */
export interface DueGroup {
  accountId: string;
  propertyId: string;
  customerId: string;
  baseUrl: string | null;
  resmanAccountId: number | null;
  priority: number;
  firstAt: Date;
}

/**
 * A 'processing' row's lease: its worker renews locked_at while it pushes (renewLease). One older than the lease is a
 * dead worker's, and old enough that any request that worker still had in flight at ResMan has been answered (the lease
 * is longer than a ResMan request may take), so a retry's marker check sees what it did.
 */
const LEASE_EXPIRED = `coalesce(q.locked_at, '-infinity') < now() - (?::bigint * interval '1 millisecond')`;

/**
 * Due groups, at most `perAccount` per ResMan account (a push round's worth), highest priority then oldest first;
 * accounts in `busy` (the `resmanAccountKey` of accounts this worker cannot take now) left out. A group is due when
 * every pending row of it is (a row in backoff holds back the customer's later messages, which keeps their order), or
 * when it has rows left 'processing' whose lease expired (their worker is gone); never while one of its rows has a
 * live lease.
 *
 * A look costs what the front of the queue costs, not the backlog: the candidates are, per DomIQ account (a skip scan
 * over idx_lead_sync_queue_due, so one account's backlog cannot starve another's), its oldest due pending rows (twice
 * `perAccount`, at least 10), plus the expired 'processing' rows (idx_lead_sync_queue_processing); only the
 * candidates' groups are then read whole (idx_lead_sync_queue_active).
 */
export async function findDueGroups(em: EntityManager, busy: readonly string[], limit: number, leaseMs: number, perAccount = 1): Promise<DueGroup[]> {
  const window = Math.max(10, 2 * perAccount);
  const rows = await query<{ account_id: string; property_id: string; customer_id: string; base_url: string | null; resman_account_id: string | number | null; priority: number; first_at: Date }>(em,
    `with recursive accounts as (
       (select q.account_id from ${S}.lead_sync_queue q
         where q.status = 'pending' and q.message_id is not null order by q.account_id limit 1)
       union all
       select (select q.account_id from ${S}.lead_sync_queue q
                where q.status = 'pending' and q.message_id is not null and q.account_id > a.account_id order by q.account_id limit 1)
         from accounts a where a.account_id is not null
     ), candidates as (
       select f.account_id, f.property_id, f.customer_id
         from accounts a
         cross join lateral (
           select q.account_id, q.property_id, q.customer_id from ${S}.lead_sync_queue q
            where q.account_id = a.account_id and q.status = 'pending' and q.message_id is not null and q.next_retry_at <= now()
            order by q.priority desc, q.created_at limit ${window}) f
        where a.account_id is not null
       union
       select q.account_id, q.property_id, q.customer_id from ${S}.lead_sync_queue q
        where q.status = 'processing' and q.message_id is not null and ${LEASE_EXPIRED}
     ), due as (
       select c.account_id, c.property_id, c.customer_id, g.priority, g.first_at
         from candidates c
         cross join lateral (
           select max(q.priority) as priority, min(q.created_at) as first_at,
                  bool_and(q.status <> 'processing' or ${LEASE_EXPIRED}) as unleased,
                  bool_or(q.status = 'processing') as abandoned,
                  max(q.next_retry_at) filter (where q.status = 'pending') as due_at
             from ${S}.lead_sync_queue q
            where q.account_id = c.account_id and q.property_id = c.property_id and q.customer_id = c.customer_id
              and q.status in ('pending', 'processing') and q.message_id is not null) g
        where g.unleased and (g.abandoned or g.due_at <= now())
     ), keyed as (
       select d.*, i.base_url, i.resman_account_id,
              coalesce(i.base_url || '|' || i.resman_account_id::text, 'none|' || d.account_id::text || '|' || d.property_id::text) as resman_key
         from due d
         left join ${S}.resman_integration i on i.account_id = d.account_id and i.property_id = d.property_id
     ), ranked as (
       select k.*, row_number() over (partition by resman_key order by priority desc, first_at) as n from keyed k
        where resman_key <> all(?::text[])
     )
     select * from ranked
      where n <= ?
      order by priority desc, first_at
      limit ?`,
    [leaseMs, leaseMs, pgTextArray(busy), perAccount, limit],
  );
  return rows.map((r) => ({
    accountId: r.account_id, propertyId: r.property_id, customerId: r.customer_id, baseUrl: r.base_url,
    resmanAccountId: r.resman_account_id === null ? null : Number(r.resman_account_id), priority: r.priority, firstAt: new Date(r.first_at),
  }));
}

export interface ClaimedRow {
  id: string;
  accountId: string;
  propertyId: string;
  customerId: string;
  messageId: string;
  conversationId: string | null;
  retryCount: number;
  maxRetries: number;
  data: QueuedPushData;
  createdAt: Date;
  /** It was 'processing' (its worker stopped before recording what it did); the claim counted that as an attempt. */
  wasProcessing: boolean;
}

/** One customer at one property: the unit of a push. */
export interface GroupKey {
  accountId: string;
  propertyId: string;
  customerId: string;
}

/** A customer's messages in the order they sent them (rows of one batch share created_at). */
const MESSAGE_ORDER = `coalesce((q.sync_data->>'sentAt')::timestamptz, q.created_at), q.created_at, q.id`;

/**
 * Claims, for each group, up to `limit` of its rows in the order the customer sent them, for `worker`, in one
 * statement: due pending rows, and rows left 'processing' whose lease expired (call it holding the groups' ResMan
 * account lock, under which no live worker can be working on them). FOR UPDATE SKIP LOCKED: a row another transaction
 * is writing is left for later. Rows come back group by group, each group's in the customer's order.
 */
export async function claimGroups(em: EntityManager, groups: readonly GroupKey[], worker: string, limit: number, leaseMs: number): Promise<ClaimedRow[]> {
  if (groups.length === 0) return [];
  const rows = await query<{
    id: string; account_id: string; property_id: string; customer_id: string; message_id: string; conversation_id: string | null;
    retry_count: number; max_retries: number; sync_data: QueuedPushData; created_at: Date; was: string;
  }>(em,
    `with g as (
       select * from unnest(?::uuid[], ?::uuid[], ?::uuid[]) as g(account_id, property_id, customer_id)
     ), c as (
       select r.id, r.was from g
        cross join lateral (
          select q.id, q.status as was from ${S}.lead_sync_queue q
           where q.account_id = g.account_id and q.property_id = g.property_id and q.customer_id = g.customer_id and q.message_id is not null
             and ((q.status = 'processing' and ${LEASE_EXPIRED}) or (q.status = 'pending' and q.next_retry_at <= now()))
           order by ${MESSAGE_ORDER}
           limit ?
           for update of q skip locked
        ) r
     )
     update ${S}.lead_sync_queue q
        set status = 'processing', locked_at = now(), locked_by = ?,
            retry_count = case when c.was = 'processing' then least(q.retry_count + 1, q.max_retries) else q.retry_count end
       from c
      where q.id = c.id
     returning q.id, q.account_id, q.property_id, q.customer_id, q.message_id, q.conversation_id, q.retry_count, q.max_retries, q.sync_data, q.created_at, c.was`,
    [...[groups.map((g) => g.accountId), groups.map((g) => g.propertyId), groups.map((g) => g.customerId)].map(pgTextArray), leaseMs, limit, worker],
  );
  const order = new Map(groups.map((g, n) => [groupKeyOf(g), n]));
  return rows
    .map((r) => ({
      id: r.id, accountId: r.account_id, propertyId: r.property_id, customerId: r.customer_id, messageId: r.message_id, conversationId: r.conversation_id,
      retryCount: r.retry_count, maxRetries: r.max_retries,
      data: typeof r.sync_data === 'string' ? (JSON.parse(r.sync_data) as QueuedPushData) : r.sync_data, createdAt: new Date(r.created_at), wasProcessing: r.was === 'processing',
    }))
    .sort((a, b) => order.get(groupKeyOf(a))! - order.get(groupKeyOf(b))! || sentAt(a) - sentAt(b) || a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
}

export const groupKeyOf = (g: GroupKey): string => `${g.accountId}|${g.propertyId}|${g.customerId}`;

function sentAt(r: { data: QueuedPushData; createdAt: Date }): number {
  const at = Date.parse(r.data.sentAt ?? '');
  return Number.isNaN(at) ? r.createdAt.getTime() : at;
}

/** Renews the lease of rows this worker is pushing (a push that takes longer than a third of the lease). */
export async function renewLease(em: EntityManager, ids: readonly string[], worker: string): Promise<void> {
  await query(em,
    `update ${S}.lead_sync_queue set locked_at = now()
      where id = any(?::uuid[]) and status = 'processing' and locked_by = ?`,
    [pgTextArray(ids), worker],
  );
}

/**
 * The claimed rows done, each with the prospect it was logged on: 'completed' (locked_by / locked_at stay: which worker
 * did it, and when it took the rows). Returns how many were still this worker's (fewer: another took them over).
 */
export async function completeRows(em: EntityManager, done: ReadonlyArray<{ id: string; prospectId: string }>, worker: string): Promise<number> {
  if (done.length === 0) return 0;
  const rows = await query<{ id: string }>(em,
    `update ${S}.lead_sync_queue q
        set status = 'completed', processed_at = now(), resman_lead_id = r.prospect_id, error_message = null
       from unnest(?::uuid[], ?::text[]) as r(id, prospect_id)
      where q.id = r.id and q.status = 'processing' and q.locked_by = ?
      returning q.id`,
    [pgTextArray(done.map((d) => d.id)), pgTextArray(done.map((d) => d.prospectId)), worker],
  );
  return rows.length;
}

export interface RowOutcome {
  id: string;
  status: 'pending' | 'failed' | 'cancelled';
  retryCount: number;
  nextRetryAt: Date | null;
  errorMessage: string;
}

/**
 * The claimed rows after a failed (or cancelled) attempt, each with its own outcome; a row pending again is nobody's,
 * a finished one keeps the worker that finished it. Returns how many were still this worker's.
 */
export async function settleRows(em: EntityManager, outcomes: readonly RowOutcome[], worker: string): Promise<number> {
  if (outcomes.length === 0) return 0;
  const rows = await query<{ id: string }>(em,
    `update ${S}.lead_sync_queue q
        set status = r.status, retry_count = r.retry_count, next_retry_at = coalesce(r.next_retry_at, q.next_retry_at), error_message = r.error_message,
            processed_at = case when r.status = 'pending' then null else now() end,
            locked_at = case when r.status = 'pending' then null else q.locked_at end,
            locked_by = case when r.status = 'pending' then null else q.locked_by end
       from json_to_recordset(?::json) as r(id uuid, status text, retry_count int, next_retry_at timestamptz, error_message text)
      where q.id = r.id and q.status = 'processing' and q.locked_by = ?
      returning q.id`,
    [JSON.stringify(outcomes.map((o) => ({ id: o.id, status: o.status, retry_count: o.retryCount, next_retry_at: o.nextRetryAt?.toISOString() ?? null, error_message: o.errorMessage }))), worker],
  );
  return rows.length;
}
