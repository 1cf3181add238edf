import { MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { EntitySchema } from '@mikro-orm/core';

export { defineEntity, p } from '@mikro-orm/core';
export type { EntityManager, MikroORM };
export { appendOnlySql, pgTextArray, rowDate, updatedAtTriggerSql } from './sql.ts';
export { applySqlMigrations, type SqlMigration, type SqlMigrationSet } from './sql-migrations.ts';
import { applySqlMigrations, type SqlMigrationSet } from './sql-migrations.ts';
import { PreparingClient, query } from './prepared.ts';
export { query } from './prepared.ts';

export interface ServiceDatabaseOptions {
  /** PostgreSQL schema the service owns; no other service reads it. */
  schema: string;
  clientUrl: string;
  entities: EntitySchema<any, any>[];
  /** Absolute path of the service's `src/db/migrations` folder (migrations + snapshot are committed there). */
  migrationsPath: string;
  debug?: boolean;
  poolMax?: number;
  /** Session timeouts of every pooled connection (config `DB_*_TIMEOUT_MS`); unset: the defaults below, 0: none. */
  timeouts?: DatabaseTimeouts;
}

/** Per-connection PostgreSQL timeouts, in milliseconds; 0 turns one off. */
export interface DatabaseTimeouts {
  /** `statement_timeout`: a statement running longer is cancelled (SQLSTATE 57014). Default 30 s. */
  statementMs?: number;
  /** `lock_timeout`: waiting longer for a lock (row, table or advisory) fails the statement (55P03). Default 10 s. */
  lockMs?: number;
  /** `idle_in_transaction_session_timeout`: a transaction left idle longer has its session ended. Default 60 s. */
  idleInTransactionMs?: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: Required<DatabaseTimeouts> = { statementMs: 30_000, lockMs: 10_000, idleInTransactionMs: 60_000 };

/**
 * The timeouts as `pg` connection parameters: sent in the startup packet, so they are the session's defaults on
 * every pooled connection (a `RESET ALL` keeps them; `SET LOCAL` in a transaction can still raise one).
 */
export function timeoutParameters(timeouts: DatabaseTimeouts = {}): { statement_timeout: number; lock_timeout: number; idle_in_transaction_session_timeout: number } {
  const t = { ...DEFAULT_DATABASE_TIMEOUTS, ...timeouts };
  return { statement_timeout: t.statementMs, lock_timeout: t.lockMs, idle_in_transaction_session_timeout: t.idleInTransactionMs };
}

export function databaseConfig(opts: ServiceDatabaseOptions): Options {
  return {
    clientUrl: opts.clientUrl,
    schema: opts.schema,
    entities: opts.entities,
    extensions: [Migrator],
    debug: opts.debug ?? false,
    pool: { max: opts.poolMax ?? 10 },
    // Passed to the pg Pool, which passes them to every client it connects (0: not sent, the server's default).
    // PreparingClient: statements run by query() (./prepared.ts) go as named prepared statements, each planned for its
    // own values (plan_cache_mode): a generic plan cannot use a partial index whose predicate a parameter would have
    // to match, and estimated a claim of the connector's queue that way at ~30x the time its custom plan takes.
    driverOptions: { ...timeoutParameters(opts.timeouts), Client: PreparingClient, options: '-c plan_cache_mode=force_custom_plan' },
    // Entities are plain schemas; serialising an entity must never follow a lazy reference by accident.
    forceUndefined: false,
    migrations: {
      path: opts.migrationsPath,
      pathTs: opts.migrationsPath,
      glob: '!(*.d).ts',
      tableName: 'mikro_orm_migrations',
      schema: opts.schema,
      snapshotName: `.snapshot-${opts.schema}`,
      snapshotOnMigrate: false,
      emit: 'ts',
      silent: true,
      allOrNothing: true,
      transactional: true,
    },
  };
}

export async function openDatabase(opts: ServiceDatabaseOptions): Promise<MikroORM> {
  return MikroORM.init(databaseConfig(opts));
}

/**
 * Creates the service's schema if needed and applies pending migrations: first the platform's migration sets
 * (`platform`, e.g. @domiq/bus's outbox tables: `migrateService` in @domiq/bus passes them), then the service's own
 * (MikroORM). Replicas starting together queue on an advisory lock held by a separate transaction (each migration
 * runs in its own), so each migration runs once.
 */
export async function migrate(orm: MikroORM, schema: string, platform: readonly SqlMigrationSet[] = []): Promise<string[]> {
  const em = orm.em.fork();
  try {
    await em.execute(`create schema if not exists "${schema}"`);
  } catch (err) {
    // Two replicas racing on CREATE SCHEMA IF NOT EXISTS: one of them gets a unique violation; harmless.
    if (!String(err).includes('duplicate key')) throw err;
  }
  return em.transactional(async (tx) => {
    // This transaction only holds the lock: it waits behind another replica's migrations and then sits idle while
    // ours run in their own transactions, so the session timeouts must not end it. The migrations themselves run
    // under them (a migration that needs longer says so with `set local statement_timeout`).
    for (const setting of ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout']) await tx.execute(`set local ${setting} = 0`);
    await tx.execute(`select pg_advisory_xact_lock(hashtext(?))`, [`domiq-migrate-${schema}`]);
    const applied: string[] = [];
    // Committed before the service's migrations run: those may refer to the platform's tables (seed triggers).
    for (const set of platform) applied.push(...(await applySqlMigrations(orm.em.fork(), schema, set)).map((n) => `${set.table}:${n}`));
    const done = await orm.migrator.up();
    return [...applied, ...done.map((m) => m.name)];
  });
}

/**
 * Serialises transactions on one key (a customer, a conversation, an account) until the transaction ends:
 * a transaction-scoped advisory lock, so nothing is left held if the process dies.
 */
export async function lockForTransaction(em: EntityManager, key: string): Promise<void> {
  await query(em, 'select pg_advisory_xact_lock(hashtextextended(?, 0))', [key]);
}

/**
 * lockForTransaction for many keys in one round trip (a batch's customers, accounts...), taken in sorted order, so
 * two batches sharing keys wait for each other instead of deadlocking. The keys are hashed as lockForTransaction
 * hashes them, so a batch and a single call on the same key exclude each other. The locks are taken as the function
 * scan hands out the array's elements, which is array order (json_array_elements_text reads the array front to back).
 */
export async function lockAllForTransaction(em: EntityManager, keys: Iterable<string>): Promise<void> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return;
  if (sorted.length === 1) return lockForTransaction(em, sorted[0]!);
  await query(em, 'select count(pg_advisory_xact_lock(hashtextextended(k, 0))) from json_array_elements_text(?::json) as t(k)', [JSON.stringify(sorted)]);
}

/** A fresh entity manager for one unit of work (a gRPC call, a NATS message). */
export function forkEm(orm: MikroORM): EntityManager {
  return orm.em.fork({ clear: true });
}
