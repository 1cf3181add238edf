import { Migration } from '@mikro-orm/migrations';

export class Migration20261122195358 extends Migration {

  override name = 'Migration20261122195358';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "identity";`);
    this.addSql(`create table "identity"."accounts" ("id" uuid not null default gen_random_uuid(), "name" varchar(200) not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);

    this.addSql(`create table "identity"."customers" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "identity_graph" jsonb not null, "profile" jsonb not null, "sla_tier" varchar(20) not null default 'standard', "tags" text[] not null default '{}', "segments" text[] not null default '{}', "risk_flags" text[] not null default '{}', "status" varchar(20) not null default 'active', "merged_into_id" uuid null, "first_seen_at" timestamptz not null default now(), "last_seen_at" timestamptz not null default now(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_customers_account" on "identity"."customers" ("account_id");`);
    this.addSql(`create index "idx_customers_sla_tier" on "identity"."customers" ("sla_tier");`);
    this.addSql(`create index "idx_customers_status" on "identity"."customers" ("status");`);

    this.addSql(`create table "identity"."customer_identifiers" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "customer_id" uuid not null, "kind" varchar(20) not null, "network" varchar(30) not null default '', "value" varchar(320) not null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_customer_identifiers_customer" on "identity"."customer_identifiers" ("customer_id");`);
    this.addSql(`alter table "identity"."customer_identifiers" add constraint "uq_customer_identifiers_value" unique ("account_id", "kind", "network", "value");`);

    this.addSql(`create table "identity"."properties" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "name" varchar(200) not null, "timezone" varchar(50) not null default 'UTC', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_properties_account" on "identity"."properties" ("account_id");`);

    this.addSql(`create table "identity"."teams" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "name" varchar(100) not null, "description" text null, "default_skills" text[] not null default '{}', "routing_mode" varchar(20) not null default 'round_robin', "sla_override_id" uuid null, "escalation_team_id" uuid null, "is_active" boolean not null default true, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_teams_name" on "identity"."teams" ("name");`);
    this.addSql(`create index "idx_teams_active" on "identity"."teams" ("is_active");`);

    this.addSql(`create table "identity"."users" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "email" varchar(255) not null, "password_hash" varchar(255) null, "auth_provider" varchar(50) not null default 'local', "auth_provider_id" varchar(255) null, "first_name" varchar(100) not null, "last_name" varchar(100) not null, "display_name" varchar(200) null, "avatar_url" text null, "timezone" varchar(50) not null default 'UTC', "locale" varchar(10) not null default 'en', "role" varchar(30) not null default 'agent', "permissions" jsonb not null default '[]', "team_id" uuid null, "skills" text[] not null default '{}', "skill_levels" jsonb not null default '{}', "status" varchar(20) not null default 'offline', "max_concurrent_conversations" int not null default 5, "slack_user_id" varchar(50) null, "is_active" boolean not null default true, "last_active_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_users_role" on "identity"."users" ("role");`);
    this.addSql(`create index "idx_users_team" on "identity"."users" ("team_id");`);
    this.addSql(`alter table "identity"."users" add constraint "uq_users_account_email" unique ("account_id", "email");`);

    this.addSql(`alter table "identity"."customers" add constraint "customers_sla_tier_check" check (sla_tier in ('free', 'standard', 'premium', 'enterprise'));`);
    this.addSql(`alter table "identity"."customers" add constraint "customers_status_check" check (status in ('active', 'inactive', 'blocked', 'merged'));`);

    this.addSql(`alter table "identity"."customer_identifiers" add constraint "customer_identifiers_kind_check" check (kind in ('phone', 'email', 'social', 'device'));`);

    this.addSql(`alter table "identity"."teams" add constraint "teams_routing_mode_check" check (routing_mode in ('round_robin', 'least_busy', 'skill_based', 'manual'));`);

    this.addSql(`alter table "identity"."users" add constraint "users_role_check" check (role in ('admin', 'supervisor', 'agent', 'engineer', 'api', 'property_manager'));`);
    this.addSql(`alter table "identity"."users" add constraint "users_status_check" check (status in ('available', 'busy', 'away', 'offline', 'do_not_disturb'));`);
    this.addSql(`alter table "identity"."users" add constraint "users_auth_provider_check" check (auth_provider in ('local', 'google', 'okta', 'saml'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "identity"."accounts" cascade;`);
    this.addSql(`drop table if exists "identity"."customers" cascade;`);
    this.addSql(`drop table if exists "identity"."customer_identifiers" cascade;`);
    this.addSql(`drop table if exists "identity"."properties" cascade;`);
    this.addSql(`drop table if exists "identity"."teams" cascade;`);
    this.addSql(`drop table if exists "identity"."users" cascade;`);

    this.addSql(`drop schema if exists "identity";`);
  }

}
