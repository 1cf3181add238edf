import { fileURLToPath } from 'node:url';
import type { SecretColumn } from '@domiq/secrets';
import { channelGatewayEntities } from './channel-gateway.entities.ts';

export const database = {
  name: 'channel-gateway',
  entities: channelGatewayEntities,
  migrationsPath: fileURLToPath(new URL('./migrations', import.meta.url)),
  updatedAtTables: ['channels', 'outbound_messages'],
};

/** Columns holding SecretBox ciphertexts (re-encrypted under the current key by `npm run rotate-secrets`). */
export const secretColumns: SecretColumn[] = [{ table: 'channels', column: 'credentials_encrypted' }];
