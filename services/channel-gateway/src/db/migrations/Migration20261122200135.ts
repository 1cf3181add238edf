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

    this.addSql(`create table "channel_gateway"."inbound_messages" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "channel_id" uuid not null, "provider" varchar(30) not null, "provider_message_id" varchar(100) not null, "from_address" varchar(320) not null, "to_address" varchar(320) not null, "body" text not null, "raw" jsonb not null, "received_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_inbound_messages_channel" on "channel_gateway"."inbound_messages" ("channel_id");`);
    this.addSql(`create index "idx_inbound_messages_account_received" on "channel_gateway"."inbound_messages" ("account_id", "received_at");`);
    this.addSql(`alter table "channel_gateway"."inbound_messages" add constraint "uq_inbound_messages_provider_message" unique ("provider", "provider_message_id");`);

    this.addSql(`alter table "channel_gateway"."channels" add constraint "channels_type_check" check (type in ('web_chat', 'email', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'sms'));`);
    this.addSql(`alter table "channel_gateway"."channels" add constraint "channels_status_check" check (status in ('active', 'inactive', 'error'));`);

  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "channel_gateway"."channels" cascade;`);
    this.addSql(`drop table if exists "channel_gateway"."inbound_messages" cascade;`);

    this.addSql(`drop schema if exists "channel_gateway";`);
  }

}
