// Issue 6: PostgreSQL session timeouts on every pooled connection of @domiq/db's openDatabase (real PostgreSQL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type MikroORM } from '@domiq/db';
import { busEntities } from '@domiq/bus';
import { createTestDatabase, type TestDatabase } from '@domiq/testkit';

let db: TestDatabase;
const orms: MikroORM[] = [];
const open = async (timeouts?: Parameters<typeof openDatabase>[0]['timeouts']) => {
  const orm = await openDatabase({ schema: 'timeouts_test', clientUrl: db.url, entities: busEntities, migrationsPath: '/nonexistent', poolMax: 3, timeouts });
  orms.push(orm);
  return orm;
};
const show = async (orm: MikroORM, setting: string) => (await orm.em.fork().execute<Array<Record<string, string>>>(`show ${setting}`))[0]![setting];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  // Bounded: a connection the server ended inside a transaction is not released back to the pool by MikroORM 7 /
  // Kysely (its ROLLBACK fails first), so closing that pool would wait for it forever (see docs/decisions.md).
  await Promise.race([Promise.all(orms.map((o) => o.close().catch(() => undefined))), new Promise((r) => setTimeout(r, 2000))]);
  await db?.drop();
});

describe('database session timeouts', () => {
  it('defaults to 30 s statement, 10 s lock and 60 s idle-in-transaction timeouts on every pooled connection', async () => {
    const orm = await open();
    // Several connections at once: each one of the pool carries them.
    const values = await Promise.all(Array.from({ length: 3 }, () => orm.em.fork().transactional(async (tx) => {
      const row = (await tx.execute<Array<Record<string, string>>>(`select current_setting('statement_timeout') s, current_setting('lock_timeout') l, current_setting('idle_in_transaction_session_timeout') i, pg_backend_pid() pid, pg_sleep(0.05)`))[0]!;
      return row;
    })));
    expect(new Set(values.map((v) => v.pid)).size).toBe(3);
    for (const v of values) expect([v.s, v.l, v.i]).toEqual(['30s', '10s', '1min']);
  });

  it('cancels a statement that runs longer than the configured statement timeout', async () => {
    const orm = await open({ statementMs: 300 });
    expect(await show(orm, 'statement_timeout')).toBe('300ms');
    const t0 = Date.now();
    await expect(orm.em.fork().execute('select pg_sleep(5)')).rejects.toThrow(/canceling statement due to statement timeout/);
    expect(Date.now() - t0).toBeLessThan(3000);
    // The connection is fine afterwards, and a `reset all` (MikroORM's session context) keeps the timeout.
    await orm.em.fork().execute('reset all');
    expect(await show(orm, 'statement_timeout')).toBe('300ms');
  });

  it('fails a lock wait after the lock timeout and ends a transaction left idle after the idle timeout', async () => {
    const orm = await open({ lockMs: 200, idleInTransactionMs: 500 });
    await db.query('create table if not exists lock_target (id int primary key)');
    await db.query('insert into lock_target values (1) on conflict do nothing');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = orm.em.fork().transactional(async (tx) => {
      await tx.execute('select * from lock_target where id = 1 for update');
      locked();
      await held;
    });
    await isLocked;
    await expect(orm.em.fork().execute('update lock_target set id = 1 where id = 1')).rejects.toThrow(/canceling statement due to lock timeout/);
    release();
    await holder;
    // Idle inside a transaction past the limit: the server ends the session, the next statement fails.
    await expect(orm.em.fork().transactional(async (tx) => {
      await tx.execute('select 1');
      await new Promise((r) => setTimeout(r, 1200));
      await tx.execute('select 1');
    })).rejects.toThrow(/idle-in-transaction timeout|terminat|connection error/i);
    // The pool recovers with a new connection.
    expect(await show(orm, 'lock_timeout')).toBe('200ms');

  });
});
