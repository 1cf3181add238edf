import { Migration } from '@mikro-orm/migrations';

export class Migration20261202064211_vocabulary extends Migration {

  override name = 'Migration20261202064211_vocabulary';

  override up(): void | Promise<void> {
    this.addSql(`alter table "conversations"."messages" drop constraint "messages_channel_check";`);
    this.addSql(`alter table "conversations"."messages" add constraint "messages_channel_check" check (channel in ('web_chat', 'email', 'sms', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'api', 'internal'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "conversations"."messages" drop constraint "messages_channel_check";`);
    this.addSql(`alter table "conversations"."messages" add constraint "messages_channel_check" check (channel in ('web_chat', 'email', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'sms', 'internal'));`);
  }

}
