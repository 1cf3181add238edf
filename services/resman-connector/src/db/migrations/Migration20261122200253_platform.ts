import { Migration } from '@mikro-orm/migrations';
import { updatedAtTriggerSql } from '@domiq/db';

// The seed's updated_at triggers (shared definition in @domiq/db). The outbox tables are @domiq/bus's own
// migration set (packages/bus/src/migrations), applied by the platform before these.
export class Migration20261122200253_platform extends Migration {
  override up(): void {
    for (const sql of [
      ...updatedAtTriggerSql('resman_connector', 'resman_integration'),
      ...updatedAtTriggerSql('resman_connector', 'lead_sync_queue'),
      ...updatedAtTriggerSql('resman_connector', 'lead_sync_conflicts'),
      ...updatedAtTriggerSql('resman_connector', 'lead_sync_mapping'),
      ...updatedAtTriggerSql('resman_connector', 'communication_log_sync'),
      ...updatedAtTriggerSql('resman_connector', 'contact_sync'),
      // The seed's expression index, which the entity schema cannot express.
      `create index "idx_lead_sync_conflicts_resolution_time" on "resman_connector"."lead_sync_conflicts" ((resolved_at - created_at)) where resolved_at is not null;`,
    ]) this.addSql(sql);
  }
}
