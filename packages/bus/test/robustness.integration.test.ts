import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { applySqlMigrations, openDatabase, type MikroORM } from '@domiq/db';
import { createLogger } from '@domiq/logging';
import { events } from '@domiq/proto/events';
import type { ResolutionOpened } from '@domiq/proto/resolutions/events';
import { createTestDatabase, expectEventually, NatsServerProcess, publishTestEvent, readStream, type TestDatabase } from '@domiq/testkit';
import {
  appendEvent, busEntities, connectNats, defineHandler, EVENT_HEADER_ALLOWANCE, EventConsumer, EventTooLargeError, maxEventPayloadBytes, OutboxRelay, busMigrations,
  PoisonMessageError, provisionStreams, setBrokerMaxPayload, type EventHandler,
} from '../src/index.ts';

// Issue 6, "robustness the platform owes every service": against real PostgreSQL and a private, real nats-server.
const schema = 'bus_robust';
const lines: Array<Record<string, unknown>> = [];
// A logger whose lines the tests can read (pino-style: (obj, msg)).
const logger = createLogger('bus-robustness-test', 'silent');
for (const level of ['warn', 'error', 'info'] as const) {
  const original = logger[level].bind(logger) as (...a: unknown[]) => void;
  (logger as unknown as Record<string, unknown>)[level] = (obj: unknown, msg?: string) => {
    lines.push({ level, msg, ...(typeof obj === 'object' ? (obj as object) : { msg: obj }) });
    original(obj, msg);
  };
}
let db: TestDatabase;
let nats: NatsServerProcess;
let nc: NatsConnection;
let jsm: JetStreamManager;
let orm: MikroORM;
const running: Array<{ stop(): Promise<void> }> = [];

// `pad` makes an event as large as a test needs; owningTeam says which payload(n) it is.
const payload = (n: number, pad = ''): ResolutionOpened => ({ accountId: crypto.randomUUID(), resolutionId: crypto.randomUUID(), conversationId: crypto.randomUUID(), issueType: 'ISSUE_TYPE_BILLING', owningTeam: `team-${n}${pad}`, priority: 'SEVERITY_P2' });

beforeAll(async () => {
  db = await createTestDatabase();
  nats = await NatsServerProcess.start();
  // Through connectNats, as a service connects (as the admin: durables outside any service's registry entry).
  nc = await connectNats({ servers: nats.url, name: 'bus-robustness-test', nkeySeedFile: nats.adminSeedFile });
  jsm = await jetstreamManager(nc);
  orm = await openDatabase({ schema, clientUrl: db.url, entities: busEntities, migrationsPath: '/nonexistent' });
  await db.query(`create schema ${schema}`);
  await applySqlMigrations(orm.em.fork(), schema, busMigrations);
  await db.query(`create table ${schema}.effects (event_id text, attempt int)`);
  await provisionStreams(nc, ['RESOLUTIONS', 'DLQ']);
});
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  await nc?.close();
  await orm?.close();
  await nats?.destroy();
  await db?.drop();
});

function consumer<P = undefined>(durable: string, handler: Omit<EventHandler<ResolutionOpened, P>, 'durable' | 'contract'>, opts: { maxDeliver?: number; ackWaitMs?: number; maxWorkingMs?: number; restartDelayMs?: number } = {}) {
  const c = new EventConsumer(defineHandler<ResolutionOpened, P>({ durable, contract: events.resolutionOpened, ...handler }), {
    orm, nc, schema, logger, concurrency: 4, maxDeliver: opts.maxDeliver ?? 4, ackWaitMs: opts.ackWaitMs ?? 5000, maxWorkingMs: opts.maxWorkingMs, restartDelayMs: opts.restartDelayMs,
  });
  running.push(c);
  return c;
}
const effects = async (eventId: string) => db.query<{ attempt: number }>(`select attempt from ${schema}.effects where event_id = $1`, [eventId]);
const record = (ids: Set<string>) => async ({ em, eventId, deliveryCount }: { em: import('@domiq/db').EntityManager; eventId: string; deliveryCount: number }) => {
  if (ids.has(eventId)) await em.execute(`insert into ${schema}.effects (event_id, attempt) values (?, ?)`, [eventId, deliveryCount]);
};

describe('a consumer whose pull loop ends', () => {
  it('is restarted with backoff (durable recreated) after its durable is deleted on the server, reports itself down meanwhile, and processes new events', async () => {
    const ids = new Set<string>();
    const c = consumer('restart-test', { handle: record(ids) }, { restartDelayMs: 1500 });
    await c.start();
    expect(c.status()).toEqual({ durable: 'restart-test', running: true });
    const before = `test:${crypto.randomUUID()}`;
    ids.add(before);
    await publishTestEvent(nats.url, events.resolutionOpened, payload(1), before);
    await expectEventually(async () => expect(await effects(before)).toHaveLength(1));

    // As the platform admin, as an operator (or a stream restore) might.
    await jsm.consumers.delete('RESOLUTIONS', 'restart-test');
    const down = await expectEventually(async () => {
      const s = c.status();
      expect(s.running).toBe(false);
      return s;
    }, { timeoutMs: 10_000 });
    expect(down.reason).toMatch(/iterator/);
    expect(lines.some((l) => l.consumer === 'restart-test' && /stopped pulling/.test(String(l.msg)))).toBe(true);

    await expectEventually(async () => expect(c.status().running).toBe(true), { timeoutMs: 10_000 });
    expect((await jsm.consumers.info('RESOLUTIONS', 'restart-test')).config.durable_name).toBe('restart-test');
    const after = `test:${crypto.randomUUID()}`;
    ids.add(after);
    await publishTestEvent(nats.url, events.resolutionOpened, payload(2), after);
    await expectEventually(async () => expect(await effects(after)).toHaveLength(1));
    // The recreated durable starts from the stream's beginning; the processed-event record keeps effects single.
    expect(await effects(before)).toHaveLength(1);
  });
});

describe('a dead-letter publish that fails', () => {
  it('leaves the message in its stream (nak, not term) and dead-letters it once the DLQ works again', async () => {
    const id = `test:${crypto.randomUUID()}`;
    let calls = 0;
    await consumer('dlq-outage-test', {
      handle: async ({ eventId }) => {
        if (eventId !== id) return;
        calls++;
        throw new PoisonMessageError('cannot ever be handled');
      },
    }, { maxDeliver: 2 }).start();
    await jsm.streams.delete('DLQ');
    try {
      await publishTestEvent(nats.url, events.resolutionOpened, payload(3), id);
      await expectEventually(() => expect(lines.filter((l) => l.consumer === 'dlq-outage-test' && /dead-letter publish failed/.test(String(l.msg))).length).toBeGreaterThanOrEqual(3), { timeoutMs: 15_000 });
      // Still in its stream and still owed to the consumer (not termed, not given up by the server).
      expect((await readStream(nats.url, 'RESOLUTIONS')).some((m) => m.headers['DomIQ-Event-Id'] === id)).toBe(true);
      const info = await jsm.consumers.info('RESOLUTIONS', 'dlq-outage-test');
      expect(info.num_ack_pending + info.num_pending).toBeGreaterThan(0);
      expect(info.config.max_deliver).toBe(-1);
    } finally {
      await provisionStreams(nc, ['DLQ']);
    }
    const dead = await expectEventually(async () => {
      const d = await readStream(nats.url, 'DLQ', 'dlq.dlq-outage-test');
      expect(d).toHaveLength(1);
      return d;
    }, { timeoutMs: 20_000 });
    expect(dead[0]!.headers['DomIQ-Event-Id']).toBe(id);
    expect(dead[0]!.headers['DomIQ-Dlq-Reason']).toMatch(/cannot ever be handled|exceeded 2 deliveries/);
    await expectEventually(async () => {
      const info = await jsm.consumers.info('RESOLUTIONS', 'dlq-outage-test');
      expect(info.num_ack_pending + info.num_pending).toBe(0);
    });
    // The handler ran at most maxDeliver times; later deliveries only retried the dead-letter publish.
    expect(calls).toBeLessThanOrEqual(2);
  });
});

describe('an event too large for the broker', () => {
  it('is refused when written, naming the event and its size, with the limit read from the server', async () => {
    expect(nc.info?.max_payload).toBe(1024 * 1024);
    expect(maxEventPayloadBytes()).toBe(1024 * 1024 - EVENT_HEADER_ALLOWANCE);
    const entityId = crypto.randomUUID();
    const write = orm.em.fork().transactional(async (tx) => {
      appendEvent(tx, events.resolutionOpened, payload(4), { entityId: crypto.randomUUID() });
      appendEvent(tx, events.resolutionOpened, payload(5, 'x'.repeat(1024 * 1024)), { entityId });
    });
    await expect(write).rejects.toThrow(EventTooLargeError);
    await expect(write).rejects.toThrow(new RegExp(`event ${events.resolutionOpened.eventType} \\(entity ${entityId}\\) is 10\\d{5} bytes, more than the ${maxEventPayloadBytes()} bytes`));
    // The whole transaction rolled back: nothing for the relay.
    const [n] = await db.query<{ n: number }>(`select count(*)::int as n from ${schema}.event_log`);
    expect(n!.n).toBe(0);
  });

  it('one exactly at the limit is published; one left in the outbox from before the check does not jam the relay', async () => {
    const base = Buffer.byteLength(JSON.stringify(events.resolutionOpened.codec.toJSON(payload(6, 'y'))));
    const atLimit = payload(6, 'y'.repeat(maxEventPayloadBytes() - base + 1));
    // An oversized row as an older release (or a larger broker limit) could have left it.
    setBrokerMaxPayload(4 * 1024 * 1024);
    await orm.em.fork().transactional(async (tx) => appendEvent(tx, events.resolutionOpened, payload(7, 'z'.repeat(1024 * 1024)), { entityId: crypto.randomUUID() }));
    setBrokerMaxPayload(nc.info?.max_payload);
    await orm.em.fork().transactional(async (tx) => {
      appendEvent(tx, events.resolutionOpened, atLimit, { entityId: atLimit.resolutionId });
      appendEvent(tx, events.resolutionOpened, payload(8), { entityId: crypto.randomUUID() });
    });
    const relay = new OutboxRelay({ orm, nc, schema, databaseUrl: db.url, logger, pollMs: 200 });
    running.push(relay);
    await relay.start();
    await expectEventually(async () => {
      const [r] = await db.query<{ n: number }>(`select count(*)::int as n from ${schema}.event_log_publication`);
      expect(r!.n).toBe(2);
    });
    const published = (await readStream(nats.url, 'RESOLUTIONS')).map((m) => m.data as ResolutionOpened);
    expect(published.some((p) => p.resolutionId === atLimit.resolutionId)).toBe(true);
    expect(published.some((p) => p.owningTeam === 'team-8')).toBe(true);
    expect(published.some((p) => p.owningTeam.startsWith('team-7'))).toBe(false);
    const oversized = lines.filter((l) => /event too large for the broker/.test(String(l.msg)));
    expect(oversized).toHaveLength(1);
    expect(String(oversized[0]!.err)).toMatch(/is 10\d{5} bytes/);
    // Not counted as a relay failure: no "publish failed, will retry".
    expect(lines.some((l) => /outbox relay: publish failed/.test(String(l.msg)))).toBe(false);
  });
});

describe('a handler kept alive with working()', () => {
  it('stops extending ack_wait after maxWorkingMs: the event is redelivered and handled, and the late original is a duplicate', async () => {
    const id = `test:${crypto.randomUUID()}`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let prepares = 0;
    let firstOutcome = '';
    await consumer<void>('working-limit-test', {
      // A third-party call that hangs on the first delivery only.
      prepare: async ({ eventId }) => {
        if (eventId !== id) return;
        if (++prepares === 1) {
          await gate;
          firstOutcome = 'finished';
        }
      },
      handle: record(new Set([id])),
    }, { ackWaitMs: 3000, maxWorkingMs: 2000 }).start();
    const t0 = Date.now();
    await publishTestEvent(nats.url, events.resolutionOpened, payload(9), id);
    const [row] = await expectEventually(async () => {
      const e = await effects(id);
      expect(e).toHaveLength(1);
      return e;
    }, { timeoutMs: 15_000 });
    expect(row!.attempt).toBe(2);
    // Not before the limit plus ack_wait: working() kept it until then.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4000);
    const warned = lines.find((l) => l.consumer === 'working-limit-test' && /working limit/.test(String(l.msg)));
    expect(warned).toMatchObject({ event_id: id, max_working_ms: 2000 });
    release();
    await expectEventually(() => expect(firstOutcome).toBe('finished'));
    await expectEventually(async () => {
      const info = await jsm.consumers.info('RESOLUTIONS', 'working-limit-test');
      expect(info.num_ack_pending + info.num_pending).toBe(0);
    });
    expect(await effects(id)).toHaveLength(1);
  });
});
