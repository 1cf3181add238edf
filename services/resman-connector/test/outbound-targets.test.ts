// SSRF protection of the ResMan base_url, on the real connector process: refused when saved (nothing stored),
// and refused again when the connector connects (a target that became private after it was saved), which fails the
// queued push at once, with the reason, instead of retrying it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { MessageCreated } from '@domiq/proto/conversations/events';
import { IdentifierKind, IdentityServiceClient } from '@domiq/proto/identity';
import { ResmanConnectorServiceClient, type UpsertIntegrationRequest } from '@domiq/proto/resman-connector';
import { DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID, DEMO_AGENT_ID, DOMIQ_PROSPECT_SOURCE_ID } from '@domiq/resman-sim';
import { expectEventually, publishTestEvent, readStream, registerTestSecret, startTestStack, type TestStack } from '@domiq/testkit';

registerTestSecret(DEFAULT_API_KEY, 'ResMan API key (outbound-targets.test.ts)');

let stack: TestStack;
let identity: PromiseClient<IdentityServiceClient>;
let connector: PromiseClient<ResmanConnectorServiceClient>;
let simUrl: string;
let accountId: string;

beforeAll(async () => {
  // The stack's DOMIQ_ALLOWED_TARGETS names the simulator (127.0.0.1:<its port>) and nothing else.
  stack = await startTestStack({ services: ['identity', 'resman-connector'], resmanSim: true, env: { RESMAN_TIMEOUT_MS: '1500' } });
  identity = stack.adminClient(IdentityServiceClient, 'identity');
  connector = stack.adminClient(ResmanConnectorServiceClient, 'resman-connector');
  simUrl = `http://127.0.0.1:${stack.ports.resmanSim}`;
  accountId = await stack.createAccount('Target Living');
});
afterAll(async () => stack?.stop());

const newProperty = async (name: string) => (await identity.createProperty({ accountId, name, timezone: 'UTC', id: '' })).property!.id;
const integration = (propertyId: string, baseUrl: string): UpsertIntegrationRequest => ({
  accountId, propertyId, baseUrl, resmanAccountId: DEFAULT_ACCOUNT_ID, resmanPropertyId: DEFAULT_PROPERTY_ID,
  integrationPartnerId: DEFAULT_PARTNER_ID, apiKey: DEFAULT_API_KEY, defaultAgentId: DEMO_AGENT_ID, prospectSourceId: DOMIQ_PROSPECT_SOURCE_ID,
});

describe('ResMan base_url targets', () => {
  it('refuses private, loopback, link-local and plain-http targets when saved, storing nothing', async () => {
    const propertyId = await newProperty('Refused Targets');
    const simPort = stack.ports.resmanSim;
    const cases: Array<[string, RegExp]> = [
      ['https://169.254.169.254/latest', /169\.254\.169\.254 \(linkLocal\)/],
      ['https://10.0.0.8', /10\.0\.0\.8 \(private\)/],
      ['https://100.64.1.1', /carrierGradeNat/],
      ['https://[::1]:8443', /::1 \(loopback\)/],
      ['https://[::ffff:127.0.0.1]', /ipv4Mapped:loopback/],
      [`https://localhost:${simPort + 1}`, /loopback/],
      [`http://127.0.0.1:${simPort + 1}`, /https is required/],
      ['http://93.184.216.34', /https is required/],
    ];
    for (const [baseUrl, reason] of cases) {
      const err = await connector.upsertIntegration(integration(propertyId, baseUrl)).then(() => null, (e: unknown) => e as { code: number; details: string });
      expect(err, baseUrl).toMatchObject({ code: status.INVALID_ARGUMENT });
      expect(err!.details, baseUrl).toContain('base_url');
      expect(err!.details, baseUrl).toMatch(reason);
    }
    const rows = await stack.db.query(`select 1 from resman_connector.resman_integration where property_id = $1`, [propertyId]);
    expect(rows).toEqual([]);
    // The allow-listed simulator is accepted (plain http included).
    await expect(connector.upsertIntegration(integration(propertyId, simUrl))).resolves.toMatchObject({ integration: { baseUrl: simUrl } });
  });

  it('refuses at connect time a target that now resolves to a loopback address: failed at once with the reason, not retried', async () => {
    const propertyId = await newProperty('Rebound Target');
    await connector.upsertIntegration(integration(propertyId, simUrl));
    // What a DNS change after saving looks like from the connector: the stored host now points at loopback
    // (`localhost` resolves to 127.0.0.1 / ::1 on a port no allow-list entry names).
    await stack.db.query(`update resman_connector.resman_integration set base_url = $1 where property_id = $2`, [`https://localhost:${stack.ports.resmanSim + 1}`, propertyId]);
    const digits = '4155559900';
    const { customer } = await identity.resolveCustomer({ accountId, kind: IdentifierKind.IDENTIFIER_KIND_PHONE, value: `+1${digits}`, network: '', displayName: 'Rae Bind', defaultRegion: 'US' });
    const msg = MessageCreated.fromPartial({
      accountId, propertyId, conversationId: crypto.randomUUID(), customerId: customer!.id, messageId: crypto.randomUUID(), channel: 'CHANNEL_SMS',
      direction: 'inbound', senderType: 'customer', content: 'Is parking included?', createdAt: new Date().toISOString(),
    });
    await publishTestEvent(stack.nats.url, events.messageCreated, msg);

    // Before the lead-sync queue this dead-lettered the event; now the event is consumed and its queued push fails.
    const queued = await expectEventually(async () => {
      const [row] = await stack.db.query<{ status: string; retry_count: number; error_message: string }>(
        `select status, retry_count, error_message from resman_connector.lead_sync_queue where message_id = $1`, [msg.messageId]);
      expect(row?.status).toBe('failed');
      return row!;
    });
    expect(queued.retry_count).toBe(0);
    expect(queued.error_message).toMatch(/base_url refused: .*loopback/);
    const dead = (await readStream(stack.nats.url, 'DLQ')).filter((m) => (m.data as { messageId?: string }).messageId === msg.messageId);
    expect(dead).toEqual([]);
    const logs = await stack.db.query<{ sync_status: string; error_code: string }>(
      `select sync_status, error_code from resman_connector.lead_sync_log where message_id = $1`, [msg.messageId]);
    expect(logs).toEqual([{ sync_status: 'failed', error_code: 'target_refused' }]); // one attempt, no retries
    const sync = await connector.getLeadSync({ accountId, propertyId, customerId: customer!.id });
    expect(sync.communications).toEqual([{ messageId: msg.messageId, eventType: 'TextFromProspect', syncStatus: 'failed' }]);
  });
});
