import { ISSUE_TYPES, SEVERITIES, sqlIn, type IssueType, type Severity } from '@domiq/proto/vocabulary';
import { defineEntity, p } from '@mikro-orm/core';

/** Seed §6 `resolutions`, per account; property and customer ids kept from the escalation for scoping and the dashboard. */
export const Resolution = defineEntity({
  name: 'Resolution',
  tableName: 'resolutions',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_resolutions_account'),
    propertyId: p.uuid().nullable(),
    customerId: p.uuid().nullable(),
    conversationId: p.uuid().index('idx_resolutions_conversation'),
    issueType: p.string().length(30).$type<IssueType>(),
    issueSubtype: p.string().length(50).nullable(),
    owningTeam: p.string().length(30).index('idx_resolutions_owning_team'),
    ownerId: p.uuid().nullable(),
    status: p.string().length(30).default('investigating').index('idx_resolutions_status'),
    expectedResolutionAt: p.datetime().nullable(),
    etaWindowHours: p.integer().nullable(),
    etaUpdatedAt: p.datetime().nullable(),
    etaUpdateReason: p.text().nullable(),
    slaStartedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    slaPausedAt: p.datetime().nullable(),
    slaTotalPausedSeconds: p.integer().default(0),
    slaBreached: p.boolean().default(false),
    priority: p.string().length(10).$type<Severity>().default('P2').index('idx_resolutions_priority'),
    rootCause: p.text().nullable(),
    rootCauseCategory: p.string().length(50).nullable(),
    affectedSystems: p.array().default([]),
    fixDescription: p.text().nullable(),
    fixCommitUrl: p.text().nullable(),
    fixDeployedAt: p.datetime().nullable(),
    isRecurrence: p.boolean().default(false),
    parentResolutionId: p.uuid().nullable(),
    recurrenceCount: p.integer().default(0),
    tags: p.array().default([]),
    metadata: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    acknowledgedAt: p.datetime().nullable(),
    resolvedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).index('idx_resolutions_created'),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  },
  uniques: [
    // At most one open resolution per conversation: backs the consumer's "note, not a second resolution" rule.
    { name: 'uq_resolutions_open_conversation', properties: ['accountId', 'conversationId'], where: `status not in ('resolved', 'wont_fix', 'duplicate')` },
  ],
  checks: [
    { name: 'resolutions_issue_type_check', expression: sqlIn('issue_type', ISSUE_TYPES) },
    { name: 'resolutions_owning_team_check', expression: `owning_team in ('engineering', 'infra', 'finance', 'support', 'security', 'product')` },
    {
      name: 'resolutions_status_check',
      expression: `status in ('investigating', 'awaiting_fix', 'fix_in_progress', 'awaiting_deploy', 'deployed', 'monitoring', 'resolved', 'wont_fix', 'duplicate')`,
    },
    { name: 'resolutions_priority_check', expression: sqlIn('priority', SEVERITIES) },
  ],
});

/** Seed §7 `resolution_updates`, per account. */
export const ResolutionUpdate = defineEntity({
  name: 'ResolutionUpdate',
  tableName: 'resolution_updates',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    resolutionId: p.uuid().index('idx_resolution_updates_resolution'),
    updateType: p.string().length(30).index('idx_resolution_updates_type'),
    content: p.text(),
    visibility: p.string().length(20).default('internal').index('idx_resolution_updates_visibility'),
    previousStatus: p.string().length(30).nullable(),
    newStatus: p.string().length(30).nullable(),
    authorId: p.uuid(),
    authorSource: p.string().length(20).default('app'),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  checks: [
    {
      name: 'resolution_updates_update_type_check',
      expression: `update_type in ('status_change', 'note', 'customer_update', 'eta_change', 'assignment_change', 'priority_change', 'fix_deployed', 'root_cause_identified')`,
    },
    { name: 'resolution_updates_visibility_check', expression: `visibility in ('internal', 'customer')` },
    { name: 'resolution_updates_author_source_check', expression: `author_source in ('app', 'slack', 'api', 'automation')` },
  ],
});

/** Seed §8 `swarms` (Slack), per account; one per resolution. */
export const Swarm = defineEntity({
  name: 'Swarm',
  tableName: 'swarms',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    resolutionId: p.uuid().unique('uq_swarms_resolution'),
    slackChannelId: p.string().length(50).index('idx_swarms_slack_channel'),
    slackChannelName: p.string().length(100),
    slackChannelUrl: p.text().nullable(),
    participants: p.json<Array<{ user_id: string; slack_id: string; role: string }>>().defaultRaw(`'[]'`),
    leadId: p.uuid().nullable(),
    status: p.string().length(20).default('active').index('idx_swarms_status'),
    lastSyncedAt: p.datetime().nullable(),
    syncEnabled: p.boolean().default(true),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    archivedAt: p.datetime().nullable(),
  },
  checks: [{ name: 'swarms_status_check', expression: `status in ('active', 'resolved', 'archived')` }],
});

/** Seed §18 `customer_updates` (proactive updates), per account. */
export const CustomerUpdate = defineEntity({
  name: 'CustomerUpdate',
  tableName: 'customer_updates',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    resolutionId: p.uuid().index('idx_customer_updates_resolution'),
    conversationId: p.uuid().index('idx_customer_updates_conversation'),
    updateType: p.string().length(30),
    content: p.text(),
    channel: p.string().length(30),
    messageId: p.uuid().nullable(),
    status: p.string().length(20).default('pending'),
    errorMessage: p.text().nullable(),
    scheduledFor: p.datetime().nullable(),
    sentAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  indexes: [{ name: 'idx_customer_updates_scheduled', properties: ['scheduledFor'], where: `status = 'pending'` }],
  checks: [
    { name: 'customer_updates_update_type_check', expression: `update_type in ('acknowledgement', 'status_update', 'eta_update', 'resolution_summary', 'scheduled_update')` },
    { name: 'customer_updates_status_check', expression: `status in ('pending', 'sent', 'delivered', 'failed')` },
  ],
});

/** Seed §16 `knowledge_base_categories`, per account (slug unique within the account). */
export const KnowledgeBaseCategory = defineEntity({
  name: 'KnowledgeBaseCategory',
  tableName: 'knowledge_base_categories',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    name: p.string().length(100),
    slug: p.string().length(100),
    parentId: p.uuid().nullable(),
    sortOrder: p.integer().default(0),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
  uniques: [{ name: 'uq_kb_categories_account_slug', properties: ['accountId', 'slug'] }],
});

/** Seed §16 `knowledge_base_articles`, per account (slug unique within the account). */
export const KnowledgeBaseArticle = defineEntity({
  name: 'KnowledgeBaseArticle',
  tableName: 'knowledge_base_articles',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    title: p.string().length(255),
    slug: p.string().length(255),
    content: p.text(),
    contentHtml: p.text().nullable(),
    summary: p.text().nullable(),
    categoryId: p.uuid().nullable().index('idx_kb_articles_category'),
    tags: p.array().default([]),
    intentKeywords: p.array().default([]),
    excludeFromAi: p.boolean().default(false),
    visibility: p.string().length(20).default('internal').index('idx_kb_articles_visibility'),
    viewCount: p.integer().default(0),
    helpfulCount: p.integer().default(0),
    notHelpfulCount: p.integer().default(0),
    aiSuggestionCount: p.integer().default(0),
    aiSuccessCount: p.integer().default(0),
    status: p.string().length(20).default('draft').index('idx_kb_articles_status'),
    authorId: p.uuid().nullable(),
    lastUpdatedById: p.uuid().nullable(),
    publishedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  },
  uniques: [{ name: 'uq_kb_articles_account_slug', properties: ['accountId', 'slug'] }],
  indexes: [
    { name: 'idx_kb_articles_tags', properties: ['tags'], type: 'gin' },
    { name: 'idx_kb_articles_keywords', properties: ['intentKeywords'], type: 'gin' },
    { name: 'idx_kb_articles_content_fts', expression: `create index "idx_kb_articles_content_fts" on "resolutions"."knowledge_base_articles" using gin (to_tsvector('english', title || ' ' || content))` },
  ],
  checks: [
    { name: 'kb_articles_visibility_check', expression: `visibility in ('internal', 'customer', 'both')` },
    { name: 'kb_articles_status_check', expression: `status in ('draft', 'published', 'archived')` },
  ],
});

export const resolutionsEntities = [Resolution, ResolutionUpdate, Swarm, CustomerUpdate, KnowledgeBaseCategory, KnowledgeBaseArticle];

export type ResolutionRow = InstanceType<typeof Resolution.class>;
