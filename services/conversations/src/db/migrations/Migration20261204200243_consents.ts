import { Migration } from '@mikro-orm/migrations';

export class Migration20261204200243_consents extends Migration {

  override name = 'Migration20261204200243_consents';

  override up(): void | Promise<void> {
    this.addSql(`create table "conversations"."customer_consents" ("account_id" uuid not null, "customer_id" uuid not null, "channel" varchar(30) not null, "status" varchar(20) null, "recorded_at" timestamptz not null, primary key ("account_id", "customer_id", "channel"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "conversations"."customer_consents" cascade;`);
  }

}
