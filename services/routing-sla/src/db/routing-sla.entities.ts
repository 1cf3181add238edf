import { SLA_TIERS, sqlIn, type SlaTier } from '@domiq/proto/vocabulary';
import { defineEntity, p } from '@mikro-orm/core';
import type { WeeklyHours } from '../domain/business-calendar.ts';
import type { SlaOverrides } from '../domain/sla-policy.ts';

const SEED_BUSINESS_HOURS = `'{"monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"}, "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"}, "friday": {"start": "09:00", "end": "17:00"}}'`;

/** Seed §13 `slas`, per account; property_id null is the account-wide policy. */
export const Sla = defineEntity({
  name: 'Sla',
  tableName: 'slas',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    propertyId: p.uuid().nullable(),
    name: p.string().length(100),
    tier: p.string().length(20).$type<SlaTier>().index('idx_slas_tier'),
    firstResponseTimeMinutes: p.integer(),
    resolutionTimeMinutes: p.integer(),
    updateIntervalMinutes: p.integer().default(720),
    channelOverrides: p.json<SlaOverrides>().defaultRaw(`'{}'`),
    priorityOverrides: p.json<SlaOverrides>().defaultRaw(`'{}'`),
    businessHoursOnly: p.boolean().default(true),
    businessHours: p.json<WeeklyHours>().defaultRaw(SEED_BUSINESS_HOURS),
    timezone: p.string().length(50).default('UTC'),
    isDefault: p.boolean().default(false),
    isActive: p.boolean().default(true),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  },
  indexes: [
    { name: 'idx_slas_account_property', properties: ['accountId', 'propertyId'] },
    { name: 'idx_slas_default', properties: ['isDefault'], where: 'is_default = true' },
  ],
  checks: [
    { name: 'slas_tier_check', expression: sqlIn('tier', SLA_TIERS) },
    { name: 'slas_minutes_check', expression: `first_response_time_minutes > 0 and resolution_time_minutes > 0 and update_interval_minutes > 0` },
  ],
});

/**
 * Read model of routable users (role agent or supervisor) built from identity.user.created, plus what only
 * routing knows: presence, how many conversations each holds, and when each was last given one.
 */
export const Agent = defineEntity({
  name: 'Agent',
  tableName: 'agents',
  properties: {
    agentId: p.uuid().primary(),
    accountId: p.uuid().index('idx_agents_account'),
    teamId: p.uuid().nullable().index('idx_agents_team'),
    role: p.string().length(30),
    skills: p.array().default([]),
    maxConcurrentConversations: p.integer().default(5),
    status: p.string().length(20).default('offline'),
    currentConversationCount: p.integer().default(0),
    lastAssignedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  },
  indexes: [{ name: 'idx_agents_routable', properties: ['accountId', 'status'] }],
  checks: [
    { name: 'agents_role_check', expression: `role in ('agent', 'supervisor')` },
    { name: 'agents_status_check', expression: `status in ('available', 'busy', 'away', 'offline', 'do_not_disturb')` },
    { name: 'agents_capacity_check', expression: `current_conversation_count >= 0 and max_concurrent_conversations > 0` },
  ],
});

/** Seed §12 `assignments` (assignment history), per account. */
export const Assignment = defineEntity({
  name: 'Assignment',
  tableName: 'assignments',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid(),
    conversationId: p.uuid().index('idx_assignments_conversation'),
    agentId: p.uuid().index('idx_assignments_agent'),
    teamId: p.uuid().nullable(),
    assignedBy: p.string().length(30),
    assignedByUserId: p.uuid().nullable(),
    reason: p.text().nullable(),
    assignedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    unassignedAt: p.datetime().nullable(),
    unassignmentReason: p.string().length(50).nullable(),
  },
  indexes: [{ name: 'idx_assignments_active', properties: ['assignedAt'], where: 'unassigned_at is null' }],
  checks: [{ name: 'assignments_assigned_by_check', expression: `assigned_by in ('routing_engine', 'manual', 'escalation', 'transfer', 'reopen')` }],
});

/**
 * The SLA clock of one conversation (the seed keeps these on `conversations`, which routing does not own).
 * The row exists once routing has seen the conversation; policy and due times stay null when no policy applies.
 */
export const ConversationSla = defineEntity({
  name: 'ConversationSla',
  tableName: 'conversation_slas',
  properties: {
    conversationId: p.uuid().primary(),
    accountId: p.uuid().index('idx_conversation_slas_account'),
    propertyId: p.uuid().nullable(),
    slaPolicyId: p.uuid().nullable(),
    startedAt: p.datetime(),
    firstResponseDueAt: p.datetime().nullable(),
    resolutionDueAt: p.datetime().nullable(),
    firstResponseAt: p.datetime().nullable(),
    breached: p.boolean().default(false),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  },
  indexes: [{ name: 'idx_conversation_slas_first_response_due', properties: ['firstResponseDueAt'], where: 'first_response_at is null' }],
});

/** Seed §15 `automation_rules`, per account (table only; the rule engine comes later). */
export const AutomationRule = defineEntity({
  name: 'AutomationRule',
  tableName: 'automation_rules',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    accountId: p.uuid().index('idx_automation_rules_account'),
    name: p.string().length(100),
    description: p.text().nullable(),
    triggerEvent: p.string().length(50).index('idx_automation_rules_trigger'),
    conditions: p.json<Array<Record<string, unknown>>>().defaultRaw(`'[]'`),
    actions: p.json<Array<Record<string, unknown>>>().defaultRaw(`'[]'`),
    priority: p.integer().default(100).index('idx_automation_rules_priority'),
    stopProcessing: p.boolean().default(false),
    cooldownSeconds: p.integer().default(0),
    cooldownKey: p.string().length(50).nullable(),
    enabled: p.boolean().default(true).index('idx_automation_rules_enabled'),
    createdById: p.uuid().nullable(),
    updatedById: p.uuid().nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  },
  checks: [{
    name: 'automation_rules_trigger_event_check',
    expression: `trigger_event in ('message.received', 'conversation.created', 'conversation.state_changed', 'conversation.assigned', 'resolution.created', 'resolution.status_changed', 'sla.warning', 'sla.breached', 'customer.updated')`,
  }],
});

export const routingSlaEntities = [Sla, Agent, Assignment, ConversationSla, AutomationRule];

export type SlaRow = InstanceType<typeof Sla.class>;
