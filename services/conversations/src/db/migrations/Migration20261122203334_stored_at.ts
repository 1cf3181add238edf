import { Migration } from '@mikro-orm/migrations';

export class Migration20261122203334_stored_at extends Migration {

  override name = 'Migration20261122203334_stored_at';

  override up(): void | Promise<void> {
    this.addSql(`alter table "conversations"."messages" add "stored_at" timestamptz null default clock_timestamp();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "conversations"."messages" drop column "stored_at";`);
  }

}
