// merge_suggestions in plain SQL: recorded from resolution's transaction (one statement, duplicates of an open pair
// dropped by its partial unique index), listed and decided by the gRPC use cases.
import { pgTextArray, query, rowDate, type EntityManager } from '@domiq/db';
import type { SuggestionStatus } from '../domain/customer-merge.ts';

const S = '"identity"';

export interface MergeSuggestionRecord {
  id: string;
  accountId: string;
  customerAId: string;
  customerBId: string;
  reason: string;
  identifierIds: string[];
  status: SuggestionStatus;
  mergeId: string | null;
  decidedAt: Date | null;
  decidedBy: string | null;
  createdAt: Date;
}

interface SuggestionSqlRow {
  id: string;
  account_id: string;
  customer_a_id: string;
  customer_b_id: string;
  reason: string;
  identifier_ids: string[];
  status: SuggestionStatus;
  merge_id: string | null;
  decided_at: Date | string | null;
  decided_by: string | null;
  created_at: Date | string;
}

const COLUMNS = 's.id, s.account_id, s.customer_a_id, s.customer_b_id, s.reason, s.identifier_ids::text[] as identifier_ids, s.status, s.merge_id, s.decided_at, s.decided_by, s.created_at';
/** The same unordered pair as suggestion `s`. */
const SAME_PAIR = (a: string, b: string) => `least(s.customer_a_id, s.customer_b_id) = least(${a}, ${b}) and greatest(s.customer_a_id, s.customer_b_id) = greatest(${a}, ${b})`;

function toRecord(r: SuggestionSqlRow): MergeSuggestionRecord {
  return {
    id: r.id, accountId: r.account_id, customerAId: r.customer_a_id, customerBId: r.customer_b_id, reason: r.reason, identifierIds: r.identifier_ids, status: r.status,
    mergeId: r.merge_id, decidedAt: rowDate(r.decided_at), decidedBy: r.decided_by, createdAt: rowDate(r.created_at),
  };
}

export interface NewMergeSuggestion {
  customerAId: string;
  customerBId: string;
  reason: string;
  identifierIds: string[];
}

/**
 * Records suggestions in one statement and answers those recorded: a pair with an open suggestion already (whichever
 * way round) or a dismissed one is left out.
 */
export async function recordMergeSuggestions(em: EntityManager, accountId: string, suggestions: readonly NewMergeSuggestion[]): Promise<MergeSuggestionRecord[]> {
  if (suggestions.length === 0) return [];
  const rows = await query<SuggestionSqlRow>(em,
    `insert into ${S}.merge_suggestions as s (account_id, customer_a_id, customer_b_id, reason, identifier_ids)
     select ?, r.a, r.b, r.reason, r.ids from json_to_recordset(?::json) as r(a uuid, b uuid, reason text, ids uuid[])
      where not exists (select 1 from ${S}.merge_suggestions s where s.account_id = ? and s.status = 'dismissed' and ${SAME_PAIR('r.a', 'r.b')})
     on conflict do nothing
     returning ${COLUMNS}`,
    [accountId, JSON.stringify(suggestions.map((s) => ({ a: s.customerAId, b: s.customerBId, reason: s.reason, ids: s.identifierIds }))), accountId],
  );
  return rows.map(toRecord);
}

/** One suggestion of the account, row-locked until the transaction ends; null when it has none of this id. */
export async function lockMergeSuggestion(em: EntityManager, accountId: string, id: string): Promise<MergeSuggestionRecord | null> {
  const [row] = await query<SuggestionSqlRow>(em, `select ${COLUMNS} from ${S}.merge_suggestions s where s.account_id = ? and s.id = ? for update`, [accountId, id]);
  return row ? toRecord(row) : null;
}

/** Decides suggestions (by id): accepted by a merge, or dismissed. Answers them as they are now. */
export async function decideMergeSuggestions(em: EntityManager, accountId: string, ids: readonly string[], decision: { status: 'accepted' | 'dismissed'; by: string; at: Date; mergeId: string | null }): Promise<MergeSuggestionRecord[]> {
  if (ids.length === 0) return [];
  const rows = await query<SuggestionSqlRow>(em,
    `update ${S}.merge_suggestions s set status = ?, decided_by = ?, decided_at = ?, merge_id = coalesce(?::uuid, s.merge_id)
      where s.account_id = ? and s.id = any(?::uuid[]) returning ${COLUMNS}`,
    [decision.status, decision.by, decision.at, decision.mergeId, accountId, pgTextArray(ids)],
  );
  return rows.map(toRecord);
}

/** The open suggestions of a pair (whichever way round). */
export async function openSuggestionsOfPair(em: EntityManager, accountId: string, a: string, b: string): Promise<MergeSuggestionRecord[]> {
  const rows = await query<SuggestionSqlRow>(em,
    `select ${COLUMNS} from ${S}.merge_suggestions s where s.account_id = ? and s.status = 'open' and ${SAME_PAIR('?::uuid', '?::uuid')}`, [accountId, a, b, a, b]);
  return rows.map(toRecord);
}

/** The suggestions a merge accepted. */
export async function suggestionsAcceptedBy(em: EntityManager, accountId: string, mergeId: string): Promise<MergeSuggestionRecord[]> {
  const rows = await query<SuggestionSqlRow>(em, `select ${COLUMNS} from ${S}.merge_suggestions s where s.account_id = ? and s.merge_id = ? and s.status = 'accepted'`, [accountId, mergeId]);
  return rows.map(toRecord);
}

/** Deletes every suggestion naming one of these customers (an erasure); answers how many went. */
export async function deleteSuggestionsOf(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<number> {
  if (customerIds.length === 0) return 0;
  const [row] = await query<{ n: number }>(em,
    `with gone as (delete from ${S}.merge_suggestions where account_id = ? and (customer_a_id = any(?::uuid[]) or customer_b_id = any(?::uuid[])) returning 1)
     select count(*)::int as n from gone`,
    [accountId, pgTextArray(customerIds), pgTextArray(customerIds)],
  );
  return row!.n;
}

/**
 * The account's suggestions of one status, newest first (of one customer when customerId is given). Open ones
 * naming a customer merged or erased since are left out: that customer cannot be merged now (an unmerge brings them
 * back).
 */
export async function listMergeSuggestions(em: EntityManager, accountId: string, filter: { status: SuggestionStatus; customerId: string | null; limit: number }): Promise<MergeSuggestionRecord[]> {
  const rows = await query<SuggestionSqlRow>(em,
    `select ${COLUMNS} from ${S}.merge_suggestions s
      where s.account_id = ? and s.status = ?
        and (?::uuid is null or s.customer_a_id = ?::uuid or s.customer_b_id = ?::uuid)
        and (s.status <> 'open' or not exists (
              select 1 from ${S}.customers c where c.account_id = s.account_id and c.id in (s.customer_a_id, s.customer_b_id)
                 and (c.status = 'merged' or c.erased_at is not null)))
      order by s.created_at desc, s.id desc
      limit ?`,
    [accountId, filter.status, filter.customerId, filter.customerId, filter.customerId, filter.limit],
  );
  return rows.map(toRecord);
}
