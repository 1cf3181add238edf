import { randomBytes } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';

import { CHANNELS, type Channel } from '@domiq/proto/vocabulary';

/** A channel's type is the shared Channel vocabulary (channels.type check). */
export const CHANNEL_TYPES = CHANNELS;
export type ChannelType = Channel;

export const CHANNEL_STATUSES = ['active', 'inactive', 'error'] as const;
export type ChannelStatus = (typeof CHANNEL_STATUSES)[number];

/** The channel key is a path segment of the public webhook URL, so it stays URL-safe and lower-case. */
export const CHANNEL_KEY = /^[a-z0-9][a-z0-9-]{1,62}$/;

export class InvalidChannelError extends Error {
  override name = 'InvalidChannelError';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
  }
}

/** Keys are global (they are in the public webhook URL): another tenant's key is taken, whatever it names. */
export class ChannelKeyTakenError extends Error {
  override name = 'ChannelKeyTakenError';
  readonly channelKey: string;
  constructor(channelKey: string) {
    super(`channel_key ${channelKey} is taken`);
    this.channelKey = channelKey;
  }
}

export function isChannelKey(value: string): boolean {
  return CHANNEL_KEY.test(value);
}

/** The readable start of a key DomIQ generates, by channel type. */
export const CHANNEL_KEY_PREFIX: Record<ChannelType, string> = {
  web_chat: 'chat', email: 'email', whatsapp: 'wa', facebook: 'fb', instagram: 'ig', twitter: 'tw', voice: 'voice', sms: 'sms', api: 'api',
};
/** Random bytes in a generated key: 160 bits, 32 base32 characters. */
export const GENERATED_KEY_BYTES = 20;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding (the key alphabet has no upper case and no '='). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * A channel key for a caller that did not choose one, e.g. `sms-` followed by 32 base32 characters: 160 bits from
 * the operating system's CSPRNG, so the public webhook URL it ends up in cannot be guessed or enumerated.
 */
export function generateChannelKey(type: ChannelType, random: (size: number) => Uint8Array = randomBytes): string {
  const key = `${CHANNEL_KEY_PREFIX[type]}-${base32(random(GENERATED_KEY_BYTES))}`;
  if (!isChannelKey(key)) throw new Error(`generated channel key does not fit the key alphabet: ${type}`);
  return key;
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
