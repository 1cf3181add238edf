import { fileURLToPath } from 'node:url';
import { identityEntities } from './identity.entities.ts';

export const database = {
  name: 'identity',
  entities: identityEntities,
  migrationsPath: fileURLToPath(new URL('./migrations', import.meta.url)),
  updatedAtTables: ['accounts', 'properties', 'teams', 'users', 'customers'],
};
