import { Migration } from '@mikro-orm/migrations';
import { updatedAtTriggerSql } from '@domiq/db';

// The seed's updated_at triggers (shared definition in @domiq/db). The outbox tables are @domiq/bus's own
// migration set (packages/bus/src/migrations), applied by the platform before these.
export class Migration20261122200243_platform extends Migration {
  override up(): void {
    for (const sql of [
      ...updatedAtTriggerSql('routing_sla', 'slas'),
      ...updatedAtTriggerSql('routing_sla', 'agents'),
      ...updatedAtTriggerSql('routing_sla', 'conversation_slas'),
      ...updatedAtTriggerSql('routing_sla', 'automation_rules'),
    ]) this.addSql(sql);
  }
}
