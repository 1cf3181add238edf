// The /_sim/ control endpoints (accounts, opt-outs, inspection, reset) and requests the server cannot parse.
import { connect } from 'node:net';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  addTwilioSimFault, addTwilioSimOptOut, registerTwilioSimAccount, resetTwilioSim, startTwilioSim, twilioSimMessages,
} from '../src/index.ts';
import { basicAuth, createMessage, FROM, newAccount, simJson, startReceiver } from './twilio-sim.helper.ts';

const sim = await startTwilioSim({ callbackDelayMs: 5 });
const receiver = await startReceiver();
afterAll(async () => {
  await sim.close();
  await receiver.close();
});
beforeEach(async () => {
  await resetTwilioSim(sim.url);
  receiver.received.length = 0;
});

const valid = { To: '+15551230001', From: FROM, Body: 'hello' };

describe('POST /_sim/accounts', () => {
  it('registers an account (201), and replaces its token when registered again', async () => {
    const account = newAccount();
    expect((await createMessage(sim, account, valid)).status).toBe(401);
    const res = await simJson(sim, 'POST', '/_sim/accounts', JSON.stringify(account));
    expect(res.status).toBe(201);
    expect((await createMessage(sim, account, valid)).status).toBe(201);

    const rotated = { ...account, authToken: 'a-new-token' };
    await registerTwilioSimAccount(sim.url, rotated);
    expect((await createMessage(sim, account, valid)).status).toBe(401);
    expect((await createMessage(sim, rotated, valid)).status).toBe(201);
  });

  it.each([
    [{ authToken: 't' }, 'accountSid'],
    [{ accountSid: 'AC123', authToken: 't' }, 'accountSid'],
    [{ accountSid: `SM${'0'.repeat(32)}`, authToken: 't' }, 'accountSid'],
    [{ accountSid: `AC${'0'.repeat(32)}` }, 'authToken'],
    [{ accountSid: `AC${'0'.repeat(32)}`, authToken: '' }, 'authToken'],
    [{ accountSid: `AC${'0'.repeat(32)}`, authToken: 42 }, 'authToken'],
  ])('rejects %j with 400 naming the field', async (body, field) => {
    const res = await simJson(sim, 'POST', '/_sim/accounts', JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String), field });
  });

  it('rejects a body that is not JSON', async () => {
    const res = await simJson(sim, 'POST', '/_sim/accounts', 'accountSid=AC');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: expect.any(String) });
  });

  it('makes the client helper throw on a rejected registration', async () => {
    await expect(registerTwilioSimAccount(sim.url, { accountSid: 'nope', authToken: 't' })).rejects.toThrow(/HTTP 400/);
  });
});

describe('POST /_sim/opt-outs', () => {
  it('rejects a number that is not E.164', async () => {
    const res = await simJson(sim, 'POST', '/_sim/opt-outs', JSON.stringify({ to: '555' }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String), field: 'to' });
  });
});

describe('GET /_sim/messages', () => {
  it('lists every account\'s messages oldest first, with their callbacks, filtered by ?to=', async () => {
    const a = newAccount();
    const b = newAccount();
    await registerTwilioSimAccount(sim.url, a);
    await registerTwilioSimAccount(sim.url, b);
    const first = await createMessage(sim, a, { ...valid, StatusCallback: `${receiver.url}/s` });
    const second = await createMessage(sim, b, { ...valid, To: '+15551230002', Body: 'second' });
    const third = await createMessage(sim, a, { ...valid, Body: 'third' });
    await vi.waitFor(async () => expect((await twilioSimMessages(sim.url))[0]?.callbacks).toHaveLength(3), { timeout: 3000, interval: 10 });

    const all = await twilioSimMessages(sim.url);
    expect(all.map((m) => m.sid)).toEqual([first.body.sid, second.body.sid, third.body.sid]);
    expect(all[0]).toEqual({
      sid: first.body.sid, accountSid: a.accountSid, to: valid.To, from: FROM, body: 'hello', mediaUrls: [],
      statusCallback: `${receiver.url}/s`, status: 'delivered', errorCode: null, dateCreated: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
      callbacks: ['queued', 'sent', 'delivered'].map((status) => ({ status, httpStatus: 204, at: expect.any(String) })),
    });
    expect(all[1]).toMatchObject({ accountSid: b.accountSid, statusCallback: null, callbacks: [] });

    expect((await twilioSimMessages(sim.url, { to: valid.To })).map((m) => m.sid)).toEqual([first.body.sid, third.body.sid]);
    expect((await twilioSimMessages(sim.url, { to: '+15551230002' })).map((m) => m.sid)).toEqual([second.body.sid]);
    // A hand-written ?to=+1... (the + decodes to a space) finds the same.
    expect((await simJson(sim, 'GET', '/_sim/messages?to=+15551230002')).body.messages).toHaveLength(1);
  });
});

describe('POST /_sim/reset', () => {
  it('clears messages, faults and opt-outs, keeps accounts, and stops pending callbacks', async () => {
    const slow = await startTwilioSim({ callbackDelayMs: 150 });
    try {
      const account = newAccount();
      await registerTwilioSimAccount(slow.url, account);
      expect((await createMessage(slow, account, { ...valid, StatusCallback: `${receiver.url}/s` })).status).toBe(201);
      await addTwilioSimFault(slow.url, { kind: 'http500' });
      await addTwilioSimOptOut(slow.url, '+15551230009');
      const res = await simJson(slow, 'POST', '/_sim/reset');
      expect(res.status).toBe(200);
      expect(await twilioSimMessages(slow.url)).toEqual([]);
      expect((await simJson(slow, 'GET', '/_sim/faults')).body.faults).toEqual([]);
      // Accounts stay; the fault and the opt-out are gone.
      expect((await createMessage(slow, account, valid)).status).toBe(201);
      expect((await createMessage(slow, account, { ...valid, To: '+15551230009' })).status).toBe(201);
      await new Promise((r) => setTimeout(r, 300));
      // The first message's lifecycle was stopped: none of its callbacks were made.
      expect(receiver.received).toEqual([]);
    } finally {
      await slow.close();
    }
  });
});

describe('requests the server cannot parse', () => {
  it('answers 4xx and keeps serving', async () => {
    const account = newAccount();
    await registerTwilioSimAccount(sim.url, account);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(sim.port, '127.0.0.1', () => socket.end('THIS IS NOT HTTP\r\n\r\n'));
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 4\d\d/);

    const big = await fetch(`${sim.url}/2010-04-01/Accounts/${account.accountSid}/Messages.json`, {
      method: 'POST',
      headers: { authorization: basicAuth(account.accountSid, account.authToken), 'content-type': 'application/x-www-form-urlencoded' },
      body: `To=%2B15551230001&From=%2B15550001111&Body=${'x'.repeat(2 * 1024 * 1024)}`,
    });
    expect(big.status).toBe(413);
    expect((await simJson(sim, 'POST', '/_sim/opt-outs', '{"to":')).status).toBe(400);
    expect((await simJson(sim, 'POST', '/_sim/reset', 'ignored')).status).toBe(200);
    const weird = await fetch(`${sim.url}/2010-04-01/Accounts/${account.accountSid}/Messages.json?%E0%A4%A=1`, { headers: { authorization: basicAuth(account.accountSid, account.authToken) } });
    expect(weird.status).toBeLessThan(500);
    expect(await twilioSimMessages(sim.url)).toEqual([]);
    expect((await createMessage(sim, account, valid)).status).toBe(201);
  });
});
