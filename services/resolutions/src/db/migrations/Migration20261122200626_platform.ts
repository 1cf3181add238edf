import { Migration } from '@mikro-orm/migrations';
import { appendOnlySql, updatedAtTriggerSql } from '@domiq/db';
import { outboxSql } from '@domiq/bus';

// Outbox and trigger definitions shared by every service (see @domiq/db and @domiq/bus).
export class Migration20261122200626_platform extends Migration {
  override up(): void {
    for (const sql of [
      ...appendOnlySql('resolutions', 'event_log'),
      ...outboxSql('resolutions'),
      ...updatedAtTriggerSql('resolutions', 'resolutions'),
      ...updatedAtTriggerSql('resolutions', 'knowledge_base_articles'),
    ]) this.addSql(sql);
  }
}
