import { Migration } from '@mikro-orm/migrations';

export class Migration20261202140324_lead_sync_queue_due extends Migration {

  override name = 'Migration20261202140324_lead_sync_queue_due';

  override up(): void | Promise<void> {
    this.addSql(`create index "idx_lead_sync_queue_due" on "resman_connector"."lead_sync_queue" ("account_id", "priority" DESC, "created_at") where status = 'pending' and message_id is not null;`);
    this.addSql(`create index "idx_lead_sync_queue_processing" on "resman_connector"."lead_sync_queue" ("account_id") where status = 'processing' and message_id is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "resman_connector"."idx_lead_sync_queue_due";`);
    this.addSql(`drop index "resman_connector"."idx_lead_sync_queue_processing";`);
  }

}
