import { Migration } from '@mikro-orm/migrations';

export class Migration20261204182327_reply extends Migration {

  override name = 'Migration20261204182327_reply';

  override up(): void | Promise<void> {
    this.addSql(`alter table "conversations"."messages" add "idempotency_key" varchar(100) null;`);
    // Partial: only agent replies carry a key, so the inbound hot path's inserts do not touch this index.
    this.addSql(`create unique index "uq_messages_idempotency_key" on "conversations"."messages" ("account_id", "idempotency_key") where "idempotency_key" is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "conversations"."messages" drop column "idempotency_key";`);
  }

}
