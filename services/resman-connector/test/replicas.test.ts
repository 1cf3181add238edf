// Two resman-connector processes on one database and one NATS (two replicas): both consume (queueing) and both push
// (the lead-sync queue worker), and the serialisation per ResMan account (hence per customer) must hold across them, so
// simultaneous first messages of a new customer give one ResMan guest card, not two.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromiseClient } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { MessageCreated } from '@domiq/proto/conversations/events';
import { IdentifierKind, IdentityServiceClient } from '@domiq/proto/identity';
import { ResmanConnectorServiceClient } from '@domiq/proto/resman-connector';
import {
  DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID, DEMO_AGENT_ID, DOMIQ_PROSPECT_SOURCE_ID,
  type SimProspect,
} from '@domiq/resman-sim';
import { consumerIdle, expectEventually, publishTestEventRetrying, registerTestSecret, startTestStack, type ServiceProcess, type TestStack } from '@domiq/testkit';

registerTestSecret(DEFAULT_API_KEY, 'ResMan API key (replicas.test.ts)');

const CUSTOMERS = 40;
const MESSAGES_EACH = 3;

let stack: TestStack;
let replica: ServiceProcess;
let identity: PromiseClient<IdentityServiceClient>;
let simUrl: string;
let accountId: string;
let propertyId: string;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'resman-connector'], resmanSim: true });
  replica = await stack.startReplica('resman-connector');
  identity = stack.adminClient(IdentityServiceClient, 'identity');
  const connector = stack.adminClient(ResmanConnectorServiceClient, 'resman-connector');
  simUrl = `http://127.0.0.1:${stack.ports.resmanSim}`;
  accountId = await stack.createAccount('Twin Living');
  propertyId = (await identity.createProperty({ accountId, name: 'Birch Yard', timezone: 'UTC', id: '' })).property!.id;
  await connector.upsertIntegration({
    accountId, propertyId, baseUrl: simUrl, resmanAccountId: DEFAULT_ACCOUNT_ID, resmanPropertyId: DEFAULT_PROPERTY_ID,
    integrationPartnerId: DEFAULT_PARTNER_ID, apiKey: DEFAULT_API_KEY, defaultAgentId: DEMO_AGENT_ID, prospectSourceId: DOMIQ_PROSPECT_SOURCE_ID,
  });
}, 60_000);
afterAll(async () => stack?.stop());

async function sim(path: string, init?: RequestInit): Promise<any> {
  const res = await fetch(`${simUrl}${path}`, init);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

/** How many message-created events a connector process has handled (committed), from its /metrics. */
async function handledBy(proc: ServiceProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proc.opts.env.OPS_PORT}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('domiq_events_consumed_total{') && l.includes('consumer="resman-connector-message-created"') && l.includes('outcome="handled"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('two resman-connector replicas', () => {
  it(`give each of ${CUSTOMERS} new customers texting ${MESSAGES_EACH} times at once exactly one guest card`, async () => {
    // A little ResMan latency on every call widens the window between "search found nothing" and "card created",
    // the window two replicas used to race through.
    await sim('/_sim/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'latency', latencyMs: 15 }) });

    const customers = await Promise.all(Array.from({ length: CUSTOMERS }, async (_, i) => {
      const digits = `628555${String(1000 + i).padStart(4, '0')}`;
      const { customer } = await identity.resolveCustomer({ accountId, kind: IdentifierKind.IDENTIFIER_KIND_PHONE, value: `+1${digits}`, network: '', displayName: `Twin Customer${i}`, defaultRegion: 'US' });
      return { id: customer!.id, digits };
    }));
    const messages = customers.flatMap((c) => Array.from({ length: MESSAGES_EACH }, (_, n) => MessageCreated.fromPartial({
      accountId, propertyId, conversationId: crypto.randomUUID(), customerId: c.id, messageId: crypto.randomUUID(), channel: 'CHANNEL_SMS',
      direction: 'inbound', senderType: 'customer', content: `First text ${n} from ${c.digits}`, createdAt: new Date().toISOString(),
    })));
    // Published as fast as the test server takes new admin connections (each publishTestEvent opens one; a hundred
    // at once time out authenticating on a busy machine): two customers' messages at a time, a customer's three
    // together. A retry keeps its event id, which the stream deduplicates.
    const publish = (m: MessageCreated) => publishTestEventRetrying(stack.nats.url, events.messageCreated, m);
    const eventIds: string[] = [];
    for (let i = 0; i < messages.length; i += 2 * MESSAGES_EACH) {
      eventIds.push(...await Promise.all(messages.slice(i, i + 2 * MESSAGES_EACH).map((m) => publish(m))));
    }
    await expectEventually(async () => {
      const [row] = await stack.db.query<{ n: number }>(`select count(*)::int as n from resman_connector.processed_event where event_id = any($1)`, [eventIds]);
      expect(row!.n).toBe(eventIds.length);
    }, { timeoutMs: 40_000, intervalMs: 250, message: 'every event processed' });
    await expectEventually(async () => expect(await consumerIdle(stack.nats.url, 'CONVERSATIONS', 'resman-connector-message-created')).toBe(true));
    // The consumer queues; the replicas' queue workers push. Everything queued once, and every push done.
    await expectEventually(async () => {
      const [row] = await stack.db.query<{ n: number; done: number }>(
        `select count(*)::int as n, count(*) filter (where status = 'completed')::int as done from resman_connector.lead_sync_queue where property_id = $1`, [propertyId]);
      expect(row).toEqual({ n: messages.length, done: messages.length });
    }, { timeoutMs: 40_000, intervalMs: 250, message: 'every queued push completed' });

    // Both replicas consumed part of the events (otherwise this proves nothing about replicas).
    const [primary, second] = await Promise.all([handledBy(stack.services['resman-connector']!), handledBy(replica)]);
    expect(primary + second).toBe(eventIds.length);
    expect(primary).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(0);

    // Exactly one guest card per customer, carrying all of that customer's messages, each once.
    const prospects = (await sim('/_sim/prospects')) as SimProspect[];
    const cardsOf = (digits: string) => prospects.filter((p) => p.people.some((person) => person.phones.some((ph) => ph.number.replace(/\D/g, '').endsWith(digits))));
    const duplicated = customers.filter((c) => cardsOf(c.digits).length !== 1).map((c) => `${c.digits}: ${cardsOf(c.digits).length} cards`);
    expect(duplicated).toEqual([]);
    for (const m of messages) {
      const carrying = prospects.flatMap((p) => p.events).filter((e) => e.description?.includes(`[domiq:${m.messageId}]`));
      expect(carrying, `ResMan events for message ${m.messageId}`).toHaveLength(1);
    }
    for (const c of customers) {
      const [card] = cardsOf(c.digits);
      expect(card!.events).toHaveLength(MESSAGES_EACH);
      expect(card!.events.filter((e) => e.firstContact)).toHaveLength(1);
    }

    // One mapping row per customer, pointing at that card; every message logged once, successfully.
    const mappings = await stack.db.query<{ customer_id: string; resman_lead_id: string; sync_status: string; sync_version: number }>(
      `select customer_id, resman_lead_id, sync_status, sync_version from resman_connector.lead_sync_mapping where property_id = $1`, [propertyId]);
    expect(mappings).toHaveLength(CUSTOMERS);
    for (const c of customers) {
      const rows = mappings.filter((r) => r.customer_id === c.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toEqual({ customer_id: c.id, resman_lead_id: cardsOf(c.digits)[0]!.prospectId, sync_status: 'synced', sync_version: MESSAGES_EACH });
    }
    const logged = await stack.db.query<{ message_id: string; sync_status: string; n: number }>(
      `select message_id, sync_status, count(*) over (partition by message_id)::int as n from resman_connector.communication_log_sync where property_id = $1`, [propertyId]);
    expect(logged).toHaveLength(messages.length);
    expect(logged.every((r) => r.n === 1 && r.sync_status === 'success')).toBe(true);
    expect(new Set(logged.map((r) => r.message_id))).toEqual(new Set(messages.map((m) => m.messageId)));
    const conflicts = await stack.db.query(`select 1 from resman_connector.lead_sync_conflicts where property_id = $1`, [propertyId]);
    expect(conflicts).toEqual([]);
  }, 60_000);
});
