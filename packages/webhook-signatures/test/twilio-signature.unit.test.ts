import { describe, expect, it } from 'vitest';
import { twilioSignature, verifyTwilioSignature } from '../src/index.ts';

// Twilio's published example (auth token 12345) for its request validator.
const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };

describe('twilioSignature', () => {
  it("reproduces Twilio's documented example signature", () => {
    expect(twilioSignature('12345', url, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  });
  it('verifies the right signature and rejects a changed parameter, URL, token or a missing header', () => {
    const sig = twilioSignature('12345', url, params);
    expect(verifyTwilioSignature('12345', url, params, sig)).toBe(true);
    expect(verifyTwilioSignature('12345', url, { ...params, Digits: '1235' }, sig)).toBe(false);
    expect(verifyTwilioSignature('12345', `${url}&x=1`, params, sig)).toBe(false);
    expect(verifyTwilioSignature('54321', url, params, sig)).toBe(false);
    expect(verifyTwilioSignature('12345', url, params, undefined)).toBe(false);
  });
});
