import { randomBytes } from 'node:crypto';
import { twilioSignature } from '@domiq/webhook-signatures';

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
