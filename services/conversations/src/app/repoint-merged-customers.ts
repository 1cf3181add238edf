import { lockAllForTransaction, query, type EntityManager } from '@domiq/db';
import { customerLockKey } from './receive-inbound-messages.ts';

const S = '"conversations"';

export interface CustomerMergeRef {
  accountId: string;
  mergeId: string;
  sourceCustomerId: string;
  targetCustomerId: string;
}

/** Both customers' thread locks (the ones inbound threading takes), sorted, so a message threaded meanwhile waits. */
async function lockBoth(em: EntityManager, m: CustomerMergeRef): Promise<void> {
  await lockAllForTransaction(em, [m.sourceCustomerId, m.targetCustomerId].map((customerId) => customerLockKey({ accountId: m.accountId, customerId })));
}

/**
 * identity.customer.merged: every conversation (and lead) of the source customer now belongs to the target, and what
 * moved is recorded (customer_repoints) so the unmerge can move exactly that back. A merge already applied, or one
 * whose unmerge came first, moves nothing. Returns how many conversations moved.
 */
export async function applyCustomerMerge(em: EntityManager, m: CustomerMergeRef): Promise<number> {
  await lockBoth(em, m);
  const marker = await query<{ id: string }>(em,
    `insert into ${S}.customer_repoints (account_id, merge_id, conversation_id, from_customer_id, to_customer_id)
     values (?, ?, null, ?, ?) on conflict (merge_id) where conversation_id is null do nothing returning id`,
    [m.accountId, m.mergeId, m.sourceCustomerId, m.targetCustomerId]);
  if (marker.length === 0) return 0;
  const moved = await query<{ conversation_id: string }>(em,
    `with moved as (
       update ${S}.conversations set customer_id = ? where account_id = ? and customer_id = ? returning id)
     insert into ${S}.customer_repoints (account_id, merge_id, conversation_id, from_customer_id, to_customer_id)
     select ?, ?, moved.id, ?, ? from moved
     returning conversation_id`,
    [m.targetCustomerId, m.accountId, m.sourceCustomerId, m.accountId, m.mergeId, m.sourceCustomerId, m.targetCustomerId]);
  await query(em, `update ${S}.leads set customer_id = ? where account_id = ? and customer_id = ?`, [m.targetCustomerId, m.accountId, m.sourceCustomerId]);
  return moved.length;
}

/**
 * identity.customer.unmerged: the conversations that merge moved go back to the source customer (those still with the
 * target), their leads too. Coming before its merge, it leaves the merge marked undone, so the merge moves nothing
 * later. Returns how many conversations moved back.
 */
export async function undoCustomerMerge(em: EntityManager, m: CustomerMergeRef): Promise<number> {
  await lockBoth(em, m);
  await query(em,
    `insert into ${S}.customer_repoints (account_id, merge_id, conversation_id, from_customer_id, to_customer_id, undone_at)
     values (?, ?, null, ?, ?, now()) on conflict (merge_id) where conversation_id is null do nothing`,
    [m.accountId, m.mergeId, m.sourceCustomerId, m.targetCustomerId]);
  const back = await query<{ id: string }>(em,
    `update ${S}.conversations c set customer_id = r.from_customer_id
       from ${S}.customer_repoints r
      where r.merge_id = ? and r.account_id = ? and r.conversation_id = c.id and r.undone_at is null and c.customer_id = r.to_customer_id
     returning c.id`,
    [m.mergeId, m.accountId]);
  await query(em,
    `update ${S}.leads l set customer_id = c.customer_id from ${S}.conversations c
      where c.id = l.conversation_id and l.account_id = ? and c.account_id = ? and c.id in (select (jsonb_array_elements_text(?::jsonb))::uuid)`,
    [m.accountId, m.accountId, JSON.stringify(back.map((b) => b.id))]);
  await query(em, `update ${S}.customer_repoints set undone_at = now() where merge_id = ? and account_id = ? and undone_at is null`, [m.mergeId, m.accountId]);
  return back.length;
}
