import { Migration } from '@mikro-orm/migrations';
import { updatedAtTriggerSql } from '@domiq/db';

export class Migration20261204182509_outbound extends Migration {

  override name = 'Migration20261204182509_outbound';

  override up(): void | Promise<void> {
    this.addSql(`create table "channel_gateway"."delivery_receipts" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "channel_id" uuid not null, "provider" varchar(30) not null, "provider_message_id" varchar(100) not null, "status" varchar(20) not null, "provider_status" varchar(30) not null, "error_code" varchar(50) null, "raw" jsonb not null, "applied" boolean not null default false, "received_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`alter table "channel_gateway"."delivery_receipts" add constraint "uq_delivery_receipts_provider_status" unique ("provider", "provider_message_id", "provider_status");`);

    this.addSql(`create table "channel_gateway"."outbound_messages" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "channel_id" uuid not null, "conversation_id" uuid not null, "message_id" uuid not null, "provider" varchar(30) null, "to_address" varchar(320) not null, "from_address" varchar(320) null, "body" text not null, "state" varchar(20) not null default 'queued', "attempts" int not null default 0, "next_attempt_at" timestamptz not null default now(), "locked_until" timestamptz null, "last_attempt_at" timestamptz null, "outcome_unknown" boolean not null default false, "provider_message_id" varchar(100) null, "delivery_status" varchar(20) null, "error_code" varchar(50) null, "error_message" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "idx_outbound_messages_due" on "channel_gateway"."outbound_messages" ("state", "next_attempt_at");`);
    this.addSql(`alter table "channel_gateway"."outbound_messages" add constraint "uq_outbound_messages_message" unique ("account_id", "message_id");`);
    this.addSql(`alter table "channel_gateway"."outbound_messages" add constraint "uq_outbound_messages_provider_message" unique ("provider", "provider_message_id");`);

    this.addSql(`alter table "channel_gateway"."outbound_messages" add constraint "outbound_messages_state_check" check (state in ('queued', 'sending', 'accepted', 'failed'));`);
    for (const sql of updatedAtTriggerSql('channel_gateway', 'outbound_messages')) this.addSql(sql);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "channel_gateway"."delivery_receipts" cascade;`);
    this.addSql(`drop table if exists "channel_gateway"."outbound_messages" cascade;`);
  }

}
