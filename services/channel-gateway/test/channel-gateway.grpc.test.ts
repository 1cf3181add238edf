import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { ChannelGatewayServiceClient, type UpsertChannelRequest } from '@domiq/proto/channel-gateway';
import { expectEventually, isPortOpen, registerTestSecret, startTestStack, type TestStack } from '@domiq/testkit';
import { accountSid, inboundSms, postWebhook } from './twilio.fixtures.ts';

const TOKEN = registerTestSecret('0123456789abcdef0123456789abcdef', 'Twilio auth token (channel-gateway.grpc.test.ts)');

let stack: TestStack;
let gateway: PromiseClient<ChannelGatewayServiceClient>;
const accountA = crypto.randomUUID();
const accountB = crypto.randomUUID();
const propertyId = crypto.randomUUID();
const twilioAccount = accountSid();

beforeAll(async () => {
  stack = await startTestStack({ services: ['channel-gateway'] });
  gateway = stack.adminClient(ChannelGatewayServiceClient, 'channel-gateway');
});
afterAll(async () => stack?.stop());

const smsChannel = (over: Partial<UpsertChannelRequest> = {}): UpsertChannelRequest => ({
  accountId: accountA, propertyId, channelKey: 'oak-sms', type: 'CHANNEL_SMS', name: 'Oak Street', address: '+14155550100',
  credentials: { $case: 'twilio', value: { accountSid: twilioAccount, authToken: TOKEN } },
  ...over,
});

describe('channel-gateway UpsertChannel / LookupChannel', () => {
  it('stores the credentials encrypted and never returns them', async () => {
    const { channel } = await gateway.upsertChannel(smsChannel({ address: '+1 (415) 555-0100' }));
    expect(channel).toMatchObject({ accountId: accountA, propertyId, channelKey: 'oak-sms', type: 'CHANNEL_SMS', address: '+14155550100', status: 'active', hasCredentials: true });
    const [row] = await stack.db.query<{ credentials_encrypted: string }>(`select credentials_encrypted from channel_gateway.channels where id = $1`, [channel!.id]);
    expect(row!.credentials_encrypted).toMatch(/^v2\.k0\./);
    expect(row!.credentials_encrypted).not.toContain(TOKEN);
    expect(row!.credentials_encrypted).not.toContain(twilioAccount);

    const looked = await gateway.lookupChannel({ accountId: accountA, channelKey: 'oak-sms' });
    expect(looked.channel).toEqual(channel);
    expect(JSON.stringify(looked)).not.toContain(TOKEN);
    expect(stack.services['channel-gateway']!.lines.join('\n')).not.toContain(TOKEN);
  });

  it('updates a channel in place by key, and keeps keys unique across tenants', async () => {
    const first = await gateway.upsertChannel(smsChannel({ channelKey: 'pine-sms' }));
    const second = await gateway.upsertChannel(smsChannel({ channelKey: 'pine-sms', name: 'Pine Street', address: '+14155550102' }));
    expect(second.channel!.id).toBe(first.channel!.id);
    expect(second.channel).toMatchObject({ name: 'Pine Street', address: '+14155550102' });
    await expect(gateway.upsertChannel(smsChannel({ channelKey: 'pine-sms', accountId: accountB }))).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    const [n] = await stack.db.query<{ n: number }>(`select count(*)::int as n from channel_gateway.channels where channel_key = 'pine-sms'`);
    expect(n!.n).toBe(1);
  });

  it('generates a random, unguessable key when the caller leaves channel_key empty', async () => {
    const first = (await gateway.upsertChannel(smsChannel({ channelKey: '' }))).channel!;
    const second = (await gateway.upsertChannel(smsChannel({ channelKey: '  ', type: 'CHANNEL_EMAIL', address: 'leasing@oak.example', credentials: undefined }))).channel!;
    expect(first.channelKey).toMatch(/^sms-[a-z2-7]{32}$/);
    expect(second.channelKey).toMatch(/^email-[a-z2-7]{32}$/);
    expect(second.id).not.toBe(first.id);
    await expect(gateway.lookupChannel({ accountId: accountA, channelKey: first.channelKey })).resolves.toMatchObject({ channel: { id: first.id } });
  });

  it.each([
    ['account_id', { accountId: 'nope' }],
    ['property_id', { propertyId: '' }],
    ['channel_key', { channelKey: 'Bad_Key' }],
    ['channel_key', { channelKey: 'x' }],
    ['type', { type: 'carrier_pigeon' }],
    ['address', { address: '4155550100' }],
    ['address', { address: '' }],
    ['twilio', { credentials: undefined }],
    ['twilio.account_sid', { credentials: { $case: 'twilio', value: { accountSid: 'AC123', authToken: TOKEN } } }],
    ['twilio.auth_token', { credentials: { $case: 'twilio', value: { accountSid: accountSid(), authToken: '' } } }],
  ] as Array<[string, Partial<UpsertChannelRequest>]>)('rejects a bad %s with INVALID_ARGUMENT and stores nothing', async (field, over) => {
    const key = `bad-${Math.random().toString(36).slice(2, 8)}`;
    const req = smsChannel({ channelKey: key, ...over });
    await expect(gateway.upsertChannel(req)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(`${field}:`) });
    const [n] = await stack.db.query<{ n: number }>(`select count(*)::int as n from channel_gateway.channels where channel_key = $1`, [req.channelKey]);
    expect(n!.n).toBe(0);
  });

  it('keeps tenants apart: another account can neither look up the channel nor read its messages', async () => {
    await gateway.upsertChannel(smsChannel({ channelKey: 'elm-sms' }));
    await expect(gateway.lookupChannel({ accountId: accountB, channelKey: 'elm-sms' })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(gateway.lookupChannel({ accountId: accountA, channelKey: 'elm-sms' })).resolves.toMatchObject({ channel: { channelKey: 'elm-sms' } });

    const base = `http://127.0.0.1:${stack.ports.gatewayHttp}`;
    await expectEventually(async () => expect(await isPortOpen(stack.ports.gatewayHttp)).toBe(true));
    const params = inboundSms({ AccountSid: twilioAccount });
    expect((await postWebhook(base, 'elm-sms', params, { token: TOKEN })).status).toBe(200);
    const req = { provider: 'twilio', providerMessageId: params.MessageSid! };
    await expect(gateway.getInboundMessage({ accountId: accountA, ...req })).resolves.toMatchObject({ message: { accountId: accountA, body: params.Body } });
    await expect(gateway.getInboundMessage({ accountId: accountB, ...req })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(gateway.getInboundMessage({ accountId: 'nope', ...req })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('account_id') });
  });
});

describe('channel-gateway audit', () => {
  it('records which admin changed a channel in the event log, without the credentials', async () => {
    const adminId = crypto.randomUUID();
    const admin = await stack.client(ChannelGatewayServiceClient, 'channel-gateway', { accountId: accountA, userId: adminId });
    const { channel } = await admin.upsertChannel(smsChannel({ channelKey: 'audit-sms' }));
    const rows = await stack.db.query<{ subject: string; actor_type: string; actor_id: string; payload: Record<string, unknown> }>(
      `select subject, actor_type, actor_id, payload from channel_gateway.event_log where entity_id = $1`, [channel!.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ subject: 'channel-gateway.channel.upserted', actor_type: 'user', actor_id: adminId, payload: { channelKey: 'audit-sms', created: true, credentialsChanged: true } });
    expect(JSON.stringify(rows[0]!.payload)).not.toContain(TOKEN);
  });
});
