// Twilio Programmable Messaging (SMS, MMS, WhatsApp through Twilio): inbound and status-callback webhooks
// (form-encoded, X-Twilio-Signature), credentials (Account SID + auth token), and the REST send.
import { OutboundGuard, OutboundTargetRefusedError } from '@domiq/outbound';
import { verifyTwilioSignature } from '@domiq/webhook-signatures';
import { InvalidChannelError } from '../domain/channel.ts';
import { parseFormBody, requiredField, singleField, type FormParams } from './form-body.ts';
import {
  InvalidInboundError, ProviderDeliveryError, type DeliveryReceipt, type DeliveryStatus, type ProviderAdapter, type ProviderInboundMessage, type SentMessage, type WebhookRequest,
} from './provider.ts';

/** UpsertChannel's `credentials.twilio` (the proto TwilioCredentials message). */
export interface TwilioCredentialsInput {
  accountSid: string;
  authToken: string;
}

/** What credentials_encrypted decrypts to for a Twilio channel. */
export interface TwilioChannelCredentials {
  provider: 'twilio';
  account_sid: string;
  auth_token: string;
}

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;

export function validateTwilioCredentials(input: TwilioCredentialsInput): TwilioChannelCredentials {
  const accountSid = input.accountSid.trim();
  if (!accountSid) throw new InvalidChannelError('twilio.account_sid', 'is required');
  if (!ACCOUNT_SID.test(accountSid)) throw new InvalidChannelError('twilio.account_sid', 'must be AC followed by 32 hex digits');
  // Tokens are compared byte for byte by the HMAC, so they are not trimmed; they must not be blank either.
  if (!input.authToken.trim()) throw new InvalidChannelError('twilio.auth_token', 'is required');
  if (input.authToken.length > 256) throw new InvalidChannelError('twilio.auth_token', 'must be at most 256 characters');
  return { provider: 'twilio', account_sid: accountSid, auth_token: input.authToken };
}

export function parseTwilioCredentials(plaintext: string): TwilioChannelCredentials {
  const value = JSON.parse(plaintext) as Partial<TwilioChannelCredentials>;
  if (value.provider !== 'twilio' || typeof value.account_sid !== 'string' || typeof value.auth_token !== 'string') {
    throw new Error('stored credentials are not Twilio credentials');
  }
  return { provider: 'twilio', account_sid: value.account_sid, auth_token: value.auth_token };
}

export interface TwilioInboundSms {
  messageSid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  numMedia: number;
}

function messageSidOf(params: FormParams): string {
  const messageSid = requiredField(params, 'MessageSid', 34);
  if (!MESSAGE_SID.test(messageSid)) throw new InvalidInboundError('must be SM or MM followed by 32 hex digits', 'MessageSid');
  return messageSid;
}

function accountSidOf(params: FormParams): string {
  const accountSid = requiredField(params, 'AccountSid', 34);
  if (!ACCOUNT_SID.test(accountSid)) throw new InvalidInboundError('must be AC followed by 32 hex digits', 'AccountSid');
  return accountSid;
}

/** The fields the gateway relies on; everything else Twilio sends is kept in the raw record untouched. */
export function validateTwilioInbound(params: FormParams): TwilioInboundSms {
  const messageSid = messageSidOf(params);
  const accountSid = accountSidOf(params);
  const from = requiredField(params, 'From', 100);
  const to = requiredField(params, 'To', 100);
  const numMediaRaw = singleField(params, 'NumMedia');
  let numMedia = 0;
  if (numMediaRaw !== undefined && numMediaRaw !== '') {
    if (!/^\d{1,2}$/.test(numMediaRaw) || Number(numMediaRaw) > 10) throw new InvalidInboundError('must be an integer from 0 to 10', 'NumMedia');
    numMedia = Number(numMediaRaw);
  }
  const body = singleField(params, 'Body');
  if (body === undefined) throw new InvalidInboundError('is required', 'Body');
  // An MMS may carry only media; a message with neither text nor media is not a message.
  if (body === '' && numMedia === 0) throw new InvalidInboundError('must not be empty unless NumMedia > 0', 'Body');
  if (body.length > 1600) throw new InvalidInboundError('must be at most 1600 characters', 'Body');
  return { messageSid, accountSid, from, to, body, numMedia };
}

/** Twilio's MessageStatus values, by neutral status (anything else, e.g. a new one, is `unknown`). */
const STATUS: Record<string, DeliveryStatus> = {
  accepted: 'queued', scheduled: 'queued', queued: 'queued', sending: 'queued',
  sent: 'sent', delivered: 'delivered', read: 'read', undelivered: 'undelivered', failed: 'failed', canceled: 'canceled',
};

export interface TwilioStatusCallback {
  messageSid: string;
  accountSid: string;
  messageStatus: string;
  errorCode: string | undefined;
}

/** A status callback (StatusCallback of a sent message): MessageSid, AccountSid, MessageStatus, ErrorCode. */
export function validateTwilioStatus(params: FormParams): TwilioStatusCallback {
  const messageSid = messageSidOf(params);
  const accountSid = accountSidOf(params);
  const messageStatus = requiredField(params, 'MessageStatus', 30);
  if (!/^[a-z_]+$/.test(messageStatus)) throw new InvalidInboundError('must be a Twilio message status', 'MessageStatus');
  const errorCode = singleField(params, 'ErrorCode')?.trim() || undefined;
  if (errorCode !== undefined && !/^\d{1,6}$/.test(errorCode)) throw new InvalidInboundError('must be a Twilio error code', 'ErrorCode');
  return { messageSid, accountSid, messageStatus, errorCode };
}

/**
 * Twilio's error codes a reply most often meets (https://www.twilio.com/docs/api/errors), with Twilio's own words:
 * the agent sees them beside a failed reply.
 */
export const TWILIO_ERROR_REASONS: Readonly<Record<string, string>> = {
  '21211': "Invalid 'To' phone number",
  '21408': 'Permission to send an SMS has not been enabled for the region',
  '21610': 'Attempt to send to unsubscribed recipient (the customer replied STOP)',
  '21612': "The 'To' phone number is not currently reachable via SMS",
  '21614': "'To' number is not a valid mobile number",
  '21617': 'The concatenated message body exceeds the 1600 character limit',
  '30001': 'Queue overflow',
  '30002': 'Account suspended',
  '30003': 'Unreachable destination handset',
  '30004': 'Message blocked',
  '30005': 'Unknown destination handset',
  '30006': 'Landline or unreachable carrier',
  '30007': 'Message filtered by the carrier',
  '30008': 'Unknown error',
  '30009': 'Missing segment',
  '30010': 'Message price exceeds max price',
};

/** Twilio reads the answer as TwiML; an empty Response means "no reply from the webhook". */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export interface TwilioProviderOptions {
  /** Twilio's REST API (TWILIO_API_BASE_URL; tests and `npm start` point it at the simulator). */
  apiBaseUrl?: string;
  /**
   * The HTTP client (an OutboundGuard's `request`). By default a guard that allows the API's own host: it is the
   * operator's configuration, not a tenant's input, so a simulator on loopback over http is reachable.
   */
  http?: Pick<OutboundGuard, 'request'>;
  /** Per request. */
  timeoutMs?: number;
}

/** Errors that prove the request never reached Twilio (nothing can have been sent). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);

/** A transport failure: retryable; its outcome unknown unless the request provably never left (refused, no such host). */
function noAnswer(err: unknown): ProviderDeliveryError {
  const code = (err as { code?: unknown }).code;
  const notSent = err instanceof OutboundTargetRefusedError || (typeof code === 'string' && NOT_SENT_CODES.has(code));
  const what = err instanceof Error ? (typeof code === 'string' ? code : err.name) : 'error';
  return new ProviderDeliveryError(`twilio: no answer (${what})`, 0, undefined, true, !notSent);
}

/** Twilio's JSON answer (an error's body has code and message; a page of messages has `messages`). */
function parseAnswer(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
  } catch {
    // A proxy's HTML error page: the status says enough.
  }
  return {};
}

function twilioError(status: number, answer: Record<string, unknown>): ProviderDeliveryError {
  const code = typeof answer.code === 'number' || typeof answer.code === 'string' ? String(answer.code) : undefined;
  const detail = typeof answer.message === 'string' ? withoutNumbers(answer.message.slice(0, 300)) : `HTTP ${status}`;
  return new ProviderDeliveryError(`twilio: ${status} ${detail}`, status, code, status === 429 || status >= 500);
}

/** Provider text can quote the customer's number: it goes to agents, logs and events without it. */
const withoutNumbers = (text: string) => text.replace(/\+?\d[\d\s().-]{6,}\d/g, '[number]');

/** A request's form, parsed once: verify and parseInbound / parseReceipt both read it (the body is never changed). */
const forms = new WeakMap<Uint8Array, FormParams>();
const form = (request: WebhookRequest): FormParams => {
  let params = forms.get(request.body);
  if (!params) forms.set(request.body, (params = parseFormBody(request.body)));
  return params;
};

export function createTwilioProvider(opts: TwilioProviderOptions = {}): ProviderAdapter<'twilio'> {
  const apiBaseUrl = (opts.apiBaseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
  const http = opts.http ?? new OutboundGuard({ allowedTargets: new URL(apiBaseUrl).host });
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const twiml = { status: 200, contentType: 'text/xml; charset=utf-8', body: EMPTY_TWIML };

  /** One REST call under the account's basic auth; transport failures become ProviderDeliveryError (no answer). */
  async function call(credentials: TwilioChannelCredentials, method: 'GET' | 'POST', resource: string, body?: string) {
    const url = `${apiBaseUrl}/2010-04-01/Accounts/${encodeURIComponent(credentials.account_sid)}/${resource}`;
    const auth = Buffer.from(`${credentials.account_sid}:${credentials.auth_token}`, 'utf8').toString('base64');
    const headers: Record<string, string> = { authorization: `Basic ${auth}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    try {
      const res = await http.request(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, answer: parseAnswer(res.text) };
    } catch (err) {
      throw noAnswer(err);
    }
  }

  return {
    id: 'twilio',
    channelTypes: ['sms', 'whatsapp'],
    mediaType: 'application/x-www-form-urlencoded',
    reply: { inbound: twiml, receipt: twiml },

    validateCredentials: validateTwilioCredentials,
    parseCredentials: parseTwilioCredentials,
    accountOf: (credentials) => credentials.account_sid,
    errorReason: (code) => TWILIO_ERROR_REASONS[code],

    verify(request, credentials, publicUrl) {
      const signature = request.headers['x-twilio-signature'];
      let params: FormParams;
      try {
        params = form(request);
      } catch {
        return false;
      }
      return verifyTwilioSignature(credentials.auth_token, publicUrl, params, typeof signature === 'string' ? signature : undefined);
    },

    parseInbound(request): ProviderInboundMessage[] {
      const params = form(request);
      const sms = validateTwilioInbound(params);
      return [{
        providerMessageId: sms.messageSid,
        providerAccount: { field: 'AccountSid', value: sms.accountSid },
        from: sms.from, to: sms.to, body: sms.body, senderName: '', raw: params,
      }];
    },

    parseReceipt(request): DeliveryReceipt[] {
      const params = form(request);
      const status = validateTwilioStatus(params);
      return [{
        providerMessageId: status.messageSid,
        providerAccount: { field: 'AccountSid', value: status.accountSid },
        status: STATUS[status.messageStatus] ?? 'unknown',
        providerStatus: status.messageStatus,
        ...(status.errorCode !== undefined ? { errorCode: status.errorCode } : {}),
        raw: params,
      }];
    },

    // POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, basic auth (Account SID : auth token).
    async deliver(credentials, outbound) {
      const body = new URLSearchParams({ To: outbound.to, From: outbound.from, Body: outbound.body });
      if (outbound.statusCallbackUrl) body.set('StatusCallback', outbound.statusCallbackUrl);
      const { status, answer } = await call(credentials, 'POST', 'Messages.json', body.toString());
      if (status < 200 || status >= 300) throw twilioError(status, answer);
      if (typeof answer.sid !== 'string' || !MESSAGE_SID.test(answer.sid)) {
        throw new ProviderDeliveryError('twilio: answer without a message sid', status, undefined, false);
      }
      return { providerMessageId: answer.sid };
    },

    // GET .../Messages.json?To=&From=: the account's messages between the two numbers, newest first. No DateSent
    // filter: date_sent stays empty while a message waits in Twilio's queue (exactly when an answer gets lost), so
    // the page is read by date_created instead; its first 200 reach far back for one customer.
    async findSent(credentials, outbound, since) {
      const query = new URLSearchParams({ To: outbound.to, From: outbound.from, PageSize: '200' });
      const { status, answer } = await call(credentials, 'GET', `Messages.json?${query.toString()}`);
      if (status !== 200) throw twilioError(status, answer);
      if (!Array.isArray(answer.messages)) throw new ProviderDeliveryError('twilio: message list without messages', status, undefined, true);
      // Clocks differ: anything created up to a minute before the attempt counts.
      const from = since.getTime() - 60_000;
      const found: SentMessage[] = [];
      for (const m of answer.messages as Array<Record<string, unknown>>) {
        const created = typeof m.date_created === 'string' ? Date.parse(m.date_created) : NaN;
        if (typeof m.sid !== 'string' || m.body !== outbound.body || !(created >= from)) continue;
        const providerStatus = typeof m.status === 'string' ? m.status : 'queued';
        found.push({ providerMessageId: m.sid, providerStatus, status: STATUS[providerStatus] ?? 'unknown' });
      }
      return found;
    },
  };
}
