// Lead sync (resman-lead-sync.md): the log, queue and conflicts of lead pushes, and each customer's prospect.
import { defineEntity, p } from '@mikro-orm/core';
import { createdAt, SYNC_DIRECTIONS, updatedAt, type JsonDocument } from './columns.ts';

const RESOLUTION_STRATEGIES = `('resman_wins', 'domiq_wins', 'manual_review', 'merged')`;

export const LeadSyncLog = defineEntity({
  name: 'LeadSyncLog',
  tableName: 'lead_sync_log',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_lead_sync_log_account'),
    // Not in the seed's table but grouped by in its sync_success_rates view.
    propertyId: p.uuid().nullable(),
    customerId: p.uuid().nullable(),
    conversationId: p.uuid().nullable(),
    messageId: p.uuid().nullable(),
    resmanLeadId: p.string().length(100).nullable(),
    syncDirection: p.string().length(20),
    syncStatus: p.string().length(50),
    syncType: p.string().length(50),
    syncData: p.json<Record<string, unknown>>().nullable(),
    responseData: p.json<Record<string, unknown>>().nullable(),
    errorMessage: p.text().nullable(),
    errorCode: p.string().length(100).nullable(),
    conflictResolution: p.string().length(50).nullable(),
    conflictDetails: p.json<Record<string, unknown>>().nullable(),
    retryCount: p.integer().default(0),
    processingTimeMs: p.integer().nullable(),
    createdAt: createdAt(),
  },
  indexes: [
    // The seed declares UNIQUE (conversation_id, created_at) "for performance": an index is what it means;
    // uniqueness would reject two log rows of one conversation written in the same microsecond.
    { name: 'idx_lead_sync_log_conversation_created', properties: ['conversationId', 'createdAt'] },
    { name: 'idx_lead_sync_log_status_created', columns: [{ name: 'sync_status' }, { name: 'created_at', sort: 'desc' }] },
    { name: 'idx_lead_sync_log_resman_lead', columns: [{ name: 'resman_lead_id' }, { name: 'created_at', sort: 'desc' }] },
    { name: 'idx_lead_sync_log_direction_type', properties: ['syncDirection', 'syncType', 'createdAt'] },
    { name: 'idx_lead_sync_log_processing_time', properties: ['processingTimeMs'], where: 'processing_time_ms is not null' },
    { name: 'idx_lead_sync_log_error_tracking', properties: ['errorCode', 'createdAt'], where: 'error_code is not null' },
  ],
  checks: [
    { name: 'lead_sync_log_sync_direction_check', expression: `sync_direction in ${SYNC_DIRECTIONS}` },
    { name: 'lead_sync_log_sync_status_check', expression: `sync_status in ('pending', 'success', 'failed', 'conflict', 'retry')` },
    { name: 'lead_sync_log_sync_type_check', expression: `sync_type in ('create', 'update', 'status_change', 'enrichment', 'merge')` },
    { name: 'lead_sync_log_conflict_resolution_check', expression: `conflict_resolution in ${RESOLUTION_STRATEGIES}` },
  ],
});

export const LeadSyncQueue = defineEntity({
  name: 'LeadSyncQueue',
  tableName: 'lead_sync_queue',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_lead_sync_queue_account'),
    propertyId: p.uuid().nullable(),
    customerId: p.uuid().nullable(),
    conversationId: p.uuid().nullable(),
    resmanLeadId: p.string().length(100).nullable(),
    syncOperation: p.string().length(50),
    syncData: p.json<Record<string, unknown>>(),
    priority: p.integer().default(1),
    retryCount: p.integer().default(0),
    maxRetries: p.integer().default(3),
    nextRetryAt: p.datetime().nullable(),
    status: p.string().length(50).default('pending'),
    errorMessage: p.text().nullable(),
    processedAt: p.datetime().nullable(),
    // Not in the seed. The DomIQ message a 'push' logs on the guest card: one queue row per message (UNIQUE, so a
    // redelivered event enqueues nothing); null for rows of other operations.
    messageId: p.string().length(100).nullable(),
    // Not in the seed: by which worker (process) the row was last claimed, and the claim's lease (locked_at, renewed
    // while the push runs; a dead worker's 'processing' row is taken back once it is older than LEAD_SYNC_LEASE_MS,
    // src/queue/lead-sync-queue.runner.ts). A finished row keeps the worker that finished it, a row pending again has none.
    lockedAt: p.datetime().nullable(),
    lockedBy: p.string().length(100).nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [{ name: 'uq_lead_sync_queue_message', properties: ['messageId'] }],
  indexes: [
    { name: 'idx_lead_sync_queue_status_priority', columns: [{ name: 'status' }, { name: 'priority', sort: 'desc' }, { name: 'created_at' }] },
    { name: 'idx_lead_sync_queue_next_retry', properties: ['nextRetryAt'], where: `status = 'pending'` },
    { name: 'idx_lead_sync_queue_conversation', properties: ['conversationId', 'createdAt'] },
    // The worker's work: the message pushes not yet finished, by customer (a push carries one customer's messages).
    { name: 'idx_lead_sync_queue_active', properties: ['accountId', 'propertyId', 'customerId', 'createdAt'], where: `status in ('pending', 'processing') and message_id is not null` },
    // The worker's look (findDueGroups): per account, the oldest due pending rows; and the rows left 'processing'.
    { name: 'idx_lead_sync_queue_due', columns: [{ name: 'account_id' }, { name: 'priority', sort: 'desc' }, { name: 'created_at' }], where: `status = 'pending' and message_id is not null` },
    { name: 'idx_lead_sync_queue_processing', properties: ['accountId'], where: `status = 'processing' and message_id is not null` },
  ],
  checks: [
    { name: 'lead_sync_queue_sync_operation_check', expression: `sync_operation in ('push', 'pull', 'merge', 'status_update', 'enrichment')` },
    { name: 'lead_sync_queue_status_check', expression: `status in ('pending', 'processing', 'completed', 'failed', 'cancelled')` },
    { name: 'chk_priority_range', expression: 'priority >= 1 and priority <= 3' },
    { name: 'chk_retry_count', expression: 'retry_count <= max_retries' },
  ],
});

export const LeadSyncConflict = defineEntity({
  name: 'LeadSyncConflict',
  tableName: 'lead_sync_conflicts',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_lead_sync_conflicts_account'),
    propertyId: p.uuid().nullable(),
    customerId: p.uuid().nullable(),
    conversationId: p.uuid().nullable(),
    resmanLeadId: p.string().length(100).nullable(),
    conflictType: p.string().length(50),
    conflictField: p.string().length(100).nullable(),
    resmanValue: p.json<JsonDocument>().nullable(),
    domiqValue: p.json<JsonDocument>().nullable(),
    conflictSeverity: p.string().length(20).default('medium'),
    resolutionStatus: p.string().length(50).default('pending'),
    resolutionStrategy: p.string().length(50).nullable(),
    resolvedValue: p.json<JsonDocument>().nullable(),
    // An identity user (property manager); ids only across services.
    resolvedBy: p.uuid().nullable(),
    resolvedAt: p.datetime().nullable(),
    notes: p.text().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  indexes: [
    { name: 'idx_lead_sync_conflicts_status', properties: ['resolutionStatus', 'conflictSeverity'] },
    { name: 'idx_lead_sync_conflicts_type_field', properties: ['conflictType', 'conflictField'] },
    { name: 'idx_lead_sync_conflicts_resolved', properties: ['resolvedAt'], where: `resolution_status = 'resolved'` },
    { name: 'idx_lead_sync_conflicts_by_resolver', properties: ['resolvedBy', 'resolvedAt'], where: 'resolved_by is not null' },
  ],
  checks: [
    { name: 'lead_sync_conflicts_conflict_type_check', expression: `conflict_type in ('status_conflict', 'data_conflict', 'duplicate_lead', 'field_mismatch')` },
    { name: 'lead_sync_conflicts_conflict_severity_check', expression: `conflict_severity in ('low', 'medium', 'high', 'critical')` },
    { name: 'lead_sync_conflicts_resolution_status_check', expression: `resolution_status in ('pending', 'auto_resolved', 'manual_review', 'resolved')` },
    { name: 'lead_sync_conflicts_resolution_strategy_check', expression: `resolution_strategy in ${RESOLUTION_STRATEGIES}` },
  ],
});

/**
 * One ResMan prospect per DomIQ customer per property. The seed keys this table by conversation, but a
 * customer who writes again after a conversation is resolved starts a new conversation, and ResMan must
 * keep seeing one guest card with its growing event history, not a new prospect per conversation; so the
 * key is (property_id, customer_id) and conversation_id only records the latest conversation. The seed's
 * UNIQUE(resman_lead_id) is an index here: two DomIQ customers identity has not merged yet may be one
 * ResMan prospect, which is recorded as a duplicate_lead conflict rather than refused.
 * The resman_* columns the seed adds to DomIQ's conversation table (sync status, version, custom fields)
 * live here as sync_status / sync_version / custom_fields.
 */
export const LeadSyncMapping = defineEntity({
  name: 'LeadSyncMapping',
  tableName: 'lead_sync_mapping',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_lead_sync_mapping_account'),
    propertyId: p.uuid(),
    customerId: p.uuid(),
    conversationId: p.uuid().nullable(),
    // ResMan ProspectID.
    resmanLeadId: p.string().length(100).index('idx_lead_sync_mapping_resman_lead'),
    resmanPersonId: p.string().length(100).nullable(),
    mappingStatus: p.string().length(50).default('active'),
    syncStatus: p.string().length(50).default('not_synced'),
    customFields: p.json<Record<string, unknown>>().nullable(),
    lastSyncAt: p.datetime().nullable().defaultRaw('now()'),
    syncVersion: p.integer().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [{ name: 'uq_lead_sync_mapping_property_customer', properties: ['propertyId', 'customerId'] }],
  indexes: [
    { name: 'idx_lead_sync_mapping_status', properties: ['mappingStatus', 'lastSyncAt'] },
    { name: 'idx_lead_sync_mapping_property', properties: ['propertyId', 'mappingStatus'] },
  ],
  checks: [
    { name: 'lead_sync_mapping_mapping_status_check', expression: `mapping_status in ('active', 'inactive', 'merged', 'deleted')` },
    { name: 'lead_sync_mapping_sync_status_check', expression: `sync_status in ('not_synced', 'syncing', 'synced', 'failed', 'conflict')` },
    { name: 'chk_resman_sync_version', expression: 'sync_version >= 0' },
  ],
});

export type LeadSyncMappingRow = InstanceType<typeof LeadSyncMapping.class>;
