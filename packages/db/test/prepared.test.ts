import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseConfig, query } from '../src/index.ts';

// Against the real PostgreSQL (read-only statements on the admin database: nothing to clean up).
let orm: MikroORM;
beforeAll(async () => {
  orm = await MikroORM.init({
    ...databaseConfig({ schema: 'public', clientUrl: process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', entities: [], migrationsPath: '/nonexistent' }),
    discovery: { warnWhenNoEntities: false },
    pool: { max: 2 },
  });
});
afterAll(async () => orm?.close());

describe('query (hot-path SQL as named prepared statements)', () => {
  it('binds the values instead of formatting them into the text: quotes, backslashes, JSON, NULL and dates come back as given', async () => {
    const tricky = `it's a \\ "test" ? $1`;
    const doc = { a: [1, 'two', null], b: "o'clock" };
    const at = new Date('2026-12-03T10:11:12.345Z');
    const [row] = await query<{ s: string; j: unknown; n: string | null; t: string }>(orm.em.fork(),
      'select ?::text as s, ?::jsonb as j, ?::text as n, ?::timestamptz as t', [tricky, JSON.stringify(doc), null, at]);
    // Timestamps come back as text, as em.execute returns them (the ORM's type parsers are the pool's).
    expect({ ...row, t: new Date(row!.t) }).toEqual({ s: tricky, j: doc, n: null, t: at });
  });

  it('gives two texts that become the same numbered text one name, and a later text a name of its own', async () => {
    await orm.em.fork().transactional(async (tx) => {
      await query(tx, 'select ?::int as a, 1 as dup_check', [1]);
      await query(tx, 'select $1::int as a, 1 as dup_check', [1]);
      // Named after both: with the first name given again, pg would refuse it on this connection.
      const [row] = await query<{ v: number }>(tx, 'select ?::int as v, 2 as dup_check', [7]);
      expect(row!.v).toBe(7);
      const prepared = await tx.execute<Array<{ name: string }>>(`select name from pg_prepared_statements where statement like '%dup_check%'`);
      expect(new Set(prepared.map((p) => p.name)).size).toBe(prepared.length);
    });
  });

  it('is parsed once per connection as a named statement, and runs inside the entity manager\'s transaction', async () => {
    const sql = 'select pg_backend_pid() as pid, now() as tx_time, ?::int + 1 as v';
    await orm.em.fork().transactional(async (tx) => {
      const [first] = await query<{ pid: number; tx_time: string; v: number }>(tx, sql, [1]);
      const [second] = await query<{ pid: number; tx_time: string; v: number }>(tx, sql, [41]);
      expect(second!.v).toBe(42);
      // The same session and the same transaction as the ORM's own statements.
      const [orms] = await tx.execute<Array<{ pid: number; tx_time: string }>>('select pg_backend_pid() as pid, now() as tx_time');
      expect([first!.pid, second!.pid]).toEqual([orms!.pid, orms!.pid]);
      expect(first!.tx_time).toBe(orms!.tx_time);
      const prepared = await tx.execute<Array<{ name: string; statement: string }>>('select name, statement from pg_prepared_statements');
      const ours = prepared.filter((p) => p.statement === 'select pg_backend_pid() as pid, now() as tx_time, $1::int + 1 as v');
      expect(ours).toHaveLength(1);
      expect(ours[0]!.name).toMatch(/^domiq_\d+$/);
      // Planned for each execution's own values (a generic plan cannot match a partial index's predicate).
      const [mode] = await query<{ plan_cache_mode: string }>(tx, 'show plan_cache_mode');
      expect(mode!.plan_cache_mode).toBe('force_custom_plan');
    });
  });
});
