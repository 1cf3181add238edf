// The batch-first consumer (issue 7's hot-path pattern) against real PostgreSQL and a private nats-server: events
// are handled in batches, one transaction each; a failing batch is split until the bad event is isolated, so the
// good ones commit exactly once and the bad one is dead-lettered (poison) or retried (transient) on its own.
import { beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { MikroORM } from '@domiq/db';
import { createLogger } from '@domiq/logging';
import { events } from '@domiq/proto/events';
import type { ResolutionOpened } from '@domiq/proto/resolutions/events';
import { expectEventually, readStream, type NatsServerProcess, type TestDatabase } from '@domiq/testkit';
import { defineBatchHandler, EventConsumer, PoisonMessageError, type BatchHandlerContext } from '../src/index.ts';
import { useBusFixture } from './bus-fixture.ts';

const schema = 'bus_batch';
const logger = createLogger('bus-batch-test', 'silent');
let db: TestDatabase;
let nats: NatsServerProcess;
let nc: NatsConnection;
let orm: MikroORM;

/** A test's events carry its tag and their number in owningTeam (`poison-37`). */
const payload = (tag: string, n: number): ResolutionOpened => ({
  accountId: crypto.randomUUID(), resolutionId: crypto.randomUUID(), conversationId: crypto.randomUUID(), issueType: 'ISSUE_TYPE_BILLING',
  owningTeam: `${tag}-${n}`, priority: 'SEVERITY_P2',
});

const fixture = useBusFixture(schema, [`create table ${schema}.effects (event_id text primary key, team text not null, batch_size int not null, delivery int not null)`]);
beforeAll(() => {
  ({ db, nats, nc, orm } = fixture);
});
const running = fixture.running;

/** Publishes `count` events of the test, as a relay would (event id header and dedupe id), on one connection. */
async function publish(tag: string, count: number, eventId = (n: number) => `test:${tag}:${n}:${crypto.randomUUID()}`): Promise<string[]> {
  const js = jetstream(nc);
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const id = eventId(n);
    const h = headers();
    h.set('DomIQ-Event-Id', id);
    await js.publish(events.resolutionOpened.subject, JSON.stringify(events.resolutionOpened.codec.toJSON(payload(tag, n))), { msgID: `${id}:${n}`, headers: h });
    ids.push(id);
  }
  return ids;
}

/** Stores one effect row per event of the test's tag, in one multi-row insert, as a hot-path handler would. */
function batchConsumer(durable: string, tag: string, opts: { fail?: (team: string, ctx: BatchHandlerContext<ResolutionOpened, undefined>) => void; maxMessages?: number; concurrency?: number } = {}) {
  const sizes: number[] = [];
  const c = new EventConsumer(defineBatchHandler({
    durable,
    contract: events.resolutionOpened,
    batch: { maxMessages: opts.maxMessages ?? 50, maxWaitMs: 20 },
    async handleBatch(ctx) {
      const mine = ctx.items.filter((i) => i.payload.owningTeam.startsWith(`${tag}-`));
      if (mine.length === 0) return;
      sizes.push(ctx.items.length);
      for (const i of mine) opts.fail?.(i.payload.owningTeam, ctx);
      await ctx.em.execute(
        `insert into ${schema}.effects (event_id, team, batch_size, delivery)
         select event_id, team, ?, delivery from json_to_recordset(?::json) as r(event_id text, team text, delivery int)`,
        [ctx.items.length, JSON.stringify(mine.map((i) => ({ event_id: i.eventId, team: i.payload.owningTeam, delivery: i.deliveryCount })))],
      );
    },
  }), { orm, nc, schema, logger, concurrency: opts.concurrency ?? 2, maxDeliver: 3, ackWaitMs: 5000 });
  running.push(c);
  return { consumer: c, sizes };
}

const effectsOf = (tag: string) => db.query<{ event_id: string; team: string; batch_size: number; delivery: number }>(`select event_id, team, batch_size, delivery from ${schema}.effects where team like $1 order by team`, [`${tag}-%`]);

describe('batch consumer', () => {
  it('handles events in batches, one transaction and one processed-event insert each, every event once', async () => {
    const ids = await publish('plain', 120);
    const { consumer, sizes } = batchConsumer('batch-plain', 'plain');
    await consumer.start();
    await expectEventually(async () => expect(await effectsOf('plain')).toHaveLength(120), { timeoutMs: 20_000 });
    const rows = await effectsOf('plain');
    expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(ids));
    // Batched for real: the 120 events waiting in the stream arrive in a few batches, not one by one.
    expect(Math.max(...sizes)).toBeGreaterThan(10);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(ids.length + 1);
    const [p] = await db.query<{ n: number }>(`select count(*)::int as n from ${schema}.processed_event where consumer = 'batch-plain' and event_id = any($1)`, [ids]);
    expect(p!.n).toBe(120);
  });

  it('isolates one poison event among good ones: the good ones stored once, the bad one dead-lettered with its reason', async () => {
    const ids = await publish('poison', 60);
    const bad = 'poison-37';
    const { consumer } = batchConsumer('batch-poison', 'poison', { fail: (team) => { if (team === bad) throw new PoisonMessageError(`unknown property in ${team}`); } });
    await consumer.start();
    const dead = await expectEventually(async () => {
      const d = await readStream(nats.url, 'DLQ', 'dlq.batch-poison');
      expect(d).toHaveLength(1);
      return d;
    }, { timeoutMs: 20_000 });
    expect(dead[0]!.headers['DomIQ-Dlq-Reason']).toBe(`unknown property in ${bad}`);
    expect((dead[0]!.data as { owningTeam: string }).owningTeam).toBe(bad);
    expect(dead[0]!.headers['DomIQ-Event-Id']).toBe(ids[37]);
    await expectEventually(async () => expect(await effectsOf('poison')).toHaveLength(59), { timeoutMs: 20_000 });
    const rows = await effectsOf('poison');
    expect(rows.map((r) => r.team)).not.toContain(bad);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(59);
    // The good events next to the bad one were committed in smaller batches after the split, still once each.
    expect(Math.min(...rows.map((r) => r.batch_size))).toBeLessThan(Math.max(...rows.map((r) => r.batch_size)));
    const [p] = await db.query<{ n: number }>(`select count(*)::int as n from ${schema}.processed_event where consumer = 'batch-poison' and event_id = any($1)`, [ids]);
    expect(p!.n).toBe(59);
  });

  it('retries a transient failure of one event on its own with backoff, without holding up or duplicating the others', async () => {
    const ids = await publish('flaky', 40);
    const flaky = 'flaky-12';
    let failures = 0;
    const { consumer } = batchConsumer('batch-flaky', 'flaky', {
      fail: (team, ctx) => {
        // Fails in every batch it is part of until its third delivery, like a briefly unavailable dependency.
        const item = ctx.items.find((i) => i.payload.owningTeam === team)!;
        if (team === flaky && item.deliveryCount < 3) {
          failures++;
          throw new Error('database briefly unavailable');
        }
      },
    });
    await consumer.start();
    await expectEventually(async () => expect(await effectsOf('flaky')).toHaveLength(40), { timeoutMs: 20_000 });
    // The other 39 committed on their first delivery, without waiting for the flaky one's redeliveries; it on its third.
    const rows = await effectsOf('flaky');
    expect(rows.filter((r) => r.team !== flaky).map((r) => r.delivery)).toEqual(Array.from({ length: 39 }, () => 1));
    expect(rows.find((r) => r.team === flaky)!.delivery).toBe(3);
    expect(failures).toBeGreaterThanOrEqual(2);
    expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(ids));
    expect(await readStream(nats.url, 'DLQ', 'dlq.batch-flaky')).toEqual([]);
  });

  it('handles an event published twice (another message id, same event id) once, in one batch or across two', async () => {
    const eventIds = Array.from({ length: 10 }, () => `test:dup:${crypto.randomUUID()}`);
    await publish('dup', 10, (n) => eventIds[n]!);
    await publish('dup', 10, (n) => eventIds[n]!);
    const { consumer } = batchConsumer('batch-dup', 'dup');
    await consumer.start();
    await expectEventually(async () => expect(await effectsOf('dup')).toHaveLength(10), { timeoutMs: 10_000 });
    // Everything of the stream has been acked: nothing more will come.
    await expectEventually(async () => {
      const info = await (await jetstreamManager(nc)).consumers.info('RESOLUTIONS', 'batch-dup');
      expect(info.num_pending + info.num_ack_pending).toBe(0);
    });
    expect(await effectsOf('dup')).toHaveLength(10);
  });
});
