// Customers by identifier, set-based: a batch of senders (ResolveCustomers) and a single one (ResolveCustomer) take
// the same few statements, in plain SQL outside the unit of work (the hot path of every inbound message). Identifier
// rows and the identity graph are written by identifier.repository.ts only.
import { lockAllForTransaction, pgTextArray, query, type EntityManager } from '@domiq/db';
import type { Channel } from '@domiq/proto/vocabulary';
import type { ConsentSource, ConsentStatus } from '../domain/consent.ts';
import type { MergedFields } from '../domain/customer-merge.ts';
import type { IdentifierKind } from '../domain/identifier.ts';
import { RETURNED, toRecord, type CustomerRecord, type CustomerSqlRow } from './customer-row.ts';
import { addIdentifiers, markVerified, type IdentifierRecord } from './identifier.repository.ts';

export type { CustomerRecord };

export interface CustomerIdentifierKey {
  accountId: string;
  kind: IdentifierKind;
  network: string;
  /** Normalised (normaliseIdentifier). */
  value: string;
}

export interface ConsentView {
  channel: Channel;
  status: ConsentStatus;
  source: ConsentSource;
  recordedAt: Date;
  recordedBy: string;
}

/** A customer with its identifier rows and consents (GetCustomer, GetCustomers). */
export interface CustomerDetails extends CustomerRecord {
  identifiers: IdentifierRecord[];
  consents: ConsentView[];
}

const S = '"identity"';
/** The graph of a customer without identifiers. */
const EMPTY_GRAPH = `'{"emails": [], "phone_numbers": [], "social_ids": {}, "device_fingerprints": []}'::jsonb`;

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

/** findCustomers with each customer's identifiers (graph order) and consents, still one statement. */
export async function findCustomerDetails(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<CustomerDetails[]> {
  if (customerIds.length === 0) return [];
  type Row = CustomerSqlRow & {
    identifiers: Array<{ id: string; kind: IdentifierKind; network: string; value: string; is_verified: boolean; is_primary: boolean; created_at: string }>;
    consents: Array<{ channel: Channel; status: ConsentStatus; source: ConsentSource; recorded_at: string; recorded_by: string }>;
  };
  const rows = await query<Row>(em,
    `select ${RETURNED},
            coalesce((select jsonb_agg(jsonb_build_object('id', ci.id, 'kind', ci.kind, 'network', ci.network, 'value', ci.value, 'is_verified', ci.is_verified,
                                                          'is_primary', ci.is_primary, 'created_at', ci.created_at)
                                       order by ci.is_primary desc, ci.created_at, ci.value)
                        from ${S}.customer_identifiers ci where ci.customer_id = c.id), '[]'::jsonb) as identifiers,
            coalesce((select jsonb_agg(jsonb_build_object('channel', cc.channel, 'status', cc.status, 'source', cc.source, 'recorded_at', cc.recorded_at,
                                                          'recorded_by', cc.recorded_by) order by cc.channel)
                        from ${S}.customer_consents cc where cc.account_id = c.account_id and cc.customer_id = c.id), '[]'::jsonb) as consents
       from ${S}.customers c where c.id = any(?::uuid[]) and c.account_id = ?`,
    [pgTextArray(customerIds), accountId],
  );
  return rows.map((r) => ({
    ...toRecord(r),
    identifiers: r.identifiers.map((i) => ({
      id: i.id, customerId: r.id, kind: i.kind, network: i.network, value: i.value, isVerified: i.is_verified, isPrimary: i.is_primary, createdAt: new Date(i.created_at),
    })),
    consents: r.consents.map((c) => ({ channel: c.channel, status: c.status, source: c.source, recordedAt: new Date(c.recorded_at), recordedBy: c.recorded_by })),
  }));
}

/**
 * The account's customers of these ids, row-locked until the transaction ends, taken in id order (so two merges of
 * overlapping customers wait for each other instead of deadlocking).
 */
export async function lockCustomers(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<CustomerRecord[]> {
  if (customerIds.length === 0) return [];
  const rows = await query<CustomerSqlRow>(em,
    `select ${RETURNED} from ${S}.customers c where c.id = any(?::uuid[]) and c.account_id = ? order by c.id for update`, [pgTextArray([...new Set(customerIds)]), accountId],
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
  /** The channel proved the sender holds it: the identifier is marked verified. */
  verified: boolean;
}

/** Each key's identifier row and its customer, by KEY_LOOKUPS (@domiq/db): `k` is the key's index. */
const KEYS = `keys as (select k::int - 1 as k, kind, network, value, name from unnest(?::text[], ?::text[], ?::text[], ?::text[]) with ordinality as r(kind, network, value, name, k)),
          found as (select keys.k, keys.name, ci.customer_id, ci.id as identifier_id, ci.kind, ci.is_verified from keys
                      cross join lateral (
                        select ci.id, ci.customer_id, ci.kind, ci.is_verified from ${S}.customer_identifiers ci
                         where ci.account_id = ? and ci.kind = keys.kind and ci.network = keys.network and ci.value = keys.value limit 1) ci)`;

function keyParams(accountId: string, identifiers: readonly IdentifierToResolve[]): unknown[] {
  return [...[identifiers.map((k) => k.kind), identifiers.map((k) => k.network), identifiers.map((k) => k.value), identifiers.map((k) => k.displayName)].map(pgTextArray), accountId];
}

/** A merge or an erasure committing while a lookup waits for its row can move or delete the identifiers it found. */
const MAX_LOOKUPS = 5;

/**
 * Finds the customer owning each identifier of one account or creates it, in the caller's transaction; distinct
 * identifiers only (the caller folds repeats). Transaction-scoped advisory locks on the identifiers, taken in sorted
 * order in one statement, serialise concurrent first contacts (the unique index on customer_identifiers backs them
 * up). A known customer is seen now (last_seen_at) and gets the channel's name when it has none. Four statements
 * whatever the batch size: lock, find and touch the known, create the new, record their identifiers (and their
 * graphs). Results are in input order.
 *
 * A merged or erased customer is never touched nor answered: when a merge or an erasure of the customer found
 * commits while the touch waits for its row, its identifiers have moved or gone, and those keys are looked up again.
 */
export async function findOrCreateCustomers(em: EntityManager, accountId: string, identifiers: readonly IdentifierToResolve[]): Promise<Array<{ customer: CustomerRecord; created: boolean }>> {
  // Outside a transaction the locks would be released as soon as they are taken.
  if (!em.isInTransaction()) throw new Error('findOrCreateCustomers must run in a transaction');
  if (identifiers.length === 0) return [];
  await lockAllForTransaction(em, identifiers.map((i) => identifierLockKey({ accountId, ...i })));
  const results = new Array<{ customer: CustomerRecord; created: boolean }>(identifiers.length);
  const toVerify: string[] = [];
  const fresh: number[] = [];
  let pending = identifiers.map((_, n) => n);
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt === MAX_LOOKUPS) throw new Error(`identifiers kept moving while being resolved (${pending.length} left)`);
    const keys = pending.map((n) => identifiers[n]!);
    const rows = await query<CustomerSqlRow & { k: number; identifier_id: string; is_verified: boolean }>(em,
      `with ${KEYS},
            touched as (
              update ${S}.customers c
                 set last_seen_at = now(),
                     profile = case when coalesce(c.profile->>'name', '') = '' and f.name <> '' then jsonb_set(c.profile, '{name}', to_jsonb(f.name)) else c.profile end
                from (select distinct on (customer_id) customer_id, name from found order by customer_id, k) f
               where c.id = f.customer_id and c.account_id = ? and c.status <> 'merged' and c.erased_at is null
              returning ${RETURNED})
       select found.k, found.identifier_id, found.is_verified, c.* from found left join touched c on c.id = found.customer_id`,
      // One index lookup per key, whatever the table's statistics say (KEY_LOOKUPS in @domiq/db).
      [...keyParams(accountId, keys), accountId],
    );
    const seen = new Set<number>();
    const again: number[] = [];
    for (const row of rows) {
      const n = pending[row.k]!;
      seen.add(row.k);
      if (row.id === null) {
        again.push(n);
        continue;
      }
      results[n] = { customer: toRecord(row), created: false };
      if (identifiers[n]!.verified && !row.is_verified) toVerify.push(row.identifier_id);
    }
    pending.forEach((n, k) => {
      if (!seen.has(k)) fresh.push(n);
    });
    pending = again;
  }
  await markVerified(em, accountId, toVerify);
  if (fresh.length === 0) return results;
  const made = fresh.map((n) => ({ n, id: crypto.randomUUID() }));
  await createCustomers(em, accountId, made.map(({ n, id }) => ({ id, name: identifiers[n]!.displayName })));
  const created = await addIdentifiers(em, accountId, made.map(({ n, id }) => {
    const { kind, network, value, verified } = identifiers[n]!;
    return { customerId: id, kind, network, value, isVerified: verified };
  }));
  const byId = new Map(created.map((c) => [c.id, c]));
  for (const { n, id } of made) results[n] = { customer: byId.get(id)!, created: true };
  return results;
}

/** Inserts customers without identifiers yet (addIdentifiers gives them theirs and their graphs). */
export async function createCustomers(em: EntityManager, accountId: string, customers: ReadonlyArray<{ id: string; name: string }>): Promise<void> {
  if (customers.length === 0) return;
  await query(em,
    `insert into ${S}.customers (id, account_id, identity_graph, profile)
     select r.id, ?, ${EMPTY_GRAPH}, jsonb_build_object('name', nullif(r.name, ''), 'company', null, 'avatar_url', null, 'metadata', '{}'::jsonb)
       from json_to_recordset(?::json) as r(id uuid, name text)`,
    [accountId, JSON.stringify(customers)],
  );
}

/** One of a person's identifiers as found: who holds it (null: nobody yet). */
export interface IdentifierOwner {
  /** Index of the key in the call. */
  k: number;
  identifierId: string;
  customerId: string;
  kind: IdentifierKind;
  isVerified: boolean;
}

/** The holders of these identifiers (none for an identifier nobody holds), by index lookups. */
export async function findIdentifierOwners(em: EntityManager, accountId: string, identifiers: readonly IdentifierToResolve[]): Promise<IdentifierOwner[]> {
  if (identifiers.length === 0) return [];
  const rows = await query<{ k: number; identifier_id: string; customer_id: string; kind: IdentifierKind; is_verified: boolean }>(em,
    `with ${KEYS} select k, identifier_id, customer_id, kind, is_verified from found`, keyParams(accountId, identifiers),
  );
  return rows.map((r) => ({ k: r.k, identifierId: r.identifier_id, customerId: r.customer_id, kind: r.kind, isVerified: r.is_verified }));
}

/** A known customer seen now: last_seen_at, and the channel's name when it has none. */
export async function touchCustomer(em: EntityManager, accountId: string, customerId: string, name: string): Promise<void> {
  await query(em,
    `update ${S}.customers c
        set last_seen_at = now(),
            profile = case when coalesce(c.profile->>'name', '') = '' and ?::text <> '' then jsonb_set(c.profile, '{name}', to_jsonb(?::text)) else c.profile end
      where c.id = ? and c.account_id = ?`,
    [name, name, customerId, accountId],
  );
}

/** Sets the fields a merge combines. */
export async function setMergedFields(em: EntityManager, accountId: string, customerId: string, fields: MergedFields): Promise<void> {
  await query(em, `update ${S}.customers set tags = ?::text[], segments = ?::text[], risk_flags = ?::text[] where id = ? and account_id = ?`,
    [pgTextArray(fields.tags), pgTextArray(fields.segments), pgTextArray(fields.riskFlags), customerId, accountId]);
}

/** Marks a customer merged into another (targetId) or, with null, gives it `status` back. */
export async function setMergedInto(em: EntityManager, accountId: string, customerId: string, change: { status: string; mergedIntoId: string | null }): Promise<void> {
  await query(em, `update ${S}.customers set status = ?, merged_into_id = ? where id = ? and account_id = ?`, [change.status, change.mergedIntoId, customerId, accountId]);
}

/**
 * Clears what can say who the customers are from their rows: the profile (name, company, avatar, metadata) and the
 * tags (free text agents write), and stamps erased_at. Their identifiers are deleted by deleteIdentifiersOf.
 */
export async function eraseCustomerRows(em: EntityManager, accountId: string, customerIds: readonly string[], erasedAt: Date): Promise<void> {
  await query(em,
    `update ${S}.customers set profile = '{"name": null, "company": null, "avatar_url": null, "metadata": {}}'::jsonb, tags = '{}', erased_at = ?
      where account_id = ? and id = any(?::uuid[])`,
    [erasedAt, accountId, pgTextArray(customerIds)],
  );
}

/** The customers merged into this one, directly or through others merged into those (an erasure's whole person). */
export async function mergedInto(em: EntityManager, accountId: string, customerId: string): Promise<string[]> {
  const rows = await query<{ id: string }>(em,
    `with recursive m(id) as (
       select c.id from ${S}.customers c where c.account_id = ? and c.merged_into_id = ? and c.status = 'merged'
       union
       select c.id from ${S}.customers c join m on c.merged_into_id = m.id where c.account_id = ? and c.status = 'merged')
     select id from m order by id`,
    [accountId, customerId, accountId],
  );
  return rows.map((r) => r.id);
}
