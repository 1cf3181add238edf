// The broker's least-privilege model, against a real nats-server running the generated authorization
// (NatsServerProcess): who may connect, publish, read and manage what. Nothing is mocked.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createUser } from '@nats-io/nkeys';
import { applySqlMigrations, openDatabase, type MikroORM } from '@domiq/db';
import { createLogger } from '@domiq/logging';
import { events, streamForSubject, streams, type EventContract, type StreamName } from '@domiq/proto/events';
import { consumerSource, registry, services, type ServiceEntry, type ServiceName } from '@domiq/proto/services';
import {
  createTestDatabase, expectEventually, freePort, isPortOpen, NatsServerProcess, natsServerBinary, publishTestEvent, readStream, consumerIdle,
  type TestDatabase,
} from '@domiq/testkit';
import {
  appendEvent, assertRegisteredConsumer, busEntities, connectNats, defineHandler, EventConsumer, generateNkeys, inboxPrefix, natsAuthorization,
  nkeyEnvRefs, nkeyEnvVar, OutboxRelay, busMigrations, PoisonMessageError, provisionStreams, renderNatsServerConfig, servicePermissions, waitForStreams,
} from '../src/index.ts';

const logger = createLogger('nats-permissions-test', 'silent');
let db: TestDatabase;
let nats: NatsServerProcess;
let admin: NatsConnection;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  db = await createTestDatabase();
  nats = await NatsServerProcess.start();
  admin = await nats.connectAdmin();
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await admin?.close();
  await nats?.destroy();
  await db?.drop();
});

/** A service's connection exactly as the platform opens it (connectNats + its seed file), plus every async error it gets. */
async function connectService(name: ServiceName): Promise<{ nc: NatsConnection; errors: string[] }> {
  const nc = await connectNats({ servers: nats.url, name, logger, nkeySeedFile: nats.credentialsFor(name).NATS_NKEY_SEED_FILE });
  const errors: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
  })();
  cleanup.push(() => nc.close());
  return { nc, errors };
}

const orms = new Map<string, MikroORM>();
/** The service's schema with the bus tables (event_log outbox, publications, processed events). */
async function schemaOf(name: ServiceName): Promise<MikroORM> {
  const schema = registry[name].schema;
  const existing = orms.get(schema);
  if (existing) return existing;
  await db.query(`create schema ${schema}`);
  const orm = await openDatabase({ schema, clientUrl: db.url, entities: busEntities, migrationsPath: '/nonexistent' });
  await applySqlMigrations(orm.em.fork(), schema, busMigrations);
  orms.set(schema, orm);
  cleanup.push(() => orm.close());
  return orm;
}

/** An event contract on a stream the service owns. */
function ownEvent(name: ServiceName): EventContract<any> {
  const own = registry[name].streams;
  const found = Object.values(events).find((e) => own.includes(streamForSubject(e.subject)));
  if (!found) throw new Error(`no event on a stream ${name} owns`);
  return found;
}

/** Commits an outbox row in the service's schema and lets a relay with the service's credentials publish it. */
async function publishThroughOutbox(name: ServiceName, nc: NatsConnection, contract: EventContract<any>, payload: unknown): Promise<string> {
  const orm = await schemaOf(name);
  const entityId = crypto.randomUUID();
  await orm.em.fork().transactional(async (tx) => appendEvent(tx, contract, contract.codec.fromPartial(payload), { entityId }));
  const relay = new OutboxRelay({ orm, nc, schema: registry[name].schema, databaseUrl: db.url, logger, pollMs: 200 });
  await relay.start();
  cleanup.push(() => relay.stop());
  return entityId;
}

async function streamCount(stream: StreamName): Promise<number> {
  return (await (await jetstreamManager(admin)).streams.info(stream)).state.messages;
}

const denied = (subject: string) => expect.objectContaining({ message: expect.stringContaining(`Permissions Violation for Publish to "${subject}"`) });

describe('connecting', () => {
  it('refuses a connection without credentials, and one with an nkey the server does not know', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/Authorization Violation/);
    const stranger = createUser().getSeed();
    await expect(connect({ servers: nats.url, reconnect: false, authenticator: nkeyAuthenticator(stranger) })).rejects.toThrow(/Authorization Violation/);
  });

  it('connectNats reads NATS_NKEY_SEED_FILE over NATS_NKEY_SEED, and never echoes a bad seed', async () => {
    const seedFile = nats.credentialsFor('identity').NATS_NKEY_SEED_FILE!;
    // The literal seed is someone else's: the file must win.
    const other = new TextDecoder().decode(createUser().getSeed());
    const nc = await connectNats({ servers: nats.url, name: 'identity', logger, nkeySeed: other, nkeySeedFile: seedFile });
    await nc.close();
    const dir = mkdtempSync(join(tmpdir(), 'domiq-seed-'));
    try {
      const bad = join(dir, 'bad.nk');
      writeFileSync(bad, 'SUNOTASEEDBUTSECRETLOOKINGTEXT');
      const err = await connectNats({ servers: nats.url, name: 'identity', logger, nkeySeedFile: bad }).catch((e: Error) => e);
      expect(String(err)).toMatch(/does not hold a valid nkey seed/);
      expect(String(err)).not.toContain('SECRETLOOKING');
      const err2 = await connectNats({ servers: nats.url, name: 'identity', logger, nkeySeed: 'SUSECRETLOOKING' }).catch((e: Error) => e);
      expect(String(err2)).toMatch(/NATS_NKEY_SEED is not a valid nkey seed/);
      expect(String(err2)).not.toContain('SECRETLOOKING');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a service cannot touch another service's subjects or consumers", () => {
  it('channel-gateway cannot publish conversations.message.created, as an event or as a plain message', async () => {
    const { nc, errors } = await connectService('channel-gateway');
    const before = await streamCount('CONVERSATIONS');
    await expect(jetstream(nc).publish(events.messageCreated.subject, '{}', { timeout: 2000 })).rejects.toEqual(denied(events.messageCreated.subject));
    nc.publish(events.messageCreated.subject, '{}');
    await nc.flush();
    await expectEventually(async () => expect(errors).toContainEqual(expect.stringContaining(`Publish to "${events.messageCreated.subject}"`)));
    expect(await streamCount('CONVERSATIONS')).toBe(before);
    expect(nc.isClosed(), 'a violation is refused, the connection stays usable').toBe(false);
  });

  it.each(services.map((s) => [s.name, s] as const))('%s may publish on no stream it does not own (and on no other dlq.<durable>)', async (name, entry) => {
    const { nc } = await connectService(name);
    const js = jetstream(nc);
    for (const stream of Object.keys(streams) as StreamName[]) {
      if (entry.streams.includes(stream)) continue;
      for (const pattern of streams[stream].subjects) {
        const subject = pattern.replace('>', 'forged.event');
        await expect(js.publish(subject, '{}', { timeout: 2000 }), `${name} -> ${subject}`).rejects.toEqual(denied(subject));
      }
    }
    for (const other of services.filter((s) => s.name !== name).flatMap((s) => s.consumers)) {
      await expect(js.publish(`dlq.${other.durable}`, '{}', { timeout: 2000 })).rejects.toEqual(denied(`dlq.${other.durable}`));
    }
  });

  it("cannot read another service's durable: CONSUMER.INFO and MSG.NEXT are denied, so are create, delete and acks", async () => {
    // channel-gateway owns CHANNEL_GATEWAY, but the durable on it is conversations'.
    const { nc } = await connectService('channel-gateway');
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const durable = 'conversations-message-received';
    await expect(jsm.consumers.info('CHANNEL_GATEWAY', durable)).rejects.toEqual(denied(`$JS.API.CONSUMER.INFO.CHANNEL_GATEWAY.${durable}`));
    await expect(jetstream(nc).consumers.get('CHANNEL_GATEWAY', durable)).rejects.toEqual(denied(`$JS.API.CONSUMER.INFO.CHANNEL_GATEWAY.${durable}`));
    const next = `$JS.API.CONSUMER.MSG.NEXT.CHANNEL_GATEWAY.${durable}`;
    await expect(nc.request(next, JSON.stringify({ batch: 1, expires: 1_000_000_000 }), { timeout: 2000 })).rejects.toEqual(denied(next));
    await expect(jsm.consumers.delete('CHANNEL_GATEWAY', durable)).rejects.toEqual(denied(`$JS.API.CONSUMER.DELETE.CHANNEL_GATEWAY.${durable}`));
    await expect(jsm.consumers.add('CHANNEL_GATEWAY', { durable_name: 'sneaky' })).rejects.toEqual(expect.objectContaining({ message: expect.stringContaining('Permissions Violation') }));
    // resman-connector reads CONVERSATIONS, but not through routing-sla's durable, and not the stream itself.
    const r = await connectService('resman-connector');
    const rjsm = await jetstreamManager(r.nc, { checkAPI: false });
    await expect(rjsm.consumers.info('CONVERSATIONS', 'routing-sla-conversation-created')).rejects.toEqual(denied('$JS.API.CONSUMER.INFO.CONVERSATIONS.routing-sla-conversation-created'));
    await expect(rjsm.streams.info('CONVERSATIONS')).rejects.toEqual(denied('$JS.API.STREAM.INFO.CONVERSATIONS'));
    await expect(rjsm.streams.getMessage('CONVERSATIONS', { seq: 1 })).rejects.toEqual(denied('$JS.API.STREAM.MSG.GET.CONVERSATIONS'));
    await expect(rjsm.streams.delete('CONVERSATIONS')).rejects.toEqual(denied('$JS.API.STREAM.DELETE.CONVERSATIONS'));
    await expect(rjsm.streams.purge('DLQ')).rejects.toEqual(denied('$JS.API.STREAM.PURGE.DLQ'));
    const ack = '$JS.ACK.CONVERSATIONS.routing-sla-conversation-created.1.1.1.1.0';
    r.nc.publish(ack, '+ACK');
    await r.nc.flush();
    await expectEventually(async () => expect(r.errors).toContainEqual(expect.stringContaining(`Publish to "${ack}"`)));
  });

  it("cannot subscribe to another service's subjects, to its inbox, or to anything but its own inbox", async () => {
    for (const subject of ['conversations.>', 'channel-gateway.message.received', '>', `${inboxPrefix('conversations')}.>`, '_INBOX.>', '$JS.API.>']) {
      const { nc } = await connectService('resolutions');
      const sub = nc.subscribe(subject);
      const outcome = await (async () => {
        for await (const _ of sub) return 'message';
        return 'closed';
      })().catch((e: Error) => e.message);
      expect(outcome, subject).toMatch(/Permissions Violation for Subscription to/);
    }
  });

  it('an event forged on a subject the publisher does not own never reaches a consumer; the legitimate one does', async () => {
    // The real consumer: routing-sla's durable on conversations.conversation.created, with routing-sla's credentials.
    const routing = await connectService('routing-sla');
    const orm = await schemaOf('routing-sla');
    const seen: Array<{ eventId: string; conversationId: string }> = [];
    const consumer = new EventConsumer(
      defineHandler({
        durable: 'routing-sla-conversation-created',
        contract: events.conversationCreated,
        handle: async ({ eventId, payload }) => void seen.push({ eventId, conversationId: payload.conversationId }),
      }),
      { orm, nc: routing.nc, schema: registry['routing-sla'].schema, logger, concurrency: 2, maxDeliver: 3 },
    );
    await consumer.start();
    const stopConsumer = () => consumer.stop();
    cleanup.push(stopConsumer);
    const storedBefore = await streamCount('CONVERSATIONS');

    // The forger: channel-gateway, trying every way it has to put the event on the subject.
    const forger = await connectService('channel-gateway');
    const forged = events.conversationCreated.codec.fromPartial({ conversationId: 'forged', accountId: crypto.randomUUID() });
    const h = headers();
    h.set('DomIQ-Event-Id', 'conversations:999999');
    await expect(jetstream(forger.nc).publish(events.conversationCreated.subject, JSON.stringify(events.conversationCreated.codec.toJSON(forged)), { headers: h, msgID: 'conversations:999999', timeout: 2000 }))
      .rejects.toEqual(denied(events.conversationCreated.subject));
    forger.nc.publish(events.conversationCreated.subject, JSON.stringify(events.conversationCreated.codec.toJSON(forged)), { headers: h });
    await forger.nc.flush();

    // Then the owner publishes a legitimate one through its outbox relay.
    const conversations = await connectService('conversations');
    const legit = crypto.randomUUID();
    await publishThroughOutbox('conversations', conversations.nc, events.conversationCreated, { conversationId: legit, accountId: crypto.randomUUID() });
    await expectEventually(async () => expect(seen.map((s) => s.conversationId)).toContain(legit));
    await expectEventually(async () => expect(await consumerIdle(nats.url, 'CONVERSATIONS', 'routing-sla-conversation-created')).toBe(true));
    expect(seen.map((s) => s.conversationId)).toEqual([legit]);
    expect(await streamCount('CONVERSATIONS')).toBe(storedBefore + 1);
    const stored = await readStream(nats.url, 'CONVERSATIONS', events.conversationCreated.subject);
    expect(stored.map((m) => (m.data as { conversationId: string }).conversationId)).not.toContain('forged');
    expect(routing.errors, 'the consumer itself needed nothing it is not granted').toEqual([]);
    expect(conversations.errors).toEqual([]);
    await stopConsumer(); // the durable is used again below
  });
});

describe('a service cannot create or change streams, nor choose what its durables read', () => {
  it('cannot update its own stream (sources or a mirror of other streams, extra subjects) nor create any stream', async () => {
    const { nc } = await connectService('resolutions');
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const adminJsm = await jetstreamManager(admin);
    const update = '$JS.API.STREAM.UPDATE.RESOLUTIONS';
    // What a stream update would allow: source CONVERSATIONS into its own stream and read it through its own durable.
    await expect(jsm.streams.update('RESOLUTIONS', { sources: [{ name: 'CONVERSATIONS' }] })).rejects.toEqual(denied(update));
    await expect(jsm.streams.update('RESOLUTIONS', { subjects: ['resolutions.>', 'conversations.>'] })).rejects.toEqual(denied(update));
    // The raw request, past nats.js' own checks.
    const current = (await jsm.streams.info('RESOLUTIONS')).config;
    await expect(nc.request(update, JSON.stringify({ ...current, sources: [{ name: 'CONVERSATIONS' }] }), { timeout: 2000 })).rejects.toEqual(denied(update));
    // Nor create a stream: a copy of another service's, a mirror, or its own.
    await expect(jsm.streams.add({ name: 'RESOLUTIONS_COPY', subjects: ['resolutions-copy.>'], sources: [{ name: 'CONVERSATIONS' }] })).rejects.toEqual(denied('$JS.API.STREAM.CREATE.RESOLUTIONS_COPY'));
    await expect(jsm.streams.add({ name: 'MIRROR', mirror: { name: 'CONVERSATIONS' } })).rejects.toEqual(denied('$JS.API.STREAM.CREATE.MIRROR'));
    await expect(jsm.streams.add({ name: 'RESOLUTIONS', subjects: ['resolutions.>'] })).rejects.toEqual(denied('$JS.API.STREAM.CREATE.RESOLUTIONS'));
    // Provisioning is the admin's: with a service's credentials it fails at the update.
    await expect(provisionStreams(nc, ['RESOLUTIONS'])).rejects.toEqual(denied(update));
    const after = (await adminJsm.streams.info('RESOLUTIONS')).config;
    expect(after.subjects).toEqual(['resolutions.>']);
    expect(after.sources ?? []).toEqual([]);
    expect(after.mirror ?? undefined).toBeUndefined();
    for (const name of ['RESOLUTIONS_COPY', 'MIRROR']) await expect(adminJsm.streams.info(name)).rejects.toThrow(/stream not found/);
    // Looking up its own streams is all it may do with them.
    expect(await waitForStreams(nc, ['RESOLUTIONS'])).toBe(true);
  });

  it('cannot create or update its durable with a filter other than the registered one, nor create another durable', async () => {
    const { nc } = await connectService('resolutions');
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const adminJsm = await jetstreamManager(admin);
    const durable = 'resolutions-conversation-escalated';
    const registered = events.conversationEscalated.subject;
    const other = events.messageCreated.subject;
    const base = { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All };
    const create = (name: string, filter?: string) => `$JS.API.CONSUMER.CREATE.CONVERSATIONS.${name}${filter ? `.${filter}` : ''}`;
    // With the registered filter: create, and update (nats.js sends the update to the same filtered subject).
    await jsm.consumers.add('CONVERSATIONS', { ...base, filter_subject: registered });
    await jsm.consumers.update('CONVERSATIONS', durable, { max_ack_pending: 64 });
    // Another filter, a wider one, or none: nats.js puts the filter in the subject, and only the registered one is granted.
    for (const filter of [other, 'conversations.>', 'conversations.conversation.*']) {
      await expect(jsm.consumers.add('CONVERSATIONS', { ...base, filter_subject: filter }), filter).rejects.toEqual(denied(create(durable, filter)));
      await expect(jsm.consumers.update('CONVERSATIONS', durable, { filter_subject: filter }), filter).rejects.toEqual(denied(create(durable, filter)));
    }
    await expect(jsm.consumers.add('CONVERSATIONS', base)).rejects.toEqual(denied(create(durable)));
    await expect(jsm.consumers.add('CONVERSATIONS', { ...base, filter_subject: '>' })).rejects.toEqual(denied(create(durable)));
    // Past nats.js: the granted subject with another durable or filter (or none) in the request is refused by the server.
    const refusals: Array<[object, number, RegExp]> = [
      [{ ...base, filter_subject: other }, 10131, /did not match filtered subject/],
      [base, 10131, /did not match filtered subject/],
      [{ ...base, durable_name: 'resolutions-sneaky', filter_subject: registered }, 10017, /name in subject does not match durable name/],
    ];
    for (const [config, errCode, description] of refusals) {
      const reply = await nc.request(create(durable, registered), JSON.stringify({ stream_name: 'CONVERSATIONS', config }), { timeout: 2000 });
      expect((JSON.parse(reply.string()) as { error?: object }).error, JSON.stringify(config)).toEqual(expect.objectContaining({ err_code: errCode, description: expect.stringMatching(description) }));
    }
    // The pre-2.9 API, whose subject carries no filter, is not granted at all.
    const legacy = `$JS.API.CONSUMER.DURABLE.CREATE.CONVERSATIONS.${durable}`;
    await expect(nc.request(legacy, JSON.stringify({ stream_name: 'CONVERSATIONS', config: { ...base, filter_subject: other } }), { timeout: 2000 })).rejects.toEqual(denied(legacy));
    // A durable of another name, even with the registered filter.
    await expect(jsm.consumers.add('CONVERSATIONS', { ...base, durable_name: 'resolutions-sneaky', filter_subject: registered })).rejects.toEqual(denied(create('resolutions-sneaky', registered)));
    expect((await adminJsm.consumers.info('CONVERSATIONS', durable)).config.filter_subject).toBe(registered);
    await expect(adminJsm.consumers.info('CONVERSATIONS', 'resolutions-sneaky')).rejects.toThrow(/consumer not found/);
  });
});

describe("each service's credentials allow everything it needs", () => {
  it.each(services.map((s) => [s.name, s] as const))('%s: finds its streams, publishes through the outbox relay, runs its durables (create, update, pull, ack, dead-letter)', async (name, entry) => {
    const { nc, errors } = await connectService(name);
    // Its own streams exist (the provisioning step made them), as Platform.start checks.
    expect(await waitForStreams(nc, [...entry.streams], { logger })).toBe(true);
    // Its events, through the outbox relay.
    const contract = ownEvent(name);
    const entityId = await publishThroughOutbox(name, nc, contract, {});
    const orm = await schemaOf(name);
    await expectEventually(async () => {
      const [row] = await db.query<{ n: number }>(`select count(*)::int as n from ${entry.schema}.event_log_publication p join ${entry.schema}.event_log e on e.id = p.event_id where e.entity_id = $1`, [entityId]);
      expect(row!.n).toBe(1);
    });
    expect((await readStream(nats.url, streamForSubject(contract.subject), contract.subject)).length).toBeGreaterThan(0);

    // Its durables: created (and on a restart updated), pulled, acked; a poison message dead-lettered to dlq.<durable>.
    for (const c of entry.consumers) {
      const { stream } = consumerSource(c);
      const handled: string[] = [];
      const handler = defineHandler({
        durable: c.durable,
        contract: events[c.event] as EventContract<any>,
        handle: async ({ eventId }) => {
          if (eventId.startsWith('poison:')) throw new PoisonMessageError('test poison');
          handled.push(eventId);
        },
      });
      const opts = { orm, nc, schema: entry.schema, logger, concurrency: 2, maxDeliver: 3, ackWaitMs: 5000 };
      const first = new EventConsumer(handler, opts);
      await first.start();
      await first.stop();
      const consumer = new EventConsumer(handler, opts); // the restart path: info + update
      await consumer.start();
      cleanup.push(() => consumer.stop());
      const contractOf = events[c.event] as EventContract<any>;
      const good = await publishTestEvent(nats.url, contractOf, contractOf.codec.fromPartial({}), `ok:${crypto.randomUUID()}`);
      await expectEventually(async () => expect(handled).toContain(good));
      // Acked: nothing pending, nothing awaiting an ack.
      await expectEventually(async () => expect(await consumerIdle(nats.url, stream, c.durable)).toBe(true));
      const poison = await publishTestEvent(nats.url, contractOf, contractOf.codec.fromPartial({}), `poison:${crypto.randomUUID()}`);
      await expectEventually(async () => {
        const dead = await readStream(nats.url, 'DLQ', `dlq.${c.durable}`);
        expect(dead.map((m) => m.headers['DomIQ-Event-Id'])).toContain(poison);
      });
      await consumer.stop();
    }
    expect(errors, `${name} hit no permission violation`).toEqual([]);
  });

  it('a consumer whose stream does not exist yet waits (logs once) and starts once the provisioning step (admin) creates it; it never creates it', async () => {
    // A broker of its own, so deleting the stream disturbs no other test.
    const own = await NatsServerProcess.start();
    cleanup.push(() => own.destroy());
    const adminNc = await own.connectAdmin();
    cleanup.push(() => adminNc.close());
    await (await jetstreamManager(adminNc)).streams.delete('CONVERSATIONS');
    const warnings: string[] = [];
    const spy = Object.assign(Object.create(logger) as typeof logger, { warn: (_o: unknown, msg?: string) => void warnings.push(String(msg)) });
    // resolutions reads conversations' stream, with its own credentials (which may not create it).
    const nc = await connectNats({ servers: own.url, name: 'resolutions', logger, nkeySeedFile: own.credentialsFor('resolutions').NATS_NKEY_SEED_FILE });
    cleanup.push(() => nc.close());
    const waiting = new EventConsumer(
      defineHandler({ durable: 'resolutions-conversation-escalated', contract: events.conversationEscalated, handle: async () => undefined }),
      { orm: await schemaOf('resolutions'), nc, schema: 'resolutions', logger: spy, concurrency: 1, maxDeliver: 2, streamWaitMs: 100 },
    );
    let started = false;
    const starting = waiting.start().then(() => (started = true));
    cleanup.push(() => waiting.stop());
    await new Promise((r) => setTimeout(r, 700));
    expect(started).toBe(false);
    expect(warnings.filter((l) => l.includes('does not exist yet'))).toHaveLength(1);
    await expect((await jetstreamManager(adminNc)).streams.info('CONVERSATIONS')).rejects.toThrow(/stream not found/);
    // Not even its owner may create it: the platform's provisioning step (admin) does.
    const owner = await connectNats({ servers: own.url, name: 'conversations', logger, nkeySeedFile: own.credentialsFor('conversations').NATS_NKEY_SEED_FILE });
    cleanup.push(() => owner.close());
    await expect(provisionStreams(owner, ['CONVERSATIONS'])).rejects.toEqual(denied('$JS.API.STREAM.CREATE.CONVERSATIONS'));
    await provisionStreams(adminNc, ['CONVERSATIONS']);
    await starting;
    expect(started).toBe(true);
    expect(warnings.filter((l) => l.includes('does not exist yet'))).toHaveLength(1);
    expect((await (await jetstreamManager(adminNc)).consumers.info('CONVERSATIONS', 'resolutions-conversation-escalated')).config.filter_subject).toBe(events.conversationEscalated.subject);
  });
  it('stop() ends the wait for a stream that never appears: start() resolves at once and nothing is created', async () => {
    const own = await NatsServerProcess.start();
    cleanup.push(() => own.destroy());
    const adminNc = await own.connectAdmin();
    cleanup.push(() => adminNc.close());
    const adminJsm = await jetstreamManager(adminNc);
    await adminJsm.streams.delete('CONVERSATIONS');
    const warnings: string[] = [];
    const spy = Object.assign(Object.create(logger) as typeof logger, { warn: (_o: unknown, msg?: string) => void warnings.push(String(msg)) });
    const nc = await connectNats({ servers: own.url, name: 'resolutions', logger, nkeySeedFile: own.credentialsFor('resolutions').NATS_NKEY_SEED_FILE });
    cleanup.push(() => nc.close());
    const durable = 'resolutions-conversation-escalated';
    const consumer = new EventConsumer(
      defineHandler({ durable, contract: events.conversationEscalated, handle: async () => undefined }),
      // A long look-again interval: stop() must not wait for it.
      { orm: await schemaOf('resolutions'), nc, schema: 'resolutions', logger: spy, concurrency: 1, maxDeliver: 2, streamWaitMs: 60_000 },
    );
    const starting = consumer.start();
    await expectEventually(async () => expect(warnings.filter((l) => l.includes('does not exist yet'))).toHaveLength(1));
    const stopAt = Date.now();
    await consumer.stop();
    await expect(starting).resolves.toBeUndefined();
    expect(Date.now() - stopAt).toBeLessThan(2000);
    // The stream appearing later starts nothing.
    await provisionStreams(adminNc, ['CONVERSATIONS']);
    await new Promise((r) => setTimeout(r, 500));
    await expect(adminJsm.consumers.info('CONVERSATIONS', durable)).rejects.toThrow(/consumer not found/);
    await expect(consumer.start()).resolves.toBeUndefined(); // a stopped consumer stays stopped
  });
});

describe('permissions are derived from the registry', () => {
  it('a service gets exactly its streams, its durables, its dlq subjects and its inbox', () => {
    expect(servicePermissions(registry.conversations)).toEqual({
      publish: {
        allow: [
          'conversations.>',
          'dlq.conversations-message-received',
          'dlq.conversations-delivery-updated',
          'dlq.conversations-customer-merged',
          'dlq.conversations-customer-unmerged',
          'dlq.conversations-customer-erased',
          'dlq.conversations-message-annotate',
          'dlq.conversations-consent-changed',
          '$JS.API.STREAM.INFO.CONVERSATIONS',
          '$JS.API.CONSUMER.INFO.CHANNEL_GATEWAY.conversations-message-received',
          '$JS.API.CONSUMER.CREATE.CHANNEL_GATEWAY.conversations-message-received.channel-gateway.message.received',
          '$JS.API.CONSUMER.MSG.NEXT.CHANNEL_GATEWAY.conversations-message-received',
          '$JS.ACK.CHANNEL_GATEWAY.conversations-message-received.>',
          '$JS.API.CONSUMER.INFO.CHANNEL_GATEWAY.conversations-delivery-updated',
          '$JS.API.CONSUMER.CREATE.CHANNEL_GATEWAY.conversations-delivery-updated.channel-gateway.message.delivery_updated',
          '$JS.API.CONSUMER.MSG.NEXT.CHANNEL_GATEWAY.conversations-delivery-updated',
          '$JS.ACK.CHANNEL_GATEWAY.conversations-delivery-updated.>',
          '$JS.API.CONSUMER.INFO.IDENTITY.conversations-customer-merged',
          '$JS.API.CONSUMER.CREATE.IDENTITY.conversations-customer-merged.identity.customer.merged',
          '$JS.API.CONSUMER.MSG.NEXT.IDENTITY.conversations-customer-merged',
          '$JS.ACK.IDENTITY.conversations-customer-merged.>',
          '$JS.API.CONSUMER.INFO.IDENTITY.conversations-customer-unmerged',
          '$JS.API.CONSUMER.CREATE.IDENTITY.conversations-customer-unmerged.identity.customer.unmerged',
          '$JS.API.CONSUMER.MSG.NEXT.IDENTITY.conversations-customer-unmerged',
          '$JS.ACK.IDENTITY.conversations-customer-unmerged.>',
          '$JS.API.CONSUMER.INFO.IDENTITY.conversations-customer-erased',
          '$JS.API.CONSUMER.CREATE.IDENTITY.conversations-customer-erased.identity.customer.erased',
          '$JS.API.CONSUMER.MSG.NEXT.IDENTITY.conversations-customer-erased',
          '$JS.ACK.IDENTITY.conversations-customer-erased.>',
          '$JS.API.CONSUMER.INFO.CONVERSATIONS.conversations-message-annotate',
          '$JS.API.CONSUMER.CREATE.CONVERSATIONS.conversations-message-annotate.conversations.message.created',
          '$JS.API.CONSUMER.MSG.NEXT.CONVERSATIONS.conversations-message-annotate',
          '$JS.ACK.CONVERSATIONS.conversations-message-annotate.>',
          '$JS.API.CONSUMER.INFO.IDENTITY.conversations-consent-changed',
          '$JS.API.CONSUMER.CREATE.IDENTITY.conversations-consent-changed.identity.customer.consent_changed',
          '$JS.API.CONSUMER.MSG.NEXT.IDENTITY.conversations-consent-changed',
          '$JS.ACK.IDENTITY.conversations-consent-changed.>',
        ],
      },
      subscribe: { allow: ['_INBOX_conversations.>'] },
    });
    expect(servicePermissions(registry.identity).publish.allow).toEqual(['identity.>', '$JS.API.STREAM.INFO.IDENTITY']);
    for (const s of services) {
      const p = servicePermissions(s);
      expect(p.subscribe.allow).toEqual([`_INBOX_${s.name}.>`]);
      for (const subject of p.publish.allow) {
        expect(subject, `${s.name}: no blanket grants`).not.toMatch(/^(>|\$JS\.API\.>|\$JS\.>|\$JS\.API\.(STREAM|CONSUMER)\.[A-Z.]*>|dlq\.>)$/);
        const stream = /^\$JS\.API\.STREAM\.INFO\.([A-Z_]+)$/.exec(subject)?.[1];
        if (stream) expect(s.streams as readonly string[], `${s.name} looks up only its own streams`).toContain(stream);
        else expect(subject, `${s.name}: no stream management at all (create/update/delete/purge/msg)`).not.toMatch(/^\$JS\.API\.STREAM\./);
        expect(subject, `${s.name}: no durable created without its registered filter, none through the legacy API`).not.toMatch(/^\$JS\.API\.CONSUMER\.(DURABLE\.CREATE\.|CREATE\.[^.]+\.[^.]+$)/);
      }
      for (const c of s.consumers) {
        const { stream, subject } = consumerSource(c);
        expect(p.publish.allow.filter((x) => x.startsWith('$JS.API.CONSUMER.CREATE.'))).toContain(`$JS.API.CONSUMER.CREATE.${stream}.${c.durable}.${subject}`);
      }
    }
  });

  it('adding a consumer to a registry entry grants exactly that durable, and nothing before', () => {
    const base = registry.resolutions;
    const added: ServiceEntry = { ...base, consumers: [...base.consumers, { durable: 'resolutions-message-created', event: 'messageCreated' }] };
    const before = servicePermissions(base).publish.allow;
    const after = servicePermissions(added).publish.allow;
    const grants = [
      'dlq.resolutions-message-created',
      '$JS.API.CONSUMER.INFO.CONVERSATIONS.resolutions-message-created',
      '$JS.API.CONSUMER.CREATE.CONVERSATIONS.resolutions-message-created.conversations.message.created',
      '$JS.API.CONSUMER.MSG.NEXT.CONVERSATIONS.resolutions-message-created',
      '$JS.ACK.CONVERSATIONS.resolutions-message-created.>',
    ];
    for (const g of grants) {
      expect(before).not.toContain(g);
      expect(after).toContain(g);
    }
    expect(after.filter((s) => !before.includes(s)).sort()).toEqual([...grants].sort());
    // And through the whole authorization, for the user whose entry changed only.
    const entries = services.map((s) => (s.name === 'resolutions' ? added : s));
    const auth = natsAuthorization(nkeyEnvRefs(entries), entries);
    expect(auth.users.find((u) => u.name === 'resolutions')?.permissions?.publish.allow).toEqual(after);
    expect(auth.users.find((u) => u.name === 'conversations')?.permissions).toEqual(servicePermissions(registry.conversations));
    expect(auth.users.find((u) => u.name === 'admin')?.permissions).toBeUndefined();
  });

  it('Platform.consume refuses a handler the registry does not list, or one reading another subject', () => {
    expect(() => assertRegisteredConsumer('conversations', 'conversations-message-received', events.gatewayMessageReceived.subject)).not.toThrow();
    expect(() => assertRegisteredConsumer('conversations', 'conversations-sneaky', events.gatewayMessageReceived.subject)).toThrow(/not in the service registry.*proto\/src\/services\.ts/);
    expect(() => assertRegisteredConsumer('conversations', 'conversations-message-received', events.identityUserCreated.subject)).toThrow(/registry says it reads channel-gateway\.message\.received/);
    expect(() => assertRegisteredConsumer('nobody', 'x', 'y')).toThrow(/not in the service registry/);
  });

  it('the $VAR form (Helm chart) is accepted by nats-server: public keys come from its environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'domiq-nats-env-'));
    const port = await freePort();
    const keys = generateNkeys();
    const config = join(dir, 'nats.conf');
    writeFileSync(config, renderNatsServerConfig({ host: '127.0.0.1', port, storeDir: join(dir, 'store'), authorization: natsAuthorization(nkeyEnvRefs()) }));
    const env = { ...process.env, ...Object.fromEntries(Object.entries(keys.publicKeys).map(([u, k]) => [nkeyEnvVar(u), k])) };
    const child = spawn(natsServerBinary(), ['-c', config], { env, stdio: 'ignore' });
    try {
      await expectEventually(async () => expect(await isPortOpen(port)).toBe(true), { timeoutMs: 10_000 });
      const nc = await connect({ servers: `nats://127.0.0.1:${port}`, inboxPrefix: inboxPrefix('identity'), authenticator: nkeyAuthenticator(new TextEncoder().encode(keys.seeds.identity!)) });
      await expect(jetstream(nc).publish('conversations.x', '{}', { timeout: 2000 })).rejects.toEqual(denied('conversations.x'));
      await nc.close();
      await expect(connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false })).rejects.toThrow(/Authorization Violation/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
