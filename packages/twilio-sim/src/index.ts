import { randomBytes } from 'node:crypto';
import { twilioSignature } from '@domiq/webhook-signatures';

/**
 * Plays Twilio's side of an inbound SMS: the exact form fields Twilio posts to a messaging webhook,
 * signed with X-Twilio-Signature over the URL it calls. Used by the demo, the tests and the benchmark.
 */
export interface InboundSms {
  accountSid: string;
  from: string;
  to: string;
  body: string;
  /** Twilio's message id; generated when absent. Re-send the same sid to simulate Twilio's retries. */
  messageSid?: string;
}

export function newMessageSid(): string {
  return `SM${randomBytes(16).toString('hex')}`;
}

export function newAccountSid(): string {
  return `AC${randomBytes(16).toString('hex')}`;
}

export function inboundSmsForm(sms: InboundSms): Record<string, string> {
  const sid = sms.messageSid ?? newMessageSid();
  return {
    ToCountry: 'US', ToState: 'CA', SmsMessageSid: sid, NumMedia: '0', ToCity: 'SAN FRANCISCO', FromZip: '94105',
    SmsSid: sid, FromState: 'CA', SmsStatus: 'received', FromCity: 'SAN FRANCISCO', Body: sms.body, FromCountry: 'US',
    To: sms.to, MessagingServiceSid: '', ToZip: '94105', NumSegments: '1', MessageSid: sid, AccountSid: sms.accountSid,
    From: sms.from, ApiVersion: '2010-04-01',
  };
}

/** Signs and posts the webhook like Twilio; returns the HTTP status and body. */
export async function sendInboundSms(webhookUrl: string, authToken: string, sms: InboundSms, opts: { signature?: string } = {}): Promise<{ status: number; body: string; messageSid: string }> {
  const form = inboundSmsForm(sms);
  const res = await fetch(webhookUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': opts.signature ?? twilioSignature(authToken, webhookUrl, form),
      'user-agent': 'TwilioProxy/1.1',
      'i-twilio-idempotency-token': randomBytes(8).toString('hex'),
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.text(), messageSid: form.MessageSid! };
}
