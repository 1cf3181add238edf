import { describe, expect, it } from 'vitest';
import {
  base32, CHANNEL_KEY_PREFIX, CHANNEL_TYPES, generateChannelKey, InvalidChannelError, isChannelKey, normaliseE164,
} from '../src/domain/channel.ts';
import { parseTwilioCredentials, validateTwilioCredentials } from '../src/providers/twilio.provider.ts';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidChannelError) return err.field;
    throw err;
  }
  return undefined;
}

describe('channel rules', () => {
  it('accepts URL-safe channel keys only', () => {
    for (const ok of ['acme-sms', 'a1', '0-main', 'x'.repeat(63)]) expect(isChannelKey(ok)).toBe(true);
    for (const bad of ['', 'a', '-acme', 'Acme', 'acme_sms', 'acme/sms', 'acme sms', 'x'.repeat(64)]) expect(isChannelKey(bad)).toBe(false);
  });

  it('normalises provider numbers to E.164 and refuses numbers without a country code', () => {
    expect(normaliseE164('+1 (415) 555-0100')).toBe('+14155550100');
    expect(normaliseE164('+14155550100')).toBe('+14155550100');
    expect(fieldOf(() => normaliseE164('4155550100'))).toBe('address');
    expect(fieldOf(() => normaliseE164('+1234'))).toBe('address');
    expect(fieldOf(() => normaliseE164(''))).toBe('address');
  });

  it('validates Twilio credentials and round-trips them', () => {
    const sid = 'AC' + '0123456789abcdef'.repeat(2);
    const creds = validateTwilioCredentials({ accountSid: sid, authToken: 'secret-token' });
    expect(parseTwilioCredentials(JSON.stringify(creds))).toEqual({ provider: 'twilio', account_sid: sid, auth_token: 'secret-token' });
    expect(fieldOf(() => validateTwilioCredentials({ accountSid: 'AC123', authToken: 't' }))).toBe('twilio.account_sid');
    expect(fieldOf(() => validateTwilioCredentials({ accountSid: '', authToken: 't' }))).toBe('twilio.account_sid');
    expect(fieldOf(() => validateTwilioCredentials({ accountSid: sid, authToken: '  ' }))).toBe('twilio.auth_token');
  });

  it('encodes base32 as RFC 4648 does, in lower case without padding', () => {
    // RFC 4648 section 10 test vectors.
    const vectors: Array<[string, string]> = [['', ''], ['f', 'my'], ['fo', 'mzxq'], ['foo', 'mzxw6'], ['foob', 'mzxw6yq'], ['fooba', 'mzxw6ytb'], ['foobar', 'mzxw6ytboi']];
    for (const [input, output] of vectors) expect(base32(Buffer.from(input))).toBe(output);
    expect(base32(new Uint8Array(20).fill(0xff))).toBe('7'.repeat(32));
  });

  it('generates channel keys: a readable prefix by type, then 160 random bits in the key alphabet', () => {
    for (const type of CHANNEL_TYPES) {
      const key = generateChannelKey(type);
      expect(isChannelKey(key), key).toBe(true);
      expect(key).toMatch(new RegExp(`^${CHANNEL_KEY_PREFIX[type]}-[a-z2-7]{32}$`));
    }
    expect(generateChannelKey('sms')).toMatch(/^sms-[a-z2-7]{32}$/);
    // The random part is exactly the bytes drawn (20 of them: at least 128 bits).
    const drawn: number[] = [];
    const key = generateChannelKey('sms', (size) => {
      drawn.push(size);
      return new Uint8Array(size).fill(0);
    });
    expect(drawn).toEqual([20]);
    expect(key).toBe(`sms-${'a'.repeat(32)}`);
  });

  it('never repeats a generated key, and every character position varies', () => {
    const keys = Array.from({ length: 20_000 }, () => generateChannelKey('sms'));
    expect(new Set(keys).size).toBe(keys.length);
    // Each of the 32 positions takes many of the 32 symbols (a constant or low-entropy position would not).
    for (let i = 4; i < 36; i++) expect(new Set(keys.map((k) => k[i])).size).toBe(32);
  });
});
