// The platform's tables are @domiq/bus's own migration set, applied by the platform to every service's schema
// before the service's migrations (issue 6): against real PostgreSQL.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySqlMigrations, openDatabase, type MikroORM } from '@domiq/db';
import { createTestDatabase, repoRoot, type TestDatabase } from '@domiq/testkit';
import { database as identityDatabase } from '../../../services/identity/src/db/identity.database.ts';
import { database as conversationsDatabase } from '../../../services/conversations/src/db/conversations.database.ts';
import { busEntities, busMigrations, migrateService } from '../src/index.ts';

const PLATFORM_TABLES = ['event_log', 'event_log_publication', 'processed_event'];
let db: TestDatabase;
const orms: MikroORM[] = [];

async function ormFor(schema: string, def?: { entities: any[]; migrationsPath: string }): Promise<MikroORM> {
  const orm = await openDatabase({ schema, clientUrl: db.url, entities: [...(def?.entities ?? []), ...busEntities], migrationsPath: def?.migrationsPath ?? '/nonexistent', poolMax: 4 });
  orms.push(orm);
  return orm;
}

async function tablesOf(schema: string): Promise<string[]> {
  return (await db.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = $1 order by 1`, [schema])).map((r) => r.table_name);
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(orms.map((o) => o.close()));
  await db?.drop();
});

describe('the bus migration set', () => {
  it('creates the outbox tables, the append-only guard and the relay NOTIFY in an empty schema, once', async () => {
    await db.query('create schema fresh');
    const orm = await ormFor('fresh');
    expect(await applySqlMigrations(orm.em.fork(), 'fresh', busMigrations)).toEqual(['0001_outbox', '0002_erasure']);
    expect(await tablesOf('fresh')).toEqual(expect.arrayContaining([...PLATFORM_TABLES, 'platform_migrations']));
    expect(await applySqlMigrations(orm.em.fork(), 'fresh', busMigrations)).toEqual([]);

    await db.query(`insert into fresh.event_log (event_type, entity_type, entity_id, payload, subject) values ('a.b', 'a', gen_random_uuid(), '{}', 'x.a.b')`);
    await expect(db.query(`update fresh.event_log set event_type = 'c.d'`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(db.query(`delete from fresh.event_log`)).rejects.toThrow(/append-only: DELETE refused/);
    await expect(db.query(`truncate fresh.event_log`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    await expect(db.query(`insert into fresh.event_log (event_type, entity_type, entity_id, payload, subject, actor_type) values ('a.b', 'a', gen_random_uuid(), '{}', 'x.a.b', 'robot')`)).rejects.toThrow(/event_log_actor_type_check/);
    await expect(db.query(`insert into fresh.event_log (event_type, entity_type, entity_id, payload, subject, causation_id) values ('a.b', 'a', gen_random_uuid(), '{}', 'x.a.b', 999999)`)).rejects.toThrow(/event_log_causation_id_fkey/);
    const triggers = await db.query<{ tgname: string }>(`select tgname from pg_trigger where tgrelid = 'fresh.event_log'::regclass and not tgisinternal order by 1`);
    expect(triggers.map((t) => t.tgname)).toEqual(['trg_event_log_no_truncate', 'trg_event_log_no_update', 'trg_event_log_notify']);
  });

  it('adopts a schema whose service migrations already made the tables (an older release), keeping its rows', async () => {
    await db.query('create schema older');
    // What a service's first migration used to create, before the bus had its own set.
    await db.query(`create table older.event_log (id bigserial primary key, event_type varchar(50) not null, event_version int not null default 1, entity_type varchar(50) not null, entity_id uuid not null, payload jsonb not null, actor_type varchar(20) null, actor_id uuid null, actor_ip inet null, actor_user_agent text null, account_id uuid null, conversation_id uuid null, customer_id uuid null, resolution_id uuid null, correlation_id uuid null, causation_id bigint null, causation_msg_id varchar(100) null, subject varchar(200) not null, traceparent varchar(64) null, created_at timestamptz not null default now())`);
    await db.query(`create index idx_event_log_account on older.event_log (account_id)`);
    await db.query(`create table older.event_log_publication (event_id bigint not null primary key, stream_seq bigint null, duplicate boolean not null default false, published_at timestamptz not null default now())`);
    await db.query(`create table older.processed_event (consumer varchar(100) not null, event_id varchar(100) not null, subject varchar(200) not null, processed_at timestamptz not null default now(), primary key (consumer, event_id))`);
    await db.query(`insert into older.event_log (event_type, entity_type, entity_id, payload, subject) values ('a.b', 'a', gen_random_uuid(), '{"kept":true}', 'x.a.b')`);
    const orm = await ormFor('older');
    expect(await applySqlMigrations(orm.em.fork(), 'older', busMigrations)).toEqual(['0001_outbox', '0002_erasure']);
    expect(await db.query(`select payload from older.event_log`)).toEqual([{ payload: { kept: true } }]);
    await expect(db.query(`delete from older.event_log`)).rejects.toThrow(/append-only/);
  });

  it('erases personal payload keys of one customer\'s events (and of named entities) through erase_event_payloads only, recording counts', async () => {
    await db.query('create schema erasing');
    const orm = await ormFor('erasing');
    await applySqlMigrations(orm.em.fork(), 'erasing', busMigrations);
    const account = crypto.randomUUID();
    const customer = crypto.randomUUID();
    const other = crypto.randomUUID();
    const entity = crypto.randomUUID();
    const insert = (customerId: string | null, entityId: string, payload: object) => db.query(
      `insert into erasing.event_log (event_type, entity_type, entity_id, payload, subject, account_id, customer_id) values ('m.c', 'm', $1, $2, 'x.m.c', $3, $4)`,
      [entityId, JSON.stringify(payload), account, customerId]);
    await insert(customer, crypto.randomUUID(), { content: 'my ssn', messageId: 'm1' });
    await insert(other, crypto.randomUUID(), { content: 'not theirs', messageId: 'm2' });
    await insert(null, entity, { body: 'gateway copy', inboundId: 'i1' });
    const [r] = await db.query<{ n: number }>(`select erasing.erase_event_payloads($1, $2, array[$3]::uuid[], array['content', 'body']) as n`, [account, customer, entity]);
    expect(r!.n).toBe(2);
    const rows = await db.query<{ payload: Record<string, string> }>(`select payload from erasing.event_log order by id`);
    expect(rows.map((x) => x.payload)).toEqual([{ content: '[erased]', messageId: 'm1' }, { content: 'not theirs', messageId: 'm2' }, { body: '[erased]', inboundId: 'i1' }]);
    expect(await db.query(`select customer_id, entity_count, events_redacted from erasing.event_log_erasure`)).toEqual([{ customer_id: customer, entity_count: 1, events_redacted: 2 }]);
    // Outside the function, even a payload-only change is refused, and the function cannot be used to change other columns.
    await expect(db.query(`update erasing.event_log set payload = '{}'`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(db.query(`begin; select set_config('domiq.erasing_event_payloads', 'on', true); update erasing.event_log set event_type = 'z.z'; commit;`)).rejects.toThrow(/append-only: UPDATE refused/);
    await db.query('rollback').catch(() => undefined);
    // Nor can a session that sets the flag itself forge a payload: only "[erased]" values of keys the payload had.
    for (const forged of [`'{"content": "forged", "messageId": "m2"}'`, `'{"messageId": "m2"}'`, `payload || '{"extra": "[erased]"}'`]) {
      await expect(db.query(`begin; select set_config('domiq.erasing_event_payloads', 'on', true); update erasing.event_log set payload = ${forged} where customer_id = '${other}'; commit;`))
        .rejects.toThrow(/append-only: UPDATE refused/);
      await db.query('rollback').catch(() => undefined);
    }
    expect((await db.query<{ payload: Record<string, string> }>(`select payload from erasing.event_log where customer_id = $1`, [other]))[0]!.payload).toEqual({ content: 'not theirs', messageId: 'm2' });
  });

  it('refuses a set whose names are not unique and ascending', async () => {
    const orm = await ormFor('fresh');
    const bad = { table: 'platform_migrations', migrations: [{ name: '0002_b', up: () => [] }, { name: '0001_a', up: () => [] }] };
    await expect(applySqlMigrations(orm.em.fork(), 'fresh', bad)).rejects.toThrow(/unique and ascending/);
  });
});

describe('a service schema', () => {
  it('gets the platform tables from the bus set and its own tables from its migrations; two replicas migrate it once', async () => {
    const a = await ormFor('identity', identityDatabase);
    const b = await ormFor('identity', identityDatabase);
    const [first, second] = await Promise.all([migrateService(a, 'identity'), migrateService(b, 'identity')]);
    const applied = [...first, ...second];
    expect(applied.filter((n) => n === 'platform_migrations:0001_outbox')).toHaveLength(1);
    expect(applied.filter((n) => n.startsWith('Migration'))).toHaveLength(readdirSync(identityDatabase.migrationsPath).filter((f) => f.endsWith('.ts')).length);
    expect(await tablesOf('identity')).toEqual(expect.arrayContaining([...PLATFORM_TABLES, 'customers', 'users', 'platform_migrations', 'mikro_orm_migrations']));
    expect(await migrateService(a, 'identity')).toEqual([]);
  });

  it('runs seed triggers that write to the platform tables (conversations) after the bus set', async () => {
    const orm = await ormFor('conversations', conversationsDatabase);
    const applied = await migrateService(orm, 'conversations');
    expect(applied[0]).toBe('platform_migrations:0001_outbox');
    expect(await tablesOf('conversations')).toEqual(expect.arrayContaining([...PLATFORM_TABLES, 'conversations', 'messages']));
  });

  it('no service migration or snapshot defines a platform table (they are the bus set\'s alone)', () => {
    const services = readdirSync(join(repoRoot, 'services'));
    expect(services.length).toBeGreaterThanOrEqual(6);
    for (const service of services) {
      const dir = join(repoRoot, 'services', service, 'src', 'db', 'migrations');
      for (const file of readdirSync(dir)) {
        const text = readFileSync(join(dir, file), 'utf8');
        for (const table of PLATFORM_TABLES) {
          expect(text, `${service}/${file}`).not.toMatch(new RegExp(`create table [^(]*"?${table}"?\\s*\\(`, 'i'));
          if (file.startsWith('.snapshot')) expect((JSON.parse(text) as { tables: Array<{ name: string }> }).tables.map((t) => t.name), `${service}/${file}`).not.toContain(table);
        }
      }
    }
  });
});
