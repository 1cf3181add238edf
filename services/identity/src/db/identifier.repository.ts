// The one writer of customer_identifiers and of customers.identity_graph: every change to a customer's identifier rows
// rebuilds that customer's graph from its rows (graphOf) in the same statement or the next one, in the caller's
// transaction, so the JSON the seed's GIN indexes and readers use always says what the rows say.
import { pgTextArray, query, rowDate, type EntityManager } from '@domiq/db';
import type { IdentifierKind } from '../domain/identifier.ts';
import { RETURNED, toRecord, type CustomerRecord, type CustomerSqlRow } from './customer-row.ts';

const S = '"identity"';

/** One identifier row as read. */
export interface IdentifierRecord {
  id: string;
  customerId: string;
  kind: IdentifierKind;
  network: string;
  value: string;
  isVerified: boolean;
  isPrimary: boolean;
  createdAt: Date;
}

interface IdentifierSqlRow {
  id: string;
  customer_id: string;
  kind: IdentifierKind;
  network: string;
  value: string;
  is_verified: boolean;
  is_primary: boolean;
  created_at: Date | string;
}

export function toIdentifierRecord(r: IdentifierSqlRow): IdentifierRecord {
  return {
    id: r.id, customerId: r.customer_id, kind: r.kind, network: r.network, value: r.value, isVerified: r.is_verified, isPrimary: r.is_primary,
    createdAt: rowDate(r.created_at),
  };
}

const IDENTIFIER_COLUMNS = 'ci.id, ci.customer_id, ci.kind, ci.network, ci.value, ci.is_verified, ci.is_primary, ci.created_at';
/** The order identifiers are listed in, in the graph and in answers: primary first, then oldest. */
const ORDER = (t: string) => `${t}.is_primary desc, ${t}.created_at, ${t}.value`;

/**
 * The identity graph of customer `c` built from `rows`, a relation of its identifier rows (kind, network, value,
 * is_primary, created_at): the one definition of what the JSON holds.
 */
function graphOf(rows: string): string {
  const list = (kind: IdentifierKind) => `coalesce((select jsonb_agg(g.value order by ${ORDER('g')}) from ${rows} g where g.kind = '${kind}'), '[]'::jsonb)`;
  return `jsonb_build_object(
    'emails', ${list('email')},
    'phone_numbers', ${list('phone')},
    'social_ids', coalesce((select jsonb_object_agg(n.network, n.ids) from (
        select g.network, jsonb_agg(g.value order by ${ORDER('g')}) as ids from ${rows} g where g.kind = 'social' group by g.network) n), '{}'::jsonb),
    'device_fingerprints', ${list('device')})`;
}

const ROWS_OF_C = `(select ci.kind, ci.network, ci.value, ci.is_primary, ci.created_at from ${S}.customer_identifiers ci where ci.customer_id = c.id)`;

/** The graph of customer row `c` as its identifier rows say it (for checks: `identity_graph = <this>`). */
export const IDENTITY_GRAPH_OF_ROWS = graphOf(ROWS_OF_C);

/** An identifier to add to a customer. */
export interface NewIdentifier {
  customerId: string;
  kind: IdentifierKind;
  network: string;
  /** Normalised (normaliseIdentifier). */
  value: string;
  isVerified: boolean;
}

/**
 * Adds identifiers to customers of the account and rebuilds those customers' graphs, in one statement; answers the
 * customers as they are now. Each becomes its customer's primary of its kind and network when the customer has none
 * (the first of them in input order). The caller holds the identifiers' advisory locks (identifierLockKey).
 */
export async function addIdentifiers(em: EntityManager, accountId: string, rows: readonly NewIdentifier[]): Promise<CustomerRecord[]> {
  if (rows.length === 0) return [];
  const updated = await query<CustomerSqlRow>(em,
    `with r as (
       select * from json_to_recordset(?::json) as r(customer_id uuid, kind text, network text, value text, is_verified boolean, ord int)),
     ins as (
       insert into ${S}.customer_identifiers (account_id, customer_id, kind, network, value, is_verified, is_primary)
       select ?, r.customer_id, r.kind, r.network, r.value, r.is_verified,
              row_number() over (partition by r.customer_id, r.kind, r.network order by r.ord) = 1
              and not exists (select 1 from ${S}.customer_identifiers p
                               where p.customer_id = r.customer_id and p.kind = r.kind and p.network = r.network and p.is_primary)
         from r
       returning customer_id, kind, network, value, is_primary, created_at)
     update ${S}.customers c
        set identity_graph = ${graphOf(`(select ci.kind, ci.network, ci.value, ci.is_primary, ci.created_at from ${S}.customer_identifiers ci where ci.customer_id = c.id
                                        union all select ins.kind, ins.network, ins.value, ins.is_primary, ins.created_at from ins where ins.customer_id = c.id)`)}
      where c.account_id = ? and c.id in (select customer_id from ins)
     returning ${RETURNED}`,
    [JSON.stringify(rows.map((r, ord) => ({ customer_id: r.customerId, kind: r.kind, network: r.network, value: r.value, is_verified: r.isVerified, ord }))), accountId, accountId],
  );
  return updated.map(toRecord);
}

/**
 * Moves identifiers of the account to `toCustomerId`, setting the primary flag of those named in `primary` (a merge
 * takes it from identifiers whose kind the target has a primary of; an unmerge gives it back), then gives each
 * customer involved that has identifiers of a kind but no primary one its oldest, and rebuilds their graphs.
 * Returns the ids moved (those of the account, among `ids`).
 */
export async function moveIdentifiers(em: EntityManager, accountId: string, move: { ids: readonly string[]; toCustomerId: string; fromCustomerIds: readonly string[]; primary: ReadonlyMap<string, boolean> }): Promise<string[]> {
  if (move.ids.length === 0) return [];
  const primaryIds = [...move.primary.keys()];
  const moved = await query<{ id: string }>(em,
    `update ${S}.customer_identifiers ci
        set customer_id = ?,
            is_primary = coalesce(f.is_primary, ci.is_primary)
       from (select m.id, p.is_primary from unnest(?::uuid[]) as m(id)
               left join unnest(?::uuid[], ?::boolean[]) as p(id, is_primary) on p.id = m.id) f
      where ci.id = f.id and ci.account_id = ?
     returning ci.id`,
    [move.toCustomerId, pgTextArray(move.ids), pgTextArray(primaryIds), `{${primaryIds.map((id) => String(move.primary.get(id))).join(',')}}`, accountId],
  );
  await settleCustomers(em, accountId, [move.toCustomerId, ...move.fromCustomerIds]);
  return moved.map((r) => r.id);
}

/** Deletes every identifier of these customers (an erasure) and empties their graphs; answers how many went. */
export async function deleteIdentifiersOf(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<number> {
  if (customerIds.length === 0) return 0;
  const [row] = await query<{ n: number }>(em,
    `with gone as (delete from ${S}.customer_identifiers where account_id = ? and customer_id = any(?::uuid[]) returning 1) select count(*)::int as n from gone`,
    [accountId, pgTextArray(customerIds)],
  );
  await settleCustomers(em, accountId, customerIds);
  return row!.n;
}

/** Marks identifiers verified (the graph does not carry the flag: nothing else to rebuild). */
export async function markVerified(em: EntityManager, accountId: string, identifierIds: readonly string[]): Promise<void> {
  if (identifierIds.length === 0) return;
  await query(em, `update ${S}.customer_identifiers set is_verified = true where account_id = ? and id = any(?::uuid[]) and not is_verified`, [accountId, pgTextArray(identifierIds)]);
}

/** A primary per kind and network wherever a customer has identifiers of it, then the graphs rebuilt from the rows. */
async function settleCustomers(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<void> {
  const ids = pgTextArray([...new Set(customerIds)]);
  await query(em,
    `update ${S}.customer_identifiers ci set is_primary = true
       from (select distinct on (x.customer_id, x.kind, x.network) x.id from ${S}.customer_identifiers x
              where x.account_id = ? and x.customer_id = any(?::uuid[])
                and not exists (select 1 from ${S}.customer_identifiers p where p.customer_id = x.customer_id and p.kind = x.kind and p.network = x.network and p.is_primary)
              order by x.customer_id, x.kind, x.network, x.created_at, x.id) f
      where ci.id = f.id`,
    [accountId, ids],
  );
  await query(em, `update ${S}.customers c set identity_graph = ${IDENTITY_GRAPH_OF_ROWS} where c.account_id = ? and c.id = any(?::uuid[])`, [accountId, ids]);
}

/** The identifiers of these customers of the account, each customer's in graph order. */
export async function identifiersOf(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<IdentifierRecord[]> {
  if (customerIds.length === 0) return [];
  const rows = await query<IdentifierSqlRow>(em,
    `select ${IDENTIFIER_COLUMNS} from ${S}.customer_identifiers ci where ci.account_id = ? and ci.customer_id = any(?::uuid[])
      order by ci.customer_id, ${ORDER('ci')}`,
    [accountId, pgTextArray(customerIds)],
  );
  return rows.map(toIdentifierRecord);
}
