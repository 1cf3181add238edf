import { Migration } from '@mikro-orm/migrations';
import { appendOnlySql, updatedAtTriggerSql } from '@domiq/db';
import { outboxSql } from '@domiq/bus';

// Outbox and trigger definitions shared by every service (see @domiq/db and @domiq/bus).
export class Migration20261122195359_platform extends Migration {
  override up(): void {
    for (const sql of [
      ...appendOnlySql('identity', 'event_log'),
      ...outboxSql('identity'),
      ...updatedAtTriggerSql('identity', 'accounts'),
      ...updatedAtTriggerSql('identity', 'properties'),
      ...updatedAtTriggerSql('identity', 'teams'),
      ...updatedAtTriggerSql('identity', 'users'),
      ...updatedAtTriggerSql('identity', 'customers'),
    ]) this.addSql(sql);
  }
}
