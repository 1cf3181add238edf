import { Migration } from '@mikro-orm/migrations';

export class Migration20261202064214_vocabulary extends Migration {

  override name = 'Migration20261202064214_vocabulary';

  override up(): void | Promise<void> {
    this.addSql(`alter table "channel_gateway"."channels" drop constraint "channels_type_check";`);
    this.addSql(`alter table "channel_gateway"."channels" add constraint "channels_type_check" check (type in ('web_chat', 'email', 'sms', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'api'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "channel_gateway"."channels" drop constraint "channels_type_check";`);
    this.addSql(`alter table "channel_gateway"."channels" add constraint "channels_type_check" check (type in ('web_chat', 'email', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'sms'));`);
  }

}
