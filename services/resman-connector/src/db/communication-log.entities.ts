// Communications logging (resman-communications-logging.md): each DomIQ message logged to ResMan, and its extras.
import { defineEntity, p } from '@mikro-orm/core';
import { createdAt, SYNC_DIRECTIONS, updatedAt, type JsonDocument } from './columns.ts';

/** One row per DomIQ message logged to ResMan (UNIQUE message_id), written 'pending' before ResMan is called. */
export const CommunicationLogSync = defineEntity({
  name: 'CommunicationLogSync',
  tableName: 'communication_log_sync',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_communication_log_sync_account'),
    propertyId: p.uuid(),
    customerId: p.uuid(),
    conversationId: p.uuid().nullable(),
    resmanProspectId: p.string().length(100).nullable(),
    communicationType: p.string().length(50).nullable(),
    messageId: p.string().length(100),
    senderType: p.string().length(50).nullable(),
    // Redacted (no card numbers / SSNs), exactly what was sent as the event's Comments.
    content: p.text().nullable(),
    contentSummary: p.text().nullable(),
    sentimentScore: p.decimal('number').precision(3).scale(2).nullable(),
    keyTopics: p.json<JsonDocument>().nullable(),
    timestamp: p.datetime().nullable(),
    syncDirection: p.string().length(20).nullable(),
    syncStatus: p.string().length(50).nullable(),
    syncType: p.string().length(50).nullable(),
    // The MITS EventType posted (TextFromProspect, EmailFromProspect, ...).
    resmanEventType: p.string().length(50).nullable(),
    lastError: p.text().nullable(),
    retryCount: p.integer().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [{ name: 'uq_communication_log_sync_message', properties: ['messageId'] }],
  indexes: [
    { name: 'idx_communication_log_sync_status', properties: ['syncStatus', 'syncDirection', 'createdAt'] },
    { name: 'idx_communication_log_sync_type', properties: ['communicationType', 'senderType', 'timestamp'] },
    { name: 'idx_communication_log_sync_prospect', properties: ['resmanProspectId', 'timestamp'] },
    { name: 'idx_communication_log_sync_customer', properties: ['accountId', 'propertyId', 'customerId'] },
  ],
  checks: [
    { name: 'communication_log_sync_communication_type_check', expression: `communication_type in ('chat', 'email', 'sms', 'voice')` },
    { name: 'communication_log_sync_sender_type_check', expression: `sender_type in ('ai', 'prospect', 'staff')` },
    { name: 'communication_log_sync_sync_direction_check', expression: `sync_direction in ${SYNC_DIRECTIONS}` },
    { name: 'communication_log_sync_sync_status_check', expression: `sync_status in ('pending', 'success', 'failed', 'conflict')` },
    { name: 'communication_log_sync_sync_type_check', expression: `sync_type in ('create', 'update', 'enrichment', 'compliance')` },
    { name: 'chk_sentiment_score', expression: 'sentiment_score >= -1 and sentiment_score <= 1' },
    { name: 'chk_communication_log_sync_retry_count', expression: 'retry_count >= 0' },
  ],
});

export const CommunicationMetadata = defineEntity({
  name: 'CommunicationMetadata',
  tableName: 'communication_metadata',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_communication_metadata_account'),
    communicationLog: p.manyToOne(CommunicationLogSync).deleteRule('cascade').nullable(),
    metadataType: p.string().length(50).nullable(),
    metadataValue: p.json<JsonDocument>().nullable(),
    syncStatus: p.string().length(50).nullable(),
    createdAt: createdAt(),
  },
  indexes: [{ name: 'idx_communication_metadata_type', properties: ['metadataType', 'syncStatus'] }],
  checks: [
    { name: 'communication_metadata_metadata_type_check', expression: `metadata_type in ('attachments', 'links', 'emotions', 'intents')` },
    { name: 'communication_metadata_sync_status_check', expression: `sync_status in ('pending', 'success', 'failed')` },
  ],
});

export const CommunicationComplianceFlag = defineEntity({
  name: 'CommunicationComplianceFlag',
  tableName: 'communication_compliance_flags',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_communication_compliance_flags_account'),
    communicationLog: p.manyToOne(CommunicationLogSync).deleteRule('cascade').nullable(),
    flagType: p.string().length(50).nullable(),
    flagDescription: p.text().nullable(),
    flagSeverity: p.string().length(20).nullable(),
    isResolved: p.boolean().default(false),
    resolvedBy: p.string().length(100).nullable(),
    resolvedAt: p.datetime().nullable(),
    syncStatus: p.string().length(50).nullable(),
    createdAt: createdAt(),
  },
  indexes: [{ name: 'idx_communication_compliance_flags_severity', properties: ['flagSeverity', 'isResolved'] }],
  checks: [
    { name: 'communication_compliance_flags_flag_type_check', expression: `flag_type in ('gdpr_consent', 'opt_out', 'sensitive_data', 'regulatory')` },
    { name: 'communication_compliance_flags_flag_severity_check', expression: `flag_severity in ('low', 'medium', 'high', 'critical')` },
    { name: 'communication_compliance_flags_sync_status_check', expression: `sync_status in ('pending', 'success', 'failed')` },
  ],
});

export const CommunicationSyncQueue = defineEntity({
  name: 'CommunicationSyncQueue',
  tableName: 'communication_sync_queue',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_communication_sync_queue_account'),
    communicationLog: p.manyToOne(CommunicationLogSync).deleteRule('cascade').nullable(),
    syncOperation: p.string().length(50).nullable(),
    syncData: p.json<Record<string, unknown>>().nullable(),
    priority: p.integer().default(1),
    retryCount: p.integer().default(0),
    maxRetries: p.integer().default(3),
    nextRetryAt: p.datetime().nullable(),
    createdAt: createdAt(),
  },
  indexes: [{ name: 'idx_communication_sync_queue_priority', properties: ['priority', 'nextRetryAt'], where: 'next_retry_at is not null' }],
  checks: [
    { name: 'communication_sync_queue_sync_operation_check', expression: `sync_operation in ('push', 'pull', 'merge', 'compliance_check')` },
    { name: 'communication_sync_queue_priority_check', expression: 'priority in (1, 2, 3)' },
    { name: 'chk_communication_sync_queue_priority_range', expression: 'priority >= 1 and priority <= 3' },
    { name: 'chk_retry_count_limit', expression: 'retry_count <= max_retries' },
  ],
});
