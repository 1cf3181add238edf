// Queries of the connector's lead-sync bookkeeping, shared by its use cases. None opens a transaction: on a
// use case's entity manager they join its transaction; on a plain one each commits at once. Writes for many messages
// are one statement each (one JSON parameter read by json_to_recordset, as the bus's outbox does).
import { pgTextArray, query, type EntityManager } from '@domiq/db';
import type { IntegrationRow } from './integration.entities.ts';
import { groupKeyOf } from './lead-sync-queue.repository.ts';
import { LeadSyncMapping, type LeadSyncMappingRow } from './lead-sync.entities.ts';
import type { CommunicationType } from '../domain/communication.ts';

const S = '"resman_connector"';

/** The active mappings of these customers at these properties (one query), by `account|property|customer`. */
export async function findMappings(em: EntityManager, keys: ReadonlyArray<{ accountId: string; propertyId: string; customerId: string }>): Promise<Map<string, { prospectId: string; personId: string | null }>> {
  if (keys.length === 0) return new Map();
  const rows = await query<{ account_id: string; property_id: string; customer_id: string; resman_lead_id: string; resman_person_id: string | null }>(em,
    `select k.account_id, k.property_id, k.customer_id, m.resman_lead_id, m.resman_person_id
       from unnest(?::uuid[], ?::uuid[], ?::uuid[]) as k(account_id, property_id, customer_id)
       cross join lateral (
         select m.resman_lead_id, m.resman_person_id from ${S}.lead_sync_mapping m
          where m.property_id = k.property_id and m.customer_id = k.customer_id and m.account_id = k.account_id and m.mapping_status = 'active'
          limit 1) m`,
    [...[keys.map((k) => k.accountId), keys.map((k) => k.propertyId), keys.map((k) => k.customerId)].map(pgTextArray)],
  );
  return new Map(rows.map((r) => [groupKeyOf({ accountId: r.account_id, propertyId: r.property_id, customerId: r.customer_id }), { prospectId: r.resman_lead_id, personId: r.resman_person_id }]));
}

/** What the queue's consumer and worker read of an integration (no entity: they never change it through the ORM). */
export type QueuedIntegration = Pick<IntegrationRow,
  'id' | 'accountId' | 'propertyId' | 'resmanPropertyId' | 'apiCredentials' | 'baseUrl' | 'resmanAccountId' | 'defaultAgentId' | 'prospectSourceId'
  | 'syncEnabled' | 'syncDirection' | 'syncStatus' | 'errorCount' | 'lastSuccessfulSyncAt'>;

/** The integrations of these (account, property) pairs, in one statement (plain SQL: on every batch and every round). */
export async function findIntegrations(em: EntityManager, pairs: ReadonlyArray<{ accountId: string; propertyId: string }>): Promise<QueuedIntegration[]> {
  if (pairs.length === 0) return [];
  const rows = await query<{
    id: string; account_id: string; property_id: string; resman_property_id: string; api_credentials: string; base_url: string; resman_account_id: string | number;
    default_agent_id: string; prospect_source_id: string; sync_enabled: boolean; sync_direction: string; sync_status: string; error_count: number;
    last_successful_sync_at: Date | string | null;
  }>(em,
    `select i.* from unnest(?::uuid[], ?::uuid[]) as k(account_id, property_id)
       cross join lateral (
         select i.id, i.account_id, i.property_id, i.resman_property_id, i.api_credentials, i.base_url, i.resman_account_id, i.default_agent_id,
                i.prospect_source_id, i.sync_enabled, i.sync_direction, i.sync_status, i.error_count, i.last_successful_sync_at
           from ${S}.resman_integration i where i.property_id = k.property_id and i.account_id = k.account_id limit 1) i`,
    [pgTextArray(pairs.map((k) => k.accountId)), pgTextArray(pairs.map((k) => k.propertyId))],
  );
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.id) && !!seen.add(r.id)).map((r) => ({
    id: r.id, accountId: r.account_id, propertyId: r.property_id, resmanPropertyId: r.resman_property_id, apiCredentials: r.api_credentials, baseUrl: r.base_url,
    resmanAccountId: Number(r.resman_account_id), defaultAgentId: r.default_agent_id, prospectSourceId: r.prospect_source_id, syncEnabled: r.sync_enabled,
    syncDirection: r.sync_direction, syncStatus: r.sync_status, errorCount: r.error_count,
    lastSuccessfulSyncAt: r.last_successful_sync_at === null ? null : new Date(r.last_successful_sync_at),
  }));
}

/** A lead_sync_log row (the seed's audit of every sync attempt). */
export interface SyncLogRow {
  accountId: string;
  propertyId: string;
  customerId: string;
  conversationId: string | null;
  messageId: string;
  resmanLeadId?: string | null;
  syncDirection: 'to_resman' | 'from_resman';
  syncStatus: string;
  syncType: string;
  syncData: Record<string, unknown>;
  responseData?: Record<string, unknown> | null;
  errorMessage?: string | null;
  errorCode?: string | null;
  retryCount: number;
  processingTimeMs: number;
}

/** lead_sync_log rows, one statement for any number of them. */
export async function insertSyncLogs(em: EntityManager, logs: readonly SyncLogRow[]): Promise<void> {
  if (logs.length === 0) return;
  await query(em,
    `insert into ${S}.lead_sync_log
       (account_id, property_id, customer_id, conversation_id, message_id, resman_lead_id, sync_direction, sync_status, sync_type, sync_data, response_data,
        error_message, error_code, retry_count, processing_time_ms)
     select r.account_id, r.property_id, r.customer_id, r.conversation_id, r.message_id, r.resman_lead_id, r.sync_direction, r.sync_status, r.sync_type,
            r.sync_data, r.response_data, r.error_message, r.error_code, r.retry_count, r.processing_time_ms
       from json_to_recordset(?::json) as r(account_id uuid, property_id uuid, customer_id uuid, conversation_id uuid, message_id uuid, resman_lead_id text,
                                            sync_direction text, sync_status text, sync_type text, sync_data jsonb, response_data jsonb, error_message text,
                                            error_code text, retry_count int, processing_time_ms int)`,
    [JSON.stringify(logs.map((l) => ({
      account_id: l.accountId, property_id: l.propertyId, customer_id: l.customerId, conversation_id: l.conversationId, message_id: l.messageId,
      resman_lead_id: l.resmanLeadId ?? null, sync_direction: l.syncDirection, sync_status: l.syncStatus, sync_type: l.syncType, sync_data: l.syncData,
      response_data: l.responseData ?? null, error_message: l.errorMessage ?? null, error_code: l.errorCode ?? null, retry_count: l.retryCount,
      processing_time_ms: l.processingTimeMs,
    })))],
  );
}

/** A message about to be logged to ResMan: its communication_log_sync row, written 'pending' when it is queued. */
export interface PendingCommunication {
  accountId: string;
  propertyId: string;
  customerId: string;
  conversationId: string | null;
  messageId: string;
  communicationType: CommunicationType;
  /** Redacted. */
  content: string;
  timestamp: Date;
  eventType: string;
}

/**
 * One multi-row insert: a 'pending' communication row (sync_type 'update' when the customer already has a card at the
 * property, else 'create') for each message not seen before. Returns the message ids it inserted; a message id already
 * there (a redelivery, or a row another account holds) is left exactly as it is.
 */
export async function insertPendingCommunications(em: EntityManager, rows: readonly PendingCommunication[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await query<{ message_id: string }>(em,
    `insert into ${S}.communication_log_sync
       (account_id, property_id, customer_id, conversation_id, message_id, communication_type, sender_type, content,
        "timestamp", sync_direction, sync_status, sync_type, resman_event_type)
     select r.account_id, r.property_id, r.customer_id, r.conversation_id, r.message_id, r.communication_type, 'prospect', r.content,
            r.ts, 'to_resman', 'pending',
            case when exists (select 1 from ${S}.lead_sync_mapping m
                               where m.account_id = r.account_id and m.property_id = r.property_id and m.customer_id = r.customer_id
                                 and m.mapping_status = 'active') then 'update' else 'create' end,
            r.event_type
       from json_to_recordset(?::json) as r(account_id uuid, property_id uuid, customer_id uuid, conversation_id uuid, message_id text,
                                            communication_type text, content text, ts timestamptz, event_type text)
     on conflict (message_id) do nothing
     returning message_id`,
    [JSON.stringify(rows.map((c) => ({
      account_id: c.accountId, property_id: c.propertyId, customer_id: c.customerId, conversation_id: c.conversationId, message_id: c.messageId,
      communication_type: c.communicationType, content: c.content, ts: c.timestamp.toISOString(), event_type: c.eventType,
    })))],
  );
  return new Set(inserted.map((r) => r.message_id));
}

/** The communication rows of these messages that belong to another account (never touched). */
export async function foreignCommunications(em: EntityManager, rows: ReadonlyArray<{ accountId: string; messageId: string }>): Promise<string[]> {
  if (rows.length === 0) return [];
  const found = await query<{ message_id: string }>(em,
    `select k.message_id from unnest(?::text[], ?::uuid[]) as k(message_id, account_id)
       cross join lateral (
         select 1 from ${S}.communication_log_sync c where c.message_id = k.message_id and c.account_id <> k.account_id limit 1) c`,
    [pgTextArray(rows.map((r) => r.messageId)), pgTextArray(rows.map((r) => r.accountId))],
  );
  return found.map((r) => r.message_id);
}

/** A communication row as the worker reads it to build the events. */
export interface QueuedCommunication {
  id: string;
  messageId: string;
  content: string;
  timestamp: Date | null;
  syncStatus: string | null;
  retryCount: number;
}

/** The communication rows of these messages, each of its own account (a row of another account is left out), one query. */
export async function findCommunications(em: EntityManager, messages: ReadonlyArray<{ accountId: string; messageId: string }>): Promise<Map<string, QueuedCommunication>> {
  if (messages.length === 0) return new Map();
  const rows = await query<{ id: string; message_id: string; content: string | null; timestamp: Date | null; sync_status: string | null; retry_count: number }>(em,
    `select c.* from unnest(?::text[], ?::uuid[]) as k(message_id, account_id)
       cross join lateral (
         select c.id, c.message_id, c.content, c."timestamp", c.sync_status, c.retry_count from ${S}.communication_log_sync c
          where c.message_id = k.message_id and c.account_id = k.account_id limit 1) c`,
    [pgTextArray(messages.map((m) => m.messageId)), pgTextArray(messages.map((m) => m.accountId))],
  );
  return new Map(rows.map((r) => [r.message_id, {
    id: r.id, messageId: r.message_id, content: r.content ?? '', timestamp: r.timestamp === null ? null : new Date(r.timestamp), syncStatus: r.sync_status, retryCount: r.retry_count,
  }]));
}

/** The messages logged: 'success', the prospect, the Comments sent and the event type, one statement for any number of them. */
export async function recordLoggedCommunications(
  em: EntityManager,
  logged: ReadonlyArray<{ accountId: string; messageId: string; prospectId: string; comments: string; eventType: string; syncType: 'create' | 'update' }>,
): Promise<void> {
  if (logged.length === 0) return;
  await query(em,
    `update ${S}.communication_log_sync c
        set sync_status = 'success', resman_prospect_id = r.prospect_id, sync_type = r.sync_type, content = r.comments, resman_event_type = r.event_type, last_error = null
       from unnest(?::text[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[]) as r(message_id, account_id, prospect_id, comments, event_type, sync_type)
      where c.message_id = r.message_id and c.account_id = r.account_id`,
    [...[
      logged.map((l) => l.messageId), logged.map((l) => l.accountId), logged.map((l) => l.prospectId), logged.map((l) => l.comments),
      logged.map((l) => l.eventType), logged.map((l) => l.syncType),
    ].map(pgTextArray)],
  );
}

/** After a failed attempt: each message still 'pending' (or 'failed' for good) with the error, one statement; one retry more each. */
export async function recordFailedCommunications(
  em: EntityManager, failed: ReadonlyArray<{ accountId: string; messageId: string; status: 'pending' | 'failed'; error: string }>,
): Promise<void> {
  if (failed.length === 0) return;
  await query(em,
    `update ${S}.communication_log_sync c
        set sync_status = r.status, last_error = r.error, retry_count = c.retry_count + 1
       from unnest(?::text[], ?::uuid[], ?::text[], ?::text[]) as r(message_id, account_id, status, error)
      where c.message_id = r.message_id and c.account_id = r.account_id and c.sync_status is distinct from 'success'`,
    [...[failed.map((f) => f.messageId), failed.map((f) => f.accountId), failed.map((f) => f.status), failed.map((f) => f.error)].map(pgTextArray)],
  );
}

/** What a committed push records of one customer at one property. */
export interface SyncedLead {
  accountId: string;
  propertyId: string;
  customerId: string;
  conversationId: string | null;
  prospectId: string;
  personId: string;
  /** Messages it logged. */
  syncs: number;
}

/**
 * The mappings as committed pushes leave them, one statement: 'synced', version + the number of messages logged (so
 * versions count committed syncs), the latest conversation kept. A (property, customer) row of another account is
 * never touched and is missing from the answer (by `account|property|customer`). One entry per customer and property.
 */
export async function recordSyncedMappings(em: EntityManager, leads: readonly SyncedLead[]): Promise<Map<string, { id: string; syncVersion: number }>> {
  if (leads.length === 0) return new Map();
  const rows = await query<{ id: string; account_id: string; property_id: string; customer_id: string; sync_version: number }>(em,
    `insert into ${S}.lead_sync_mapping
       (account_id, property_id, customer_id, conversation_id, resman_lead_id, resman_person_id, mapping_status, sync_status, last_sync_at, sync_version)
     select r.account_id, r.property_id, r.customer_id, r.conversation_id, r.prospect_id, r.person_id, 'active', 'synced', now(), r.syncs
       from unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::int[]) as r(account_id, property_id, customer_id, conversation_id, prospect_id, person_id, syncs)
     on conflict (property_id, customer_id) do update set
       conversation_id = coalesce(excluded.conversation_id, lead_sync_mapping.conversation_id),
       resman_lead_id = excluded.resman_lead_id, resman_person_id = excluded.resman_person_id,
       mapping_status = 'active', sync_status = 'synced', last_sync_at = now(),
       sync_version = lead_sync_mapping.sync_version + excluded.sync_version
     where lead_sync_mapping.account_id = excluded.account_id
     returning id, account_id, property_id, customer_id, sync_version`,
    [
      ...[leads.map((l) => l.accountId), leads.map((l) => l.propertyId), leads.map((l) => l.customerId), leads.map((l) => l.conversationId),
        leads.map((l) => l.prospectId), leads.map((l) => l.personId)].map(pgTextArray),
      `{${leads.map((l) => l.syncs).join(',')}}`,
    ],
  );
  return new Map(rows.map((r) => [groupKeyOf({ accountId: r.account_id, propertyId: r.property_id, customerId: r.customer_id }), { id: r.id, syncVersion: r.sync_version }]));
}

/** Each customer's ResMan person and prospect at the property, one statement; the version counts changes of person. */
export async function recordContactSyncs(em: EntityManager, leads: ReadonlyArray<Pick<SyncedLead, 'accountId' | 'propertyId' | 'customerId' | 'personId' | 'prospectId'>>): Promise<void> {
  if (leads.length === 0) return;
  await query(em,
    `insert into ${S}.contact_sync (account_id, property_id, customer_id, resman_contact_id, resman_prospect_id, sync_status, last_sync_at, sync_version)
     select r.account_id, r.property_id, r.customer_id, r.person_id, r.prospect_id, 'success', now(), 1
       from unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::text[], ?::text[]) as r(account_id, property_id, customer_id, person_id, prospect_id)
     on conflict (property_id, customer_id) do update set
       resman_contact_id = excluded.resman_contact_id, resman_prospect_id = excluded.resman_prospect_id,
       sync_status = 'success', last_sync_at = now(),
       sync_version = contact_sync.sync_version + case when contact_sync.resman_contact_id is distinct from excluded.resman_contact_id then 1 else 0 end
     where contact_sync.account_id = excluded.account_id`,
    [...[leads.map((l) => l.accountId), leads.map((l) => l.propertyId), leads.map((l) => l.customerId), leads.map((l) => l.personId), leads.map((l) => l.prospectId)].map(pgTextArray)],
  );
}

/** The property's other customers mapped to this prospect. */
export async function findOtherCustomersOfProspect(em: EntityManager, k: { accountId: string; propertyId: string; prospectId: string; customerId: string }): Promise<LeadSyncMappingRow[]> {
  return em.find(LeadSyncMapping, { accountId: k.accountId, propertyId: k.propertyId, resmanLeadId: k.prospectId, customerId: { $ne: k.customerId } });
}
