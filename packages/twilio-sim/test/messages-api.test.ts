// The Message resource endpoints: auth, validation, the created resource, fetch by sid, and the list with its filters.
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { addTwilioSimOptOut, registerTwilioSimAccount, startTwilioSim, twilioSimMessages } from '../src/index.ts';
import {
  basicAuth, createMessage, fetchMessage, FROM, listMessages, MESSAGE_SID, newAccount, registeredAccount, RFC2822, simJson,
} from './twilio-sim.helper.ts';

const preset = newAccount();
const sim = await startTwilioSim({ accounts: [preset], callbackDelayMs: 5 });
afterAll(() => sim.close());
beforeEach(async () => {
  await simJson(sim, 'POST', '/_sim/reset');
});

const TO = '+15551230001';
const valid = { To: TO, From: FROM, Body: 'Your tour is confirmed for 3pm.' };
const AUTH_ERROR = { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 };

describe('authentication', () => {
  it('accepts an account given in the options', async () => {
    expect((await createMessage(sim, preset, valid)).status).toBe(201);
  });

  it.each([
    ['no Authorization header', () => ({ authorization: null })],
    ['a wrong auth token', () => ({ authorization: basicAuth(preset.accountSid, 'not-the-token') })],
    ['an unknown account', () => {
      const stranger = newAccount();
      return { authorization: basicAuth(stranger.accountSid, stranger.authToken), pathAccountSid: stranger.accountSid };
    }],
    ['a Basic header that is not base64 user:password', () => ({ authorization: 'Basic %%%' })],
    ['a Bearer token', () => ({ authorization: `Bearer ${preset.authToken}` })],
  ])('answers 401 with WWW-Authenticate for %s, and stores nothing', async (_name, opts) => {
    const res = await createMessage(sim, preset, valid, opts());
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
    expect(res.body).toEqual(AUTH_ERROR);
    expect(await twilioSimMessages(sim.url)).toEqual([]);
  });

  it("answers 401 when the credentials are another account's than the path's", async () => {
    const other = await registeredAccount(sim);
    const res = await createMessage(sim, other, valid, { pathAccountSid: preset.accountSid });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(AUTH_ERROR);
    // Valid credentials, but for the other account: the path's account is not theirs to use.
    expect((await listMessages(sim, other, '', { pathAccountSid: preset.accountSid })).status).toBe(401);
    expect(await twilioSimMessages(sim.url)).toEqual([]);
  });

  it('requires auth to fetch and to list', async () => {
    const created = await createMessage(sim, preset, valid);
    expect((await fetchMessage(sim, preset, created.body.sid, { authorization: null })).status).toBe(401);
    expect((await fetchMessage(sim, preset, created.body.sid, { authorization: basicAuth(preset.accountSid, 'x') })).status).toBe(401);
    expect((await listMessages(sim, preset, '', { authorization: null })).status).toBe(401);
  });
});

describe('validation', () => {
  const long = (n: number) => 'x'.repeat(n);
  it.each([
    ['To is missing', { From: FROM, Body: 'hi' }, 21604, "A 'To' phone number is required."],
    ['To is empty', { To: '', From: FROM, Body: 'hi' }, 21604, "A 'To' phone number is required."],
    ['To is not E.164 (no +)', { To: '5551230001', From: FROM, Body: 'hi' }, 21211, "Invalid 'To' Phone Number: 5551230001"],
    ['To starts with +0', { To: '+05551230001', From: FROM, Body: 'hi' }, 21211, "Invalid 'To' Phone Number: +05551230001"],
    ['To is too long', { To: '+1234567890123456', From: FROM, Body: 'hi' }, 21211, "Invalid 'To' Phone Number: +1234567890123456"],
    ['From is missing', { To: TO, Body: 'hi' }, 21603, "A 'From' phone number is required."],
    ['there is neither Body nor MediaUrl', { To: TO, From: FROM }, 21602, 'Message body is required.'],
    ['Body is empty', { To: TO, From: FROM, Body: '' }, 21602, 'Message body is required.'],
    ['Body is over 1600 characters', { To: TO, From: FROM, Body: long(1601) }, 21617, 'The concatenated message body exceeds the 1600 character limit.'],
    ['StatusCallback is not a URL', { ...valid, StatusCallback: 'not a url' }, 21609, 'Invalid StatusCallback url'],
    ['StatusCallback is relative', { ...valid, StatusCallback: '/status' }, 21609, 'Invalid StatusCallback url'],
    ['StatusCallback is not http(s)', { ...valid, StatusCallback: 'ftp://example.com/status' }, 21609, 'Invalid StatusCallback url'],
  ])('answers 400 when %s, and stores nothing', async (_name, form, code, message) => {
    const res = await createMessage(sim, preset, form);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status: 400 });
    expect(await twilioSimMessages(sim.url)).toEqual([]);
  });

  it('answers 21610 for a number on the opt-out list, and stores nothing', async () => {
    await addTwilioSimOptOut(sim.url, TO);
    const res = await createMessage(sim, preset, valid);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 21610, message: 'Attempt to send to unsubscribed recipient', more_info: 'https://www.twilio.com/docs/errors/21610', status: 400 });
    expect(await twilioSimMessages(sim.url)).toEqual([]);
    // Other numbers still go through.
    expect((await createMessage(sim, preset, { ...valid, To: '+15551230002' })).status).toBe(201);
  });

  it('answers 400 to a body that is not form-encoded, and stores nothing', async () => {
    const res = await fetch(`${sim.url}/2010-04-01/Accounts/${preset.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: basicAuth(preset.accountSid, preset.authToken), 'content-type': 'application/json' },
      body: JSON.stringify(valid),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: 400, more_info: expect.stringMatching(/^https:\/\/www\.twilio\.com\/docs\/errors\/\d+$/) });
    expect(await twilioSimMessages(sim.url)).toEqual([]);
  });

  it('accepts a body of exactly 1600 characters, in ceil(n/153) segments', async () => {
    const res = await createMessage(sim, preset, { ...valid, Body: long(1600) });
    expect(res.status).toBe(201);
    expect(res.body.num_segments).toBe('11');
    expect((await createMessage(sim, preset, { ...valid, Body: long(160) })).body.num_segments).toBe('1');
    expect((await createMessage(sim, preset, { ...valid, Body: long(161) })).body.num_segments).toBe('2');
  });

  it('accepts media without a body and counts it', async () => {
    const res = await createMessage(sim, preset, { To: TO, From: FROM, MediaUrl: ['https://example.com/a.jpg', 'https://example.com/b.png'] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ body: '', num_media: '2' });
    expect((await twilioSimMessages(sim.url))[0]?.mediaUrls).toEqual(['https://example.com/a.jpg', 'https://example.com/b.png']);
  });
});

describe('the created message', () => {
  it("answers 201 with Twilio's Message resource, status queued", async () => {
    const res = await createMessage(sim, preset, { ...valid, StatusCallback: 'https://example.com/status' });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const sid = res.body.sid as string;
    expect(sid).toMatch(MESSAGE_SID);
    const base = `/2010-04-01/Accounts/${preset.accountSid}/Messages/${sid}`;
    expect(res.body).toEqual({
      account_sid: preset.accountSid,
      api_version: '2010-04-01',
      body: valid.Body,
      date_created: expect.stringMatching(RFC2822),
      date_sent: null,
      date_updated: expect.stringMatching(RFC2822),
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: FROM,
      messaging_service_sid: null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid,
      status: 'queued',
      subresource_uris: { media: `${base}/Media.json` },
      to: TO,
      uri: `${base}.json`,
    });
    expect(Math.abs(Date.parse(res.body.date_created) - Date.now())).toBeLessThan(5000);
  });

  it('moves to sent then delivered, setting date_sent, as GET shows', async () => {
    const created = await createMessage(sim, preset, valid);
    await vi.waitFor(async () => expect((await fetchMessage(sim, preset, created.body.sid)).body.status).toBe('delivered'), { timeout: 3000, interval: 10 });
    const fetched = await fetchMessage(sim, preset, created.body.sid);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ sid: created.body.sid, status: 'delivered', error_code: null, date_sent: expect.stringMatching(RFC2822), date_created: created.body.date_created });
  });
});

describe('fetch by sid', () => {
  it('answers 404 in Twilio\'s format for an unknown sid', async () => {
    const path = `/2010-04-01/Accounts/${preset.accountSid}/Messages/SM00000000000000000000000000000000.json`;
    const res = await fetchMessage(sim, preset, 'SM00000000000000000000000000000000');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ code: 20404, message: `The requested resource ${path} was not found`, more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 });
  });

  it("answers 404 for another account's message", async () => {
    const other = await registeredAccount(sim);
    const created = await createMessage(sim, preset, valid);
    expect((await fetchMessage(sim, preset, created.body.sid)).status).toBe(200);
    expect((await fetchMessage(sim, other, created.body.sid)).status).toBe(404);
  });
});

describe('list', () => {
  it('lists the account\'s messages newest first, filtered by To and From', async () => {
    const other = await registeredAccount(sim);
    const a = await createMessage(sim, preset, { To: '+15551230001', From: '+15550000001', Body: 'a' });
    const b = await createMessage(sim, preset, { To: '+15551230002', From: '+15550000001', Body: 'b' });
    const c = await createMessage(sim, preset, { To: '+15551230001', From: '+15550000002', Body: 'c' });
    await createMessage(sim, other, { To: '+15551230001', From: '+15550000001', Body: 'not yours' });
    // Let the lifecycles finish, so a listed message and its fetch compare equal.
    await vi.waitFor(async () => expect((await twilioSimMessages(sim.url)).map((m) => m.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']), { timeout: 3000, interval: 10 });
    const sids = (res: { body: { messages: Array<{ sid: string }> } }) => res.body.messages.map((m) => m.sid);

    const all = await listMessages(sim, preset);
    expect(all.status).toBe(200);
    expect(sids(all)).toEqual([c.body.sid, b.body.sid, a.body.sid]);
    expect(all.body).toMatchObject({
      end: 2, next_page_uri: null, page: 0, page_size: 50, previous_page_uri: null, start: 0,
      uri: `/2010-04-01/Accounts/${preset.accountSid}/Messages.json?PageSize=50&Page=0`,
      first_page_uri: `/2010-04-01/Accounts/${preset.accountSid}/Messages.json?PageSize=50&Page=0`,
    });
    expect(all.body.messages[0]).toEqual((await fetchMessage(sim, preset, c.body.sid)).body);

    expect(sids(await listMessages(sim, preset, `?To=${encodeURIComponent('+15551230001')}`))).toEqual([c.body.sid, a.body.sid]);
    expect(sids(await listMessages(sim, preset, `?From=${encodeURIComponent('+15550000001')}`))).toEqual([b.body.sid, a.body.sid]);
    expect(sids(await listMessages(sim, preset, `?To=%2B15551230001&From=%2B15550000001`))).toEqual([a.body.sid]);
    expect(sids(await listMessages(sim, preset, `?To=%2B19999999999`))).toEqual([]);

    const page = await listMessages(sim, preset, '?PageSize=1');
    expect(sids(page)).toEqual([c.body.sid]);
    expect(page.body.page_size).toBe(1);
    expect((await listMessages(sim, preset, '?PageSize=5000')).body.page_size).toBe(1000);
    expect((await listMessages(sim, preset, '?PageSize=abc')).status).toBe(400);
  });

  it('filters on the UTC day sent (DateSent, DateSent>, DateSent<), and on the day created for messages never sent', async () => {
    let clock = new Date('2026-12-01T10:00:00Z');
    const dated = await startTwilioSim({ callbackDelayMs: 100, now: () => clock });
    try {
      const account = newAccount();
      await registerTwilioSimAccount(dated.url, account);
      // A: created Dec 1, sent Dec 3 (the clock moves before its "sent" step, 200 ms later).
      const a = await createMessage(dated, account, { To: '+15551230001', From: FROM, Body: 'a' });
      clock = new Date('2026-12-03T23:59:00Z');
      await vi.waitFor(async () => expect((await fetchMessage(dated, account, a.body.sid)).body.status).toBe('delivered'), { timeout: 3000, interval: 20 });
      // B: created Dec 4, fails before it is sent (date_sent stays null).
      clock = new Date('2026-12-04T00:00:00Z');
      await simJson(dated, 'POST', '/_sim/faults', JSON.stringify({ kind: 'failed', to: '+15551230002' }));
      const b = await createMessage(dated, account, { To: '+15551230002', From: FROM, Body: 'b' });
      await vi.waitFor(async () => expect((await fetchMessage(dated, account, b.body.sid)).body.status).toBe('failed'), { timeout: 3000, interval: 20 });
      // C: created and sent Dec 5.
      clock = new Date('2026-12-05T12:00:00Z');
      const c = await createMessage(dated, account, { To: '+15551230003', From: FROM, Body: 'c' });
      await vi.waitFor(async () => expect((await fetchMessage(dated, account, c.body.sid)).body.status).toBe('delivered'), { timeout: 3000, interval: 20 });

      const fetchedA = (await fetchMessage(dated, account, a.body.sid)).body;
      expect([fetchedA.date_created, fetchedA.date_sent]).toEqual(['Tue, 01 Dec 2026 10:00:00 +0000', 'Thu, 03 Dec 2026 23:59:00 +0000']);
      expect((await fetchMessage(dated, account, b.body.sid)).body.date_sent).toBeNull();

      const sids = async (query: string) => ((await listMessages(dated, account, query)).body.messages as Array<{ sid: string }>).map((m) => m.sid);
      expect(await sids('?DateSent=2026-12-03')).toEqual([a.body.sid]);
      expect(await sids('?DateSent=2026-12-01')).toEqual([]);
      expect(await sids('?DateSent>=2026-12-04')).toEqual([c.body.sid, b.body.sid]);
      expect(await sids('?DateSent%3E=2026-12-04')).toEqual([c.body.sid, b.body.sid]);
      expect(await sids('?DateSent>=2026-12-03')).toEqual([c.body.sid, b.body.sid, a.body.sid]);
      expect(await sids('?DateSent<=2026-12-03')).toEqual([a.body.sid]);
      expect(await sids('?DateSent<=2026-12-04')).toEqual([b.body.sid, a.body.sid]);
      expect(await sids('?DateSent>=2026-12-04&DateSent<=2026-12-04')).toEqual([b.body.sid]);
      expect(await sids('?DateSent>=2026-12-06')).toEqual([]);
      const bad = await listMessages(dated, account, '?DateSent>=2026-13-45');
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ status: 400, code: expect.any(Number) });
    } finally {
      await dated.close();
    }
  });
});

describe('routing', () => {
  it('answers unknown routes 404 JSON and other methods 405', async () => {
    const unknown = await simJson(sim, 'GET', '/2010-04-01/Accounts/x/Calls.json');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 20404, status: 404 });
    expect((await simJson(sim, 'GET', '/_sim/nope')).status).toBe(404);
    const wrongMethod = await simJson(sim, 'DELETE', `/2010-04-01/Accounts/${preset.accountSid}/Messages.json`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body).toMatchObject({ status: 405 });
  });
});
