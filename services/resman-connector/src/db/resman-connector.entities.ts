// The four resman-*.md seeds, translated per DESIGN.md "Seeds that touch another service's tables":
// every table carries account_id (tenancy); references to other services' rows (conversation, customer,
// property, "user") are plain ids without foreign keys; the resman_* columns the seeds add to DomIQ's
// conversation / "user" tables live here, on lead_sync_mapping and contact_sync.
import { defineEntity, p } from '@mikro-orm/core';

/** A JSONB column's value: an object or a list. */
export type JsonDocument = Record<string, unknown> | unknown[];

const createdAt = () => p.datetime().defaultRaw('now()').onCreate(() => new Date());
const updatedAt = () => p.datetime().defaultRaw('now()').onCreate(() => new Date());

const SYNC_DIRECTIONS = `('to_resman', 'from_resman', 'bidirectional')`;
const RESOLUTION_STRATEGIES = `('resman_wins', 'domiq_wins', 'manual_review', 'merged')`;

// ---------------------------------------------------------------- lead sync (resman-lead-sync.md)

export const ResmanIntegration = defineEntity({
  name: 'ResmanIntegration',
  tableName: 'resman_integration',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_resman_integration_account'),
    propertyId: p.uuid(),
    resmanPropertyId: p.string().length(100),
    // The seed's JSONB of encrypted keys, kept as one SecretBox ciphertext of {integrationPartnerId, apiKey}.
    apiCredentials: p.text().comment('SecretBox ciphertext of {integrationPartnerId, apiKey}; never logged or returned'),
    baseUrl: p.string().length(500),
    resmanAccountId: p.bigint('number'),
    // ResMan employee id put on every Event's Agent/AgentID (an event needs a valid one).
    defaultAgentId: p.string().length(100),
    // TransactionSource of the events we post (ResMan rejects an unknown one).
    prospectSourceId: p.string().length(100),
    webhookUrl: p.string().length(255).nullable(),
    syncEnabled: p.boolean().default(true),
    syncDirection: p.string().length(20).default('bidirectional'),
    syncFrequency: p.string().length(20).default('realtime'),
    lastSyncAt: p.datetime().nullable().defaultRaw('now()'),
    lastSuccessfulSyncAt: p.datetime().nullable(),
    syncStatus: p.string().length(50).default('active'),
    errorCount: p.integer().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [{ name: 'uq_resman_integration_property', properties: ['propertyId'] }],
  checks: [
    { name: 'resman_integration_sync_direction_check', expression: `sync_direction in ${SYNC_DIRECTIONS}` },
    { name: 'resman_integration_sync_frequency_check', expression: `sync_frequency in ('realtime', 'hourly', 'daily')` },
    { name: 'resman_integration_sync_status_check', expression: `sync_status in ('active', 'paused', 'error', 'disconnected')` },
    { name: 'resman_integration_base_url_check', expression: `base_url ~ '^https?://'` },
  ],
});

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
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  indexes: [
    { name: 'idx_lead_sync_queue_status_priority', columns: [{ name: 'status' }, { name: 'priority', sort: 'desc' }, { name: 'created_at' }] },
    { name: 'idx_lead_sync_queue_next_retry', properties: ['nextRetryAt'], where: `status = 'pending'` },
    { name: 'idx_lead_sync_queue_conversation', properties: ['conversationId', 'createdAt'] },
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

// ---------------------------------------------------------------- communications (resman-communications-logging.md)

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

// ---------------------------------------------------------------- contacts (resman-contact-management.md)

/**
 * The seed's "user" is the prospect a chatbot talks to, which in DomIQ is an identity customer, so user_id
 * is customer_id; one row per customer per property (a ResMan PersonID belongs to one property's prospect).
 * The resman_* columns the lead-sync seed adds to "user" live here too.
 */
export const ContactSync = defineEntity({
  name: 'ContactSync',
  tableName: 'contact_sync',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_contact_sync_account'),
    propertyId: p.uuid(),
    customerId: p.uuid(),
    // ResMan PersonID.
    resmanContactId: p.string().length(100).nullable().index('idx_contact_sync_resman_contact'),
    resmanProspectId: p.string().length(100).nullable(),
    syncStatus: p.string().length(50).nullable(),
    syncVersion: p.integer().default(0),
    customFields: p.json<Record<string, unknown>>().nullable(),
    lastSyncAt: p.datetime().nullable().defaultRaw('now()'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [{ name: 'uq_contact_sync_property_customer', properties: ['propertyId', 'customerId'] }],
  indexes: [{ name: 'idx_contact_sync_status', properties: ['syncStatus', 'lastSyncAt'] }],
  checks: [
    { name: 'chk_contact_sync_status', expression: `sync_status in ('pending', 'success', 'failed', 'merged')` },
    { name: 'chk_user_resman_sync_version', expression: 'sync_version >= 0' },
    { name: 'chk_user_resman_sync_mapping', expression: `sync_status <> 'success' or resman_contact_id is not null` },
  ],
});

export const ContactMatchingRule = defineEntity({
  name: 'ContactMatchingRule',
  tableName: 'contact_matching_rules',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_contact_matching_rules_account'),
    propertyId: p.uuid().nullable().index('idx_contact_matching_rules_property'),
    // Email, phone, name combinations.
    matchingCriteria: p.json<Record<string, unknown>>(),
    mergeStrategy: p.string().length(50).nullable(),
    createdAt: createdAt(),
  },
  checks: [{ name: 'chk_merge_strategy', expression: `merge_strategy in ('resman_wins', 'domiq_wins', 'manual_review')` }],
});

export const ContactEnrichmentLog = defineEntity({
  name: 'ContactEnrichmentLog',
  tableName: 'contact_enrichment_log',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_contact_enrichment_log_account'),
    // The seed's contact_id ("user") = an identity customer.
    customerId: p.uuid().nullable(),
    enrichmentType: p.string().length(50).nullable(),
    enrichedData: p.json<Record<string, unknown>>().nullable(),
    source: p.string().length(50).nullable(),
    createdAt: createdAt(),
  },
  indexes: [{ name: 'idx_contact_enrichment_log_contact', properties: ['customerId', 'enrichmentType'] }],
  checks: [
    { name: 'chk_enrichment_type', expression: `enrichment_type in ('conversation_data', 'preferences', 'interaction_history')` },
    { name: 'contact_enrichment_log_source_check', expression: `source in ('chatbot', 'resman', 'manual')` },
  ],
});

// ---------------------------------------------------------------- status (resman-status-update.md)

export const StatusSyncLog = defineEntity({
  name: 'StatusSyncLog',
  tableName: 'status_sync_log',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_status_sync_log_account'),
    // The seed's view reaches property_id through conversation; here it is stored.
    propertyId: p.uuid().nullable(),
    customerId: p.uuid().nullable(),
    conversationId: p.uuid().nullable(),
    resmanLeadId: p.string().length(100).nullable(),
    oldStatus: p.string().length(50).nullable(),
    newStatus: p.string().length(50).nullable(),
    statusReason: p.text().nullable(),
    updatedBy: p.string().length(100).nullable(),
    syncDirection: p.string().length(20).nullable(),
    syncStatus: p.string().length(50).nullable(),
    contextData: p.json<Record<string, unknown>>().nullable(),
    createdAt: createdAt(),
  },
  indexes: [{ name: 'idx_status_sync_log_status', properties: ['newStatus', 'syncStatus', 'createdAt'] }],
  checks: [
    { name: 'chk_status_sync_status', expression: `sync_status in ('pending', 'success', 'failed')` },
    { name: 'chk_status_sync_direction', expression: `sync_direction in ('to_resman', 'from_resman')` },
    { name: 'chk_status_updated_by', expression: `updated_by in ('chatbot', 'resman_user', 'system')` },
  ],
});

export const StatusWorkflowRule = defineEntity({
  name: 'StatusWorkflowRule',
  tableName: 'status_workflow_rules',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_status_workflow_rules_account'),
    propertyId: p.uuid().nullable(),
    triggerStatus: p.string().length(50).nullable(),
    targetStatus: p.string().length(50).nullable(),
    conditions: p.json<Record<string, unknown>>().nullable(),
    actions: p.json<Record<string, unknown>>().nullable(),
    isActive: p.boolean().default(true),
    createdAt: createdAt(),
  },
  indexes: [{ name: 'idx_status_workflow_rules_property', properties: ['propertyId', 'isActive'] }],
});

export const StatusNotificationPreference = defineEntity({
  name: 'StatusNotificationPreference',
  tableName: 'status_notification_preferences',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_status_notification_preferences_account'),
    propertyId: p.uuid().nullable(),
    statusType: p.string().length(50).nullable(),
    notificationMethod: p.string().length(50).nullable(),
    recipients: p.json<JsonDocument>().nullable(),
    templateId: p.string().length(100).nullable(),
    isActive: p.boolean().default(true),
    createdAt: createdAt(),
  },
  indexes: [{ name: 'idx_status_notification_preferences_property', properties: ['propertyId', 'statusType'] }],
  checks: [{ name: 'chk_notification_method', expression: `notification_method in ('email', 'sms', 'slack', 'in_app')` }],
});

export const resmanConnectorEntities = [
  ResmanIntegration, LeadSyncLog, LeadSyncQueue, LeadSyncConflict, LeadSyncMapping,
  CommunicationLogSync, CommunicationMetadata, CommunicationComplianceFlag, CommunicationSyncQueue,
  ContactSync, ContactMatchingRule, ContactEnrichmentLog,
  StatusSyncLog, StatusWorkflowRule, StatusNotificationPreference,
];
