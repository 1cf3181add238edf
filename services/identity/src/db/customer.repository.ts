// Customers by identifier, set-based: a batch of senders (ResolveCustomers) and a single one (ResolveCustomer) take
// the same few statements, in plain SQL outside the unit of work (the hot path of every inbound message).
import { lockAllForTransaction, pgTextArray, query, type EntityManager } from '@domiq/db';
import type { SlaTier } from '@domiq/proto/vocabulary';
import type { IdentifierKind } from '../domain/identifier.ts';
import type { CustomerProfile, IdentityGraph } from './identity.entities.ts';

export interface CustomerIdentifierKey {
  accountId: string;
  kind: IdentifierKind;
  network: string;
  /** Normalised (normaliseIdentifier). */
  value: string;
}

/** What resolution answers about a customer (the columns the gRPC message and the event carry). */
export interface CustomerRecord {
  id: string;
  accountId: string;
  identityGraph: IdentityGraph;
  profile: CustomerProfile;
  slaTier: SlaTier;
  status: string;
  createdAt: Date;
}

interface CustomerSqlRow {
  id: string;
  account_id: string;
  identity_graph: IdentityGraph;
  profile: CustomerProfile;
  sla_tier: SlaTier;
  status: string;
  created_at: Date | string;
}

const S = '"identity"';
const RETURNED = 'c.id, c.account_id, c.identity_graph, c.profile, c.sla_tier, c.status, c.created_at';

function toRecord(r: CustomerSqlRow): CustomerRecord {
  return {
    id: r.id, accountId: r.account_id, identityGraph: r.identity_graph, profile: r.profile, slaTier: r.sla_tier, status: r.status,
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
  };
}

/** One customer of the account by id, or null: one statement, no entity. */
export async function findCustomer(em: EntityManager, accountId: string, customerId: string): Promise<CustomerRecord | null> {
  const [row] = await findCustomers(em, accountId, [customerId]);
  return row ?? null;
}

/** The account's customers of these ids, in one statement (ids of other accounts or of nobody are left out). */
export async function findCustomers(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<CustomerRecord[]> {
  if (customerIds.length === 0) return [];
  const rows = await query<CustomerSqlRow>(em,
    `select ${RETURNED} from ${S}.customers c where c.id = any(?::uuid[]) and c.account_id = ?`, [pgTextArray(customerIds), accountId],
  );
  return rows.map(toRecord);
}

/** The advisory lock key of one identifier: one first contact at a time per identifier, across replicas. */
export function identifierLockKey(key: CustomerIdentifierKey): string {
  return `${key.accountId}|${key.kind}|${key.network}|${key.value}`;
}

export interface IdentifierToResolve extends Omit<CustomerIdentifierKey, 'accountId'> {
  /** The sender's name as the channel gave it ('' when none); fills an unnamed customer's profile. */
  displayName: string;
}

/**
 * Finds the customer owning each identifier of one account or creates it, in the caller's transaction; distinct
 * identifiers only (the caller folds repeats). Transaction-scoped advisory locks on the identifiers, taken in sorted
 * order in one statement, serialise concurrent first contacts (the unique index on customer_identifiers backs them
 * up). A known customer is seen now (last_seen_at) and gets the channel's name when it has none. Four statements
 * whatever the batch size: lock, find and touch the known, create the new, record their identifiers. Results are in
 * input order.
 */
export async function findOrCreateCustomers(em: EntityManager, accountId: string, identifiers: readonly IdentifierToResolve[]): Promise<Array<{ customer: CustomerRecord; created: boolean }>> {
  // Outside a transaction the locks would be released as soon as they are taken.
  if (!em.isInTransaction()) throw new Error('findOrCreateCustomers must run in a transaction');
  if (identifiers.length === 0) return [];
  await lockAllForTransaction(em, identifiers.map((i) => identifierLockKey({ accountId, ...i })));
  const keys = identifiers.map((i, k) => ({ k, kind: i.kind, network: i.network, value: i.value, name: i.displayName }));
  const known = await query<CustomerSqlRow & { k: number }>(em,
    `with keys as (select k::int - 1 as k, kind, network, value, name from unnest(?::text[], ?::text[], ?::text[], ?::text[]) with ordinality as r(kind, network, value, name, k)),
          found as (select keys.k, keys.name, ci.customer_id from keys
                      cross join lateral (
                        select ci.customer_id from ${S}.customer_identifiers ci
                         where ci.account_id = ? and ci.kind = keys.kind and ci.network = keys.network and ci.value = keys.value limit 1) ci),
          touched as (
            update ${S}.customers c
               set last_seen_at = now(),
                   profile = case when coalesce(c.profile->>'name', '') = '' and f.name <> '' then jsonb_set(c.profile, '{name}', to_jsonb(f.name)) else c.profile end
              from (select distinct on (customer_id) customer_id, name from found order by customer_id, k) f
             where c.id = f.customer_id and c.account_id = ?
            returning ${RETURNED})
     select found.k, c.* from found join touched c on c.id = found.customer_id`,
    // One index lookup per key, whatever the table's statistics say (KEY_LOOKUPS in @domiq/db).
    [...[keys.map((k) => k.kind), keys.map((k) => k.network), keys.map((k) => k.value), keys.map((k) => k.name)].map(pgTextArray), accountId, accountId],
  );
  const results = new Array<{ customer: CustomerRecord; created: boolean }>(identifiers.length);
  for (const row of known) results[row.k] = { customer: toRecord(row), created: false };
  const fresh = keys.filter((key) => results[key.k] === undefined).map((key) => ({
    ...key,
    id: crypto.randomUUID(),
    identity_graph: {
      emails: key.kind === 'email' ? [key.value] : [],
      phone_numbers: key.kind === 'phone' ? [key.value] : [],
      social_ids: key.kind === 'social' ? { [key.network]: key.value } : {},
      device_fingerprints: [],
    } satisfies IdentityGraph,
    profile: { name: key.name || null, company: null, avatar_url: null, metadata: {} } satisfies CustomerProfile,
  }));
  if (fresh.length === 0) return results;
  const created = await query<CustomerSqlRow>(em,
    `insert into ${S}.customers as c (id, account_id, identity_graph, profile)
     select r.id, ?, r.identity_graph, r.profile from json_to_recordset(?::json) as r(id uuid, identity_graph jsonb, profile jsonb)
     returning ${RETURNED}`,
    [accountId, JSON.stringify(fresh.map(({ id, identity_graph, profile }) => ({ id, identity_graph, profile })))],
  );
  await query(em,
    `insert into ${S}.customer_identifiers (account_id, customer_id, kind, network, value)
     select ?, r.customer_id, r.kind, r.network, r.value from json_to_recordset(?::json) as r(customer_id uuid, kind text, network text, value text)`,
    [accountId, JSON.stringify(fresh.map(({ id, kind, network, value }) => ({ customer_id: id, kind, network, value })))],
  );
  const byId = new Map(created.map((r) => [r.id, toRecord(r)]));
  for (const f of fresh) results[f.k] = { customer: byId.get(f.id)!, created: true };
  return results;
}
