import { Migration } from '@mikro-orm/migrations';

export class Migration20261202132548_lead_sync_queue_worker extends Migration {

  override name = 'Migration20261202132548_lead_sync_queue_worker';

  override up(): void | Promise<void> {
    this.addSql(`alter table "resman_connector"."lead_sync_queue" add "message_id" varchar(100) null, add "locked_at" timestamptz null, add "locked_by" varchar(100) null;`);
    this.addSql(`create index "idx_lead_sync_queue_active" on "resman_connector"."lead_sync_queue" ("account_id", "property_id", "customer_id", "created_at") where status in ('pending', 'processing') and message_id is not null;`);
    this.addSql(`alter table "resman_connector"."lead_sync_queue" add constraint "uq_lead_sync_queue_message" unique ("message_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "resman_connector"."idx_lead_sync_queue_active";`);
    this.addSql(`alter table "resman_connector"."lead_sync_queue" drop constraint "uq_lead_sync_queue_message";`);
    this.addSql(`alter table "resman_connector"."lead_sync_queue" drop column "message_id", drop column "locked_at", drop column "locked_by";`);
  }

}
