// No secret reaches a log: a real flow (identity + channel-gateway + conversations, a signed SMS, a forged one, a
// bad-credentials upsert, a forged token) with every service logging at trace, then every line each process
// wrote is searched for every secret of the flow, verbatim and base64/base64url/URL/hex-encoded.
// (The whole run's logs are scanned the same way at teardown: packages/testkit/src/vitest-global-setup.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, status } from '@domiq/grpc';
import { ChannelGatewayServiceClient, UpsertChannelRequest } from '@domiq/proto/channel-gateway';
import { IdentityServiceClient } from '@domiq/proto/identity';
import {
  builtInSecrets, expectEventually, registerTestSecret, secretsIn, secretsInEnv, startTestStack, type RegisteredSecret, type TestStack,
} from '@domiq/testkit';
import { newAccountSid, newMessageSid } from '@domiq/twilio-sim';
import { createSmsChannel, type SmsChannel } from '../support/sms-stack.ts';

let stack: TestStack;
let stopped = false;
let channel: SmsChannel;
const secrets: RegisteredSecret[] = [];
const secret = (value: string, label: string) => {
  secrets.push({ value: registerTestSecret(value, label), label });
  return value;
};

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'conversations', 'channel-gateway'], env: { LOG_LEVEL: 'trace' } });
  channel = await createSmsChannel(stack, 'secrets-sms');
  secret(channel.authToken, 'Twilio auth token');
}, 120_000);
afterAll(async () => {
  if (!stopped) await stack?.stop();
});

async function storedMessage(body: string): Promise<number> {
  const [row] = await stack.db.query<{ n: number }>(`select count(*)::int as n from conversations.messages where content = $1`, [body]);
  return row!.n;
}

describe('secrets in service logs', () => {
  it('runs the flow with every service at trace level', async () => {
    for (const name of ['identity', 'conversations', 'channel-gateway'] as const) expect(stack.services[name]!.opts.env.LOG_LEVEL).toBe('trace');

    // A signed SMS, all the way into conversations (which calls identity with its service token).
    const body = `secret-scan hello ${crypto.randomUUID()}`;
    expect((await channel.send({ from: '+14155550123', body })).status).toBe(200);
    await expectEventually(async () => expect(await storedMessage(body)).toBe(1), { timeoutMs: 30_000 });

    // A forged signature, and one made with another token.
    const forged = `forged ${crypto.randomUUID()}`;
    expect((await channel.send({ from: '+14155550124', body: forged }, { signature: 'bm90LWEtcmVhbC1zaWduYXR1cmU=' })).status).toBe(403);

    // Upserts with bad credentials: the errors name the field, never the value.
    const userToken = secret(await stack.token({ accountId: channel.accountId }), 'user JWT');
    const gateway = createClient(ChannelGatewayServiceClient, stack.grpcAddr('channel-gateway'), { token: userToken });
    try {
      const badToken = secret(`bad-credentials-${crypto.randomUUID()}`, 'auth token of a refused upsert');
      const longToken = secret(`long-${crypto.randomUUID()}-${'x'.repeat(300)}`, 'over-long auth token');
      const upsert = (accountSid: string, authToken: string) => gateway.client.upsertChannel(UpsertChannelRequest.fromPartial({
        accountId: channel.accountId, propertyId: channel.propertyId, channelKey: 'secrets-sms', type: 'CHANNEL_SMS', address: channel.to,
        credentials: { $case: 'twilio', value: { accountSid, authToken } },
      }));
      for (const [sid, token, field] of [['AC123', badToken, 'twilio.account_sid'], [newAccountSid(), longToken, 'twilio.auth_token']] as const) {
        const err = await upsert(sid, token).then(() => undefined, (e: unknown) => e as { code: number; details: string; message: string });
        expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(field) });
        expect(`${err!.details} ${err!.message}`).not.toContain(token.slice(0, 20));
      }
      // A credential rotation that succeeds.
      const rotated = secret(`rotated-${crypto.randomUUID()}`, 'rotated Twilio auth token');
      await upsert(channel.accountSid, rotated);
      // The old token no longer verifies; the new one does.
      expect((await channel.send({ from: '+14155550125', body: 'old token', messageSid: newMessageSid() })).status).toBe(403);
    } finally {
      gateway.close();
    }

    // A forged bearer token (a real one with its signature changed) is refused without being logged.
    const forgedJwt = secret(`${userToken.slice(0, userToken.lastIndexOf('.') + 1)}${'A'.repeat(43)}`, 'forged JWT');
    const intruder = createClient(IdentityServiceClient, stack.grpcAddr('identity'), { token: forgedJwt });
    try {
      await expect(intruder.client.getProperty({ accountId: channel.accountId, propertyId: channel.propertyId })).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    } finally {
      intruder.close();
    }
  });

  it('finds none of the flow\'s secrets in any line the services wrote, in any encoding', async () => {
    // Stop first, so the shutdown lines are in too.
    const processes = Object.values(stack.services).filter((p) => p !== undefined);
    const envSecrets = processes.flatMap((p) => secretsInEnv(p.opts.env, p.opts.name));
    await stack.stop();
    stopped = true;
    const all = [...secrets, ...envSecrets, ...builtInSecrets()];
    expect(envSecrets.length, 'the services were given secrets (NATS seeds, service tokens) to look for').toBeGreaterThan(0);
    for (const proc of processes) {
      expect(proc.lines.length, proc.opts.name).toBeGreaterThan(0);
      expect(secretsIn(proc.lines, all), `${proc.opts.name} logged a secret`).toEqual([]);
    }
    // The search itself works: a token, base64-encoded inside a Basic auth header, would have been found.
    const planted = `{"authorization":"Basic ${Buffer.from(`AC1:${channel.authToken}`).toString('base64')}"}`;
    expect(secretsIn([planted], all).map((f) => f.label)).toEqual(['Twilio auth token']);
  });
});
