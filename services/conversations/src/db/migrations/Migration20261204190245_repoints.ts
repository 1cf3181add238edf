import { Migration } from '@mikro-orm/migrations';

export class Migration20261204190245_repoints extends Migration {

  override name = 'Migration20261204190245_repoints';

  override up(): void | Promise<void> {
    this.addSql(`create table "conversations"."customer_repoints" ("id" uuid not null default gen_random_uuid(), "account_id" uuid not null, "merge_id" uuid not null, "conversation_id" uuid null, "from_customer_id" uuid not null, "to_customer_id" uuid not null, "repointed_at" timestamptz not null default now(), "undone_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "idx_customer_repoints_merge" on "conversations"."customer_repoints" ("merge_id");`);
    this.addSql(`alter table "conversations"."customer_repoints" add constraint "uq_customer_repoints_merge_conversation" unique ("merge_id", "conversation_id");`);
    // One marker row per merge (conversation_id null): conversation rows are unique by the constraint above.
    this.addSql(`create unique index "uq_customer_repoints_merge_marker" on "conversations"."customer_repoints" ("merge_id") where "conversation_id" is null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "conversations"."customer_repoints" cascade;`);
  }

}
