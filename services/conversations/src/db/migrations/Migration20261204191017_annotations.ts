import { Migration } from '@mikro-orm/migrations';

export class Migration20261204191017_annotations extends Migration {

  override name = 'Migration20261204191017_annotations';

  override up(): void | Promise<void> {
    this.addSql(`alter table "conversations"."ai_annotations" add constraint "uq_ai_annotations_message_model" unique ("message_id", "model_version");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "conversations"."ai_annotations" drop constraint "uq_ai_annotations_message_model";`);
  }

}
