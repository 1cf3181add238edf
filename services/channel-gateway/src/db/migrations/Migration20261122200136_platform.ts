import { Migration } from '@mikro-orm/migrations';
import { updatedAtTriggerSql } from '@domiq/db';

// The seed's updated_at triggers (shared definition in @domiq/db). The outbox tables are @domiq/bus's own
// migration set (packages/bus/src/migrations), applied by the platform before these.
export class Migration20261122200136_platform extends Migration {
  override up(): void {
    for (const sql of [
      ...updatedAtTriggerSql('channel_gateway', 'channels'),
    ]) this.addSql(sql);
  }
}
