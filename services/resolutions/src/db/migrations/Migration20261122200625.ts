import { Migration } from '@mikro-orm/migrations';

export class Migration20261122200625 extends Migration {

  override name = 'Migration20261122200625';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "resolutions";`);
    this.addSql(`create table "resolutions"."customer_updates" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "resolution_id" uuid not null, "conversation_id" uuid not null, "update_type" varchar(30) not null, "content" text not null, "channel" varchar(30) not null, "message_id" uuid null, "status" varchar(20) not null default 'pending', "error_message" text null, "scheduled_for" timestamptz null, "sent_at" timestamptz null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_customer_updates_resolution" on "resolutions"."customer_updates" ("resolution_id");`);
    this.addSql(`create index "idx_customer_updates_conversation" on "resolutions"."customer_updates" ("conversation_id");`);
    this.addSql(`create index "idx_customer_updates_scheduled" on "resolutions"."customer_updates" ("scheduled_for") where status = 'pending';`);

    this.addSql(`create table "resolutions"."knowledge_base_articles" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "title" varchar(255) not null, "slug" varchar(255) not null, "content" text not null, "content_html" text null, "summary" text null, "category_id" uuid null, "tags" text[] not null default '{}', "intent_keywords" text[] not null default '{}', "exclude_from_ai" boolean not null default false, "visibility" varchar(20) not null default 'internal', "view_count" int not null default 0, "helpful_count" int not null default 0, "not_helpful_count" int not null default 0, "ai_suggestion_count" int not null default 0, "ai_success_count" int not null default 0, "status" varchar(20) not null default 'draft', "author_id" uuid null, "last_updated_by_id" uuid null, "published_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_kb_articles_category" on "resolutions"."knowledge_base_articles" ("category_id");`);
    this.addSql(`create index "idx_kb_articles_visibility" on "resolutions"."knowledge_base_articles" ("visibility");`);
    this.addSql(`create index "idx_kb_articles_status" on "resolutions"."knowledge_base_articles" ("status");`);
    this.addSql(`create index "idx_kb_articles_tags" on "resolutions"."knowledge_base_articles" using gin ("tags");`);
    this.addSql(`create index "idx_kb_articles_keywords" on "resolutions"."knowledge_base_articles" using gin ("intent_keywords");`);
    this.addSql(`create index "idx_kb_articles_content_fts" on "resolutions"."knowledge_base_articles" using gin (to_tsvector('english', title || ' ' || content));`);
    this.addSql(`alter table "resolutions"."knowledge_base_articles" add constraint "uq_kb_articles_account_slug" unique ("account_id", "slug");`);

    this.addSql(`create table "resolutions"."knowledge_base_categories" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "name" varchar(100) not null, "slug" varchar(100) not null, "parent_id" uuid null, "sort_order" int not null default 0, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`alter table "resolutions"."knowledge_base_categories" add constraint "uq_kb_categories_account_slug" unique ("account_id", "slug");`);

    this.addSql(`create table "resolutions"."resolutions" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid null, "customer_id" uuid null, "conversation_id" uuid not null, "issue_type" varchar(30) not null, "issue_subtype" varchar(50) null, "owning_team" varchar(30) not null, "owner_id" uuid null, "status" varchar(30) not null default 'investigating', "expected_resolution_at" timestamptz null, "eta_window_hours" int null, "eta_updated_at" timestamptz null, "eta_update_reason" text null, "sla_started_at" timestamptz not null default now(), "sla_paused_at" timestamptz null, "sla_total_paused_seconds" int not null default 0, "sla_breached" boolean not null default false, "priority" varchar(10) not null default 'P2', "root_cause" text null, "root_cause_category" varchar(50) null, "affected_systems" text[] not null default '{}', "fix_description" text null, "fix_commit_url" text null, "fix_deployed_at" timestamptz null, "is_recurrence" boolean not null default false, "parent_resolution_id" uuid null, "recurrence_count" int not null default 0, "tags" text[] not null default '{}', "metadata" jsonb not null default '{}', "acknowledged_at" timestamptz null, "resolved_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_resolutions_account" on "resolutions"."resolutions" ("account_id");`);
    this.addSql(`create index "idx_resolutions_conversation" on "resolutions"."resolutions" ("conversation_id");`);
    this.addSql(`create index "idx_resolutions_owning_team" on "resolutions"."resolutions" ("owning_team");`);
    this.addSql(`create index "idx_resolutions_status" on "resolutions"."resolutions" ("status");`);
    this.addSql(`create index "idx_resolutions_priority" on "resolutions"."resolutions" ("priority");`);
    this.addSql(`create index "idx_resolutions_created" on "resolutions"."resolutions" ("created_at");`);
    this.addSql(`create unique index "uq_resolutions_open_conversation" on "resolutions"."resolutions" ("account_id", "conversation_id") where status not in ('resolved', 'wont_fix', 'duplicate');`);

    this.addSql(`create table "resolutions"."resolution_updates" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "resolution_id" uuid not null, "update_type" varchar(30) not null, "content" text not null, "visibility" varchar(20) not null default 'internal', "previous_status" varchar(30) null, "new_status" varchar(30) null, "author_id" uuid not null, "author_source" varchar(20) not null default 'app', "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_resolution_updates_resolution" on "resolutions"."resolution_updates" ("resolution_id");`);
    this.addSql(`create index "idx_resolution_updates_type" on "resolutions"."resolution_updates" ("update_type");`);
    this.addSql(`create index "idx_resolution_updates_visibility" on "resolutions"."resolution_updates" ("visibility");`);

    this.addSql(`create table "resolutions"."swarms" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "resolution_id" uuid not null, "slack_channel_id" varchar(50) not null, "slack_channel_name" varchar(100) not null, "slack_channel_url" text null, "participants" jsonb not null default '[]', "lead_id" uuid null, "status" varchar(20) not null default 'active', "last_synced_at" timestamptz null, "sync_enabled" boolean not null default true, "created_at" timestamptz not null default now(), "archived_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "resolutions"."swarms" add constraint "uq_swarms_resolution" unique ("resolution_id");`);
    this.addSql(`create index "idx_swarms_slack_channel" on "resolutions"."swarms" ("slack_channel_id");`);
    this.addSql(`create index "idx_swarms_status" on "resolutions"."swarms" ("status");`);

    this.addSql(`alter table "resolutions"."customer_updates" add constraint "customer_updates_update_type_check" check (update_type in ('acknowledgement', 'status_update', 'eta_update', 'resolution_summary', 'scheduled_update'));`);
    this.addSql(`alter table "resolutions"."customer_updates" add constraint "customer_updates_status_check" check (status in ('pending', 'sent', 'delivered', 'failed'));`);

    this.addSql(`alter table "resolutions"."knowledge_base_articles" add constraint "kb_articles_visibility_check" check (visibility in ('internal', 'customer', 'both'));`);
    this.addSql(`alter table "resolutions"."knowledge_base_articles" add constraint "kb_articles_status_check" check (status in ('draft', 'published', 'archived'));`);

    this.addSql(`alter table "resolutions"."resolutions" add constraint "resolutions_issue_type_check" check (issue_type in ('technical', 'billing', 'ops', 'compliance', 'security', 'other'));`);
    this.addSql(`alter table "resolutions"."resolutions" add constraint "resolutions_owning_team_check" check (owning_team in ('engineering', 'infra', 'finance', 'support', 'security', 'product'));`);
    this.addSql(`alter table "resolutions"."resolutions" add constraint "resolutions_status_check" check (status in ('investigating', 'awaiting_fix', 'fix_in_progress', 'awaiting_deploy', 'deployed', 'monitoring', 'resolved', 'wont_fix', 'duplicate'));`);
    this.addSql(`alter table "resolutions"."resolutions" add constraint "resolutions_priority_check" check (priority in ('P0', 'P1', 'P2', 'P3'));`);

    this.addSql(`alter table "resolutions"."resolution_updates" add constraint "resolution_updates_update_type_check" check (update_type in ('status_change', 'note', 'customer_update', 'eta_change', 'assignment_change', 'priority_change', 'fix_deployed', 'root_cause_identified'));`);
    this.addSql(`alter table "resolutions"."resolution_updates" add constraint "resolution_updates_visibility_check" check (visibility in ('internal', 'customer'));`);
    this.addSql(`alter table "resolutions"."resolution_updates" add constraint "resolution_updates_author_source_check" check (author_source in ('app', 'slack', 'api', 'automation'));`);

    this.addSql(`alter table "resolutions"."swarms" add constraint "swarms_status_check" check (status in ('active', 'resolved', 'archived'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "resolutions"."customer_updates" cascade;`);
    this.addSql(`drop table if exists "resolutions"."knowledge_base_articles" cascade;`);
    this.addSql(`drop table if exists "resolutions"."knowledge_base_categories" cascade;`);
    this.addSql(`drop table if exists "resolutions"."resolutions" cascade;`);
    this.addSql(`drop table if exists "resolutions"."resolution_updates" cascade;`);
    this.addSql(`drop table if exists "resolutions"."swarms" cascade;`);

    this.addSql(`drop schema if exists "resolutions";`);
  }

}
