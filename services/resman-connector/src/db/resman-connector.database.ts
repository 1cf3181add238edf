import { fileURLToPath } from 'node:url';
import type { SecretColumn } from '@domiq/secrets';
import { resmanConnectorEntities } from './resman-connector.entities.ts';

export const database = {
  name: 'resman-connector',
  entities: resmanConnectorEntities,
  migrationsPath: fileURLToPath(new URL('./migrations', import.meta.url)),
  updatedAtTables: ['resman_integration', 'lead_sync_queue', 'lead_sync_conflicts', 'lead_sync_mapping', 'communication_log_sync', 'contact_sync'],
};

/** Columns holding SecretBox ciphertexts (re-encrypted under the current key by `npm run rotate-secrets`). */
export const secretColumns: SecretColumn[] = [{ table: 'resman_integration', column: 'api_credentials' }];
