import { fileURLToPath } from 'node:url';
import { channelGatewayEntities } from './channel-gateway.entities.ts';

export const database = {
  name: 'channel-gateway',
  entities: channelGatewayEntities,
  migrationsPath: fileURLToPath(new URL('./migrations', import.meta.url)),
  updatedAtTables: ['channels'],
};
