// Contact management (resman-contact-management.md): which ResMan person each customer is, and how to match them.
import { defineEntity, p } from '@mikro-orm/core';
import { createdAt, updatedAt } from './columns.ts';

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
