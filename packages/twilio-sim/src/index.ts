import { randomBytes } from 'node:crypto';
import { twilioSignature } from '@domiq/webhook-signatures';
import type { TwilioSimAccount, TwilioSimFaultSpec, TwilioSimMessage } from './twilio-sim.server.ts';

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

// --- The Programmable Messaging simulator (outbound SMS): server, types and client helpers for tests. ---------------

export {
  rfc2822, segmentCount, startTwilioSim, TWILIO_API_VERSION, TWILIO_SIM_DEFAULT_CALLBACK_DELAY_MS,
  TWILIO_SIM_DEFAULT_CALLBACK_TIMEOUT_MS, TWILIO_SIM_DEFAULT_HOST, TWILIO_SIM_DEFAULT_PORT, TWILIO_SIM_DEFAULT_TIMEOUT_HOLD_MS,
  TWILIO_SIM_FAULT_KINDS,
} from './twilio-sim.server.ts';
export type {
  TwilioApiError, TwilioMessageList, TwilioMessageResource, TwilioMessageStatus, TwilioSim, TwilioSimAccount,
  TwilioSimCallback, TwilioSimFault, TwilioSimFaultKind, TwilioSimFaultSpec, TwilioSimMessage, TwilioSimOptions,
} from './twilio-sim.server.ts';

async function simCall(simUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${simUrl.replace(/\/+$/, '')}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`twilio-sim ${method} ${path}: HTTP ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** Registers (or replaces) an account the simulator accepts: Basic auth AccountSid:authToken. */
export async function registerTwilioSimAccount(simUrl: string, account: TwilioSimAccount): Promise<void> {
  await simCall(simUrl, 'POST', '/_sim/accounts', account);
}

/** Installs a fault for the next matching sends; returns its id. */
export async function addTwilioSimFault(simUrl: string, spec: TwilioSimFaultSpec): Promise<{ id: string }> {
  return (await simCall(simUrl, 'POST', '/_sim/faults', spec)) as { id: string };
}

export async function clearTwilioSimFaults(simUrl: string): Promise<void> {
  await simCall(simUrl, 'DELETE', '/_sim/faults');
}

/** Every message the simulator accepted (oldest first), with its status and the callbacks it made. */
export async function twilioSimMessages(simUrl: string, filter: { to?: string } = {}): Promise<TwilioSimMessage[]> {
  const query = filter.to === undefined ? '' : `?${new URLSearchParams({ to: filter.to }).toString()}`;
  return ((await simCall(simUrl, 'GET', `/_sim/messages${query}`)) as { messages: TwilioSimMessage[] }).messages;
}

/** Puts a number on the opt-out list: sends to it answer 21610. */
export async function addTwilioSimOptOut(simUrl: string, to: string): Promise<void> {
  await simCall(simUrl, 'POST', '/_sim/opt-outs', { to });
}

/** Clears messages, faults and opt-outs (accounts stay). */
export async function resetTwilioSim(simUrl: string): Promise<void> {
  await simCall(simUrl, 'POST', '/_sim/reset');
}
