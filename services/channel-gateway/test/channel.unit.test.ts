import { describe, expect, it } from 'vitest';
import { InvalidChannelError, isChannelKey, normaliseE164, parseTwilioCredentials, validateTwilioCredentials } from '../src/domain/channel.ts';

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
});
