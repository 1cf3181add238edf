// The set-up the bus's own integration tests share: a fresh database with the bus tables in one schema, a private
// nats-server with the RESOLUTIONS stream, an admin connection (these tests use durables outside any service's
// registry entry), and consumers stopped between tests.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { applySqlMigrations, openDatabase, type MikroORM } from '@domiq/db';
import { createTestDatabase, NatsServerProcess, type TestDatabase } from '@domiq/testkit';
import { busEntities, busMigrations, provisionStreams } from '../src/index.ts';

export interface BusFixture {
  db: TestDatabase;
  nats: NatsServerProcess;
  nc: NatsConnection;
  orm: MikroORM;
  /** Consumers and relays a test starts; stopped before the next test and at the end. */
  running: Array<{ stop(): Promise<void> }>;
}

/** Registers the hooks; the fields are filled once `beforeAll` has run. `setupSql` makes the test's own tables. */
export function useBusFixture(schema: string, setupSql: string[] = []): BusFixture {
  const f = { running: [] } as unknown as BusFixture;
  beforeAll(async () => {
    f.db = await createTestDatabase();
    f.nats = await NatsServerProcess.start();
    f.nc = await f.nats.connectAdmin();
    f.orm = await openDatabase({ schema, clientUrl: f.db.url, entities: busEntities, migrationsPath: '/nonexistent' });
    await f.db.query(`create schema ${schema}`);
    await applySqlMigrations(f.orm.em.fork(), schema, busMigrations);
    for (const sql of setupSql) await f.db.query(sql);
    await provisionStreams(f.nc, ['RESOLUTIONS']);
  });
  afterAll(async () => {
    await Promise.all(f.running.map((r) => r.stop()));
    await f.nc?.close();
    await f.orm?.close();
    await f.nats?.destroy();
    await f.db?.drop();
  });
  beforeEach(async () => {
    await Promise.all(f.running.splice(0).map((r) => r.stop()));
  });
  return f;
}
