import { beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { MikroORM } from '@domiq/db';
import { createLogger } from '@domiq/logging';
import { events } from '@domiq/proto/events';
import type { ResolutionOpened } from '@domiq/proto/resolutions/events';
import { expectEventually, publishTestEvent, readStream, type NatsServerProcess, type TestDatabase } from '@domiq/testkit';
import { appendEvent, defineHandler, EventConsumer, EventTooLargeError, inTransaction, OutboxRelay, PoisonMessageError } from '../src/index.ts';
import { useBusFixture } from './bus-fixture.ts';

// The outbox relay and the consumer against real PostgreSQL and a private, real nats-server.
const schema = 'bus_test';
const logger = createLogger('bus-test', 'silent');
let db: TestDatabase;
let nats: NatsServerProcess;
let nc: NatsConnection;
let orm: MikroORM;

const payload = (n: number): ResolutionOpened => ({ accountId: crypto.randomUUID(), resolutionId: crypto.randomUUID(), conversationId: crypto.randomUUID(), issueType: 'ISSUE_TYPE_BILLING', owningTeam: `team-${n}`, priority: 'SEVERITY_P2' });
/** Which payload(n) an event carries. */
const nth = (data: unknown) => (data as { owningTeam: string }).owningTeam;

const fixture = useBusFixture(schema, [`create table ${schema}.effects (event_id text, attempt int)`]);
beforeAll(() => {
  ({ db, nats, nc, orm } = fixture);
});
const running = fixture.running;

async function commitEvents(count: number, opts: { rollback?: boolean } = {}): Promise<void> {
  await orm.em.fork().transactional(async (tx) => {
    for (let i = 0; i < count; i++) appendEvent(tx, events.resolutionOpened, payload(i), { entityId: crypto.randomUUID() });
    await tx.flush();
    if (opts.rollback) throw new Error('rollback');
  }).catch((err: Error) => {
    if (!opts.rollback) throw err;
  });
}

function startRelay(): OutboxRelay {
  const relay = new OutboxRelay({ orm, nc, schema, databaseUrl: db.url, logger, pollMs: 200 });
  running.push(relay);
  void relay.start();
  return relay;
}

describe('outbox relay', () => {
  it('publishes committed rows in id order with <schema>:<id> as Nats-Msg-Id, and never a rolled-back one', async () => {
    await commitEvents(1, { rollback: true });
    await commitEvents(5);
    startRelay();
    const msgs = await expectEventually(async () => {
      const m = await readStream(nats.url, 'RESOLUTIONS', 'resolutions.resolution.opened');
      expect(m).toHaveLength(5);
      return m;
    });
    const ids = msgs.map((m) => Number(m.headers['Nats-Msg-Id']!.split(':')[1]));
    expect(msgs.every((m) => m.headers['Nats-Msg-Id']!.startsWith(`${schema}:`))).toBe(true);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(msgs.map((m) => nth(m.data))).toEqual(['team-0', 'team-1', 'team-2', 'team-3', 'team-4']);
    const [pub] = await db.query<{ n: number }>(`select count(*)::int as n from ${schema}.event_log_publication`);
    expect(pub!.n).toBe(5);
  });

  it('a relay that crashed after publishing but before recording it republishes, and JetStream drops the duplicates', async () => {
    const before = (await readStream(nats.url, 'RESOLUTIONS')).length;
    // Forget the publications, as if the relay died between the publish ack and its own commit.
    await db.query(`delete from ${schema}.event_log_publication`);
    startRelay();
    await expectEventually(async () => {
      const [row] = await db.query<{ n: number; dup: number }>(`select count(*)::int as n, count(*) filter (where duplicate)::int as dup from ${schema}.event_log_publication`);
      expect(row).toEqual({ n: 5, dup: 5 });
    });
    expect((await readStream(nats.url, 'RESOLUTIONS')).length).toBe(before);
  });
});

describe('eventTransaction (the platform transactions\' outbox writes)', () => {
  it('writes the emitted events in one statement before the commit, in emission order, and none on rollback', async () => {
    const entity = crypto.randomUUID();
    const emitted = [3, 1, 2].map((n) => ({ ...payload(n), resolutionId: entity }));
    const before = await db.query<{ n: string }>(`select coalesce(max(id), 0)::text as n from ${schema}.event_log`);
    await inTransaction(orm, { actorType: 'user', actorId: entity }, async (uow) => {
      for (const p of emitted) uow.emit(events.resolutionOpened, p, { entityId: entity, accountId: p.accountId });
      // Not in the table before the work is done: written once, at the end.
      const [inside] = await uow.em.execute<Array<{ n: number }>>(`select count(*)::int as n from ${schema}.event_log where entity_id = ?`, [entity]);
      expect(inside!.n).toBe(0);
    });
    const rows = await db.query<{ id: string; payload: { owningTeam: string }; actor_type: string; actor_id: string; xmin: string }>(
      `select id::text, payload, actor_type, actor_id, xmin::text from ${schema}.event_log where entity_id = $1 order by id`, [entity]);
    expect(rows.map((r) => r.payload.owningTeam)).toEqual(['team-3', 'team-1', 'team-2']);
    expect(rows.every((r) => r.actor_type === 'user' && r.actor_id === entity)).toBe(true);
    expect(new Set(rows.map((r) => r.xmin)).size).toBe(1);
    expect(BigInt(rows[0]!.id)).toBeGreaterThan(BigInt(before[0]!.n));

    const rolledBack = crypto.randomUUID();
    await expect(inTransaction(orm, { actorType: 'system' }, async (uow) => {
      uow.emit(events.resolutionOpened, { ...payload(9), resolutionId: rolledBack }, { entityId: rolledBack });
      throw new Error('the use case failed');
    })).rejects.toThrow('the use case failed');
    expect(await db.query(`select 1 from ${schema}.event_log where entity_id = $1`, [rolledBack])).toHaveLength(0);
  });

  it('refuses an event too large for the broker where it is emitted', async () => {
    const entity = crypto.randomUUID();
    await expect(inTransaction(orm, { actorType: 'system' }, async (uow) => {
      uow.emit(events.resolutionOpened, { ...payload(1), resolutionId: entity, owningTeam: 'x'.repeat(2 * 1024 * 1024) }, { entityId: entity });
    })).rejects.toThrow(EventTooLargeError);
    expect(await db.query(`select 1 from ${schema}.event_log where entity_id = $1`, [entity])).toHaveLength(0);
  });
});

describe('outbox relay ordering', () => {
  it('publishes a row whose transaction commits after rows with higher ids were published', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slowEntity = crypto.randomUUID();
    const slow = orm.em.fork().transactional(async (tx) => {
      appendEvent(tx, events.resolutionOpened, { ...payload(7), resolutionId: slowEntity }, { entityId: slowEntity });
      await tx.flush();
      await gate;
    });
    // The slow transaction holds the lower id; a later one commits and is published first.
    await expectEventually(async () => {
      const [r] = await db.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where state = 'idle in transaction' and datname = current_database()`);
      expect(r!.n).toBeGreaterThan(0);
    });
    const fastEntity = crypto.randomUUID();
    await orm.em.fork().transactional(async (tx) => appendEvent(tx, events.resolutionOpened, { ...payload(8), resolutionId: fastEntity }, { entityId: fastEntity }));
    startRelay();
    const ids = async () => (await readStream(nats.url, 'RESOLUTIONS')).map((m) => (m.data as { resolutionId: string }).resolutionId);
    await expectEventually(async () => expect(await ids()).toContain(fastEntity));
    release();
    await slow;
    await expectEventually(async () => expect(await ids()).toContain(slowEntity));
  });
});

describe('event consumer', () => {
  function consumer(durable: string, handle: Parameters<typeof defineHandler<ResolutionOpened>>[0]['handle'], concurrency = 4, maxDeliver = 4) {
    const c = new EventConsumer(defineHandler({ durable, contract: events.resolutionOpened, handle }), { orm, nc, schema, logger, concurrency, maxDeliver, ackWaitMs: 5000 });
    running.push(c);
    return c;
  }
  const effects = async (eventId: string) => db.query<{ attempt: number }>(`select attempt from ${schema}.effects where event_id = $1`, [eventId]);

  it('retries a transient failure with nak(backoff) and commits the effect once', async () => {
    const attempts = new Map<string, number>();
    await consumer('retry-test', async ({ em, eventId, deliveryCount }) => {
      if (!eventId.startsWith('test:')) return;
      attempts.set(eventId, deliveryCount);
      await em.execute(`insert into ${schema}.effects (event_id, attempt) values (?, ?)`, [eventId, deliveryCount]);
      if (deliveryCount < 3) throw new Error('database briefly unavailable');
    }).start();
    const id = await publishTestEvent(nats.url, events.resolutionOpened, payload(1));
    await expectEventually(async () => expect(await effects(id)).toEqual([{ attempt: 3 }]));
    const [p] = await db.query<{ n: number }>(`select count(*)::int as n from ${schema}.processed_event where event_id = $1`, [id]);
    expect(p!.n).toBe(1);
  });

  // Every consumer here reads the whole stream, so each test only fails the event it published.
  it('dead-letters after max_deliver attempts, keeping the message and the reason', async () => {
    let calls = 0;
    const id = `test:${crypto.randomUUID()}`;
    await consumer('give-up-test', async ({ eventId }) => {
      if (eventId !== id) return;
      calls++;
      throw new Error('ResMan is down');
    }, 2, 3).start();
    await publishTestEvent(nats.url, events.resolutionOpened, payload(2), id);
    const [dead] = await expectEventually(async () => {
      const d = await readStream(nats.url, 'DLQ', 'dlq.give-up-test');
      expect(d).toHaveLength(1);
      return d;
    }, { timeoutMs: 20_000 });
    expect(calls).toBe(3);
    expect(dead!.headers['DomIQ-Dlq-Reason']).toMatch(/gave up after 3 deliveries: Error: ResMan is down/);
    expect(dead!.headers['DomIQ-Event-Id']).toBe(id);
    expect(nth(dead!.data)).toBe('team-2');
    expect(await effects(id)).toEqual([]);
  });

  it('dead-letters poison at once and does not retry it', async () => {
    let calls = 0;
    const id = `test:${crypto.randomUUID()}`;
    await consumer('poison-test', async ({ eventId }) => {
      if (eventId !== id) return;
      calls++;
      throw new PoisonMessageError('issue_type is not one we know');
    }).start();
    await publishTestEvent(nats.url, events.resolutionOpened, payload(3), id);
    const dead = await expectEventually(async () => {
      const d = await readStream(nats.url, 'DLQ', 'dlq.poison-test');
      expect(d).toHaveLength(1);
      return d;
    });
    expect(dead[0]!.headers['DomIQ-Dlq-Reason']).toBe('issue_type is not one we know');
    expect(calls).toBe(1);
  });

  it('handles an event once even when it arrives twice (processed-event record)', async () => {
    let calls = 0;
    await consumer('dedupe-test', async ({ em, eventId }) => {
      calls++;
      await em.execute(`insert into ${schema}.effects (event_id, attempt) values (?, 1)`, [eventId]);
    }).start();
    const eventId = `test:${crypto.randomUUID()}`;
    await publishTestEvent(nats.url, events.resolutionOpened, payload(4), eventId);
    // Past the stream's duplicate window from the consumer's point of view: a new Nats-Msg-Id, the same event id.
    const nc2 = await nats.connectAdmin();
    const { headers } = await import('@nats-io/transport-node');
    const { jetstream } = await import('@nats-io/jetstream');
    const h = headers();
    h.set('DomIQ-Event-Id', eventId);
    await jetstream(nc2).publish('resolutions.resolution.opened', JSON.stringify(events.resolutionOpened.codec.toJSON(payload(4))), { headers: h, msgID: `${eventId}-again` });
    await nc2.close();
    await expectEventually(async () => {
      const info = await (await jetstreamManager(nc)).consumers.info('RESOLUTIONS', 'dedupe-test');
      expect(info.num_pending + info.num_ack_pending).toBe(0);
      expect(info.delivered.stream_seq).toBeGreaterThan(0);
    });
    expect(await effects(eventId)).toHaveLength(1);
    expect(calls).toBeGreaterThanOrEqual(1);
  });

  it('never runs more handlers at once than its concurrency', async () => {
    let active = 0;
    let peak = 0;
    let done = 0;
    await consumer('concurrency-test', async ({ eventId }) => {
      if (!eventId.startsWith('conc:')) return;
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 30));
      active--;
      done++;
    }, 3).start();
    const before = done;
    await Promise.all(Array.from({ length: 20 }, (_, i) => publishTestEvent(nats.url, events.resolutionOpened, payload(i), `conc:${i}:${crypto.randomUUID()}`)));
    await expectEventually(() => expect(done - before).toBeGreaterThanOrEqual(20));
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });
});
