import { Migration } from '@mikro-orm/migrations';

export class Migration20261122200135 extends Migration {

  override name = 'Migration20261122200135';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "channel_gateway";`);
    this.addSql(`create table "channel_gateway"."channels" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "property_id" uuid not null, "channel_key" varchar(63) not null, "type" varchar(30) not null, "name" varchar(100) not null, "address" varchar(320) null, "config" jsonb not null default '{}', "credentials_encrypted" text null, "status" varchar(20) not null default 'active', "last_error" text null, "last_error_at" timestamptz null, "default_team_id" uuid null, "default_skills" text[] not null default '{}', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_channels_account" on "channel_gateway"."channels" ("account_id");`);
    this.addSql(`create index "idx_channels_property" on "channel_gateway"."channels" ("property_id");`);
    this.addSql(`alter table "channel_gateway"."channels" add constraint "uq_channels_channel_key" unique ("channel_key");`);
    this.addSql(`create index "idx_channels_type" on "channel_gateway"."channels" ("type");`);
    this.addSql(`create index "idx_channels_status" on "channel_gateway"."channels" ("status");`);

    this.addSql(`create table "channel_gateway"."event_log" ("id" bigserial primary key, "event_type" varchar(50) not null, "event_version" int not null default 1, "entity_type" varchar(50) not null, "entity_id" uuid not null, "payload" jsonb not null, "actor_type" varchar(20) null, "actor_id" uuid null, "actor_ip" inet null, "actor_user_agent" text null, "account_id" uuid null, "conversation_id" uuid null, "customer_id" uuid null, "resolution_id" uuid null, "correlation_id" uuid null, "causation_id" bigint null, "causation_msg_id" varchar(100) null, "subject" varchar(200) not null, "traceparent" varchar(64) null, "created_at" timestamptz not null default now());`);
    this.addSql(`create index "idx_event_log_account" on "channel_gateway"."event_log" ("account_id");`);
    this.addSql(`create index "idx_event_log_conversation" on "channel_gateway"."event_log" ("conversation_id");`);
    this.addSql(`create index "idx_event_log_customer" on "channel_gateway"."event_log" ("customer_id");`);
    this.addSql(`create index "idx_event_log_correlation" on "channel_gateway"."event_log" ("correlation_id");`);
    this.addSql(`create index "idx_event_log_created" on "channel_gateway"."event_log" ("created_at");`);
    this.addSql(`create index "idx_event_log_entity" on "channel_gateway"."event_log" ("entity_type", "entity_id");`);
    this.addSql(`create index "idx_event_log_type" on "channel_gateway"."event_log" ("event_type");`);

    this.addSql(`create table "channel_gateway"."event_log_publication" ("event_id" bigint not null, "stream_seq" bigint null, "duplicate" boolean not null default false, "published_at" timestamptz not null default now(), primary key ("event_id"));`);

    this.addSql(`create table "channel_gateway"."inbound_messages" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "channel_id" uuid not null, "provider" varchar(30) not null, "provider_message_id" varchar(100) not null, "from_address" varchar(320) not null, "to_address" varchar(320) not null, "body" text not null, "raw" jsonb not null, "received_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_inbound_messages_channel" on "channel_gateway"."inbound_messages" ("channel_id");`);
    this.addSql(`create index "idx_inbound_messages_account_received" on "channel_gateway"."inbound_messages" ("account_id", "received_at");`);
    this.addSql(`alter table "channel_gateway"."inbound_messages" add constraint "uq_inbound_messages_provider_message" unique ("provider", "provider_message_id");`);

    this.addSql(`create table "channel_gateway"."processed_event" ("consumer" varchar(100) not null, "event_id" varchar(100) not null, "subject" varchar(200) not null, "processed_at" timestamptz not null default now(), primary key ("consumer", "event_id"));`);

    this.addSql(`alter table "channel_gateway"."channels" add constraint "channels_type_check" check (type in ('web_chat', 'email', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'sms'));`);
    this.addSql(`alter table "channel_gateway"."channels" add constraint "channels_status_check" check (status in ('active', 'inactive', 'error'));`);

    this.addSql(`alter table "channel_gateway"."event_log" add constraint "event_log_actor_type_check" check (actor_type in ('user', 'system', 'ai', 'automation', 'api'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "channel_gateway"."channels" cascade;`);
    this.addSql(`drop table if exists "channel_gateway"."event_log" cascade;`);
    this.addSql(`drop table if exists "channel_gateway"."event_log_publication" cascade;`);
    this.addSql(`drop table if exists "channel_gateway"."inbound_messages" cascade;`);
    this.addSql(`drop table if exists "channel_gateway"."processed_event" cascade;`);

    this.addSql(`drop schema if exists "channel_gateway";`);
  }

}
