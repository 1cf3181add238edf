import { Migration } from '@mikro-orm/migrations';

export class Migration20261122202422_relation extends Migration {

  override name = 'Migration20261122202422_relation';

  override up(): void | Promise<void> {
    this.addSql(`alter table "conversations"."messages" add constraint "messages_conversation_id_foreign" foreign key ("conversation_id") references "conversations"."conversations" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "conversations"."messages" drop constraint "messages_conversation_id_foreign";`);
  }

}
