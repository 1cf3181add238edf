import { ROLES, SLA_TIERS, sqlIn, type Role, type SlaTier } from '@domiq/proto/vocabulary';
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
    status: p.string().length(20).default('offline'),
    maxConcurrentConversations: p.integer().default(5),
    slackUserId: p.string().length(50).nullable(),
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

export interface IdentityGraph {
  emails: string[];
  phone_numbers: string[];
  social_ids: Record<string, string>;
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
    mergedIntoId: p.uuid().nullable(),
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
 * find-or-create safe under concurrency (the identity_graph JSON mirrors it for reads).
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
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  uniques: [{ name: 'uq_customer_identifiers_value', properties: ['accountId', 'kind', 'network', 'value'] }],
  checks: [{ name: 'customer_identifiers_kind_check', expression: `kind in ('phone', 'email', 'social', 'device')` }],
});

export type AccountRow = InstanceType<typeof Account.class>;
export type PropertyRow = InstanceType<typeof Property.class>;
export type TeamRow = InstanceType<typeof Team.class>;
export type UserRow = InstanceType<typeof User.class>;
export type CustomerRow = InstanceType<typeof Customer.class>;

export const identityEntities = [Account, Property, Team, User, Customer, CustomerIdentifier];
