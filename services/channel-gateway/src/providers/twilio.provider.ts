// Twilio Programmable Messaging (SMS, MMS, WhatsApp through Twilio): inbound and status-callback webhooks
// (form-encoded, X-Twilio-Signature), credentials (Account SID + auth token), and the REST send.
import { verifyTwilioSignature } from '@domiq/webhook-signatures';
import { InvalidChannelError } from '../domain/channel.ts';
import { parseFormBody, requiredField, singleField, type FormParams } from './form-body.ts';
import {
  InvalidInboundError, ProviderDeliveryError, type DeliveryReceipt, type DeliveryStatus, type ProviderAdapter, type ProviderInboundMessage, type WebhookRequest,
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

/** Twilio reads the answer as TwiML; an empty Response means "no reply from the webhook". */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

export interface TwilioProviderOptions {
  /** Twilio's REST API (tests point it at a local fake). */
  apiBaseUrl?: string;
  fetch?: typeof fetch;
  /** Per send request. */
  timeoutMs?: number;
}

/** A request's form, parsed once: verify and parseInbound / parseReceipt both read it (the body is never changed). */
const forms = new WeakMap<Uint8Array, FormParams>();
const form = (request: WebhookRequest): FormParams => {
  let params = forms.get(request.body);
  if (!params) forms.set(request.body, (params = parseFormBody(request.body)));
  return params;
};

export function createTwilioProvider(opts: TwilioProviderOptions = {}): ProviderAdapter<'twilio'> {
  const apiBaseUrl = (opts.apiBaseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
  const fetchImpl = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const twiml = { status: 200, contentType: 'text/xml; charset=utf-8', body: EMPTY_TWIML };

  return {
    id: 'twilio',
    channelTypes: ['sms', 'whatsapp'],
    mediaType: 'application/x-www-form-urlencoded',
    reply: { inbound: twiml, receipt: twiml },

    validateCredentials: validateTwilioCredentials,
    parseCredentials: parseTwilioCredentials,
    accountOf: (credentials) => credentials.account_sid,

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
      const url = `${apiBaseUrl}/2010-04-01/Accounts/${encodeURIComponent(credentials.account_sid)}/Messages.json`;
      const body = new URLSearchParams({ To: outbound.to, From: outbound.from, Body: outbound.body });
      if (outbound.statusCallbackUrl) body.set('StatusCallback', outbound.statusCallbackUrl);
      const auth = Buffer.from(`${credentials.account_sid}:${credentials.auth_token}`, 'utf8').toString('base64');
      let res: Response;
      let text: string;
      try {
        res = await fetchImpl(url, {
          method: 'POST',
          headers: { authorization: `Basic ${auth}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: body.toString(),
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await res.text();
      } catch (err) {
        throw new ProviderDeliveryError(`twilio: no answer (${err instanceof Error ? err.name : 'error'})`, 0, undefined, true);
      }
      let answer: { sid?: unknown; code?: unknown; message?: unknown } = {};
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'object' && parsed !== null) answer = parsed;
      } catch {
        // A proxy's HTML error page: the status says enough.
      }
      if (!res.ok) {
        const code = typeof answer.code === 'number' || typeof answer.code === 'string' ? String(answer.code) : undefined;
        const detail = typeof answer.message === 'string' ? answer.message.slice(0, 300) : res.statusText;
        throw new ProviderDeliveryError(`twilio: ${res.status} ${detail}`, res.status, code, res.status === 429 || res.status >= 500);
      }
      if (typeof answer.sid !== 'string' || !MESSAGE_SID.test(answer.sid)) {
        throw new ProviderDeliveryError('twilio: answer without a message sid', res.status, undefined, false);
      }
      return { providerMessageId: answer.sid };
    },
  };
}
