import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '@domiq/webhook-signatures';
import { InvalidChannelError } from '../src/domain/channel.ts';
import { InvalidInboundError, ProviderDeliveryError, storedProvider, type WebhookRequest } from '../src/providers/provider.ts';
import { createProviderRegistry } from '../src/providers/registry.ts';
import { createTwilioProvider, EMPTY_TWIML, type TwilioChannelCredentials } from '../src/providers/twilio.provider.ts';

const twilio = createTwilioProvider();
const SID = 'SM' + 'a'.repeat(32);
const ACCOUNT = 'AC' + 'b'.repeat(32);
const creds: TwilioChannelCredentials = { provider: 'twilio', account_sid: ACCOUNT, auth_token: 'tok' };

const request = (params: Record<string, string>, headers: Record<string, string> = {}, url = '/webhooks/twilio/acme-sms'): WebhookRequest => ({
  url, headers, body: Buffer.from(new URLSearchParams(params).toString()),
});

function errorOf(fn: () => unknown): InvalidInboundError | InvalidChannelError | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidInboundError || err instanceof InvalidChannelError) return err;
    throw err;
  }
  return undefined;
}

describe('Twilio provider: webhooks', () => {
  it("verifies Twilio's documented example signature (auth token 12345) and rejects any change", () => {
    // Twilio's published request-validator example, as in packages/webhook-signatures/test.
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
    const example: TwilioChannelCredentials = { provider: 'twilio', account_sid: ACCOUNT, auth_token: '12345' };
    const signed = request(params, { 'x-twilio-signature': 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' }, '/myapp.php?foo=1&bar=2');
    expect(twilio.verify(signed, example, url)).toBe(true);
    expect(twilio.verify(signed, { ...example, auth_token: '54321' }, url)).toBe(false);
    expect(twilio.verify(signed, example, `${url}&x=1`)).toBe(false);
    expect(twilio.verify(request({ ...params, Digits: '1235' }, signed.headers as Record<string, string>), example, url)).toBe(false);
    expect(twilio.verify(request(params), example, url)).toBe(false);
    expect(twilio.verify({ ...signed, body: Buffer.from('Digits=%ZZ') }, example, url)).toBe(false);
  });

  it('parses an inbound SMS into one neutral message, raw fields kept', () => {
    const params = { MessageSid: SID, AccountSid: ACCOUNT, From: '+14155550199', To: '+14155550100', Body: 'Hi there', NumMedia: '0', SmsStatus: 'received' };
    expect(twilio.parseInbound(request(params))).toEqual([{
      providerMessageId: SID, providerAccount: { field: 'AccountSid', value: ACCOUNT },
      from: '+14155550199', to: '+14155550100', body: 'Hi there', senderName: '', raw: params,
    }]);
    expect(errorOf(() => twilio.parseInbound(request({ ...params, From: '' })))?.field).toBe('From');
    expect(errorOf(() => twilio.parseInbound({ ...request(params), body: Buffer.from([0xff, 0xfe]) }))?.message).toMatch(/UTF-8/);
  });

  it('parses status callbacks into neutral receipts', () => {
    const cases: Array<[string, string]> = [
      ['accepted', 'queued'], ['queued', 'queued'], ['sending', 'queued'], ['sent', 'sent'], ['delivered', 'delivered'], ['read', 'read'],
      ['undelivered', 'undelivered'], ['failed', 'failed'], ['canceled', 'canceled'], ['partially_delivered', 'unknown'],
    ];
    for (const [providerStatus, status] of cases) {
      const params = { MessageSid: SID, AccountSid: ACCOUNT, MessageStatus: providerStatus, SmsStatus: providerStatus, To: '+14155550199', From: '+14155550100', ApiVersion: '2010-04-01' };
      expect(twilio.parseReceipt(request(params)), providerStatus).toEqual([{
        providerMessageId: SID, providerAccount: { field: 'AccountSid', value: ACCOUNT }, status, providerStatus, raw: params,
      }]);
    }
    const failed = twilio.parseReceipt(request({ MessageSid: SID, AccountSid: ACCOUNT, MessageStatus: 'undelivered', ErrorCode: '30003' }));
    expect(failed[0]).toMatchObject({ status: 'undelivered', errorCode: '30003' });
    for (const [field, params] of [
      ['MessageStatus', { MessageSid: SID, AccountSid: ACCOUNT }],
      ['MessageStatus', { MessageSid: SID, AccountSid: ACCOUNT, MessageStatus: 'Delivered!' }],
      ['MessageSid', { MessageSid: 'SM1', AccountSid: ACCOUNT, MessageStatus: 'sent' }],
      ['AccountSid', { MessageSid: SID, MessageStatus: 'sent' }],
      ['ErrorCode', { MessageSid: SID, AccountSid: ACCOUNT, MessageStatus: 'failed', ErrorCode: 'x1' }],
    ] as const) {
      expect(errorOf(() => twilio.parseReceipt(request(params)))?.field, JSON.stringify(params)).toBe(field);
    }
  });

  it('answers empty TwiML to inbound messages and receipts, and takes form bodies only', () => {
    expect(twilio.reply.inbound).toEqual({ status: 200, contentType: 'text/xml; charset=utf-8', body: EMPTY_TWIML });
    expect(twilio.reply.receipt.status).toBe(200);
    expect(twilio.mediaType).toBe('application/x-www-form-urlencoded');
  });
});

describe('Twilio provider: credentials', () => {
  it('validates with field names, round-trips what it stores, and names its account', () => {
    const stored = twilio.validateCredentials({ accountSid: ` ${ACCOUNT} `, authToken: 'secret' });
    expect(stored).toEqual({ provider: 'twilio', account_sid: ACCOUNT, auth_token: 'secret' });
    const plaintext = JSON.stringify(stored);
    expect(storedProvider(plaintext)).toBe('twilio');
    expect(twilio.parseCredentials(plaintext)).toEqual(stored);
    expect(twilio.accountOf(stored)).toBe(ACCOUNT);
    expect(errorOf(() => twilio.validateCredentials({ accountSid: 'AC1', authToken: 'x' }))?.field).toBe('twilio.account_sid');
    expect(errorOf(() => twilio.validateCredentials({ accountSid: ACCOUNT, authToken: '' }))?.field).toBe('twilio.auth_token');
    expect(errorOf(() => twilio.validateCredentials({ accountSid: ACCOUNT, authToken: 'x'.repeat(257) }))?.field).toBe('twilio.auth_token');
    expect(() => twilio.parseCredentials(JSON.stringify({ provider: 'other', account_sid: ACCOUNT, auth_token: 'x' }))).toThrow();
    expect(storedProvider('{}')).toBeUndefined();
  });

  it('is the registry entry for twilio, serving sms and whatsapp channels', () => {
    const registry = createProviderRegistry();
    expect(Object.keys(registry)).toEqual(['twilio']);
    expect(registry.twilio.id).toBe('twilio');
    expect(registry.twilio.channelTypes).toEqual(['sms', 'whatsapp']);
  });
});

describe('Twilio provider: deliver (against a local fake of the REST API)', () => {
  interface Seen { method: string | undefined; url: string | undefined; headers: IncomingMessage['headers']; body: string }
  const seen: Seen[] = [];
  let answer: (res: ServerResponse) => void = () => {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(res);
    });
  });
  let api: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  const json = (status: number, body: unknown) => (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const outbound = { from: '+14155550100', to: '+14155550199', body: 'Your tour is at 3 pm & parking is free 👍', statusCallbackUrl: 'https://gw.example/webhooks/twilio/acme-sms/status' };

  it("POSTs Messages.json form-encoded with basic auth and returns Twilio's message sid", async () => {
    const sent = 'SM' + 'c'.repeat(32);
    answer = json(201, { sid: sent, status: 'queued', account_sid: ACCOUNT });
    seen.length = 0;
    const result = await createTwilioProvider({ apiBaseUrl: api }).deliver(creds, outbound);
    expect(result).toEqual({ providerMessageId: sent });
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT}:tok`).toString('base64')}`);
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      To: '+14155550199', From: '+14155550100', Body: outbound.body, StatusCallback: outbound.statusCallbackUrl,
    });
  });

  it("turns Twilio's errors into ProviderDeliveryError: its code, and whether to retry", async () => {
    const provider = createTwilioProvider({ apiBaseUrl: api });
    const failure = async () => {
      try {
        await provider.deliver(creds, { from: outbound.from, to: outbound.to, body: 'x' });
      } catch (err) {
        if (err instanceof ProviderDeliveryError) return err;
        throw err;
      }
      throw new Error('deliver did not fail');
    };
    answer = json(400, { code: 21211, message: "The 'To' number is not a valid phone number.", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 });
    expect(await failure()).toMatchObject({ status: 400, code: '21211', retryable: false, message: expect.stringContaining('not a valid phone number') });
    answer = json(429, { code: 20429, message: 'Too Many Requests', status: 429 });
    expect(await failure()).toMatchObject({ status: 429, code: '20429', retryable: true });
    answer = (res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<html>unavailable</html>');
    };
    expect(await failure()).toMatchObject({ status: 503, code: undefined, retryable: true });
    answer = json(201, { status: 'queued' });
    expect(await failure()).toMatchObject({ status: 201, retryable: false });
    // Nobody listening: no answer at all, worth retrying, and the token is nowhere in the error.
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const offline = createTwilioProvider({ apiBaseUrl: `http://127.0.0.1:${closed}` });
    const err = await offline.deliver(creds, outbound).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderDeliveryError);
    expect(err).toMatchObject({ status: 0, retryable: true });
    expect(String((err as Error).message)).not.toContain('tok');
  });
});

// The signature the webhook server sees for a status callback is Twilio's usual one over the /status URL.
describe('Twilio provider: status callback signature', () => {
  it('verifies a status callback signed over its own /status URL only', () => {
    const url = 'https://gw.example/webhooks/twilio/acme-sms/status';
    const params = { MessageSid: SID, AccountSid: ACCOUNT, MessageStatus: 'delivered' };
    const signed = request(params, { 'x-twilio-signature': twilioSignature('tok', url, params) }, '/webhooks/twilio/acme-sms/status');
    expect(twilio.verify(signed, creds, url)).toBe(true);
    expect(twilio.verify(signed, creds, 'https://gw.example/webhooks/twilio/acme-sms')).toBe(false);
  });
});
