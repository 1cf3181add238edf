import { fileURLToPath } from 'node:url';
import { conversationsEntities } from './conversations.entities.ts';

export const database = {
  name: 'conversations',
  entities: conversationsEntities,
  migrationsPath: fileURLToPath(new URL('./migrations', import.meta.url)),
  updatedAtTables: ['conversations', 'internal_notes', 'leads'],
};
