// The lead-sync queue's database side against the real PostgreSQL, in-process: the consumer's use case
// (enqueueInboundMessages, set-based, one batch at a time) and the worker's queries (due groups, claims). The connector
// as processes, with the worker pushing to the simulator, is lead-sync-queue.test.ts.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busEntities, inTransaction, migrateService } from '@domiq/bus';
import { openDatabase, type MikroORM } from '@domiq/db';
import { createTestDatabase, expectEventually, type TestDatabase } from '@domiq/testkit';
import { enqueueInboundMessages, MessageOfAnotherAccountError, type InboundCustomerMessage } from '../src/app/enqueue-inbound-messages.ts';
import { claimGroups, findDueGroups, LEAD_SYNC_QUEUE_CHANNEL } from '../src/db/lead-sync-queue.repository.ts';
import { database } from '../src/db/resman-connector.database.ts';
import { CARD_MASK } from '../src/domain/redaction.ts';

let db: TestDatabase;
let orm: MikroORM;
let listener: pg.Client;
let notifications = 0;

const A = randomUUID();
const OTHER = randomUUID();
const P1 = randomUUID();
const P2 = randomUUID();
const PAUSED = randomUUID();
const NONE = randomUUID();
const C = [randomUUID(), randomUUID(), randomUUID()];
const LEASE_MS = 60_000;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ schema: 'resman_connector', clientUrl: db.url, entities: [...database.entities, ...busEntities], migrationsPath: database.migrationsPath, poolMax: 4 });
  await migrateService(orm, 'resman_connector');
  const integration = (accountId: string, propertyId: string, account: number, status = 'active') => db.query(
    `insert into resman_connector.resman_integration (account_id, property_id, resman_property_id, api_credentials, base_url, resman_account_id, default_agent_id, prospect_source_id, sync_status)
     values ($1, $2, $3, 'sealed', 'https://resman.example', $4, 'agent', 'source', $5)`, [accountId, propertyId, randomUUID(), account, status]);
  await integration(A, P1, 400);
  await integration(A, P2, 401);
  await integration(A, PAUSED, 400, 'paused');
  listener = new pg.Client({ connectionString: db.url });
  await listener.connect();
  listener.on('notification', () => notifications++);
  await listener.query(`listen ${LEAD_SYNC_QUEUE_CHANNEL}`);
});
afterAll(async () => {
  await listener?.end();
  await orm?.close();
  await db?.drop();
});

const message = (customerId: string, propertyId: string, over: Partial<InboundCustomerMessage> = {}): InboundCustomerMessage => ({
  accountId: A, propertyId, customerId, conversationId: randomUUID(), messageId: randomUUID(), channel: 'sms',
  content: 'Is the 2 bedroom still available?', createdAt: new Date(), eventId: `test:${randomUUID()}`, ...over,
});
const enqueue = (messages: InboundCustomerMessage[]) => inTransaction(orm, { actorType: 'system' }, (uow) => enqueueInboundMessages(uow, messages, { maxRetries: 7 }));

interface QueueRow {
  message_id: string; account_id: string; property_id: string; customer_id: string; status: string; priority: number; retry_count: number;
  max_retries: number; due: boolean; sync_operation: string; sync_data: Record<string, unknown>; created_at: Date;
}
const queueRows = (ids: string[]) => db.query<QueueRow>(
  `select message_id, account_id, property_id, customer_id, status, priority, retry_count, max_retries, next_retry_at <= now() as due, sync_operation, sync_data, created_at
     from resman_connector.lead_sync_queue where message_id = any($1) order by message_id`, [ids]);
const communications = (ids: string[]) => db.query<{ message_id: string; sync_status: string; content: string; sync_type: string; resman_event_type: string }>(
  `select message_id, sync_status, content, sync_type, resman_event_type from resman_connector.communication_log_sync where message_id = any($1) order by message_id`, [ids]);

describe('enqueueInboundMessages (the consumer\'s batch)', () => {
  const batch = [
    ...C.flatMap((c) => [message(c, P1), message(c, P1, { channel: 'email' }), message(c, P2)]),
    message(C[0]!, P1, { content: 'My card is 4111 1111 1111 1111' }),
  ];
  const paused = message(C[1]!, PAUSED);
  const unintegrated = message(C[2]!, NONE);

  it('queues each message of a batch for several customers and properties once, with its pending communication', async () => {
    const before = notifications;
    // The same message twice in one batch (the same event published again under another id) counts once.
    const result = await enqueue([...batch, paused, batch[0]!, unintegrated]);
    expect(new Set(result.queued)).toEqual(new Set(batch.map((m) => m.messageId)));
    expect(result.queued).toHaveLength(batch.length);
    expect(result.skipped).toEqual(expect.arrayContaining([
      { messageId: paused.messageId, reason: 'no active ResMan integration for the property' },
      { messageId: unintegrated.messageId, reason: 'no active ResMan integration for the property' },
    ]));

    const rows = await queueRows([...batch, paused, unintegrated].map((m) => m.messageId));
    expect(rows).toHaveLength(batch.length);
    for (const m of batch) {
      expect(rows.find((r) => r.message_id === m.messageId)).toMatchObject({
        account_id: A, property_id: m.propertyId, customer_id: m.customerId, status: 'pending', priority: 2, retry_count: 0, max_retries: 7, due: true,
        sync_operation: 'push',
        sync_data: { messageId: m.messageId, channel: m.channel, eventType: m.channel === 'email' ? 'EmailFromProspect' : 'TextFromProspect', sentAt: m.createdAt.toISOString(), eventId: m.eventId, seenBefore: false },
      });
    }
    const comms = await communications(batch.map((m) => m.messageId));
    expect(comms).toHaveLength(batch.length);
    expect(comms.every((c) => c.sync_status === 'pending' && c.sync_type === 'create')).toBe(true);
    // Never a card number in clear, in the communication row or in the queue's payload.
    expect(comms.find((c) => c.message_id === batch.at(-1)!.messageId)!.content).toBe(`My card is ${CARD_MASK}`);
    // (A pattern, not '4111': the rows hold random UUIDs, which contain '4111' in about one run in thirty.)
    expect(JSON.stringify(rows)).not.toMatch(/4111[\s-]*1111[\s-]*1111/);
    // The workers are told once the transaction commits.
    await expectEventually(() => expect(notifications).toBeGreaterThan(before));
  });

  it('queues nothing again for the same messages delivered again', async () => {
    const before = await queueRows(batch.map((m) => m.messageId));
    const again = await enqueue(batch.map((m) => ({ ...m, eventId: `test:${randomUUID()}` })));
    expect(again.queued).toEqual([]);
    expect(again.skipped.map((s) => s.reason)).toEqual(batch.map(() => 'queued or logged already'));
    expect(await queueRows(batch.map((m) => m.messageId))).toEqual(before);
    const [count] = await db.query<{ n: number }>(`select count(*)::int as n from resman_connector.communication_log_sync where message_id = any($1)`, [batch.map((m) => m.messageId)]);
    expect(count!.n).toBe(batch.length);
  });

  it('queues a message whose communication row an earlier push left pending, marked as possibly in ResMan already', async () => {
    const m = message(C[0]!, P1);
    await db.query(`insert into resman_connector.communication_log_sync (account_id, property_id, customer_id, message_id, sync_status, sync_direction) values ($1, $2, $3, $4, 'pending', 'to_resman')`,
      [A, P1, m.customerId, m.messageId]);
    expect((await enqueue([m])).queued).toEqual([m.messageId]);
    expect((await queueRows([m.messageId]))[0]!.sync_data).toMatchObject({ seenBefore: true });
  });

  it('refuses a batch carrying a message id another account logged, and writes nothing of it', async () => {
    const taken = message(C[0]!, P1);
    await db.query(`insert into resman_connector.communication_log_sync (account_id, property_id, customer_id, message_id, sync_status, sync_direction) values ($1, $2, $3, $4, 'success', 'to_resman')`,
      [OTHER, randomUUID(), randomUUID(), taken.messageId]);
    const innocent = message(C[1]!, P1);
    await expect(enqueue([innocent, taken])).rejects.toBeInstanceOf(MessageOfAnotherAccountError);
    expect(await queueRows([innocent.messageId, taken.messageId])).toEqual([]);
    expect(await communications([innocent.messageId])).toEqual([]);
    const [theirs] = await db.query<{ account_id: string; sync_status: string }>(`select account_id, sync_status from resman_connector.communication_log_sync where message_id = $1`, [taken.messageId]);
    expect(theirs).toEqual({ account_id: OTHER, sync_status: 'success' });
  });
});

describe('the worker\'s queries', () => {
  const acct = randomUUID();
  const prop = randomUUID();
  const [early, backoff, fresh] = [randomUUID(), randomUUID(), randomUUID()];
  const row = (customerId: string, status: string, nextRetry: string, over: Record<string, unknown> = {}) => db.query<{ id: string }>(
    `insert into resman_connector.lead_sync_queue (account_id, property_id, customer_id, message_id, sync_operation, sync_data, status, next_retry_at, retry_count, max_retries, created_at, locked_by, locked_at)
     values ($1, $2, $3, $4, 'push', '{}', $5, now() + $6::interval, $7, 5, now() - $8::interval, $9, now() - $10::interval) returning id`,
    [acct, prop, customerId, randomUUID(), status, nextRetry, over.retry_count ?? 0, over.age ?? '0 seconds', over.locked_by ?? null, over.locked ?? '0 seconds']).then((r) => r[0]!.id);

  beforeAll(async () => {
    await db.query(
      `insert into resman_connector.resman_integration (account_id, property_id, resman_property_id, api_credentials, base_url, resman_account_id, default_agent_id, prospect_source_id)
       values ($1, $2, $3, 'sealed', 'https://resman.example', 999, 'agent', 'source')`, [acct, prop, randomUUID()]);
  });

  it('offers a customer only when all their pending rows are due, one group per ResMan account, busy accounts left out', async () => {
    await row(early, 'pending', '-1 second', { age: '3 seconds' });
    await row(backoff, 'pending', '-1 second', { age: '2 seconds' });
    await row(backoff, 'pending', '10 minutes', { age: '1 second', retry_count: 1 });
    await row(fresh, 'pending', '-1 second');
    const em = orm.em.fork({ clear: true });
    const mine = async (busy: string[]) => (await findDueGroups(em, busy, 100, LEASE_MS)).filter((g) => g.accountId === acct);
    // One group per account: the oldest due customer.
    expect(await mine([])).toEqual([expect.objectContaining({ customerId: early, baseUrl: 'https://resman.example', resmanAccountId: 999 })]);
    expect(await mine(['https://resman.example|999'])).toEqual([]);
    const claimed = await claimGroups(em, [{ accountId: acct, propertyId: prop, customerId: early }], 'worker-1', 10, LEASE_MS);
    expect(claimed).toHaveLength(1);
    // While its worker's lease is live, the claimed customer is not offered; one with a row in backoff waits (their
    // messages keep their order); the next due one is offered.
    expect((await mine([])).map((g) => g.customerId)).toEqual([fresh]);
    // A lease that ran out (its worker is gone): offered again, first, being the oldest.
    await db.query(`update resman_connector.lead_sync_queue set locked_at = now() - interval '1 hour' where id = $1`, [claimed[0]!.id]);
    expect((await mine([])).map((g) => g.customerId)).toEqual([early]);
    await db.query(`update resman_connector.lead_sync_queue set status = 'completed' where id = $1`, [claimed[0]!.id]);
    expect((await mine([])).map((g) => g.customerId)).toEqual([fresh]);
  });

  it('looks at the front of each account\'s queue: one account\'s backlog does not hide another account\'s due work', async () => {
    const [busyAcct, busyProp, quietAcct, quietProp] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    for (const [a, p, n] of [[busyAcct, busyProp, 1], [quietAcct, quietProp, 2]] as const) {
      await db.query(
        `insert into resman_connector.resman_integration (account_id, property_id, resman_property_id, api_credentials, base_url, resman_account_id, default_agent_id, prospect_source_id)
         values ($1, $2, $3, 'sealed', 'https://resman.example', $4, 'agent', 'source')`, [a, p, randomUUID(), 1000 + n]);
    }
    // A backlog far over a look's window, all older than the other account's one due message.
    await db.query(
      `insert into resman_connector.lead_sync_queue (account_id, property_id, customer_id, message_id, sync_operation, sync_data, status, next_retry_at, retry_count, max_retries, created_at)
       select $1, $2, gen_random_uuid(), gen_random_uuid()::text, 'push', '{}', 'pending', now() - interval '1 second', 0, 5, now() - interval '1 hour' + g * interval '1 ms'
         from generate_series(1, 500) g`, [busyAcct, busyProp]);
    const quietCustomer = randomUUID();
    await db.query(
      `insert into resman_connector.lead_sync_queue (account_id, property_id, customer_id, message_id, sync_operation, sync_data, status, next_retry_at, retry_count, max_retries)
       values ($1, $2, $3, $4, 'push', '{}', 'pending', now() - interval '1 second', 0, 5)`, [quietAcct, quietProp, quietCustomer, randomUUID()]);
    const groups = await findDueGroups(orm.em.fork({ clear: true }), [], 100, LEASE_MS);
    expect(groups.filter((g) => g.accountId === busyAcct)).toHaveLength(1);
    expect(groups.filter((g) => g.accountId === quietAcct).map((g) => g.customerId)).toEqual([quietCustomer]);
    await db.query(`update resman_connector.lead_sync_queue set status = 'cancelled' where account_id = any($1)`, [[busyAcct, quietAcct]]);
  });

  it('offers up to a round of groups per ResMan account, and claims several groups in one statement, each in its customer\'s order', async () => {
    const [roundAcct, roundProp] = [randomUUID(), randomUUID()];
    await db.query(
      `insert into resman_connector.resman_integration (account_id, property_id, resman_property_id, api_credentials, base_url, resman_account_id, default_agent_id, prospect_source_id)
       values ($1, $2, $3, 'sealed', 'https://resman.example', 2000, 'agent', 'source')`, [roundAcct, roundProp, randomUUID()]);
    const customers = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const t0 = Date.now();
    // Each customer two messages in one batch, sent in reverse order of queueing.
    const messages = customers.flatMap((c, n) => [
      message(c, roundProp, { accountId: roundAcct, createdAt: new Date(t0 - 1000 * n) }),
      message(c, roundProp, { accountId: roundAcct, createdAt: new Date(t0 - 1000 * n - 500) }),
    ]);
    expect((await enqueue(messages)).queued).toHaveLength(messages.length);
    const em = orm.em.fork({ clear: true });
    const mine = async (perAccount: number) => (await findDueGroups(em, [], 100, LEASE_MS, perAccount)).filter((g) => g.accountId === roundAcct);
    expect(await mine(1)).toHaveLength(1);
    const round = await mine(3);
    expect(round).toHaveLength(3);
    expect(new Set(round.map((g) => g.customerId)).size).toBe(3);
    const claimed = await claimGroups(em, round, 'worker-round', 10, LEASE_MS);
    // Group by group in the order asked, each customer's messages in the order they were sent.
    expect(claimed.map((r) => r.messageId)).toEqual(round.flatMap((g) => {
      const n = customers.findIndex((c) => c === g.customerId);
      return [messages[2 * n + 1]!.messageId, messages[2 * n]!.messageId];
    }));
    expect(claimed.every((r) => r.accountId === roundAcct && r.propertyId === roundProp)).toBe(true);
    const [{ n: stamps }] = (await db.query<{ n: number }>(
      `select count(distinct locked_at)::int as n from resman_connector.lead_sync_queue where id = any($1) and status = 'processing' and locked_by = 'worker-round'`,
      [claimed.map((r) => r.id)])) as [{ n: number }];
    expect(stamps).toBe(1);
    // The claimed groups have a live lease: only the fourth customer is offered now.
    expect((await mine(3)).map((g) => g.customerId)).toEqual(customers.filter((c) => !round.some((g) => g.customerId === c)));
    await db.query(`update resman_connector.lead_sync_queue set status = 'cancelled' where account_id = $1`, [roundAcct]);
  });

  it('claims a customer\'s rows in the order they sent the messages, also within one batch', async () => {
    const customer = randomUUID();
    const t0 = Date.now();
    // One batch: one created_at for all; sent in the order 2, 0, 1.
    const sent = [new Date(t0 - 1000), new Date(t0 - 500), new Date(t0 - 3000)];
    const messages = sent.map((createdAt) => message(customer, prop, { accountId: acct, createdAt }));
    expect((await enqueue(messages)).queued).toHaveLength(3);
    const claimed = await claimGroups(orm.em.fork({ clear: true }), [{ accountId: acct, propertyId: prop, customerId: customer }], 'worker-3', 2, LEASE_MS);
    expect(claimed.map((c) => c.messageId)).toEqual([messages[2]!.messageId, messages[0]!.messageId]);
  });

  it('claims the oldest due rows first, skips rows another transaction holds, and takes back rows a gone worker left processing once their lease ran out', async () => {
    const customer = randomUUID();
    const ids: string[] = [
      await row(customer, 'pending', '-1 second', { age: '5 seconds' }),
      await row(customer, 'processing', '-1 second', { age: '4 seconds', retry_count: 2, locked_by: 'gone-worker', locked: '1 hour' }),
      await row(customer, 'pending', '-1 second', { age: '3 seconds' }),
      await row(customer, 'pending', '-1 second', { age: '2 seconds' }),
      await row(customer, 'processing', '-1 second', { age: '1 second', locked_by: 'live-worker', locked: '0 seconds' }),
    ];
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query(`select 1 from resman_connector.lead_sync_queue where id = $1 for update`, [ids[2]]);
      const em = orm.em.fork({ clear: true });
      const g = { accountId: acct, propertyId: prop, customerId: customer };
      const claimed = await claimGroups(em, [g], 'worker-2', 2, LEASE_MS);
      expect(claimed.map((c) => [c.id, c.wasProcessing, c.retryCount])).toEqual([[ids[0], false, 0], [ids[1], true, 3]]);
      // ids[0] and ids[1] are worker-2's now, with a fresh lease; ids[2] is locked; ids[4] is a live worker's.
      const next = await claimGroups(em, [g], 'worker-2', 10, LEASE_MS);
      expect(next.map((c) => c.id)).toEqual([ids[3]]);
      await locker.query('rollback');
      const states = await db.query<{ id: string; status: string; locked_by: string }>(`select id, status, locked_by from resman_connector.lead_sync_queue where id = any($1)`, [ids]);
      expect(Object.fromEntries(states.map((s) => [s.id, `${s.status} ${s.locked_by ?? ''}`.trim()]))).toEqual({
        [ids[0]!]: 'processing worker-2', [ids[1]!]: 'processing worker-2', [ids[2]!]: 'pending', [ids[3]!]: 'processing worker-2', [ids[4]!]: 'processing live-worker',
      });
    } finally {
      await locker.end();
    }
  });
});
