import { createClient } from '@domiq/grpc';
import { IdentityServiceClient } from '@domiq/proto/identity';
import { ChannelGatewayServiceClient, UpsertChannelRequest } from '@domiq/proto/channel-gateway';
import { inboundSmsForm, newAccountSid, newMessageSid, sendInboundSms, type InboundSms } from '@domiq/twilio-sim';
import { twilioSignature } from '../../packages/webhook-signatures/src/index.ts';
import { registerTestSecret, type TestStack } from '@domiq/testkit';

/**
 * Gateway environment for suites that fire thousands of webhooks from one address at one channel (the fault
 * tests, the benchmark): the per-source and per-channel webhook rate limits are set out of their way.
 */
export const UNTHROTTLED_WEBHOOKS: Record<string, string> = { WEBHOOK_RATE_LIMIT_PER_SOURCE: '100000000', WEBHOOK_RATE_LIMIT_PER_CHANNEL: '100000000' };

export interface SmsChannel {
  accountId: string;
  propertyId: string;
  webhookUrl: string;
  authToken: string;
  accountSid: string;
  to: string;
  /**
   * Signs the webhook for `webhookUrl` (the public URL Twilio signs) and posts it there, or, with `via`, to the
   * same path on another origin: one gateway replica behind the load balancer (e.g. `http://127.0.0.1:<its HTTP_PORT>`).
   */
  send(sms: Partial<InboundSms> & { from: string; body: string }, opts?: { signature?: string; via?: string }): ReturnType<typeof sendInboundSms>;
}

/** An account with a Twilio SMS channel on a running stack (identity + channel-gateway). */
export async function createSmsChannel(stack: TestStack, channelKey = 'test-sms'): Promise<SmsChannel> {
  const accountId = await stack.createAccount('Fault Test Living');
  const identity = createClient(IdentityServiceClient, stack.grpcAddr('identity'), { token: await stack.token({ accountId }) });
  const gateway = createClient(ChannelGatewayServiceClient, stack.grpcAddr('channel-gateway'), { token: await stack.token({ accountId }) });
  try {
    const propertyId = (await identity.client.createProperty({ accountId, name: 'Harbor View', timezone: 'America/New_York', id: '' })).property!.id;
    const authToken = registerTestSecret(`token-${crypto.randomUUID()}`, 'Twilio auth token (test/support/sms-stack.ts)');
    const accountSid = newAccountSid();
    const to = '+15005550006';
    await gateway.client.upsertChannel(UpsertChannelRequest.fromPartial({
      accountId, propertyId, channelKey, type: 'CHANNEL_SMS', name: 'Harbor View SMS', address: to,
      credentials: { $case: 'twilio', value: { accountSid, authToken } },
    }));
    const webhookUrl = `http://127.0.0.1:${stack.ports.gatewayHttp}/webhooks/twilio/${channelKey}`;
    return {
      accountId, propertyId, webhookUrl, authToken, accountSid, to,
      send: (sms, opts = {}) => {
        const { via, ...rest } = opts;
        if (!via) return sendInboundSms(webhookUrl, authToken, { accountSid, to, ...sms }, rest);
        const full = { accountSid, to, ...sms, messageSid: sms.messageSid ?? newMessageSid() };
        const url = new URL(webhookUrl);
        const signature = rest.signature ?? twilioSignature(authToken, webhookUrl, inboundSmsForm(full));
        return sendInboundSms(`${via}${url.pathname}`, authToken, full, { signature });
      },
    };
  } finally {
    identity.close();
    gateway.close();
  }
}

/** Runs `count` jobs with at most `concurrency` in flight; `onProgress` sees how many have finished. */
export async function runBounded(count: number, concurrency: number, job: (i: number) => Promise<void>, onProgress?: (done: number) => Promise<void> | void): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await job(i);
      done++;
      await onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
