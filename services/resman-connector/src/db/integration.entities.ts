// The per-property ResMan integration (resman-lead-sync.md's resman_integration): where and how to push.
import { defineEntity, p } from '@mikro-orm/core';
import { createdAt, SYNC_DIRECTIONS, updatedAt } from './columns.ts';

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

export type IntegrationRow = InstanceType<typeof ResmanIntegration.class>;
