import { Migration } from '@mikro-orm/migrations';
import { appendOnlySql, updatedAtTriggerSql } from '@domiq/db';
import { outboxSql } from '@domiq/bus';

// Outbox and trigger definitions shared by every service (see @domiq/db and @domiq/bus).
export class Migration20261122200136_platform extends Migration {
  override up(): void {
    for (const sql of [
      ...appendOnlySql('channel_gateway', 'event_log'),
      ...outboxSql('channel_gateway'),
      ...updatedAtTriggerSql('channel_gateway', 'channels'),
    ]) this.addSql(sql);
  }
}
