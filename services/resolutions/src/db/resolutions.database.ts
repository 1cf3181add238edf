import { fileURLToPath } from 'node:url';
import { resolutionsEntities } from './resolutions.entities.ts';

export const database = {
  name: 'resolutions',
  entities: resolutionsEntities,
  migrationsPath: fileURLToPath(new URL('./migrations', import.meta.url)),
  updatedAtTables: ['resolutions', 'knowledge_base_articles'],
};
