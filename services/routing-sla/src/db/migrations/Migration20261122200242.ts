import { Migration } from '@mikro-orm/migrations';

export class Migration20261122200242 extends Migration {

  override name = 'Migration20261122200242';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "routing_sla";`);
    this.addSql(`create table "routing_sla"."agents" ("agent_id" uuid not null, "account_id" uuid not null, "team_id" uuid null, "role" varchar(30) not null, "skills" text[] not null default '{}', "max_concurrent_conversations" int not null default 5, "status" varchar(20) not null default 'offline', "current_conversation_count" int not null default 0, "last_assigned_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("agent_id"));`);
    this.addSql(`create index "idx_agents_account" on "routing_sla"."agents" ("account_id");`);
    this.addSql(`create index "idx_agents_team" on "routing_sla"."agents" ("team_id");`);
    this.addSql(`create index "idx_agents_routable" on "routing_sla"."agents" ("account_id", "status");`);

    this.addSql(`create table "routing_sla"."assignments" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "conversation_id" uuid not null, "agent_id" uuid not null, "team_id" uuid null, "assigned_by" varchar(30) not null, "assigned_by_user_id" uuid null, "reason" text null, "assigned_at" timestamptz not null default now(), "unassigned_at" timestamptz null, "unassignment_reason" varchar(50) null, primary key ("id"));`);
    this.addSql(`create index "idx_assignments_conversation" on "routing_sla"."assignments" ("conversation_id");`);
    this.addSql(`create index "idx_assignments_agent" on "routing_sla"."assignments" ("agent_id");`);
    this.addSql(`create index "idx_assignments_active" on "routing_sla"."assignments" ("assigned_at") where unassigned_at is null;`);

    this.addSql(`create table "routing_sla"."automation_rules" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "name" varchar(100) not null, "description" text null, "trigger_event" varchar(50) not null, "conditions" jsonb not null default '[]', "actions" jsonb not null default '[]', "priority" int not null default 100, "stop_processing" boolean not null default false, "cooldown_seconds" int not null default 0, "cooldown_key" varchar(50) null, "enabled" boolean not null default true, "created_by_id" uuid null, "updated_by_id" uuid null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_automation_rules_account" on "routing_sla"."automation_rules" ("account_id");`);
    this.addSql(`create index "idx_automation_rules_trigger" on "routing_sla"."automation_rules" ("trigger_event");`);
    this.addSql(`create index "idx_automation_rules_priority" on "routing_sla"."automation_rules" ("priority");`);
    this.addSql(`create index "idx_automation_rules_enabled" on "routing_sla"."automation_rules" ("enabled");`);

    this.addSql(`create table "routing_sla"."conversation_slas" ("conversation_id" uuid not null, "account_id" uuid not null, "property_id" uuid null, "sla_policy_id" uuid null, "started_at" timestamptz not null, "first_response_due_at" timestamptz null, "resolution_due_at" timestamptz null, "first_response_at" timestamptz null, "breached" boolean not null default false, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("conversation_id"));`);
    this.addSql(`create index "idx_conversation_slas_account" on "routing_sla"."conversation_slas" ("account_id");`);
    this.addSql(`create index "idx_conversation_slas_first_response_due" on "routing_sla"."conversation_slas" ("first_response_due_at") where first_response_at is null;`);

    this.addSql(`create table "routing_sla"."slas" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid null, "name" varchar(100) not null, "tier" varchar(20) not null, "first_response_time_minutes" int not null, "resolution_time_minutes" int not null, "update_interval_minutes" int not null default 720, "channel_overrides" jsonb not null default '{}', "priority_overrides" jsonb not null default '{}', "business_hours_only" boolean not null default true, "business_hours" jsonb not null default '{"monday": {"start": "09:00", "end": "17:00"}, "tuesday": {"start": "09:00", "end": "17:00"}, "wednesday": {"start": "09:00", "end": "17:00"}, "thursday": {"start": "09:00", "end": "17:00"}, "friday": {"start": "09:00", "end": "17:00"}}', "timezone" varchar(50) not null default 'UTC', "is_default" boolean not null default false, "is_active" boolean not null default true, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_slas_tier" on "routing_sla"."slas" ("tier");`);
    this.addSql(`create index "idx_slas_account_property" on "routing_sla"."slas" ("account_id", "property_id");`);
    this.addSql(`create index "idx_slas_default" on "routing_sla"."slas" ("is_default") where is_default = true;`);

    this.addSql(`alter table "routing_sla"."agents" add constraint "agents_role_check" check (role in ('agent', 'supervisor'));`);
    this.addSql(`alter table "routing_sla"."agents" add constraint "agents_status_check" check (status in ('available', 'busy', 'away', 'offline', 'do_not_disturb'));`);
    this.addSql(`alter table "routing_sla"."agents" add constraint "agents_capacity_check" check (current_conversation_count >= 0 and max_concurrent_conversations > 0);`);

    this.addSql(`alter table "routing_sla"."assignments" add constraint "assignments_assigned_by_check" check (assigned_by in ('routing_engine', 'manual', 'escalation', 'transfer', 'reopen'));`);

    this.addSql(`alter table "routing_sla"."automation_rules" add constraint "automation_rules_trigger_event_check" check (trigger_event in ('message.received', 'conversation.created', 'conversation.state_changed', 'conversation.assigned', 'resolution.created', 'resolution.status_changed', 'sla.warning', 'sla.breached', 'customer.updated'));`);

    this.addSql(`alter table "routing_sla"."slas" add constraint "slas_tier_check" check (tier in ('free', 'standard', 'premium', 'enterprise'));`);
    this.addSql(`alter table "routing_sla"."slas" add constraint "slas_minutes_check" check (first_response_time_minutes > 0 and resolution_time_minutes > 0 and update_interval_minutes > 0);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "routing_sla"."agents" cascade;`);
    this.addSql(`drop table if exists "routing_sla"."assignments" cascade;`);
    this.addSql(`drop table if exists "routing_sla"."automation_rules" cascade;`);
    this.addSql(`drop table if exists "routing_sla"."conversation_slas" cascade;`);
    this.addSql(`drop table if exists "routing_sla"."slas" cascade;`);

    this.addSql(`drop schema if exists "routing_sla";`);
  }

}
