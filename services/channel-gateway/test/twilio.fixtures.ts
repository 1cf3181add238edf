import { randomBytes } from 'node:crypto';
import { twilioSignature } from '@domiq/webhook-signatures';
import type { PromiseClient } from '@domiq/grpc';
import { ChannelGatewayServiceClient } from '@domiq/proto/channel-gateway';
import { expectEventually, isPortOpen, startTestStack, type TestStack } from '@domiq/testkit';

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');
export const messageSid = () => `SM${hex(16)}`;
export const accountSid = () => `AC${hex(16)}`;

/** The fields Twilio really posts for an inbound SMS. */
export function inboundSms(over: Record<string, string> & { AccountSid: string }): Record<string, string> {
  const sid = over.MessageSid ?? messageSid();
  return {
    ToCountry: 'US', ToState: 'CA', SmsMessageSid: sid, NumMedia: '0', ToCity: 'SAN FRANCISCO', FromZip: '94105', SmsSid: sid,
    FromState: 'CA', SmsStatus: 'received', FromCity: 'SAN FRANCISCO', Body: 'Is the 2-bed still available?', FromCountry: 'US',
    To: '+14155550100', MessagingServiceSid: `MG${hex(16)}`, ToZip: '94105', NumSegments: '1', MessageSid: sid,
    From: '+14155550199', ApiVersion: '2010-04-01',
    ...over,
  };
}

export interface PostOptions {
  /** Path and query after the base URL (defaults to the channel's webhook path). */
  path?: string;
  /** Sign with this token (undefined: send no signature). */
  token?: string;
  /** Sign this URL instead of the one posted to. */
  signedUrl?: string;
  contentType?: string;
  method?: string;
  body?: string;
}

export async function postWebhook(baseUrl: string, channelKey: string, params: Record<string, string>, opts: PostOptions = {}): Promise<Response> {
  const path = opts.path ?? `/webhooks/twilio/${channelKey}`;
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/x-www-form-urlencoded' };
  if (opts.token !== undefined) headers['x-twilio-signature'] = twilioSignature(opts.token, opts.signedUrl ?? baseUrl + path, params);
  return fetch(baseUrl + path, { method: opts.method ?? 'POST', headers, body: opts.body ?? new URLSearchParams(params).toString() });
}

export interface GatewayWithChannel {
  stack: TestStack;
  gateway: PromiseClient<ChannelGatewayServiceClient>;
  /** The webhook server's base URL. */
  base: string;
  accountId: string;
  propertyId: string;
  twilioAccount: string;
  channelId: string;
}

/**
 * A channel-gateway of its own with one Twilio SMS channel (`channelKey`, signed with `token`) of a fresh account;
 * `env` is added to the gateway's environment.
 */
export async function gatewayWithSmsChannel(channelKey: string, token: string, opts: { name?: string; address?: string } = {}, stackOpts: { env?: Record<string, string> } = {}): Promise<GatewayWithChannel> {
  const stack = await startTestStack({ services: ['channel-gateway'], env: stackOpts.env });
  const base = `http://127.0.0.1:${stack.ports.gatewayHttp}`;
  const gateway = stack.adminClient(ChannelGatewayServiceClient, 'channel-gateway');
  // /readyz can answer before the webhook server listens: wait for the port itself.
  await expectEventually(async () => {
    if (!(await isPortOpen(stack.ports.gatewayHttp))) throw new Error('webhook port not open yet');
  });
  const accountId = crypto.randomUUID();
  const propertyId = crypto.randomUUID();
  const twilioAccount = accountSid();
  const { channel } = await gateway.upsertChannel({
    accountId, propertyId, channelKey, type: 'CHANNEL_SMS', name: opts.name ?? 'SMS line', address: opts.address ?? '+14155550100',
    credentials: { $case: 'twilio', value: { accountSid: twilioAccount, authToken: token } },
  });
  return { stack, gateway, base, accountId, propertyId, twilioAccount, channelId: channel!.id };
}
