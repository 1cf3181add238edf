// Send faults: server errors and rate limits that store nothing, a request held without an answer, and the ambiguous
// drop after accept; how faults are scoped, counted, validated and cleared.
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { addTwilioSimFault, clearTwilioSimFaults, startTwilioSim, twilioSimMessages } from '../src/index.ts';
import { basicAuth, createMessage, fetchMessage, FROM, newAccount, simJson, startReceiver } from './twilio-sim.helper.ts';

const account = newAccount();
const sim = await startTwilioSim({ accounts: [account], callbackDelayMs: 5 });
const receiver = await startReceiver();
afterAll(async () => {
  await sim.close();
  await receiver.close();
});
beforeEach(async () => {
  await simJson(sim, 'POST', '/_sim/reset');
  receiver.received.length = 0;
});

const TO = '+15551230001';
const valid = { To: TO, From: FROM, Body: 'hello' };
const error = (status: number, code: number, message: string) => ({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

describe('faults that store nothing', () => {
  it.each([
    ['http500', 500, error(500, 20500, 'Internal Server Error')],
    ['http503', 503, error(503, 20503, 'Service Unavailable')],
  ] as const)('%s answers %i and stores nothing, for the next send only', async (kind, status, body) => {
    await addTwilioSimFault(sim.url, { kind });
    const res = await createMessage(sim, account, { ...valid, StatusCallback: `${receiver.url}/status` });
    expect(res.status).toBe(status);
    expect(res.body).toEqual(body);
    expect(await twilioSimMessages(sim.url)).toEqual([]);
    expect((await createMessage(sim, account, valid)).status).toBe(201);
    expect(await twilioSimMessages(sim.url)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(receiver.received).toEqual([]);
  });

  it('http429 answers 429 with Retry-After: 1 and stores nothing', async () => {
    await addTwilioSimFault(sim.url, { kind: 'http429' });
    const res = await createMessage(sim, account, valid);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body).toEqual(error(429, 20429, 'Too Many Requests'));
    expect(await twilioSimMessages(sim.url)).toEqual([]);
  });

  it('comes before validation: an invalid send also gets the 500', async () => {
    await addTwilioSimFault(sim.url, { kind: 'http500' });
    expect((await createMessage(sim, account, { From: FROM, Body: 'no To' })).status).toBe(500);
    expect((await createMessage(sim, account, { From: FROM, Body: 'no To' })).status).toBe(400);
  });

  it('is not spent by a request that fails authentication', async () => {
    await addTwilioSimFault(sim.url, { kind: 'http500' });
    expect((await createMessage(sim, account, valid, { authorization: basicAuth(account.accountSid, 'wrong') })).status).toBe(401);
    expect((await createMessage(sim, account, valid)).status).toBe(500);
  });

  it('counts `times` and matches `to` only', async () => {
    await addTwilioSimFault(sim.url, { kind: 'http503', to: '+15551239999', times: 2 });
    expect((await createMessage(sim, account, valid)).status).toBe(201);
    expect((await createMessage(sim, account, { ...valid, To: '+15551239999' })).status).toBe(503);
    expect((await createMessage(sim, account, { ...valid, To: '+15551239999' })).status).toBe(503);
    expect((await createMessage(sim, account, { ...valid, To: '+15551239999' })).status).toBe(201);
    expect((await twilioSimMessages(sim.url)).map((m) => m.to)).toEqual([TO, '+15551239999']);
  });

  it('DELETE /_sim/faults clears them all', async () => {
    await addTwilioSimFault(sim.url, { kind: 'http500', times: 5 });
    await addTwilioSimFault(sim.url, { kind: 'failed' });
    expect((await simJson(sim, 'GET', '/_sim/faults')).body.faults).toHaveLength(2);
    await clearTwilioSimFaults(sim.url);
    expect((await simJson(sim, 'GET', '/_sim/faults')).body.faults).toEqual([]);
    const res = await createMessage(sim, account, valid);
    expect(res.status).toBe(201);
    await vi.waitFor(async () => expect((await fetchMessage(sim, account, res.body.sid)).body.status).toBe('delivered'), { timeout: 3000, interval: 10 });
  });
});

describe('drop_after_accept', () => {
  it('stores the message and runs its lifecycle, but the client gets a socket error instead of an answer', async () => {
    await addTwilioSimFault(sim.url, { kind: 'drop_after_accept' });
    const sending = createMessage(sim, account, { ...valid, StatusCallback: `${receiver.url}/status` });
    await expect(sending).rejects.toThrow(/fetch failed|socket|closed|reset/i);
    const [stored] = await twilioSimMessages(sim.url);
    expect(stored).toMatchObject({ to: TO, body: 'hello', statusCallback: `${receiver.url}/status` });
    // The customer gets it: the lifecycle runs and the callbacks are made.
    await vi.waitFor(async () => expect((await twilioSimMessages(sim.url))[0]?.callbacks).toHaveLength(3), { timeout: 3000, interval: 10 });
    expect(receiver.received.map((c) => c.params['MessageStatus'])).toEqual(['queued', 'sent', 'delivered']);
    expect(receiver.received[0]?.params['MessageSid']).toBe(stored!.sid);
    expect((await fetchMessage(sim, account, stored!.sid)).body.status).toBe('delivered');
  });

  it('stores nothing (and answers the 400) when the send is invalid, keeping the fault', async () => {
    await addTwilioSimFault(sim.url, { kind: 'drop_after_accept' });
    expect((await createMessage(sim, account, { To: TO, From: FROM })).status).toBe(400);
    expect(await twilioSimMessages(sim.url)).toEqual([]);
    await expect(createMessage(sim, account, valid)).rejects.toThrow();
    expect(await twilioSimMessages(sim.url)).toHaveLength(1);
  });
});

describe('timeout', () => {
  it('accepts the request, never answers and stores nothing', async () => {
    await addTwilioSimFault(sim.url, { kind: 'timeout' });
    const started = performance.now();
    await expect(createMessage(sim, account, valid, { signal: AbortSignal.timeout(300) })).rejects.toThrow(/timeout|aborted/i);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(await twilioSimMessages(sim.url)).toEqual([]);
    // Spent: the next send goes through.
    expect((await createMessage(sim, account, valid)).status).toBe(201);
  });

  it('destroys the held socket after the hold time', async () => {
    const quick = await startTwilioSim({ accounts: [account], timeoutHoldMs: 200 });
    try {
      await addTwilioSimFault(quick.url, { kind: 'timeout' });
      const started = performance.now();
      await expect(createMessage(quick, account, valid)).rejects.toThrow(/fetch failed|socket|closed/i);
      expect(performance.now() - started).toBeGreaterThanOrEqual(190);
      expect(await twilioSimMessages(quick.url)).toEqual([]);
    } finally {
      await quick.close();
    }
  });

  it('close() destroys a held request and returns promptly', async () => {
    const other = await startTwilioSim({ accounts: [account] });
    await addTwilioSimFault(other.url, { kind: 'timeout' });
    const pending = createMessage(other, account, valid);
    pending.catch(() => undefined);
    // Held once the fault is spent.
    await vi.waitFor(async () => expect((await simJson(other, 'GET', '/_sim/faults')).body.faults).toEqual([]), { timeout: 2000, interval: 10 });
    const started = performance.now();
    await other.close();
    expect(performance.now() - started).toBeLessThan(2000);
    await expect(pending).rejects.toThrow();
  });
});

describe('fault specs', () => {
  it.each([
    [{}, 'kind'],
    [{ kind: 'explode' }, 'kind'],
    [{ kind: 'http500', times: 0 }, 'times'],
    [{ kind: 'http500', times: 1.5 }, 'times'],
    [{ kind: 'http500', to: 'not a number' }, 'to'],
    [{ kind: 'http500', errorCode: 30008 }, 'errorCode'],
    [{ kind: 'failed', errorCode: 'x' }, 'errorCode'],
  ])('rejects %j with 400 naming the field', async (spec, field) => {
    const res = await simJson(sim, 'POST', '/_sim/faults', JSON.stringify(spec));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String), field });
    expect((await simJson(sim, 'GET', '/_sim/faults')).body.faults).toEqual([]);
  });

  it('rejects a body that is not a JSON object', async () => {
    for (const body of ['{', '[]', '"http500"', '']) {
      const res = await simJson(sim, 'POST', '/_sim/faults', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: expect.any(String), field: null });
    }
  });

  it('answers 201 with an id', async () => {
    const res = await simJson(sim, 'POST', '/_sim/faults', JSON.stringify({ kind: 'undelivered', to: TO, times: 3, errorCode: 30006 }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String) });
    expect((await simJson(sim, 'GET', '/_sim/faults')).body.faults).toEqual([{ id: res.body.id, kind: 'undelivered', to: TO, remaining: 3, errorCode: 30006 }]);
  });
});
