import { Migration } from '@mikro-orm/migrations';
import { appendOnlySql, updatedAtTriggerSql } from '@domiq/db';
import { outboxSql } from '@domiq/bus';

// Outbox and trigger definitions shared by every service (see @domiq/db and @domiq/bus).
export class Migration20261122200243_platform extends Migration {
  override up(): void {
    for (const sql of [
      ...appendOnlySql('routing_sla', 'event_log'),
      ...outboxSql('routing_sla'),
      ...updatedAtTriggerSql('routing_sla', 'slas'),
      ...updatedAtTriggerSql('routing_sla', 'agents'),
      ...updatedAtTriggerSql('routing_sla', 'conversation_slas'),
      ...updatedAtTriggerSql('routing_sla', 'automation_rules'),
    ]) this.addSql(sql);
  }
}
