import { fileURLToPath } from 'node:url';
import { routingSlaEntities } from './routing-sla.entities.ts';

export const database = {
  name: 'routing-sla',
  entities: routingSlaEntities,
  migrationsPath: fileURLToPath(new URL('./migrations', import.meta.url)),
  updatedAtTables: ['slas', 'agents', 'conversation_slas', 'automation_rules'],
};
