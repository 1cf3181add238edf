import { Migration } from '@mikro-orm/migrations';

// The seed's foreign keys between this service's own tables (entities keep plain ids, so the generator omits them).
export class Migration20261122200627_relations extends Migration {
  override up(): void {
    for (const sql of [
      `alter table "resolutions"."resolutions" add constraint resolutions_parent_resolution_id_fkey foreign key (parent_resolution_id) references "resolutions"."resolutions" (id)`,
      `alter table "resolutions"."resolution_updates" add constraint resolution_updates_resolution_id_fkey foreign key (resolution_id) references "resolutions"."resolutions" (id) on delete cascade`,
      `alter table "resolutions"."swarms" add constraint swarms_resolution_id_fkey foreign key (resolution_id) references "resolutions"."resolutions" (id)`,
      `alter table "resolutions"."customer_updates" add constraint customer_updates_resolution_id_fkey foreign key (resolution_id) references "resolutions"."resolutions" (id)`,
      `alter table "resolutions"."knowledge_base_categories" add constraint knowledge_base_categories_parent_id_fkey foreign key (parent_id) references "resolutions"."knowledge_base_categories" (id)`,
      `alter table "resolutions"."knowledge_base_articles" add constraint knowledge_base_articles_category_id_fkey foreign key (category_id) references "resolutions"."knowledge_base_categories" (id)`,
    ]) this.addSql(sql);
  }
}
