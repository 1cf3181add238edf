/**
 * Twilio's inbound SMS webhook body: application/x-www-form-urlencoded, UTF-8. Parsing is strict (a malformed
 * percent escape or invalid UTF-8 is an error, not a silently mangled field) because the exact fields are what the
 * signature covers and what we keep as the raw record.
 */
export type FormParams = Record<string, string | string[]>;

export class InvalidInboundError extends Error {
  override name = 'InvalidInboundError';
  readonly field: string | undefined;
  constructor(problem: string, field?: string) {
    super(field ? `${field}: ${problem}` : problem);
    this.field = field;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    throw new InvalidInboundError('body is not valid form encoding');
  }
}

/** Parses a form body; a name that repeats becomes an array (Twilio signs each value, sorted). */
export function parseFormBody(body: Uint8Array): FormParams {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new InvalidInboundError('body is not valid UTF-8');
  }
  const params: FormParams = Object.create(null) as FormParams;
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
    if (!name) throw new InvalidInboundError('body has a field without a name');
    const existing = params[name];
    if (existing === undefined) params[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else params[name] = [existing, value];
  }
  return { ...params };
}

export interface TwilioInboundSms {
  messageSid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  numMedia: number;
}

const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;

function single(params: FormParams, field: string): string | undefined {
  const value = params[field];
  if (Array.isArray(value)) throw new InvalidInboundError('must appear once', field);
  return value;
}

function required(params: FormParams, field: string, maxLength: number): string {
  const value = single(params, field)?.trim();
  if (!value) throw new InvalidInboundError('is required', field);
  if (value.length > maxLength) throw new InvalidInboundError(`must be at most ${maxLength} characters`, field);
  return value;
}

/** The fields the gateway relies on; everything else Twilio sends is kept in the raw record untouched. */
export function validateTwilioInbound(params: FormParams): TwilioInboundSms {
  const messageSid = required(params, 'MessageSid', 34);
  if (!MESSAGE_SID.test(messageSid)) throw new InvalidInboundError('must be SM or MM followed by 32 hex digits', 'MessageSid');
  const accountSid = required(params, 'AccountSid', 34);
  if (!ACCOUNT_SID.test(accountSid)) throw new InvalidInboundError('must be AC followed by 32 hex digits', 'AccountSid');
  const from = required(params, 'From', 100);
  const to = required(params, 'To', 100);
  const numMediaRaw = single(params, 'NumMedia');
  let numMedia = 0;
  if (numMediaRaw !== undefined && numMediaRaw !== '') {
    if (!/^\d{1,2}$/.test(numMediaRaw) || Number(numMediaRaw) > 10) throw new InvalidInboundError('must be an integer from 0 to 10', 'NumMedia');
    numMedia = Number(numMediaRaw);
  }
  const body = single(params, 'Body');
  if (body === undefined) throw new InvalidInboundError('is required', 'Body');
  // An MMS may carry only media; a message with neither text nor media is not a message.
  if (body === '' && numMedia === 0) throw new InvalidInboundError('must not be empty unless NumMedia > 0', 'Body');
  if (body.length > 1600) throw new InvalidInboundError('must be at most 1600 characters', 'Body');
  return { messageSid, accountSid, from, to, body, numMedia };
}

/** Twilio reads the answer as TwiML; an empty Response means "no reply from the webhook". */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
