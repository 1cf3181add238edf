// The tenant-isolation suite, generated from the proto descriptors: every method of every service, present and
// future, is called (a) without a token, (b) with another account's token and (c) with each role it does not
// admit, and must refuse each time without changing a single row; (d) an empty request from an admitted caller
// gets a clear error naming the field (or nothing) and stores nothing. A method that declares no roles fails here.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, loadPackageDefinition, Metadata, status, type Client, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { generateSigningKey, mintToken, ROLES, type Role } from '@domiq/auth';
import { accessRuleProblems, type Access } from '@domiq/grpc';
import { registry, SERVICE_NAMES, type ServiceName } from '@domiq/proto/services';
import { IdentityServiceClient } from '@domiq/proto/identity';
import { ChannelGatewayServiceClient, UpsertChannelRequest } from '@domiq/proto/channel-gateway';
import { RoutingSlaServiceClient, UpsertSlaPolicyRequest } from '@domiq/proto/routing-sla';
import { ResmanConnectorServiceClient, UpsertIntegrationRequest } from '@domiq/proto/resman-connector';
import { DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID } from '@domiq/resman-sim';
import { sendInboundSms, newAccountSid } from '@domiq/twilio-sim';
import { expectEventually, startTestStack, type TestStack } from '@domiq/testkit';
import { identityAccess } from '../../services/identity/src/grpc/identity.server.ts';
import { conversationsAccess } from '../../services/conversations/src/grpc/conversations.server.ts';
import { routingSlaAccess } from '../../services/routing-sla/src/grpc/routing-sla.server.ts';
import { resolutionsAccess } from '../../services/resolutions/src/grpc/resolutions.server.ts';
import { resmanConnectorAccess } from '../../services/resman-connector/src/grpc/resman-connector.server.ts';
import { channelGatewayAccess } from '../../services/channel-gateway/src/grpc/channel-gateway.server.ts';

/** Each service's access table, as it declares it next to its handlers. */
const ACCESS: Record<ServiceName, Record<string, Access>> = {
  identity: identityAccess,
  conversations: conversationsAccess,
  'routing-sla': routingSlaAccess,
  resolutions: resolutionsAccess,
  'resman-connector': resmanConnectorAccess,
  'channel-gateway': channelGatewayAccess,
};

interface MethodCase {
  service: ServiceName;
  /** e.g. `ResolveCustomer` as in the .proto. */
  rpc: string;
  path: string;
  access: Access | undefined;
}

// Every rpc of every service, straight from the committed descriptor set (the same one reflection serves).
const require = createRequire(import.meta.url);
const definition = loadFileDescriptorSetFromBuffer(readFileSync(require.resolve('@domiq/proto/descriptors')), { keepCase: true, defaults: false });
const grpcObject = loadPackageDefinition(definition);
const METHODS: MethodCase[] = SERVICE_NAMES.flatMap((service) => {
  const def = definition[registry[service].grpcService] as Record<string, { path: string; originalName?: string }> | undefined;
  if (!def) throw new Error(`descriptor set has no ${registry[service].grpcService}`);
  return Object.entries(def).map(([rpc, m]) => ({ service, rpc, path: m.path, access: ACCESS[service][rpc.charAt(0).toLowerCase() + rpc.slice(1)] }));
});

function ctorOf(service: ServiceName): ServiceClientConstructor {
  let v: unknown = grpcObject;
  for (const part of registry[service].grpcService.split('.')) v = (v as Record<string, unknown>)[part];
  return v as ServiceClientConstructor;
}

/** Sets a snake_case field path in a request object (keepCase). */
function setPath(target: Record<string, unknown>, path: string, value: string): void {
  const parts = path.split('.');
  let o = target;
  for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
  o[parts.at(-1)!] = value;
}

let stack: TestStack;
const victim = { accountId: crypto.randomUUID(), propertyId: '' };
/** Every id the victim owns, by the request field that would name it (filled in as the data is made). */
const victimIds: Record<string, string> = {};
const VICTIM_PHONE = '+14155550142';
const attacker = { accountId: crypto.randomUUID() };
const clients = new Map<ServiceName, Client & Record<string, Function>>();

function callFull(c: MethodCase, request: Record<string, unknown>, token?: string): Promise<{ err: ServiceError | null; res: unknown }> {
  const client = clients.get(c.service)!;
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  const method = c.rpc.charAt(0).toLowerCase() + c.rpc.slice(1);
  return new Promise((resolve) => {
    client[method]!.call(client, request, md, { deadline: Date.now() + 10_000 }, (err: ServiceError | null, res: unknown) => resolve({ err, res }));
  });
}

const call = async (c: MethodCase, request: Record<string, unknown>, token?: string) => (await callFull(c, request, token)).err;

/** One fingerprint of every row of every table of every service (views and partitions' parents excluded). */
let fingerprintSql = '';
async function fingerprint(): Promise<string> {
  if (!fingerprintSql) {
    const tables = await stack.db.query<{ s: string; t: string }>(
      `select table_schema as s, table_name as t from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema = any($1) order by 1, 2`, [SERVICE_NAMES.map((n) => registry[n].schema)]);
    expect(tables.length).toBeGreaterThan(30);
    fingerprintSql = tables.map(({ s, t }) => `select '${s}.${t}' as t, count(*) as n, md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h from "${s}"."${t}" x`).join(' union all ');
  }
  const rows = await stack.db.query<{ t: string; n: string; h: string }>(fingerprintSql);
  return rows.map((r) => `${r.t}:${r.n}:${r.h}`).join('\n');
}

/** A fingerprint of the victim's rows only (every table with an account_id): what another tenant must never change. */
let victimFingerprintSql = '';
async function victimFingerprint(): Promise<string> {
  if (!victimFingerprintSql) {
    const tables = await stack.db.query<{ s: string; t: string }>(
      `select c.table_schema as s, c.table_name as t from information_schema.columns c join information_schema.tables t using (table_schema, table_name)
        where t.table_type = 'BASE TABLE' and c.column_name = 'account_id' and c.table_schema = any($1) order by 1, 2`, [SERVICE_NAMES.map((n) => registry[n].schema)]);
    victimFingerprintSql = tables.map(({ s, t }) => `select '${s}.${t}' as t, count(*) as n, md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h from "${s}"."${t}" x where account_id = $1`).join(' union all ');
  }
  const rows = await stack.db.query<{ t: string; n: string; h: string }>(victimFingerprintSql, [victim.accountId]);
  return rows.map((r) => `${r.t}:${r.n}:${r.h}`).join('\n');
}

// Plausible values by field name, so that requests get past validation to the lookups an attacker would aim at.
const PLAUSIBLE: Record<string, string> = {
  name: 'Probe', first_name: 'Pro', last_name: 'Be', display_name: 'Probe', reason: 'probe', email: 'probe@attacker.example',
  timezone: 'UTC', address: '+15005550006', status: 'available', provider: 'twilio', value: VICTIM_PHONE, default_region: 'US', base_url: 'https://resman.example.com',
  resman_property_id: '0d0e0000-0000-4000-8000-0000000000ff', integration_partner_id: 'probe', api_key: 'probe-key',
  default_agent_id: 'probe', prospect_source_id: 'probe', account_sid: `AC${'0'.repeat(32)}`, auth_token: 'probe-auth-token',
};

// (A oneof's members are all filled too: the wire keeps one, which is as good a probe as any.)
type FieldDescriptor = { name: string; type: string; label: string; typeName: string };
function messageType(typeName: string, near: string): { field: FieldDescriptor[] } {
  const pkg = near.slice(0, near.lastIndexOf('.'));
  const key = Object.keys(definition).find((k) => k === `${pkg}.${typeName}` || k.endsWith(`.${typeName}`));
  return (definition[key!] as unknown as { type: { field: FieldDescriptor[] } }).type;
}

/** A request whose every field names something of the victim's where it can (ids, keys, the customer's phone). */
function attackRequest(typeName: string, near: string, idHint: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of messageType(typeName, near).field) {
    if (f.label === 'LABEL_REPEATED') continue;
    if (f.type === 'TYPE_MESSAGE') out[f.name] = attackRequest(f.typeName, near, f.typeName);
    // Every vocabulary enum's first value is a valid choice (channel web_chat, role admin, severity P0, ...).
    else if (f.type === 'TYPE_ENUM') out[f.name] = 1;
    else if (f.type === 'TYPE_BOOL') out[f.name] = false;
    else if (f.type.startsWith('TYPE_INT') || f.type.startsWith('TYPE_UINT')) out[f.name] = f.name === 'resman_account_id' ? 1 : 5;
    else if (f.type === 'TYPE_STRING') {
      const byHint = f.name === 'id' ? victimIds[`${/Team/.test(idHint) ? 'team' : /User/.test(idHint) ? 'agent' : /Sla|Policy/.test(idHint) ? 'policy' : /Account/.test(idHint) ? 'account' : 'property'}_id`] : undefined;
      out[f.name] = byHint ?? victimIds[f.name] ?? PLAUSIBLE[f.name] ?? '';
    }
  }
  return out;
}

/** The request a caller would send: the victim's account (and property) wherever the method reads them. */
function victimRequest(c: MethodCase): Record<string, unknown> {
  const req: Record<string, unknown> = {};
  setPath(req, c.access?.account ?? 'account_id', victim.accountId);
  if (c.access?.property) setPath(req, c.access.property, victim.propertyId);
  return req;
}

beforeAll(async () => {
  stack = await startTestStack({ services: [...SERVICE_NAMES], resmanSim: true });
  for (const s of SERVICE_NAMES) {
    const Ctor = ctorOf(s);
    clients.set(s, new Ctor(stack.grpcAddr(s), credentials.createInsecure()) as never);
  }
  // The victim has data in every service: a property, a team, an agent, an SLA policy, a ResMan integration, an SMS
  // channel, and a conversation made by a real signed webhook (customer, messages, routing, ResMan sync).
  await stack.createAccount('Victim Living', victim.accountId);
  await stack.createAccount('Attacker Living', attacker.accountId);
  const identity = await stack.client(IdentityServiceClient, 'identity', victim);
  victim.propertyId = (await identity.createProperty({ accountId: victim.accountId, name: 'Victim Towers', timezone: 'UTC', id: '' })).property!.id;
  const team = (await identity.createTeam({ accountId: victim.accountId, name: 'Leasing', routingMode: 'round_robin', id: '' })).team!;
  victimIds.team_id = team.id;
  victimIds.agent_id = (await identity.createUser({ accountId: victim.accountId, email: 'agent@victim.example', firstName: 'Vic', lastName: 'Tim', role: 'ROLE_AGENT', teamId: team.id, skills: [], maxConcurrentConversations: 3, id: '' })).user!.id;
  const routing = await stack.client(RoutingSlaServiceClient, 'routing-sla', victim);
  victimIds.policy_id = (await routing.upsertSlaPolicy(UpsertSlaPolicyRequest.fromPartial({ policy: { accountId: victim.accountId, name: 'Std', tier: 'SLA_TIER_STANDARD', firstResponseMinutes: 30, resolutionMinutes: 600 } }))).policy!.id;
  const connector = await stack.client(ResmanConnectorServiceClient, 'resman-connector', victim);
  await connector.upsertIntegration(UpsertIntegrationRequest.fromPartial({
    accountId: victim.accountId, propertyId: victim.propertyId, baseUrl: `http://127.0.0.1:${stack.ports.resmanSim}`, resmanAccountId: DEFAULT_ACCOUNT_ID,
    resmanPropertyId: DEFAULT_PROPERTY_ID, integrationPartnerId: DEFAULT_PARTNER_ID, apiKey: DEFAULT_API_KEY, defaultAgentId: 'agent-1', prospectSourceId: 'src-1',
  }));
  const gateway = await stack.client(ChannelGatewayServiceClient, 'channel-gateway', victim);
  const twilio = { accountSid: newAccountSid(), authToken: `tok-${crypto.randomUUID()}` };
  victimIds.channel_id = (await gateway.upsertChannel(UpsertChannelRequest.fromPartial({
    accountId: victim.accountId, propertyId: victim.propertyId, channelKey: 'victim-sms', type: 'CHANNEL_SMS', name: 'Victim SMS', address: '+15005550006',
    credentials: { $case: 'twilio', value: twilio },
  }))).channel!.id;
  const victimSid = `SM${crypto.randomUUID().replaceAll('-', '')}`;
  const res = await sendInboundSms(`http://127.0.0.1:${stack.ports.gatewayHttp}/webhooks/twilio/victim-sms`, twilio.authToken, { accountSid: twilio.accountSid, to: '+15005550006', from: VICTIM_PHONE, body: 'Is the loft free?', messageSid: victimSid });
  expect(res.status).toBe(200);
  // Wait until every service has settled (messages stored, routed, synced; the outbox published): two equal
  // fingerprints a second apart.
  let last = '';
  await expectEventually(async () => {
    const rows = await stack.db.query<{ n: number }>(`select count(*)::int as n from resman_connector.communication_log_sync`);
    if (rows[0]!.n < 1) throw new Error('ResMan sync not done yet');
    const now = await fingerprint();
    const settled = now === last;
    last = now;
    if (!settled) throw new Error('still changing');
  }, { timeoutMs: 60_000, intervalMs: 1_000 });
  const [conv] = await stack.db.query<{ id: string; customer_id: string }>(`select id, customer_id from conversations.conversations where account_id = $1`, [victim.accountId]);
  PLAUSIBLE.base_url = `http://127.0.0.1:${stack.ports.resmanSim}`; // allow-listed, so UpsertIntegration gets to its property check
  Object.assign(victimIds, {
    account_id: victim.accountId, property_id: victim.propertyId, conversation_id: conv!.id, customer_id: conv!.customer_id,
    channel_key: 'victim-sms', provider_message_id: victimSid,
  });
}, 240_000);

afterAll(async () => {
  for (const c of clients.values()) c.close();
  await stack?.stop();
});

describe('the generated access suite', () => {
  it('covers every method of every service, and every method declares who may call it', () => {
    expect(METHODS.length).toBeGreaterThanOrEqual(21);
    // No roles and no services, or a service admitted that the registry does not list as a caller of this one.
    const problems = METHODS.flatMap((m) => accessRuleProblems(registry[m.service].grpcService, m.path, m.access));
    expect(problems, 'access rules that cannot stand').toEqual([]);
    for (const m of METHODS) for (const r of m.access!.roles) expect(ROLES).toContain(r);
  });

  describe.each(METHODS.map((m) => [m.path, m] as const))('%s', (_path, m) => {
    it('(a) refuses a call without a token, or with a forged, expired or foreign-key token: UNAUTHENTICATED', async () => {
      const before = await fingerprint();
      const req = victimRequest(m);
      expect((await call(m, req))?.code).toBe(status.UNAUTHENTICATED);
      expect((await call(m, req, 'not-a-jwt'))?.code).toBe(status.UNAUTHENTICATED);
      const expired = await stack.auth.token({ accountId: victim.accountId, ttlSeconds: -60 });
      expect((await call(m, req, expired))).toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringContaining('expired') });
      const foreignKey = await generateSigningKey('someone-else');
      const forged = await mintToken(foreignKey.privateJwk, { userId: crypto.randomUUID(), role: 'admin', accountId: victim.accountId }, { ttlSeconds: 300 });
      expect((await call(m, req, forged))?.code).toBe(status.UNAUTHENTICATED);
      expect(await fingerprint()).toBe(before);
    });

    it("(b) refuses another account's token: PERMISSION_DENIED or NOT_FOUND, and nothing changes in any table", async () => {
      const before = await fingerprint();
      const role: Role = m.access!.roles.includes('admin') ? 'admin' : m.access!.roles[0] ?? 'admin';
      const token = await stack.token({ accountId: attacker.accountId, role, propertyIds: role === 'property_manager' ? [crypto.randomUUID()] : undefined });
      const err = await call(m, victimRequest(m), token);
      expect([status.PERMISSION_DENIED, status.NOT_FOUND], `${m.path} answered ${err?.code}: ${err?.details}`).toContain(err?.code);
      expect(await fingerprint()).toBe(before);
    });

    it('(c) refuses every role and service it does not admit: PERMISSION_DENIED, and nothing changes', async () => {
      const before = await fingerprint();
      for (const role of ROLES.filter((r) => !m.access!.roles.includes(r))) {
        const token = await stack.token({ accountId: victim.accountId, role, propertyIds: role === 'property_manager' ? [victim.propertyId] : undefined });
        const err = await call(m, victimRequest(m), token);
        expect(err?.code, `${m.path} as ${role}: ${err?.details}`).toBe(status.PERMISSION_DENIED);
      }
      for (const service of SERVICE_NAMES.filter((s) => !m.access!.services?.includes(s))) {
        const err = await call(m, victimRequest(m), await stack.auth.serviceToken(service));
        expect(err?.code, `${m.path} as service:${service}: ${err?.details}`).toBe(status.PERMISSION_DENIED);
      }
      // A property manager of another property of the same account does not reach this one's data.
      if (m.access!.roles.includes('property_manager') && m.access!.property) {
        const token = await stack.token({ accountId: victim.accountId, role: 'property_manager', propertyIds: [crypto.randomUUID()] });
        expect((await call(m, victimRequest(m), token))?.code).toBe(status.PERMISSION_DENIED);
      }
      expect(await fingerprint()).toBe(before);
    });

    it("(e) with the attacker's own account and the victim's ids everywhere else: refused or empty, and none of the victim's rows change", async () => {
      const role: Role = m.access!.roles.includes('admin') ? 'admin' : m.access!.roles[0]!;
      const token = await stack.token({ accountId: attacker.accountId, role, propertyIds: role === 'property_manager' ? [victim.propertyId] : undefined });
      const rpc = (definition[registry[m.service].grpcService] as unknown as Record<string, { requestType: { type: { name: string } } }>)[m.rpc]!;
      const req = attackRequest(rpc.requestType.type.name, registry[m.service].grpcService, rpc.requestType.type.name);
      setPath(req, m.access!.account ?? 'account_id', attacker.accountId);
      const before = await victimFingerprint();
      const { err, res } = await callFull(m, req, token);
      if (err) {
        expect([status.NOT_FOUND, status.PERMISSION_DENIED, status.INVALID_ARGUMENT, status.ALREADY_EXISTS, status.FAILED_PRECONDITION], `${m.path} answered ${err.code}: ${err.details}`).toContain(err.code);
      } else {
        // Nothing of the victim's that the attacker did not send themselves may come back.
        const text = JSON.stringify(res);
        const sent = JSON.stringify(req);
        const victimData = { ...victimIds, phone: VICTIM_PHONE, message: 'Is the loft free?', property: 'Victim Towers', agent: 'agent@victim.example' };
        const leaked = Object.entries(victimData).filter(([, v]) => text.includes(v) && !sent.includes(v));
        expect(leaked, `${m.path} answered with the victim's ${leaked.map(([k]) => k).join(', ')}: ${text}`).toEqual([]);
      }
      expect(await victimFingerprint()).toBe(before);
    });

    it('(d) answers a request that is empty but for its account with a clear error naming the field, or nothing, and stores nothing', async () => {
      const before = await fingerprint();
      const role: Role = m.access!.roles.includes('admin') ? 'admin' : m.access!.roles[0]!;
      const token = await stack.token({ accountId: victim.accountId, role, propertyIds: role === 'property_manager' ? [victim.propertyId] : undefined });
      const err = await call(m, victimRequest(m), token);
      if (err?.code === status.INVALID_ARGUMENT) {
        const field = String(err.metadata.get('domiq-field')[0] ?? '');
        expect(field, `${m.path}: ${err.details}`).not.toBe('');
        expect(err.details.startsWith(`${field}:`), err.details).toBe(true);
      } else {
        // Reads may answer "nothing there" or an empty list; nothing else is acceptable for an empty request.
        expect([undefined, status.NOT_FOUND], `${m.path} answered ${err?.code}: ${err?.details}`).toContain(err?.code);
      }
      expect(await fingerprint()).toBe(before);
    });
  });
});
