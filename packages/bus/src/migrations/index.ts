import { migrate, type MikroORM, type SqlMigrationSet } from '@domiq/db';
import { outboxMigration } from './0001_outbox.ts';
import { erasureMigration } from './0002_erasure.ts';

/**
 * The bus's own migration set, applied to every service's schema by the platform before the service's migrations
 * (recorded in `<schema>.platform_migrations`). Add a migration as the next numbered file; never edit a released one.
 */
export const busMigrations: SqlMigrationSet = { table: 'platform_migrations', migrations: [outboxMigration, erasureMigration] };

/** Migrates a service's schema: the platform's tables first, then the service's own migrations. */
export function migrateService(orm: MikroORM, schema: string): Promise<string[]> {
  return migrate(orm, schema, [busMigrations]);
}
