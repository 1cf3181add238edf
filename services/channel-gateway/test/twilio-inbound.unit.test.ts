import { describe, expect, it } from 'vitest';
import { parseFormBody, type FormParams } from '../src/providers/form-body.ts';
import { InvalidInboundError } from '../src/providers/provider.ts';
import { validateTwilioInbound } from '../src/providers/twilio.provider.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const SID = 'SM' + 'a'.repeat(32);
const ACCOUNT = 'AC' + 'b'.repeat(32);
const valid = (over: FormParams = {}): FormParams => ({ MessageSid: SID, AccountSid: ACCOUNT, From: '+14155550199', To: '+14155550100', Body: 'Hi', NumMedia: '0', ...over });

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidInboundError) return err.field ?? '(body)';
    throw err;
  }
  return undefined;
}

describe('parseFormBody', () => {
  it('decodes + as space and percent escapes, keeping every field as sent', () => {
    expect(parseFormBody(enc('Body=Hello+there%21+%2B1&From=%2B14155550199&ToCity=SAN+FRANCISCO&Empty=&Flag'))).toEqual({
      Body: 'Hello there! +1', From: '+14155550199', ToCity: 'SAN FRANCISCO', Empty: '', Flag: '',
    });
  });

  it('round-trips what URLSearchParams encodes, including non-ASCII text', () => {
    const body = new URLSearchParams({ Body: 'Ça va? 👋 a&b=c', From: '+1 415' }).toString();
    expect(parseFormBody(enc(body))).toEqual({ Body: 'Ça va? 👋 a&b=c', From: '+1 415' });
  });

  it('keeps a repeated name as an array, in order', () => {
    expect(parseFormBody(enc('MediaUrl=a&MediaUrl=b&x=1'))).toEqual({ MediaUrl: ['a', 'b'], x: '1' });
  });

  it('rejects malformed escapes, invalid UTF-8 and nameless fields', () => {
    expect(fieldOf(() => parseFormBody(enc('Body=%E0%A4%A')))).toBe('(body)');
    expect(fieldOf(() => parseFormBody(enc('Body=100%')))).toBe('(body)');
    expect(fieldOf(() => parseFormBody(new Uint8Array([0x42, 0x3d, 0xff, 0xfe])))).toBe('(body)');
    expect(fieldOf(() => parseFormBody(enc('=value')))).toBe('(body)');
  });

  it('refuses a NUL character in a value, naming the field, or in a name (PostgreSQL cannot store it)', () => {
    expect(fieldOf(() => parseFormBody(enc('From=%2B1415&Body=a%00b')))).toBe('Body');
    expect(fieldOf(() => parseFormBody(enc('Bo%00dy=hi')))).toBe('(body)');
    expect(fieldOf(() => parseFormBody(enc('Body=a%01b')))).toBeUndefined();
  });

  it('ignores empty pairs and does not let __proto__ touch the prototype', () => {
    const parsed = parseFormBody(enc('&&a=1&&__proto__=x'));
    expect(parsed.a).toBe('1');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('validateTwilioInbound', () => {
  it('accepts a real inbound SMS and reads its fields', () => {
    expect(validateTwilioInbound(valid())).toEqual({ messageSid: SID, accountSid: ACCOUNT, from: '+14155550199', to: '+14155550100', body: 'Hi', numMedia: 0 });
  });

  it.each([
    ['MessageSid', { MessageSid: undefined }],
    ['MessageSid', { MessageSid: 'SMshort' }],
    ['MessageSid', { MessageSid: [SID, SID] }],
    ['AccountSid', { AccountSid: undefined }],
    ['AccountSid', { AccountSid: 'XX' + 'b'.repeat(32) }],
    ['From', { From: undefined }],
    ['From', { From: '  ' }],
    ['To', { To: undefined }],
    ['Body', { Body: undefined }],
    ['Body', { Body: '' }],
    ['Body', { Body: 'x'.repeat(1601) }],
    ['NumMedia', { NumMedia: 'two' }],
    ['NumMedia', { NumMedia: '11' }],
  ] as Array<[string, Record<string, string | string[] | undefined>]>)('names %s when it is wrong (%j)', (field, over) => {
    const params = valid();
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete params[k];
      else params[k] = v;
    }
    expect(fieldOf(() => validateTwilioInbound(params))).toBe(field);
  });

  it('accepts an empty Body when the message carries media, and an MMS sid', () => {
    expect(validateTwilioInbound(valid({ Body: '', NumMedia: '2', MessageSid: 'MM' + 'c'.repeat(32) }))).toMatchObject({ body: '', numMedia: 2 });
  });
});
