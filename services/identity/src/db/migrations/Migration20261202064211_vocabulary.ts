import { Migration } from '@mikro-orm/migrations';

export class Migration20261202064211_vocabulary extends Migration {

  override name = 'Migration20261202064211_vocabulary';

  override up(): void | Promise<void> {
    this.addSql(`alter table "identity"."users" drop constraint "users_role_check";`);
    this.addSql(`alter table "identity"."users" add constraint "users_role_check" check (role in ('admin', 'supervisor', 'agent', 'engineer', 'property_manager'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "identity"."users" drop constraint "users_role_check";`);
    this.addSql(`alter table "identity"."users" add constraint "users_role_check" check (role in ('admin', 'supervisor', 'agent', 'engineer', 'api', 'property_manager'));`);
  }

}
