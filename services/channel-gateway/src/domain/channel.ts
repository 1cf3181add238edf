import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** The seed's channel types (channels.type check). */
export const CHANNEL_TYPES = ['web_chat', 'email', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'sms'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export const CHANNEL_STATUSES = ['active', 'inactive', 'error'] as const;
export type ChannelStatus = (typeof CHANNEL_STATUSES)[number];

/** The channel key is a path segment of the public webhook URL, so it stays URL-safe and lower-case. */
export const CHANNEL_KEY = /^[a-z0-9][a-z0-9-]{1,62}$/;
const TWILIO_ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;

export class InvalidChannelError extends Error {
  override name = 'InvalidChannelError';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}

export function isChannelKey(value: string): boolean {
  return CHANNEL_KEY.test(value);
}

/** A provider phone number in E.164 ("+1 (415) 555-0100" becomes "+14155550100"); a country code is required. */
export function normaliseE164(raw: string, field = 'address'): string {
  const value = raw.trim();
  if (!value) throw new InvalidChannelError(field, 'is required');
  if (!value.startsWith('+')) throw new InvalidChannelError(field, 'must be an E.164 phone number (+ and country code)');
  const parsed = parsePhoneNumberFromString(value);
  if (!parsed || !parsed.isValid()) throw new InvalidChannelError(field, `not a valid phone number: ${value}`);
  return parsed.number;
}

/** What credentials_encrypted decrypts to for a Twilio channel. */
export interface TwilioChannelCredentials {
  provider: 'twilio';
  account_sid: string;
  auth_token: string;
}

export function validateTwilioCredentials(input: { accountSid: string; authToken: string }): TwilioChannelCredentials {
  const accountSid = input.accountSid.trim();
  if (!accountSid) throw new InvalidChannelError('twilio.account_sid', 'is required');
  if (!TWILIO_ACCOUNT_SID.test(accountSid)) throw new InvalidChannelError('twilio.account_sid', 'must be AC followed by 32 hex digits');
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
