import { Migration } from '@mikro-orm/migrations';
import { appendOnlySql, updatedAtTriggerSql } from '@domiq/db';
import { outboxSql } from '@domiq/bus';

// Outbox and trigger definitions shared by every service (see @domiq/db and @domiq/bus).
export class Migration20261122200043_platform extends Migration {
  override up(): void {
    for (const sql of [
      ...appendOnlySql('conversations', 'event_log'),
      ...outboxSql('conversations'),
      ...updatedAtTriggerSql('conversations', 'conversations'),
      ...updatedAtTriggerSql('conversations', 'internal_notes'),
    ]) this.addSql(sql);
  }
}
