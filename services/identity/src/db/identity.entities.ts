import { CHANNELS, ROLES, SLA_TIERS, sqlIn, type Channel, type Role, type SlaTier } from '@domiq/proto/vocabulary';
import { CONSENT_SOURCES, CONSENT_STATUSES, type ConsentSource, type ConsentStatus } from '../domain/consent.ts';
import { IDENTIFIER_KINDS } from '../domain/identifier.ts';
import { MERGE_STATUSES, SUGGESTION_STATUSES, type MergedFields, type MergeStatus, type SuggestionStatus } from '../domain/customer-merge.ts';
import { defineEntity, p } from '@mikro-orm/core';

export const Account = defineEntity({
  name: 'Account',
  tableName: 'accounts',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.string().length(200),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});

export const Property = defineEntity({
  name: 'Property',
  tableName: 'properties',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_properties_account'),
    name: p.string().length(200),
    timezone: p.string().length(50).default('UTC'),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});

export const Team = defineEntity({
  name: 'Team',
  tableName: 'teams',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    name: p.string().length(100).index('idx_teams_name'),
    description: p.text().nullable(),
    defaultSkills: p.array().default([]),
    routingMode: p.string().length(20).default('round_robin'),
    slaOverrideId: p.uuid().nullable(),
    escalationTeamId: p.uuid().nullable(),
    isActive: p.boolean().default(true).index('idx_teams_active'),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  checks: [{ name: 'teams_routing_mode_check', expression: `routing_mode in ('round_robin', 'least_busy', 'skill_based', 'manual')` }],
});

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    email: p.string().length(255),
    passwordHash: p.string().length(255).nullable(),
    authProvider: p.string().length(50).default('local'),
    authProviderId: p.string().length(255).nullable(),
    firstName: p.string().length(100),
    lastName: p.string().length(100),
    displayName: p.string().length(200).nullable(),
    avatarUrl: p.text().nullable(),
    timezone: p.string().length(50).default('UTC'),
    locale: p.string().length(10).default('en'),
    role: p.string().length(30).$type<Role>().default('agent').index('idx_users_role'),
    permissions: p.json<string[]>().defaultRaw(`'[]'`),
    teamId: p.uuid().nullable().index('idx_users_team'),
    skills: p.array().default([]),
    skillLevels: p.json<Record<string, string>>().defaultRaw(`'{}'`),
    status: p.string().length(20).default('offline').index('idx_users_status'),
    maxConcurrentConversations: p.integer().default(5),
    slackUserId: p.string().length(50).nullable().index('idx_users_slack'),
    isActive: p.boolean().default(true),
    lastActiveAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  uniques: [{ name: 'uq_users_account_email', properties: ['accountId', 'email'] }],
  checks: [
    { name: 'users_role_check', expression: sqlIn('role', ROLES) },
    { name: 'users_status_check', expression: `status in ('available', 'busy', 'away', 'offline', 'do_not_disturb')` },
    { name: 'users_auth_provider_check', expression: `auth_provider in ('local', 'google', 'okta', 'saml')` },
  ],
});

/**
 * The seed's identity graph: always what the customer's customer_identifiers rows say, built from them by one SQL
 * expression in identifier.repository.ts (the only writer of either). Primary identifiers first. A customer may hold
 * several ids of one network (after a merge), so `social_ids` maps each network to a list.
 */
export interface IdentityGraph {
  emails: string[];
  phone_numbers: string[];
  social_ids: Record<string, string[]>;
  device_fingerprints: string[];
}

export interface CustomerProfile {
  name: string | null;
  company: string | null;
  avatar_url: string | null;
  metadata: Record<string, unknown>;
}

export const Customer = defineEntity({
  name: 'Customer',
  tableName: 'customers',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_customers_account'),
    identityGraph: p.json<IdentityGraph>(),
    profile: p.json<CustomerProfile>(),
    slaTier: p.string().length(20).$type<SlaTier>().default('standard').index('idx_customers_sla_tier'),
    tags: p.array().default([]),
    segments: p.array().default([]),
    riskFlags: p.array().default([]),
    status: p.string().length(20).default('active').index('idx_customers_status'),
    mergedIntoId: p.uuid().nullable().index('idx_customers_merged_into'),
    /** Set by EraseCustomer: the row stays (other services' ids point at it), its personal data is gone. */
    erasedAt: p.datetime().nullable(),
    firstSeenAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    lastSeenAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  checks: [
    { name: 'customers_sla_tier_check', expression: sqlIn('sla_tier', SLA_TIERS) },
    { name: 'customers_status_check', expression: `status in ('active', 'inactive', 'blocked', 'merged')` },
  ],
});

/**
 * One row per identifier a customer is known by, unique per account: this is what makes
 * find-or-create safe under concurrency (the identity_graph JSON mirrors it for reads). At most one primary per
 * customer, kind and network (a partial unique index, Migration20261204191041_merges).
 */
export const CustomerIdentifier = defineEntity({
  name: 'CustomerIdentifier',
  tableName: 'customer_identifiers',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    customerId: p.uuid().index('idx_customer_identifiers_customer'),
    kind: p.string().length(20),
    network: p.string().length(30).default(''),
    value: p.string().length(320),
    isVerified: p.boolean().default(false),
    isPrimary: p.boolean().default(false),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  uniques: [{ name: 'uq_customer_identifiers_value', properties: ['accountId', 'kind', 'network', 'value'] }],
  checks: [{ name: 'customer_identifiers_kind_check', expression: sqlIn('kind', IDENTIFIER_KINDS) }],
});

/**
 * Identity never merges by itself: when one person's identifiers (ResolveCustomers with same_person) belong to two
 * customers it answers the stronger one (customer_a) and records the pair here. One open suggestion per pair (a
 * partial unique index over the unordered pair, in the migration); a dismissed pair is not suggested again.
 */
export const MergeSuggestion = defineEntity({
  name: 'MergeSuggestion',
  tableName: 'merge_suggestions',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    customerAId: p.uuid().fieldName('customer_a_id').index('idx_merge_suggestions_customer_a'),
    customerBId: p.uuid().fieldName('customer_b_id').index('idx_merge_suggestions_customer_b'),
    reason: p.string().length(50),
    /** The person's identifiers either customer held (ids only: no personal value here). */
    identifierIds: p.array().columnType('uuid[]').default([]),
    status: p.string().length(20).$type<SuggestionStatus>().default('open'),
    mergeId: p.uuid().nullable(),
    decidedAt: p.datetime().nullable(),
    decidedBy: p.string().length(100).nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  indexes: [{ name: 'idx_merge_suggestions_account_status', properties: ['accountId', 'status', 'createdAt'] }],
  checks: [{ name: 'merge_suggestions_status_check', expression: sqlIn('status', SUGGESTION_STATUSES) }],
});

/** A consent of the target as it was before a merge changed it (null: none on record). */
export interface ConsentBefore {
  channel: Channel;
  before: { status: ConsentStatus; source: ConsentSource; recordedAt: string; recordedBy: string } | null;
  /** What the merge recorded instead (unmerge restores only a consent still as the merge left it). */
  merged: { status: ConsentStatus; recordedAt: string };
}

/**
 * The audit of one merge, and everything UnmergeCustomers needs to undo exactly that: the identifiers moved and those
 * whose primary flag it took (the target had a primary of their kind), the source's status, the target's fields
 * before and after, the consents it changed. Ids and flags only, no identifier values; an erasure of the customers
 * removes the before/after values too (status 'erased').
 */
export const CustomerMerge = defineEntity({
  name: 'CustomerMerge',
  tableName: 'customer_merges',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    sourceCustomerId: p.uuid().index('idx_customer_merges_source'),
    targetCustomerId: p.uuid().index('idx_customer_merges_target'),
    reason: p.text(),
    status: p.string().length(20).$type<MergeStatus>().default('merged'),
    /** The token's subject (a user id, or service:<name>). */
    mergedBy: p.string().length(100),
    mergedAt: p.datetime(),
    movedIdentifierIds: p.array().columnType('uuid[]').default([]),
    demotedIdentifierIds: p.array().columnType('uuid[]').default([]),
    sourceStatusBefore: p.string().length(20),
    /** The target's tags, segments and risk flags before the merge and as it left them (unmerge compares the two). */
    targetBefore: p.json<MergedFields>().nullable(),
    targetAfter: p.json<MergedFields>().nullable(),
    targetConsentsBefore: p.json<ConsentBefore[]>().nullable(),
    unmergedBy: p.string().length(100).nullable(),
    unmergedAt: p.datetime().nullable(),
    unmergeReason: p.text().nullable(),
    /** The moved identifiers the unmerge gave back to the source. */
    restoredIdentifierIds: p.array().columnType('uuid[]').nullable(),
  },
  checks: [{ name: 'customer_merges_status_check', expression: sqlIn('status', MERGE_STATUSES) }],
});

/** The non-personal audit trail of one erasure: who, when, why, and how much was removed; never a removed value. */
export const CustomerErasure = defineEntity({
  name: 'CustomerErasure',
  tableName: 'customer_erasures',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    customerId: p.uuid().index('idx_customer_erasures_customer'),
    /** The customer and every customer merged into it. */
    erasedCustomerIds: p.array().columnType('uuid[]'),
    reason: p.text(),
    erasedBy: p.string().length(100),
    erasedAt: p.datetime(),
    identifiersRemoved: p.integer(),
    consentsRemoved: p.integer(),
    mergeSuggestionsRemoved: p.integer(),
    mergesClosed: p.integer(),
    profileFieldsCleared: p.integer(),
    /** identity's own event_log rows whose personal payload keys were replaced by "[erased]". */
    eventsRedacted: p.integer(),
  },
});

/** A customer's consent per channel: the latest word (the events keep the history). */
export const CustomerConsent = defineEntity({
  name: 'CustomerConsent',
  tableName: 'customer_consents',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    customerId: p.uuid(),
    channel: p.string().length(30).$type<Channel>(),
    status: p.string().length(20).$type<ConsentStatus>(),
    source: p.string().length(30).$type<ConsentSource>(),
    recordedAt: p.datetime(),
    recordedBy: p.string().length(100),
  },
  uniques: [{ name: 'uq_customer_consents_channel', properties: ['accountId', 'customerId', 'channel'] }],
  checks: [
    { name: 'customer_consents_channel_check', expression: sqlIn('channel', CHANNELS) },
    { name: 'customer_consents_status_check', expression: sqlIn('status', CONSENT_STATUSES) },
    { name: 'customer_consents_source_check', expression: sqlIn('source', CONSENT_SOURCES) },
  ],
});

export type AccountRow = InstanceType<typeof Account.class>;
export type PropertyRow = InstanceType<typeof Property.class>;
export type TeamRow = InstanceType<typeof Team.class>;
export type UserRow = InstanceType<typeof User.class>;
export type CustomerRow = InstanceType<typeof Customer.class>;
export type MergeSuggestionRow = InstanceType<typeof MergeSuggestion.class>;
export type CustomerMergeRow = InstanceType<typeof CustomerMerge.class>;
export type CustomerErasureRow = InstanceType<typeof CustomerErasure.class>;
export type CustomerConsentRow = InstanceType<typeof CustomerConsent.class>;

export const identityEntities = [Account, Property, Team, User, Customer, CustomerIdentifier, MergeSuggestion, CustomerMerge, CustomerErasure, CustomerConsent];
