import { Migration } from '@mikro-orm/migrations';

export class Migration20261204193921_erasure extends Migration {

  override name = 'Migration20261204193921_erasure';

  override up(): void | Promise<void> {
    this.addSql(`create table "channel_gateway"."erased_messages" ("account_id" uuid not null, "message_id" uuid not null, "erased_at" timestamptz not null default now(), primary key ("account_id", "message_id"));`);

    this.addSql(`alter table "channel_gateway"."delivery_receipts" drop constraint "uq_delivery_receipts_provider_status";`);
    this.addSql(`alter table "channel_gateway"."delivery_receipts" add constraint "uq_delivery_receipts_provider_status" unique ("account_id", "provider", "provider_message_id", "provider_status");`);

    this.addSql(`alter table "channel_gateway"."outbound_messages" drop constraint "uq_outbound_messages_provider_message";`);
    this.addSql(`alter table "channel_gateway"."outbound_messages" add constraint "uq_outbound_messages_provider_message" unique ("account_id", "provider", "provider_message_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "channel_gateway"."erased_messages" cascade;`);

    this.addSql(`alter table "channel_gateway"."delivery_receipts" drop constraint "uq_delivery_receipts_provider_status";`);
    this.addSql(`alter table "channel_gateway"."delivery_receipts" add constraint "uq_delivery_receipts_provider_status" unique ("provider", "provider_message_id", "provider_status");`);

    this.addSql(`alter table "channel_gateway"."outbound_messages" drop constraint "uq_outbound_messages_provider_message";`);
    this.addSql(`alter table "channel_gateway"."outbound_messages" add constraint "uq_outbound_messages_provider_message" unique ("provider", "provider_message_id");`);
  }

}
