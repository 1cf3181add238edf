// The connector as a real process against real PostgreSQL, NATS, identity and the ResMan simulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { MessageCreated } from '@domiq/proto/conversations/events';
import { IdentifierKind, IdentityServiceClient } from '@domiq/proto/identity';
import { ResmanConnectorServiceClient, type UpsertIntegrationRequest } from '@domiq/proto/resman-connector';
import {
  DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID, DEMO_AGENT_ID, DOMIQ_PROSPECT_SOURCE_ID,
  type SimProspect,
} from '@domiq/resman-sim';
import { expectEventually, publishTestEvent, readStream, registerTestSecret, startTestStack, type TestStack } from '@domiq/testkit';
import { buildGuestCardXml } from '../src/resman/mits.ts';

registerTestSecret(DEFAULT_API_KEY, 'ResMan API key (resman-connector.test.ts)');

let stack: TestStack;
let identity: PromiseClient<IdentityServiceClient>;
let connector: PromiseClient<ResmanConnectorServiceClient>;
let simUrl: string;
let accountId: string;
let propertyId: string;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'resman-connector'], resmanSim: true, env: { RESMAN_TIMEOUT_MS: '1500' } });
  identity = stack.adminClient(IdentityServiceClient, 'identity');
  connector = stack.adminClient(ResmanConnectorServiceClient, 'resman-connector');
  simUrl = `http://127.0.0.1:${stack.ports.resmanSim}`;
  accountId = await stack.createAccount('Acme Living');
  propertyId = (await identity.createProperty({ accountId, name: 'Maple Court', timezone: 'UTC', id: '' })).property!.id;
  await connector.upsertIntegration(integration());
});
afterAll(async () => stack?.stop());

function integration(over: Partial<UpsertIntegrationRequest> = {}): UpsertIntegrationRequest {
  return {
    accountId, propertyId, baseUrl: simUrl, resmanAccountId: DEFAULT_ACCOUNT_ID, resmanPropertyId: DEFAULT_PROPERTY_ID,
    integrationPartnerId: DEFAULT_PARTNER_ID, apiKey: DEFAULT_API_KEY, defaultAgentId: DEMO_AGENT_ID, prospectSourceId: DOMIQ_PROSPECT_SOURCE_ID,
    ...over,
  };
}

let phoneSeq = 100;
async function newCustomer(name = 'Jane Doe', acct = accountId): Promise<{ id: string; digits: string }> {
  const digits = `415555${String(phoneSeq++).padStart(4, '0')}`;
  const { customer } = await identity.resolveCustomer({ accountId: acct, kind: IdentifierKind.IDENTIFIER_KIND_PHONE, value: `+1${digits}`, network: '', displayName: name, defaultRegion: 'US' });
  return { id: customer!.id, digits };
}

function message(customerId: string, over: Partial<MessageCreated> = {}): MessageCreated {
  return MessageCreated.fromPartial({
    accountId, propertyId, conversationId: crypto.randomUUID(), customerId, messageId: crypto.randomUUID(), channel: 'CHANNEL_SMS',
    direction: 'inbound', senderType: 'customer', content: 'Hi, is the 2 bedroom still available?', createdAt: new Date().toISOString(), ...over,
  });
}

async function sim(path: string, init?: RequestInit): Promise<any> {
  const res = await fetch(`${simUrl}${path}`, init);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}
const simFaults = (spec: object) => sim('/_sim/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
const prospectsWithPhone = async (digits: string): Promise<SimProspect[]> =>
  ((await sim('/_sim/prospects')) as SimProspect[]).filter((p) => p.people.some((person) => person.phones.some((ph) => ph.number.replace(/\D/g, '').endsWith(digits))));

/** Waits until exactly one prospect carries the phone, with `events` events, and returns it. */
async function prospectWithEvents(digits: string, eventCount: number): Promise<SimProspect> {
  return expectEventually(async () => {
    const found = await prospectsWithPhone(digits);
    expect(found).toHaveLength(1);
    expect(found[0]!.events).toHaveLength(eventCount);
    return found[0]!;
  }, { message: `one prospect with ${eventCount} events` });
}

async function processed(eventIds: string[]): Promise<void> {
  await expectEventually(async () => {
    const rows = await stack.db.query<{ n: number }>(`select count(*)::int as n from resman_connector.processed_event where event_id = any($1)`, [eventIds]);
    expect(rows[0]!.n).toBe(eventIds.length);
  }, { message: 'events processed' });
}

describe('inbound messages -> ResMan guest cards', () => {
  it('creates a guest card with a TextFromProspect first contact and reports it via GetLeadSync', async () => {
    const customer = await newCustomer('Jane Doe');
    const msg = message(customer.id, { content: 'My card is 4111 1111 1111 1111, can I pay the deposit?' });
    await publishTestEvent(stack.nats.url, events.messageCreated, msg);

    const prospect = await prospectWithEvents(customer.digits, 1);
    expect(prospect.people).toEqual([expect.objectContaining({ firstName: 'Jane', lastName: 'Doe' })]);
    const [event] = prospect.events;
    expect(event).toMatchObject({ interactionType: 'TextFromProspect', firstContact: true, agentId: DEMO_AGENT_ID, transactionSource: DOMIQ_PROSPECT_SOURCE_ID });
    expect(event!.description).toContain(`[domiq:${msg.messageId}]`);
    expect(event!.description).not.toMatch(/4111[\s-]*1111[\s-]*1111/);

    // The pending row is visible while the push is in flight ("syncing"); poll until it is committed.
    const sync = await expectEventually(async () => {
      const s = await connector.getLeadSync({ accountId, propertyId, customerId: customer.id });
      expect(s.syncStatus).toBe('synced');
      return s;
    });
    expect(sync).toMatchObject({ prospectId: prospect.prospectId, personId: prospect.people[0]!.personId, syncVersion: 1 });
    expect(sync.communications).toEqual([{ messageId: msg.messageId, eventType: 'TextFromProspect', syncStatus: 'success' }]);

    const published = await expectEventually(async () => {
      const found = (await readStream(stack.nats.url, 'RESMAN_CONNECTOR', 'resman-connector.lead.synced')).filter((m) => (m.data as { customerId: string }).customerId === customer.id);
      expect(found).toHaveLength(1);
      return found[0]!;
    });
    expect(published.data).toMatchObject({ prospectId: prospect.prospectId, personId: prospect.people[0]!.personId, created: true });
  });

  it('logs a second message on the same prospect', async () => {
    const customer = await newCustomer('Sam Lee');
    await publishTestEvent(stack.nats.url, events.messageCreated, message(customer.id));
    const first = await prospectWithEvents(customer.digits, 1);
    await publishTestEvent(stack.nats.url, events.messageCreated, message(customer.id, { channel: 'CHANNEL_EMAIL', content: 'Also, are pets ok?' }));
    const second = await prospectWithEvents(customer.digits, 2);
    expect(second.prospectId).toBe(first.prospectId);
    expect(second.events.map((e) => [e.interactionType, e.firstContact])).toEqual([['TextFromProspect', true], ['EmailFromProspect', false]]);
    await expectEventually(async () => expect(await connector.getLeadSync({ accountId, propertyId, customerId: customer.id })).toMatchObject({ syncVersion: 2 }));
  });

  it('posts one ResMan event when the same message is delivered twice', async () => {
    const customer = await newCustomer('Ana Cruz');
    const msg = message(customer.id);
    const a = await publishTestEvent(stack.nats.url, events.messageCreated, msg);
    const b = await publishTestEvent(stack.nats.url, events.messageCreated, msg);
    await processed([a, b]);
    await prospectWithEvents(customer.digits, 1);
    const rows = await stack.db.query<{ n: number }>(`select count(*)::int as n from resman_connector.communication_log_sync where message_id = $1`, [msg.messageId]);
    expect(rows[0]!.n).toBe(1);
  });

  it('attaches the customer to an existing ResMan prospect with that phone instead of duplicating it', async () => {
    const customer = await newCustomer('Kim Park');
    const form = new URLSearchParams({
      IntegrationPartnerID: DEFAULT_PARTNER_ID, ApiKey: DEFAULT_API_KEY, AccountID: String(DEFAULT_ACCOUNT_ID), PropertyID: DEFAULT_PROPERTY_ID,
      Xml: buildGuestCardXml({
        customer: { firstName: 'Kimberly', lastName: 'Park', phone: customer.digits },
        events: [{ eventType: 'WalkIn', eventDate: new Date(), agentId: DEMO_AGENT_ID, firstContact: true, transactionSource: DOMIQ_PROSPECT_SOURCE_ID }],
      }),
    });
    const existing = await sim('/MITS/PostLeadManagement4_0', { method: 'POST', headers: { accept: 'application/json' }, body: form });
    expect(existing.Status).toBe('Success');

    await publishTestEvent(stack.nats.url, events.messageCreated, message(customer.id));
    const prospect = await prospectWithEvents(customer.digits, 2);
    expect(prospect.people).toHaveLength(1);
    expect(prospect.people[0]!.firstName).toBe('Kimberly');
    expect(prospect.events[1]).toMatchObject({ interactionType: 'TextFromProspect', firstContact: false });
    await expectEventually(async () => expect((await connector.getLeadSync({ accountId, propertyId, customerId: customer.id })).prospectId).toBe(prospect.prospectId));
  });

  it('gets exactly one event through when ResMan answers 503 twice', async () => {
    const customer = await newCustomer('Lee Wong');
    await simFaults({ kind: 'http503', times: 2 });
    await publishTestEvent(stack.nats.url, events.messageCreated, message(customer.id));
    await prospectWithEvents(customer.digits, 1);
    expect(await sim('/_sim/faults')).toEqual([]);
  });

  it('does not repeat an event ResMan applied before timing out', async () => {
    const customer = await newCustomer('Max Roe');
    await publishTestEvent(stack.nats.url, events.messageCreated, message(customer.id));
    await prospectWithEvents(customer.digits, 1);
    await simFaults({ kind: 'timeout', path: 'MITS/PostLeadManagement4_0', times: 1, commit: true });
    const msg = message(customer.id, { content: 'Second question' });
    await publishTestEvent(stack.nats.url, events.messageCreated, msg);
    await expectEventually(async () => {
      const sync = await connector.getLeadSync({ accountId, propertyId, customerId: customer.id });
      expect(sync.communications.map((c) => c.syncStatus)).toEqual(['success', 'success']);
    });
    const prospect = await prospectWithEvents(customer.digits, 2);
    expect(prospect.events.filter((e) => e.description?.includes(`[domiq:${msg.messageId}]`))).toHaveLength(1);
  });

  it('after a crash between ResMan accepting the card and our commit, the redelivery adds nothing', async () => {
    const customer = await newCustomer('Rae Moss');
    const msg = message(customer.id);
    // What the crashed attempt left: our pending row, and the card it created in ResMan, carrying the marker.
    await stack.db.query(
      `insert into resman_connector.communication_log_sync (account_id, property_id, customer_id, message_id, sync_status, sync_direction)
       values ($1, $2, $3, $4, 'pending', 'to_resman')`, [accountId, propertyId, customer.id, msg.messageId]);
    const form = new URLSearchParams({
      IntegrationPartnerID: DEFAULT_PARTNER_ID, ApiKey: DEFAULT_API_KEY, AccountID: String(DEFAULT_ACCOUNT_ID), PropertyID: DEFAULT_PROPERTY_ID,
      Xml: buildGuestCardXml({
        customer: { firstName: 'Rae', lastName: 'Moss', phone: customer.digits },
        events: [{ eventType: 'TextFromProspect', eventDate: new Date(), agentId: DEMO_AGENT_ID, firstContact: true, transactionSource: DOMIQ_PROSPECT_SOURCE_ID, comments: `hi [domiq:${msg.messageId}]` }],
      }),
    });
    expect((await sim('/MITS/PostLeadManagement4_0', { method: 'POST', headers: { accept: 'application/json' }, body: form })).Status).toBe('Success');

    await publishTestEvent(stack.nats.url, events.messageCreated, msg);
    const sync = await expectEventually(async () => {
      const s = await connector.getLeadSync({ accountId, propertyId, customerId: customer.id });
      expect(s.syncStatus).toBe('synced');
      return s;
    });
    const prospect = await prospectWithEvents(customer.digits, 1);
    expect(sync.prospectId).toBe(prospect.prospectId);
    const synced = await expectEventually(async () => {
      const found = (await readStream(stack.nats.url, 'RESMAN_CONNECTOR', 'resman-connector.lead.synced')).filter((m) => (m.data as { customerId: string }).customerId === customer.id);
      expect(found).toHaveLength(1);
      return found[0]!;
    });
    expect(synced.data).toMatchObject({ created: true });
  });

  it('ignores outbound messages and properties without an integration', async () => {
    const customer = await newCustomer('Ola Nord');
    const other = (await identity.createProperty({ accountId, name: 'No ResMan', timezone: 'UTC', id: '' })).property!.id;
    const ids = [
      await publishTestEvent(stack.nats.url, events.messageCreated, message(customer.id, { direction: 'outbound', senderType: 'agent' })),
      await publishTestEvent(stack.nats.url, events.messageCreated, message(customer.id, { propertyId: other })),
    ];
    await processed(ids);
    expect(await prospectsWithPhone(customer.digits)).toEqual([]);
    await expect(connector.getLeadSync({ accountId, propertyId, customerId: customer.id })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  // Before the queue this dead-lettered the event; now the event is consumed (queued) and the queued push fails for
  // good at once with the reason, which is where an operator now looks (the queue row, lead_sync_log, the health).
  it('records a failed sync, fails the queued push with the reason and marks the integration in error when ResMan refuses the credentials', async () => {
    const badProperty = (await identity.createProperty({ accountId, name: 'Bad Key', timezone: 'UTC', id: '' })).property!.id;
    await connector.upsertIntegration(integration({ propertyId: badProperty, apiKey: 'not-the-key' }));
    const customer = await newCustomer('Pat Kay');
    const msg = message(customer.id, { propertyId: badProperty });
    const eventId = await publishTestEvent(stack.nats.url, events.messageCreated, msg);
    const sync = await expectEventually(async () => {
      const s = await connector.getLeadSync({ accountId, propertyId: badProperty, customerId: customer.id });
      expect(s.syncStatus).toBe('failed');
      return s;
    });
    expect(sync.communications).toEqual([{ messageId: msg.messageId, eventType: 'TextFromProspect', syncStatus: 'failed' }]);
    const [queued] = await stack.db.query<{ status: string; retry_count: number; error_message: string }>(
      `select status, retry_count, error_message from resman_connector.lead_sync_queue where message_id = $1`, [msg.messageId]);
    expect(queued).toMatchObject({ status: 'failed', retry_count: 0 });
    expect(queued!.error_message).toMatch(/authentication failed/);
    expect(queued!.error_message).not.toContain('not-the-key');
    const [log] = await stack.db.query<{ sync_status: string; error_code: string }>(
      `select sync_status, error_code from resman_connector.lead_sync_log where message_id = $1`, [msg.messageId]);
    expect(log).toEqual({ sync_status: 'failed', error_code: 'auth' });
    const [health] = await stack.db.query<{ sync_status: string; error_count: number }>(
      `select sync_status, error_count from resman_connector.resman_integration where property_id = $1`, [badProperty]);
    expect(health).toEqual({ sync_status: 'error', error_count: 1 });
    // The event itself was fine: consumed once, not dead-lettered.
    await processed([eventId]);
    const dead = (await readStream(stack.nats.url, 'DLQ')).filter((m) => (m.data as { messageId?: string }).messageId === msg.messageId);
    expect(dead).toEqual([]);
    expect(await prospectsWithPhone(customer.digits)).toEqual([]);
    const logs = stack.services['resman-connector']!.lines.join('\n');
    expect(logs).not.toContain('not-the-key');
    expect(logs).not.toContain(DEFAULT_API_KEY);
  });
});

describe('ResmanConnectorService', () => {
  it('stores the API key encrypted and never returns it', async () => {
    const { integration: saved } = await connector.upsertIntegration(integration());
    expect(saved).toMatchObject({ accountId, propertyId, baseUrl: simUrl, integrationPartnerId: DEFAULT_PARTNER_ID, syncEnabled: true, syncStatus: 'active' });
    expect(JSON.stringify(saved)).not.toContain(DEFAULT_API_KEY);
    const rows = await stack.db.query<{ api_credentials: string }>(`select api_credentials from resman_connector.resman_integration where property_id = $1`, [propertyId]);
    expect(rows[0]!.api_credentials).toMatch(/^v2\.k0\./); // kid k0: the single development DOMIQ_ENCRYPTION_KEY
    expect(rows[0]!.api_credentials).not.toContain(DEFAULT_API_KEY);
    expect(rows[0]!.api_credentials).not.toContain(DEFAULT_PARTNER_ID);
  });

  it.each([
    ['account_id', { accountId: 'nope' }],
    ['property_id', { propertyId: '' }],
    ['base_url', { baseUrl: 'ftp://resman.example' }],
    ['base_url', { baseUrl: 'not a url' }],
    ['base_url', { baseUrl: 'https://user:pw@resman.example' }],
    ['resman_account_id', { resmanAccountId: 0 }],
    ['resman_property_id', { resmanPropertyId: 'not-a-guid' }],
    ['integration_partner_id', { integrationPartnerId: ' ' }],
    ['api_key', { apiKey: '' }],
    ['default_agent_id', { defaultAgentId: '' }],
    ['prospect_source_id', { prospectSourceId: '' }],
  ] as const)('rejects a bad %s with INVALID_ARGUMENT naming it', async (field, over) => {
    await expect(connector.upsertIntegration(integration(over))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(field) });
  });

  it('keeps tenants apart', async () => {
    const customer = await newCustomer('Quinn Ray');
    await publishTestEvent(stack.nats.url, events.messageCreated, message(customer.id));
    await expectEventually(() => connector.getLeadSync({ accountId, propertyId, customerId: customer.id }));
    const other = await stack.createAccount('Other Co');
    await expect(connector.getLeadSync({ accountId: other, propertyId, customerId: customer.id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    // Another account cannot bind (or take over) this account's property.
    await expect(connector.upsertIntegration(integration({ accountId: other }))).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(connector.getLeadSync({ accountId, propertyId, customerId: 'bad' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('customer_id') });
  });
});

describe('resman-connector audit', () => {
  it('records which admin changed the integration settings in the event log, without the API key', async () => {
    const adminId = crypto.randomUUID();
    const admin = await stack.client(ResmanConnectorServiceClient, 'resman-connector', { accountId, userId: adminId });
    const { integration: saved } = await admin.upsertIntegration(integration());
    const rows = await stack.db.query<{ subject: string; actor_type: string; actor_id: string; payload: Record<string, unknown> }>(
      `select subject, actor_type, actor_id, payload from resman_connector.event_log where entity_id = $1 order by id desc limit 1`, [saved!.id]);
    expect(rows[0]).toMatchObject({ subject: 'resman-connector.integration.upserted', actor_type: 'user', actor_id: adminId, payload: { propertyId, credentialsChanged: true } });
    expect(rows[0]!.payload.created ?? false).toBe(false); // proto3 JSON leaves false out
    expect(JSON.stringify(rows[0]!.payload)).not.toContain(DEFAULT_API_KEY);
  });
});
