import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * A migration a platform library ships for every service's schema (the outbox tables of @domiq/bus, ...): plain
 * SQL, parameterised by the schema, applied once per schema and recorded in that set's own table. Statements must
 * be idempotent (`if not exists`, `create or replace`), so a schema whose tables an older release created in the
 * service's own migrations is adopted as it is.
 */
export interface SqlMigration {
  /** Unique and ordered within its set, e.g. `0001_outbox`; never renamed once released. */
  readonly name: string;
  up(schema: string): string[];
}

export interface SqlMigrationSet {
  /** The table that records which of the set's migrations a schema has, e.g. `platform_migrations`. */
  readonly table: string;
  readonly migrations: readonly SqlMigration[];
}

/** Applies the set's pending migrations to `schema`, each in its own transaction; returns the names applied. */
export async function applySqlMigrations(em: EntityManager, schema: string, set: SqlMigrationSet): Promise<string[]> {
  const names = set.migrations.map((m) => m.name);
  if (new Set(names).size !== names.length || names.some((n, i) => i > 0 && n <= names[i - 1]!)) {
    throw new Error(`migration set ${set.table}: names must be unique and ascending (${names.join(', ')})`);
  }
  const table = `"${schema}"."${set.table}"`;
  await em.execute(`create table if not exists ${table} (name varchar(200) primary key, applied_at timestamptz not null default now())`);
  const done = new Set((await em.execute<Array<{ name: string }>>(`select name from ${table}`)).map((r) => r.name));
  const applied: string[] = [];
  for (const migration of set.migrations) {
    if (done.has(migration.name)) continue;
    await em.transactional(async (tx) => {
      for (const sql of migration.up(schema)) await tx.execute(sql);
      await tx.execute(`insert into ${table} (name) values (?)`, [migration.name]);
    });
    applied.push(migration.name);
  }
  return applied;
}
