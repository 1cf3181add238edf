// Status updates (resman-status-update.md): lead status changes synced to ResMan, workflow and notification rules.
import { defineEntity, p } from '@mikro-orm/core';
import { createdAt, type JsonDocument } from './columns.ts';

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
