// Queries of the connector's lead-sync bookkeeping, shared by its use cases. None opens a transaction: on a
// use case's entity manager they join its transaction; on a plain one (the consumer's prepare) each commits at once.
import type { EntityManager } from '@domiq/db';
import { CommunicationLogSync } from './communication-log.entities.ts';
import { ResmanIntegration, type IntegrationRow } from './integration.entities.ts';
import { LeadSyncMapping, type LeadSyncMappingRow } from './lead-sync.entities.ts';
import type { CommunicationType } from '../domain/communication.ts';

const S = '"resman_connector"';

/** The property's integration, whatever its settings (pushesToResman says whether it pushes). */
export async function findIntegration(em: EntityManager, accountId: string, propertyId: string): Promise<IntegrationRow | null> {
  return em.findOne(ResmanIntegration, { accountId, propertyId });
}

/** The customer's active mapping to a ResMan prospect at the property. */
export async function findMapping(em: EntityManager, k: { accountId: string; propertyId: string; customerId: string }) {
  return em.findOne(LeadSyncMapping, { accountId: k.accountId, propertyId: k.propertyId, customerId: k.customerId, mappingStatus: 'active' });
}

export interface PendingCommunication {
  accountId: string;
  propertyId: string;
  customerId: string;
  conversationId: string | null;
  messageId: string;
  communicationType: CommunicationType;
  content: string;
  timestamp: Date;
  syncType: 'create' | 'update';
  eventType: string;
}

export type Claim = { state: 'done' } | { state: 'claimed'; id: string; firstAttempt: boolean };

/**
 * Records that this message is about to be pushed, before ResMan is called (committed at once on the prepare
 * step's entity manager). A row that was already there means an earlier attempt may have reached ResMan; a row
 * already in 'success' means there is nothing left to do.
 */
export async function claimCommunication(em: EntityManager, c: PendingCommunication): Promise<Claim> {
  const rows = await em.execute<Array<{ id: string; inserted: boolean }>>(
    `insert into ${S}.communication_log_sync
       (account_id, property_id, customer_id, conversation_id, message_id, communication_type, sender_type, content,
        "timestamp", sync_direction, sync_status, sync_type, resman_event_type)
     values (?, ?, ?, ?, ?, ?, 'prospect', ?, ?, 'to_resman', 'pending', ?, ?)
     on conflict (message_id) do update set retry_count = communication_log_sync.retry_count + 1, updated_at = now()
       where communication_log_sync.sync_status <> 'success' and communication_log_sync.account_id = excluded.account_id
     returning id, (xmax = 0) as inserted`,
    [c.accountId, c.propertyId, c.customerId, c.conversationId, c.messageId, c.communicationType, c.content, c.timestamp, c.syncType, c.eventType],
  );
  const row = rows[0];
  if (row) return { state: 'claimed', id: row.id, firstAttempt: row.inserted };
  const existing = await em.findOne(CommunicationLogSync, { messageId: c.messageId });
  if (existing?.syncStatus === 'success') return { state: 'done' };
  // The message id is taken by another account: never touch that row.
  throw new Error(`communication_log_sync row for message ${c.messageId} belongs to another account`);
}

/**
 * Records which ResMan prospect the customer now has, committed at once and while the customer's lock is still
 * held (the consumer's transaction commits only after prepare, so after the lock is released): the next holder,
 * on any replica, then updates this card instead of creating another. Leaves the row 'syncing' at version 0 when
 * new (recordSyncedMapping then completes it: 'synced', version + 1, so versions count committed syncs as before);
 * an unchanged mapping is left alone, another account's row is never touched.
 */
export async function recordProspectMapping(em: EntityManager, m: { accountId: string; propertyId: string; customerId: string; conversationId: string | null; prospectId: string; personId: string }): Promise<void> {
  await em.execute(
    `insert into ${S}.lead_sync_mapping
       (account_id, property_id, customer_id, conversation_id, resman_lead_id, resman_person_id, mapping_status, sync_status, last_sync_at, sync_version)
     values (?, ?, ?, ?, ?, ?, 'active', 'syncing', now(), 0)
     on conflict (property_id, customer_id) do update set
       resman_lead_id = excluded.resman_lead_id, resman_person_id = excluded.resman_person_id, mapping_status = 'active', sync_status = 'syncing'
     where lead_sync_mapping.account_id = excluded.account_id
       and (lead_sync_mapping.resman_lead_id is distinct from excluded.resman_lead_id or lead_sync_mapping.mapping_status <> 'active')`,
    [m.accountId, m.propertyId, m.customerId, m.conversationId, m.prospectId, m.personId || null],
  );
}

/**
 * The mapping as a committed sync leaves it: 'synced', version + 1 (1 when new), the latest conversation kept.
 * Null when the (property, customer) row is another account's: it is never touched.
 */
export async function recordSyncedMapping(
  em: EntityManager, m: { accountId: string; propertyId: string; customerId: string; conversationId: string | null; prospectId: string; personId: string },
): Promise<{ id: string; syncVersion: number } | null> {
  const [mapping] = await em.execute<Array<{ id: string; sync_version: number }>>(
    `insert into ${S}.lead_sync_mapping
       (account_id, property_id, customer_id, conversation_id, resman_lead_id, resman_person_id, mapping_status, sync_status, last_sync_at, sync_version)
     values (?, ?, ?, ?, ?, ?, 'active', 'synced', now(), 1)
     on conflict (property_id, customer_id) do update set
       conversation_id = coalesce(excluded.conversation_id, lead_sync_mapping.conversation_id),
       resman_lead_id = excluded.resman_lead_id, resman_person_id = excluded.resman_person_id,
       mapping_status = 'active', sync_status = 'synced', last_sync_at = now(),
       sync_version = lead_sync_mapping.sync_version + 1
     where lead_sync_mapping.account_id = excluded.account_id
     returning id, sync_version`,
    [m.accountId, m.propertyId, m.customerId, m.conversationId, m.prospectId, m.personId],
  );
  return mapping ? { id: mapping.id, syncVersion: mapping.sync_version } : null;
}

/** The customer's ResMan person and prospect at the property; the version counts changes of person. */
export async function recordContactSync(em: EntityManager, c: { accountId: string; propertyId: string; customerId: string; personId: string; prospectId: string }): Promise<void> {
  await em.execute(
    `insert into ${S}.contact_sync (account_id, property_id, customer_id, resman_contact_id, resman_prospect_id, sync_status, last_sync_at, sync_version)
     values (?, ?, ?, ?, ?, 'success', now(), 1)
     on conflict (property_id, customer_id) do update set
       resman_contact_id = excluded.resman_contact_id, resman_prospect_id = excluded.resman_prospect_id,
       sync_status = 'success', last_sync_at = now(),
       sync_version = contact_sync.sync_version + case when contact_sync.resman_contact_id is distinct from excluded.resman_contact_id then 1 else 0 end
     where contact_sync.account_id = excluded.account_id`,
    [c.accountId, c.propertyId, c.customerId, c.personId, c.prospectId],
  );
}

/** The property's other customers mapped to this prospect. */
export async function findOtherCustomersOfProspect(em: EntityManager, k: { accountId: string; propertyId: string; prospectId: string; customerId: string }): Promise<LeadSyncMappingRow[]> {
  return em.find(LeadSyncMapping, { accountId: k.accountId, propertyId: k.propertyId, resmanLeadId: k.prospectId, customerId: { $ne: k.customerId } });
}
