// The connector's bookkeeping around one ResMan push: the pending communication row written before ResMan
// is called, the failure record when it does not go through, and the success record with the mapping.
import type { EntityManager } from '@domiq/db';
import { CommunicationLogSync, LeadSyncConflict, LeadSyncLog, LeadSyncMapping, ResmanIntegration } from './resman-connector.entities.ts';
import type { CommunicationType } from '../domain/communication.ts';

const S = '"resman_connector"';

export type IntegrationRow = InstanceType<typeof ResmanIntegration.class>;

/** The property's integration when it pushes to ResMan at all. */
export async function findActiveIntegration(em: EntityManager, accountId: string, propertyId: string): Promise<IntegrationRow | null> {
  const integration = await em.findOne(ResmanIntegration, { accountId, propertyId, syncEnabled: true });
  if (!integration || integration.syncDirection === 'from_resman') return null;
  if (integration.syncStatus === 'paused' || integration.syncStatus === 'disconnected') return null;
  return integration;
}

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
 * Records (in its own committed transaction) that this message is about to be pushed, before ResMan is
 * called. A row that was already there means an earlier attempt may have reached ResMan; a row already in
 * 'success' means there is nothing left to do.
 */
export async function claimCommunication(em: EntityManager, c: PendingCommunication): Promise<Claim> {
  return em.transactional(async (tx) => {
    const rows = await tx.execute<Array<{ id: string; inserted: boolean }>>(
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
    const existing = await tx.findOne(CommunicationLogSync, { messageId: c.messageId });
    if (existing?.syncStatus === 'success') return { state: 'done' };
    // The message id is taken by another account: never touch that row.
    throw new Error(`communication_log_sync row for message ${c.messageId} belongs to another account`);
  });
}

export interface SyncFailure {
  communicationId: string;
  integrationId: string;
  accountId: string;
  propertyId: string;
  customerId: string;
  conversationId: string | null;
  messageId: string;
  prospectId: string | null;
  syncType: 'create' | 'update';
  terminal: boolean;
  auth: boolean;
  errorCode: string;
  errorMessage: string;
  processingTimeMs: number;
}

/** Records a push that did not go through, in its own transaction (the consumer's rolls back). */
export async function recordSyncFailure(em: EntityManager, f: SyncFailure): Promise<void> {
  await em.transactional(async (tx) => {
    const comm = await tx.findOne(CommunicationLogSync, { id: f.communicationId, accountId: f.accountId });
    if (comm && comm.syncStatus !== 'success') {
      comm.syncStatus = f.terminal ? 'failed' : 'pending';
      comm.lastError = f.errorMessage.slice(0, 2000);
    }
    tx.create(LeadSyncLog, {
      accountId: f.accountId, propertyId: f.propertyId, customerId: f.customerId, conversationId: f.conversationId, messageId: f.messageId,
      resmanLeadId: f.prospectId, syncDirection: 'to_resman', syncStatus: f.terminal ? 'failed' : 'retry', syncType: f.syncType,
      errorMessage: f.errorMessage.slice(0, 2000), errorCode: f.errorCode.slice(0, 100), retryCount: comm?.retryCount ?? 0,
      processingTimeMs: f.processingTimeMs,
    });
    const integration = await tx.findOne(ResmanIntegration, { id: f.integrationId, accountId: f.accountId });
    if (integration) {
      integration.errorCount += 1;
      integration.lastSyncAt = new Date();
      if (f.auth) integration.syncStatus = 'error';
    }
  });
}

export interface SyncSuccess {
  communicationId: string;
  integrationId: string;
  accountId: string;
  propertyId: string;
  customerId: string;
  conversationId: string | null;
  messageId: string;
  prospectId: string;
  personId: string;
  eventType: string;
  content: string;
  syncType: 'create' | 'update';
  created: boolean;
  attached: boolean;
  alreadyInResman: boolean;
  processingTimeMs: number;
}

/**
 * Records which ResMan prospect the customer now has, committed at once and while the customer's lock is still
 * held (the consumer's transaction commits only after prepare, so after the lock is released): the next holder,
 * on any replica, then updates this card instead of creating another. Leaves the row 'syncing' at version 0 when
 * new (recordSyncSuccess then completes it: 'synced', version + 1, so versions count committed syncs as before);
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

/** Inside the consumer's transaction: the communication is logged, the mapping and contact are upserted. */
export async function recordSyncSuccess(tx: EntityManager, s: SyncSuccess): Promise<{ mappingId: string; syncVersion: number }> {
  const comm = await tx.findOneOrFail(CommunicationLogSync, { id: s.communicationId, accountId: s.accountId });
  Object.assign(comm, { syncStatus: 'success', resmanProspectId: s.prospectId, syncType: s.syncType, content: s.content, resmanEventType: s.eventType, lastError: null });
  tx.create(LeadSyncLog, {
    accountId: s.accountId, propertyId: s.propertyId, customerId: s.customerId, conversationId: s.conversationId, messageId: s.messageId,
    resmanLeadId: s.prospectId, syncDirection: 'to_resman', syncStatus: 'success', syncType: s.syncType,
    syncData: { messageId: s.messageId, eventType: s.eventType, created: s.created, attached: s.attached, alreadyInResman: s.alreadyInResman },
    responseData: { prospectId: s.prospectId, personId: s.personId },
    retryCount: comm.retryCount, processingTimeMs: s.processingTimeMs,
  });
  const [mapping] = await tx.execute<Array<{ id: string; sync_version: number }>>(
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
    [s.accountId, s.propertyId, s.customerId, s.conversationId, s.prospectId, s.personId],
  );
  if (!mapping) throw new Error(`lead_sync_mapping for property ${s.propertyId} belongs to another account`);
  await tx.execute(
    `insert into ${S}.contact_sync (account_id, property_id, customer_id, resman_contact_id, resman_prospect_id, sync_status, last_sync_at, sync_version)
     values (?, ?, ?, ?, ?, 'success', now(), 1)
     on conflict (property_id, customer_id) do update set
       resman_contact_id = excluded.resman_contact_id, resman_prospect_id = excluded.resman_prospect_id,
       sync_status = 'success', last_sync_at = now(),
       sync_version = contact_sync.sync_version + case when contact_sync.resman_contact_id is distinct from excluded.resman_contact_id then 1 else 0 end
     where contact_sync.account_id = excluded.account_id`,
    [s.accountId, s.propertyId, s.customerId, s.personId, s.prospectId],
  );
  if (s.attached) await recordDuplicateLead(tx, s);
  const integration = await tx.findOne(ResmanIntegration, { id: s.integrationId, accountId: s.accountId });
  if (integration) {
    integration.lastSyncAt = new Date();
    integration.lastSuccessfulSyncAt = new Date();
    integration.errorCount = 0;
    if (integration.syncStatus === 'error') integration.syncStatus = 'active';
  }
  return { mappingId: mapping.id, syncVersion: mapping.sync_version };
}

// Another DomIQ customer of this property already maps to the prospect we attached to: identity may not
// have merged two identities of one person yet. Kept for review instead of refused.
async function recordDuplicateLead(tx: EntityManager, s: SyncSuccess): Promise<void> {
  const others = await tx.find(LeadSyncMapping, { accountId: s.accountId, propertyId: s.propertyId, resmanLeadId: s.prospectId, customerId: { $ne: s.customerId } });
  for (const other of others) {
    tx.create(LeadSyncConflict, {
      accountId: s.accountId, propertyId: s.propertyId, customerId: s.customerId, conversationId: s.conversationId, resmanLeadId: s.prospectId,
      conflictType: 'duplicate_lead', conflictField: 'customer_id', resmanValue: { prospectId: s.prospectId },
      domiqValue: { customerIds: [other.customerId, s.customerId] }, conflictSeverity: 'medium', resolutionStatus: 'manual_review',
    });
  }
}
