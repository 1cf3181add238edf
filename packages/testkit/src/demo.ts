import { createClient } from '@domiq/grpc';
import { IdentityServiceClient, CreateUserRequest } from '@domiq/proto/identity';
import { RoutingSlaServiceClient, UpsertSlaPolicyRequest } from '@domiq/proto/routing-sla';
import { ResmanConnectorServiceClient, UpsertIntegrationRequest } from '@domiq/proto/resman-connector';
import { ChannelGatewayServiceClient, UpsertChannelRequest } from '@domiq/proto/channel-gateway';
import { DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID, DEMO_AGENT_ID, DOMIQ_PROSPECT_SOURCE_ID } from '@domiq/resman-sim';
import { expectEventually } from './eventually.ts';
import { registerTestSecret } from './test-logs.ts';

/** Fixed ids, so seeding twice (every `npm start`) finds what the first run made. */
export const DEMO = {
  accountId: '0d0e0000-0000-4000-8000-000000000001',
  /** The demo admin (the `sub` of the admin token `npm start` prints). */
  adminUserId: '0d0e0000-0000-4000-8000-000000000010',
  propertyId: '0d0e0000-0000-4000-8000-000000000002',
  teamId: '0d0e0000-0000-4000-8000-000000000003',
  agentIds: ['0d0e0000-0000-4000-8000-000000000011', '0d0e0000-0000-4000-8000-000000000012', '0d0e0000-0000-4000-8000-000000000013'],
  channelKey: 'demo-sms',
  twilioAccountSid: 'AC0d0e00000000000000000000000000de',
  twilioNumber: '+15005550006',
} as const;

export interface DemoAddresses {
  identity: string;
  routingSla: string;
  resmanConnector: string;
  channelGateway: string;
  resmanBaseUrl: string;
}

/**
 * Seeds the demo through the services' public gRPC APIs, as the demo account's admin: an account, a property whose ResMan integration
 * points at the simulator, a team of three available agents, an SLA policy and a Twilio SMS channel.
 */
export async function seedDemo(addr: DemoAddresses, twilioAuthToken: string, adminToken: string): Promise<typeof DEMO> {
  const opts = { token: adminToken };
  const identity = createClient(IdentityServiceClient, addr.identity, opts);
  const routing = createClient(RoutingSlaServiceClient, addr.routingSla, opts);
  const resman = createClient(ResmanConnectorServiceClient, addr.resmanConnector, opts);
  const gateway = createClient(ChannelGatewayServiceClient, addr.channelGateway, opts);
  // In a test run, these must never appear in a service log (see test-logs.ts).
  registerTestSecret(twilioAuthToken, 'demo Twilio auth token (seedDemo)');
  registerTestSecret(DEFAULT_API_KEY, 'ResMan simulator API key (seedDemo)');
  try {
    await identity.client.createAccount({ id: DEMO.accountId, name: 'Sunset Apartments Group' });
    await identity.client.createProperty({ id: DEMO.propertyId, accountId: DEMO.accountId, name: 'Sunset Lofts', timezone: 'America/Los_Angeles' });
    await identity.client.createTeam({ id: DEMO.teamId, accountId: DEMO.accountId, name: 'Leasing', routingMode: 'round_robin' });
    const names = [['Ava', 'Lopez'], ['Ben', 'Okafor'], ['Chloe', 'Nguyen']] as const;
    for (const [i, id] of DEMO.agentIds.entries()) {
      const [first, last] = names[i]!;
      await identity.client.createUser(CreateUserRequest.fromPartial({
        id, accountId: DEMO.accountId, email: `${first.toLowerCase()}@sunset.example`, firstName: first, lastName: last, role: 'ROLE_AGENT', teamId: DEMO.teamId, skills: ['leasing'], maxConcurrentConversations: 5,
      }));
    }
    // Agents reach routing-sla as identity.user.created events; mark them available once they have.
    for (const agentId of DEMO.agentIds) {
      await expectEventually(() => routing.client.setAgentStatus({ accountId: DEMO.accountId, agentId, status: 'available' }), { timeoutMs: 30_000, message: `agent ${agentId} never reached routing-sla` });
    }
    const weekday = { start: '09:00', end: '18:00' };
    await routing.client.upsertSlaPolicy(UpsertSlaPolicyRequest.fromPartial({
      policy: {
        accountId: DEMO.accountId, propertyId: DEMO.propertyId, name: 'Leasing standard', tier: 'SLA_TIER_STANDARD',
        firstResponseMinutes: 15, resolutionMinutes: 24 * 60, businessHoursOnly: true, timezone: 'America/Los_Angeles',
        businessHours: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => ({ day, ...weekday })).concat([{ day: 'saturday', start: '10:00', end: '16:00' }]),
      },
    }));
    await resman.client.upsertIntegration(UpsertIntegrationRequest.fromPartial({
      accountId: DEMO.accountId, propertyId: DEMO.propertyId, baseUrl: addr.resmanBaseUrl, resmanAccountId: DEFAULT_ACCOUNT_ID,
      resmanPropertyId: DEFAULT_PROPERTY_ID, integrationPartnerId: DEFAULT_PARTNER_ID, apiKey: DEFAULT_API_KEY,
      defaultAgentId: DEMO_AGENT_ID, prospectSourceId: DOMIQ_PROSPECT_SOURCE_ID,
    }));
    await gateway.client.upsertChannel(UpsertChannelRequest.fromPartial({
      accountId: DEMO.accountId, propertyId: DEMO.propertyId, channelKey: DEMO.channelKey, type: 'CHANNEL_SMS', name: 'Sunset Lofts SMS',
      address: DEMO.twilioNumber, credentials: { $case: 'twilio', value: { accountSid: DEMO.twilioAccountSid, authToken: twilioAuthToken } },
    }));
    return DEMO;
  } finally {
    for (const c of [identity, routing, resman, gateway]) c.close();
  }
}
