// The lead-sync queue end to end: connector processes (two replicas once the worker is on) against real PostgreSQL,
// NATS and identity, pushing to the ResMan simulator (in-process here, with two ResMan accounts). In front of the
// simulator sits a recording pass-through of this test's own: it counts, per ResMan account (the AccountID form
// field), the requests in flight at once, which is how "one request at a time per ResMan account" across replicas is
// checked (the simulator itself does not track concurrency).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromiseClient } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { MessageCreated } from '@domiq/proto/conversations/events';
import { IdentifierKind, IdentityServiceClient } from '@domiq/proto/identity';
import { ResmanConnectorServiceClient, type UpsertIntegrationRequest } from '@domiq/proto/resman-connector';
import {
  DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEMO_AGENT_ID, DOMIQ_PROSPECT_SOURCE_ID, startResmanSim, type ResmanSim, type SimProspect,
} from '@domiq/resman-sim';
import { expectEventually, publishTestEventRetrying, readStream, registerTestSecret, startTestStack, type ServiceProcess, type TestStack } from '@domiq/testkit';

registerTestSecret(DEFAULT_API_KEY, 'ResMan API key (lead-sync-queue.test.ts)');

const ACCOUNT_A = 400;
const ACCOUNT_B = 401;
const RESMAN_PROPERTY_A = '6f7c3a7e-1d1b-4c53-9f59-2d0b5a1e8c11';
const RESMAN_PROPERTY_B = '0b7c3a7e-1d1b-4c53-9f59-2d0b5a1e8c22';
// JetStream's own redelivery budget in this file: an outage outlasting it would have dead-lettered messages before.
const CONSUMER_MAX_DELIVER = 3;

let sim: ResmanSim;
let proxy: Server;
let proxyUrl: string;
let stack: TestStack;
let replica: ServiceProcess;
let identity: PromiseClient<IdentityServiceClient>;
let connector: PromiseClient<ResmanConnectorServiceClient>;
let accountId: string;
let propertyA: string;
let propertyB: string;

/** Requests in flight at the simulator, per ResMan account, and the most seen at once. */
const inFlight = new Map<string, number>();
const peak = new Map<string, number>();
const calls = new Map<string, number>();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

beforeAll(async () => {
  sim = await startResmanSim({ accounts: [{ accountId: ACCOUNT_A, propertyIds: [RESMAN_PROPERTY_A] }, { accountId: ACCOUNT_B, propertyIds: [RESMAN_PROPERTY_B] }] });
  proxy = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const account = new URLSearchParams(body).get('AccountID') ?? '?';
      calls.set(account, (calls.get(account) ?? 0) + 1);
      const now = (inFlight.get(account) ?? 0) + 1;
      inFlight.set(account, now);
      peak.set(account, Math.max(peak.get(account) ?? 0, now));
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        inFlight.set(account, inFlight.get(account)! - 1);
      };
      res.on('close', finish);
      try {
        const upstream = await fetch(`${sim.url}${req.url}`, {
          method: req.method, body: req.method === 'POST' ? body : undefined,
          headers: { 'content-type': String(req.headers['content-type'] ?? 'application/x-www-form-urlencoded'), accept: String(req.headers.accept ?? 'application/json') },
        });
        const text = await upstream.text();
        finish();
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
        res.end(text);
      } catch {
        finish();
        res.destroy();
      }
    })();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  stack = await startTestStack({
    services: ['identity', 'resman-connector'],
    env: {
      DOMIQ_ALLOWED_TARGETS: '127.0.0.1',
      // The first test needs the queue to stay put: no process pushes until the worker is switched on.
      LEAD_SYNC_WORKERS: '0', LEAD_SYNC_POLL_MS: '200',
      CONSUMER_MAX_DELIVER: String(CONSUMER_MAX_DELIVER),
      // Fast retries, and enough of them to outlast the outage test by far.
      LEAD_SYNC_RETRY_INITIAL_MS: '50', LEAD_SYNC_RETRY_MAX_MS: '400', LEAD_SYNC_MAX_RETRIES: '500',
      RESMAN_MAX_ATTEMPTS: '2', RESMAN_BREAKER_HALF_OPEN_MS: '100', RESMAN_TIMEOUT_MS: '4000',
    },
  });
  identity = stack.adminClient(IdentityServiceClient, 'identity');
  connector = stack.adminClient(ResmanConnectorServiceClient, 'resman-connector');
  accountId = await stack.createAccount('Queue Living');
  propertyA = (await identity.createProperty({ accountId, name: 'Alder Row', timezone: 'UTC', id: '' })).property!.id;
  propertyB = (await identity.createProperty({ accountId, name: 'Beech Hall', timezone: 'UTC', id: '' })).property!.id;
  await connector.upsertIntegration(integration(propertyA, ACCOUNT_A, RESMAN_PROPERTY_A));
  await connector.upsertIntegration(integration(propertyB, ACCOUNT_B, RESMAN_PROPERTY_B));
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await sim?.close();
});

function integration(propertyId: string, resmanAccountId: number, resmanPropertyId: string, over: Partial<UpsertIntegrationRequest> = {}): UpsertIntegrationRequest {
  return {
    accountId, propertyId, baseUrl: proxyUrl, resmanAccountId, resmanPropertyId, integrationPartnerId: DEFAULT_PARTNER_ID, apiKey: DEFAULT_API_KEY,
    defaultAgentId: DEMO_AGENT_ID, prospectSourceId: DOMIQ_PROSPECT_SOURCE_ID, ...over,
  };
}

let phoneSeq = 0;
interface Customer { id: string; digits: string; propertyId: string }
async function newCustomer(propertyId: string, name = 'Queue Customer'): Promise<Customer> {
  const digits = `707555${String(1000 + phoneSeq++).padStart(4, '0')}`;
  const { customer } = await identity.resolveCustomer({ accountId, kind: IdentifierKind.IDENTIFIER_KIND_PHONE, value: `+1${digits}`, network: '', displayName: `${name} ${phoneSeq}`, defaultRegion: 'US' });
  return { id: customer!.id, digits, propertyId };
}

function message(c: Customer, over: Partial<MessageCreated> = {}): MessageCreated {
  return MessageCreated.fromPartial({
    accountId, propertyId: c.propertyId, conversationId: crypto.randomUUID(), customerId: c.id, messageId: crypto.randomUUID(), channel: 'CHANNEL_SMS',
    direction: 'inbound', senderType: 'customer', content: `Hello from ${c.digits}`, createdAt: new Date().toISOString(), ...over,
  });
}

/** Publishes, a few at a time (each publish opens an admin connection); a retry keeps its event id. */
async function publishAll(messages: MessageCreated[]): Promise<string[]> {
  const publish = (m: MessageCreated) => publishTestEventRetrying(stack.nats.url, events.messageCreated, m);
  const ids: string[] = [];
  for (let i = 0; i < messages.length; i += 6) ids.push(...await Promise.all(messages.slice(i, i + 6).map((m) => publish(m))));
  return ids;
}

async function processed(eventIds: string[]): Promise<void> {
  await expectEventually(async () => {
    const [row] = await stack.db.query<{ n: number }>(`select count(*)::int as n from resman_connector.processed_event where event_id = any($1)`, [eventIds]);
    expect(row!.n).toBe(eventIds.length);
  }, { timeoutMs: 30_000, intervalMs: 200, message: 'every event processed' });
}

interface QueueRow { message_id: string; status: string; retry_count: number; error_message: string | null; locked_by: string | null }
const queueRows = (messageIds: string[]) => stack.db.query<QueueRow>(
  `select message_id, status, retry_count, error_message, locked_by from resman_connector.lead_sync_queue where message_id = any($1)`, [messageIds]);

async function allCompleted(messageIds: string[], timeoutMs = 60_000): Promise<QueueRow[]> {
  return expectEventually(async () => {
    const rows = await queueRows(messageIds);
    expect(rows).toHaveLength(messageIds.length);
    const open = rows.filter((r) => r.status !== 'completed');
    expect(open.map((r) => `${r.message_id}: ${r.status} ${r.error_message ?? ''}`)).toEqual([]);
    return rows;
  }, { timeoutMs, intervalMs: 250, message: 'every queued push completed' });
}

const cardsOf = (prospects: SimProspect[], digits: string) =>
  prospects.filter((p) => p.people.some((person) => person.phones.some((ph) => ph.number.replace(/\D/g, '').endsWith(digits))));

/**
 * Each message's event exactly once in ResMan, and exactly one card per customer, carrying their messages (in no
 * particular order: messages published concurrently have none) with one first contact.
 */
function expectLoggedOnce(customers: Customer[], messages: MessageCreated[]): void {
  const prospects = sim.state.snapshot();
  const carrying = (id: string) => prospects.flatMap((p) => p.events).filter((e) => e.description?.includes(`[domiq:${id}]`)).length;
  expect(messages.filter((m) => carrying(m.messageId) !== 1).map((m) => `${m.messageId}: ${carrying(m.messageId)}`)).toEqual([]);
  for (const c of customers) {
    const cards = cardsOf(prospects, c.digits);
    expect(cards, `cards of ${c.digits}`).toHaveLength(1);
    const mine = messages.filter((m) => m.customerId === c.id);
    expect(cards[0]!.events.map((e) => /\[domiq:([0-9a-f-]{36})\]/.exec(e.description ?? '')?.[1]).sort()).toEqual(mine.map((m) => m.messageId).sort());
    expect(cards[0]!.events.filter((e) => e.firstContact)).toHaveLength(1);
  }
}

async function setWorkers(proc: ServiceProcess, workers: number): Promise<void> {
  proc.opts.env.LEAD_SYNC_WORKERS = String(workers);
  await proc.restart();
}

describe('the lead-sync queue', () => {
  const backlog: MessageCreated[] = [];
  const backlogCustomers: Customer[] = [];

  it('queues each logged message of a batch for several customers and properties exactly once, without calling ResMan', async () => {
    for (const propertyId of [propertyA, propertyB]) for (let i = 0; i < 3; i++) backlogCustomers.push(await newCustomer(propertyId, 'Backlog'));
    const sent = Date.now() - 60_000;
    for (const c of backlogCustomers) {
      backlog.push(message(c, { createdAt: new Date(sent).toISOString() }), message(c, { channel: 'CHANNEL_EMAIL', content: 'Pets?', createdAt: new Date(sent + 1000).toISOString() }));
    }
    const noProperty = (await identity.createProperty({ accountId, name: 'No ResMan', timezone: 'UTC', id: '' })).property!.id;
    const ignored = [message(backlogCustomers[0]!, { direction: 'outbound', senderType: 'agent' }), message({ ...backlogCustomers[1]!, propertyId: noProperty })];
    // A backlog, so the consumer takes it in batches: published while the connector is down.
    const primary = stack.services['resman-connector']!;
    await primary.stop();
    const ids = await publishAll([...backlog, ...ignored, backlog[0]!]);
    await primary.start();
    await processed(ids);

    const rows = await queueRows([...backlog, ...ignored].map((m) => m.messageId));
    expect(rows.map((r) => r.message_id).sort()).toEqual(backlog.map((m) => m.messageId).sort());
    expect(rows.every((r) => r.status === 'pending' && r.retry_count === 0)).toBe(true);
    const [comms] = await stack.db.query<{ n: number; pending: number }>(
      `select count(*)::int as n, count(*) filter (where sync_status = 'pending')::int as pending from resman_connector.communication_log_sync where message_id = any($1)`,
      [[...backlog, ...ignored].map((m) => m.messageId)]);
    expect(comms).toEqual({ n: backlog.length, pending: backlog.length });
    // The consumer never called ResMan (nor would it wait for it).
    expect(sim.requests.count()).toBe(0);

    // Delivered again (republished under new event ids): processed, and nothing queued twice.
    const again = await publishAll(backlog);
    await processed(again);
    expect(await queueRows(backlog.map((m) => m.messageId))).toEqual(rows);
  });

  it('pushes every queued message exactly once when the worker comes on, in two replicas, a customer\'s pending messages in one request', async () => {
    await setWorkers(stack.services['resman-connector']!, 4);
    replica = await stack.startReplica('resman-connector');
    await setWorkers(replica, 4);
    await allCompleted(backlog.map((m) => m.messageId));
    expectLoggedOnce(backlogCustomers, backlog);
    // Coalesced: one PostLeadManagement per customer, carrying both messages in the order they were sent.
    expect(sim.requests.list('MITS/PostLeadManagement4_0')).toHaveLength(backlogCustomers.length);
    for (const c of backlogCustomers) {
      const [card] = cardsOf(sim.state.snapshot(), c.digits);
      expect(card!.events.map((e) => [e.interactionType, e.firstContact])).toEqual([['TextFromProspect', true], ['EmailFromProspect', false]]);
    }
    for (const c of backlogCustomers) {
      await expectEventually(async () => expect(await connector.getLeadSync({ accountId, propertyId: c.propertyId, customerId: c.id })).toMatchObject({ syncStatus: 'synced', syncVersion: 2 }));
    }
  }, 60_000);

  it('never gives a customer two guest cards and never has two requests in flight per ResMan account, with two replicas racing', async () => {
    // One push at a time per replica: while one replica pushes to one ResMan account, the other account can only be
    // taken by the other replica, so both replicas push and race (with more slots, one replica can hold both accounts
    // the whole time, and the test would prove nothing about racing replicas).
    await setWorkers(stack.services['resman-connector']!, 1);
    await setWorkers(replica, 1);
    // Some ResMan latency on every call widens the window between "search found nothing" and "card created".
    sim.faults.latency(10, {});
    const customers: Customer[] = [];
    for (const propertyId of [propertyA, propertyB]) for (let i = 0; i < 12; i++) customers.push(await newCustomer(propertyId, 'Racer'));
    const messages = customers.flatMap((c) => [message(c, { content: 'one' }), message(c, { content: 'two' }), message(c, { content: 'three' })]);
    await publishAll(messages);
    const rows = await allCompleted(messages.map((m) => m.messageId), 90_000);
    sim.faults.clear();

    expectLoggedOnce(customers, messages);
    // Both replicas' workers pushed (otherwise this would prove nothing about racing replicas).
    expect(new Set(rows.map((r) => r.locked_by)).size).toBe(2);
    expect(peak.get(String(ACCOUNT_A))).toBe(1);
    expect(peak.get(String(ACCOUNT_B))).toBe(1);
    expect(calls.get(String(ACCOUNT_A))).toBeGreaterThan(customers.length);

    const mappings = await stack.db.query<{ customer_id: string; sync_version: number; sync_status: string }>(
      `select customer_id, sync_version, sync_status from resman_connector.lead_sync_mapping where customer_id = any($1)`, [customers.map((c) => c.id)]);
    expect(mappings).toHaveLength(customers.length);
    expect(mappings.every((m) => m.sync_version === 3 && m.sync_status === 'synced')).toBe(true);
    // resman.lead.synced once per message, the first one per customer saying it created the card.
    const synced = (await readStream(stack.nats.url, 'RESMAN_CONNECTOR', 'resman-connector.lead.synced'))
      .map((m) => m.data as { customerId: string; created?: boolean }).filter((d) => customers.some((c) => c.id === d.customerId));
    expect(synced).toHaveLength(messages.length);
    for (const c of customers) expect(synced.filter((d) => d.customerId === c.id && d.created)).toHaveLength(1);
  }, 120_000);

  it('drains by itself, nothing lost or duplicated, after a ResMan outage longer than JetStream\'s redelivery budget', async () => {
    sim.faults.serverError(503, {});
    const customers = [await newCustomer(propertyA, 'Outage'), await newCustomer(propertyA, 'Outage'), await newCustomer(propertyB, 'Outage'), await newCustomer(propertyB, 'Outage')];
    const messages = customers.flatMap((c) => [message(c, { content: 'during the outage' }), message(c, { content: 'still down?' })]);
    const ids = await publishAll(messages);
    await processed(ids);
    // Every push tried (and failed) more often than JetStream would have delivered the event, and still waiting.
    await expectEventually(async () => {
      const rows = await queueRows(messages.map((m) => m.messageId));
      expect(rows).toHaveLength(messages.length);
      expect(rows.filter((r) => r.status !== 'pending' || r.retry_count <= CONSUMER_MAX_DELIVER).map((r) => `${r.status} ${r.retry_count}`)).toEqual([]);
    }, { timeoutMs: 60_000, intervalMs: 250, message: 'every push retried past the redelivery budget' });
    const dead = (await readStream(stack.nats.url, 'DLQ')).filter((m) => messages.some((x) => x.messageId === (m.data as { messageId?: string }).messageId));
    expect(dead).toEqual([]);

    sim.faults.clear();
    await allCompleted(messages.map((m) => m.messageId));
    expectLoggedOnce(customers, messages);
    const logs = await stack.db.query<{ message_id: string; retries: number; successes: number }>(
      `select message_id, count(*) filter (where sync_status = 'retry')::int as retries, count(*) filter (where sync_status = 'success')::int as successes
         from resman_connector.lead_sync_log where message_id = any($1) group by message_id`, [messages.map((m) => m.messageId)]);
    expect(logs).toHaveLength(messages.length);
    expect(logs.every((l) => l.retries >= 1 && l.successes === 1)).toBe(true);
    const [comms] = await stack.db.query<{ ok: number }>(`select count(*) filter (where sync_status = 'success')::int as ok from resman_connector.communication_log_sync where message_id = any($1)`,
      [messages.map((m) => m.messageId)]);
    expect(comms!.ok).toBe(messages.length);
  }, 120_000);

  it('fails a push ResMan refuses for good at once, with the reason, and one for a customer identity does not know', async () => {
    const badSource = (await identity.createProperty({ accountId, name: 'Bad Source', timezone: 'UTC', id: '' })).property!.id;
    await connector.upsertIntegration(integration(badSource, ACCOUNT_A, RESMAN_PROPERTY_A, { prospectSourceId: 'not-a-source' }));
    const customer = await newCustomer(badSource, 'Refused');
    const refused = message(customer);
    const stranger = message({ id: crypto.randomUUID(), digits: '', propertyId: propertyA });
    await publishAll([refused, stranger]);
    const rows = await expectEventually(async () => {
      const found = await queueRows([refused.messageId, stranger.messageId]);
      expect(found.map((r) => r.status)).toEqual(['failed', 'failed']);
      return found;
    }, { timeoutMs: 30_000 });
    const byMessage = new Map(rows.map((r) => [r.message_id, r]));
    expect(byMessage.get(refused.messageId)).toMatchObject({ retry_count: 0, error_message: expect.stringContaining('Transaction Source could not be found') });
    expect(byMessage.get(stranger.messageId)).toMatchObject({ retry_count: 0, error_message: expect.stringContaining('not found in identity') });
    const logs = await stack.db.query<{ message_id: string; sync_status: string; error_code: string }>(
      `select message_id, sync_status, error_code from resman_connector.lead_sync_log where message_id = any($1)`, [[refused.messageId, stranger.messageId]]);
    expect(logs).toEqual(expect.arrayContaining([
      { message_id: refused.messageId, sync_status: 'failed', error_code: 'rejected' },
      { message_id: stranger.messageId, sync_status: 'failed', error_code: 'customer_not_found' },
    ]));
    expect(logs).toHaveLength(2);
    const comms = await stack.db.query<{ sync_status: string }>(`select sync_status from resman_connector.communication_log_sync where message_id = any($1)`, [[refused.messageId, stranger.messageId]]);
    expect(comms.map((c) => c.sync_status)).toEqual(['failed', 'failed']);
    expect(cardsOf(sim.state.snapshot(), customer.digits)).toEqual([]);
    expect((await connector.getLeadSync({ accountId, propertyId: badSource, customerId: customer.id })).syncStatus).toBe('failed');
  });

  it('pushes a backlog of one ResMan account in rounds: one claim for many customers, a card ResMan refuses failing that customer alone', async () => {
    const refusing = (await identity.createProperty({ accountId, name: 'Refusing Source', timezone: 'UTC', id: '' })).property!.id;
    // The same ResMan account as propertyA (so the same rounds), with a prospect source ResMan does not know.
    await connector.upsertIntegration(integration(refusing, ACCOUNT_A, RESMAN_PROPERTY_A, { prospectSourceId: 'not-a-source' }));
    const primary = stack.services['resman-connector']!;
    await setWorkers(primary, 0);
    await setWorkers(replica, 0);
    const good: Customer[] = [];
    for (let i = 0; i < 8; i++) good.push(await newCustomer(propertyA, 'Round'));
    const bad = await newCustomer(refusing, 'Round Refused');
    const messages = [...good.slice(0, 4).map((c) => message(c)), message(bad), ...good.slice(4).map((c) => message(c))];
    await processed(await publishAll(messages));
    const posts = sim.requests.list('MITS/PostLeadManagement4_0').length;

    await setWorkers(primary, 1);
    const goodIds = messages.filter((m) => m.customerId !== bad.id).map((m) => m.messageId);
    const badId = messages.find((m) => m.customerId === bad.id)!.messageId;
    await allCompleted(goodIds);
    const [refused] = await expectEventually(async () => {
      const rows = await queueRows([badId]);
      expect(rows.map((r) => r.status)).toEqual(['failed']);
      return rows;
    }, { timeoutMs: 30_000 });
    expect(refused!.error_message).toContain('Transaction Source could not be found');
    expectLoggedOnce(good, messages.filter((m) => m.customerId !== bad.id));
    expect(cardsOf(sim.state.snapshot(), bad.digits)).toEqual([]);
    // One card request each (nine customers, nine posts, one at a time), all claimed together: the rows of one claim
    // statement share its locked_at.
    expect(sim.requests.list('MITS/PostLeadManagement4_0').length - posts).toBe(messages.length);
    const [claims] = await stack.db.query<{ n: number }>(
      `select count(distinct locked_at)::int as n from resman_connector.lead_sync_queue where message_id = any($1)`, [messages.map((m) => m.messageId)]);
    expect(claims!.n).toBe(1);
    expect(peak.get(String(ACCOUNT_A))).toBe(1);
    const synced = (await readStream(stack.nats.url, 'RESMAN_CONNECTOR', 'resman-connector.lead.synced'))
      .map((m) => m.data as { customerId: string; created?: boolean }).filter((d) => [...good, bad].some((c) => c.id === d.customerId));
    expect(synced.map((d) => d.customerId).sort()).toEqual(good.map((c) => c.id).sort());
    for (const c of good) {
      expect(await connector.getLeadSync({ accountId, propertyId: propertyA, customerId: c.id })).toMatchObject({ syncStatus: 'synced', syncVersion: 1 });
    }
    await setWorkers(replica, 1);
  }, 90_000);

  it('takes back the rows of a worker that died mid-push, and the retry adds nothing ResMan already has', async () => {
    const customer = await newCustomer(propertyA, 'Crashed');
    const messageId = crypto.randomUUID();
    // What a worker that died an hour ago left: its claimed row and the pending communication, and the card ResMan
    // created for it.
    await stack.db.query(
      `insert into resman_connector.communication_log_sync (account_id, property_id, customer_id, message_id, sync_status, sync_direction, content, "timestamp")
       values ($1, $2, $3, $4, 'pending', 'to_resman', 'hi', now())`, [accountId, propertyA, customer.id, messageId]);
    await stack.db.query(
      `insert into resman_connector.lead_sync_queue (account_id, property_id, customer_id, message_id, sync_operation, sync_data, status, next_retry_at, max_retries, locked_at, locked_by)
       values ($1, $2, $3, $4, 'push', $5, 'processing', now(), 5, now() - interval '1 hour', 'worker-that-died')`,
      [accountId, propertyA, customer.id, messageId, JSON.stringify({ messageId, channel: 'sms', eventType: 'TextFromProspect', eventId: 'test:crashed', seenBefore: false })]);
    sim.state.seed({
      accountId: ACCOUNT_A, propertyId: RESMAN_PROPERTY_A, people: [{ firstName: 'Crashed', lastName: 'Customer', phone: customer.digits }],
      events: [{ interactionType: 'TextFromProspect', description: `hi\n\n[domiq:${messageId}]`, firstContact: true }],
    });
    const [row] = await allCompleted([messageId]);
    expect(row).toMatchObject({ retry_count: 1 });
    expect(row!.locked_by).not.toBe('worker-that-died');
    const cards = cardsOf(sim.state.snapshot(), customer.digits);
    expect(cards).toHaveLength(1);
    expect(cards[0]!.events).toHaveLength(1);
    const sync = await connector.getLeadSync({ accountId, propertyId: propertyA, customerId: customer.id });
    expect(sync).toMatchObject({ syncStatus: 'synced', prospectId: cards[0]!.prospectId, syncVersion: 1 });
    const synced = (await readStream(stack.nats.url, 'RESMAN_CONNECTOR', 'resman-connector.lead.synced')).filter((m) => (m.data as { customerId: string }).customerId === customer.id);
    expect(synced.map((m) => m.data)).toEqual([expect.objectContaining({ created: true, prospectId: cards[0]!.prospectId })]);
  });
  it('after a replica is killed while its request is in flight at ResMan, the other takes the push over once the lease ran out: one card, one event', async () => {
    const customer = await newCustomer(propertyB, 'Killed');
    // The next post takes 3 s at ResMan (and is applied then, client or no client); the connector gives up after 4 s.
    sim.faults.latency(3000, { path: 'MITS/PostLeadManagement4_0', times: 1 });
    const msg = message(customer, { content: 'Is it still free?' });
    await publishAll([msg]);
    const lockedBy = await expectEventually(async () => {
      const [row] = await queueRows([msg.messageId]);
      expect(row?.status).toBe('processing');
      expect(sim.requests.list('MITS/PostLeadManagement4_0').filter((r) => r.status === null)).toHaveLength(1);
      return row!.locked_by!;
    }, { intervalMs: 20, message: 'the post in flight at ResMan' });
    const pid = Number(lockedBy.split(':')[1]);
    const victim = [stack.services['resman-connector']!, replica].find((p) => p.pid === pid)!;
    expect(victim).toBeDefined();
    await victim.kill('SIGKILL');

    const [row] = await allCompleted([msg.messageId]);
    expect(row!.locked_by).not.toBe(lockedBy);
    expect(row!.retry_count).toBe(1);
    const cards = cardsOf(sim.state.snapshot(), customer.digits);
    expect(cards).toHaveLength(1);
    expect(cards[0]!.events.map((e) => e.description)).toEqual([expect.stringContaining(`[domiq:${msg.messageId}]`)]);
    const synced = (await readStream(stack.nats.url, 'RESMAN_CONNECTOR', 'resman-connector.lead.synced')).filter((m) => (m.data as { customerId: string }).customerId === customer.id);
    expect(synced.map((m) => m.data)).toEqual([expect.objectContaining({ created: true, prospectId: cards[0]!.prospectId })]);
  }, 60_000);
});
