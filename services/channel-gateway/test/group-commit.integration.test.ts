import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { busEntities, inTransaction, migrateService } from '@domiq/bus';
import { openDatabase, type MikroORM } from '@domiq/db';
import { createTestDatabase, freePort, type TestDatabase } from '@domiq/testkit';
import { register } from 'prom-client';
import { acceptInboundMessages, type AcceptInboundMessageInput } from '../src/app/accept-inbound-messages.ts';
import { database } from '../src/db/channel-gateway.database.ts';
import { isDatabaseUnavailable } from '../src/db/database-errors.ts';
import { GroupCommitClosedError, GroupCommitter } from '../src/http/group-commit.ts';
import { createInboundCommitter } from '../src/http/webhook.http.ts';
import { messageSid } from './twilio.fixtures.ts';

// The webhook server's group commit in process, against the real database: what one group transaction writes
// (one multi-row insert, one outbox row per stored message, in one transaction), dedupe within a group and against
// stored rows, a member the database refuses failing alone, the bound on groups committing at once, and the flush
// on close. Group membership here is decided by the test (every member submitted in one tick), not by timing.

let db: TestDatabase;
let orm: MikroORM;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ schema: 'channel_gateway', clientUrl: db.url, entities: [...database.entities, ...busEntities], migrationsPath: database.migrationsPath, poolMax: 4 });
  await migrateService(orm, 'channel_gateway');
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const channel = { id: crypto.randomUUID(), accountId: crypto.randomUUID(), propertyId: crypto.randomUUID(), type: 'sms' as const };
const input = (sid: string, over: { body?: string } = {}): Omit<AcceptInboundMessageInput, 'emit'> => ({
  channel, provider: 'twilio',
  message: { providerMessageId: sid, from: '+14155550199', to: '+14155550100', body: over.body ?? `message ${sid}`, senderName: '', raw: { MessageSid: sid, Body: over.body ?? `message ${sid}` } },
});

/** Each stored row of these sids with the transaction that wrote it and its outbox rows' transactions. */
async function written(sids: string[]): Promise<Array<{ sid: string; id: string; xmin: string; events: string[] }>> {
  return db.query(
    `select m.provider_message_id as sid, m.id, m.xmin::text as xmin,
            coalesce((select array_agg(e.xmin::text) from channel_gateway.event_log e where e.entity_id = m.id), '{}') as events
       from channel_gateway.inbound_messages m where m.provider_message_id = any($1)`, [sids]);
}
const eventsFor = async (sids: string[]) => (await db.query<{ n: number }>(
  `select count(*)::int as n from channel_gateway.event_log where payload->>'providerMessageId' = any($1)`, [sids]))[0]!.n;
const metric = async (name: string) => (await register.getSingleMetric(name)!.get()).values.filter((v) => v.labels.committer === 'webhook-inbound');

describe('group commit of inbound messages (in process, real PostgreSQL)', () => {
  it('writes a group in one transaction: each message stored once with its event, repeats within the group and of stored rows are duplicates', async () => {
    const sids = Array.from({ length: 8 }, () => messageSid());
    // The group: eight messages, the first and the fourth sent twice more (a provider retrying while the first is queued).
    const group = [...sids.map((s) => input(s)), input(sids[0]!), input(sids[3]!), input(sids[0]!)];
    const committer = createInboundCommitter(orm, { maxSize: group.length, maxWaitMs: 60_000, maxInFlight: 2 });
    const results = await Promise.all(group.map((i) => committer.submit(i)));
    expect(results.slice(0, 8).every((r) => !r.duplicate)).toBe(true);
    expect(results.slice(8)).toEqual([{ duplicate: true }, { duplicate: true }, { duplicate: true }]);

    const rows = await written(sids);
    expect(rows.map((r) => r.sid).sort()).toEqual([...sids].sort());
    // One transaction wrote all eight rows and each row's one event.
    expect(new Set(rows.map((r) => r.xmin)).size).toBe(1);
    for (const row of rows) expect(row.events).toEqual([row.xmin]);
    expect(rows.map((r) => r.id).sort()).toEqual(results.slice(0, 8).map((r) => (r.duplicate ? '' : r.inboundId)).sort());

    // The same messages again, in a later group with a new one: only the new one is stored.
    const fresh = messageSid();
    // (close() cuts that group now rather than after maxWaitMs.)
    const pendingAgain = [input(sids[1]!), input(fresh), input(sids[5]!)].map((i) => committer.submit(i));
    await committer.close();
    const again = await Promise.all(pendingAgain);
    expect(again[0]).toEqual({ duplicate: true });
    expect(again[1]!.duplicate).toBe(false);
    expect(again[2]).toEqual({ duplicate: true });
    expect(await written(sids)).toHaveLength(8);
    expect(await eventsFor([...sids, fresh])).toBe(9);
  });

  it('a member the database refuses fails alone with its own error; the rest of its group commits once', async () => {
    const splitsBefore = (await metric('domiq_group_commit_splits_total'))[0]?.value ?? 0;
    const good = Array.from({ length: 8 }, () => messageSid());
    const bad = messageSid();
    // PostgreSQL text cannot hold a NUL character: the whole multi-row insert fails.
    const group = [...good.slice(0, 4).map((s) => input(s)), input(bad, { body: 'nul \u0000 here' }), ...good.slice(4).map((s) => input(s))];
    const committer = createInboundCommitter(orm, { maxSize: group.length, maxWaitMs: 60_000, maxInFlight: 1 });
    const results = await Promise.allSettled(group.map((i) => committer.submit(i)));
    await committer.close();

    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(results[4]!.status).toBe('rejected');
    expect(String((results[4] as PromiseRejectedResult).reason)).toMatch(/unicode|0x00|nul/i);
    expect(results.filter((r) => r.status === 'fulfilled' && !r.value.duplicate)).toHaveLength(8);
    const rows = await written(good);
    expect(rows.map((r) => r.sid).sort()).toEqual([...good].sort());
    for (const row of rows) expect(row.events).toEqual([row.xmin]);
    expect(await written([bad])).toHaveLength(0);
    expect(await eventsFor([...good, bad])).toBe(8);
    // It was one group that failed and was split (log2(9) levels), not nine transactions from the start.
    expect(((await metric('domiq_group_commit_splits_total'))[0]?.value ?? 0) - splitsBefore).toBeGreaterThanOrEqual(1);
    // The halves that did not hold it committed as groups of their own.
    expect(new Set(rows.map((r) => r.xmin)).size).toBeLessThan(8);
  });

  it('commits at most maxInFlight groups at once, each of at most maxSize members', async () => {
    let active = 0;
    let peak = 0;
    const sizes: number[] = [];
    const committer = new GroupCommitter<Omit<AcceptInboundMessageInput, 'emit'>, Awaited<ReturnType<typeof acceptInboundMessages>>[number]>(
      'bounded-test', { maxSize: 5, maxWaitMs: 60_000, maxInFlight: 2 },
      async (members) => {
        active++;
        peak = Math.max(peak, active);
        sizes.push(members.length);
        try {
          return await inTransaction(orm, { actorType: 'system', actorId: null }, (uow) => acceptInboundMessages(uow, members.map((m) => m.item)));
        } finally {
          active--;
        }
      });
    const sids = Array.from({ length: 40 }, () => messageSid());
    const results = await Promise.all(sids.map((s) => committer.submit(input(s))));
    await committer.close();
    expect(results.every((r) => !r.duplicate)).toBe(true);
    expect(sizes).toEqual(Array.from({ length: 8 }, () => 5));
    expect(peak).toBe(2);
    expect(new Set((await written(sids)).map((r) => r.xmin)).size).toBe(8);
  });

  it('close() commits what is still queued at once and refuses new members', async () => {
    // Nothing would be cut for a minute: only close() commits these.
    const committer = createInboundCommitter(orm, { maxSize: 50, maxWaitMs: 60_000, maxInFlight: 2 });
    const sids = Array.from({ length: 3 }, () => messageSid());
    const pending = sids.map((s) => committer.submit(input(s)));
    expect(committer.queued).toBe(3);
    expect(await written(sids)).toHaveLength(0);
    await committer.close();
    expect((await Promise.all(pending)).every((r) => !r.duplicate)).toBe(true);
    expect(await written(sids)).toHaveLength(3);
    await expect(committer.submit(input(messageSid()))).rejects.toBeInstanceOf(GroupCommitClosedError);
  });

  it('tells an unreachable database (no split: nobody is at fault) from a refused statement (split)', async () => {
    const closed = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres` });
    const unreachable = await closed.connect().then(() => undefined, (err: unknown) => err);
    expect(isDatabaseUnavailable(unreachable)).toBe(true);
    // What a NUL character gets: in a bound value a protocol violation (08P01), escaped in JSON text 22P05.
    const em = orm.em.fork();
    for (const [sql, params] of [['select ?::text as t', ['a\u0000b']], ['select ?::json ->> \'a\' as t', ['{"a":"\\u0000"}']]] as const) {
      const refused = await em.execute(sql, [...params]).then(() => undefined, (err: unknown) => err);
      expect(refused, sql).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(refused), sql).toBe(false);
    }
    expect(await em.execute('select 1 as one')).toEqual([{ one: 1 }]);
  });
});
