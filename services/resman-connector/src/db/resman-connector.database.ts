import { fileURLToPath } from 'node:url';
import { resmanConnectorEntities } from './resman-connector.entities.ts';

export const database = {
  name: 'resman-connector',
  entities: resmanConnectorEntities,
  migrationsPath: fileURLToPath(new URL('./migrations', import.meta.url)),
  updatedAtTables: ['resman_integration', 'lead_sync_queue', 'lead_sync_conflicts', 'lead_sync_mapping', 'communication_log_sync', 'contact_sync'],
};
