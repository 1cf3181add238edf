// The lifecycle after a 201 and the status callbacks Twilio posts for it: order, one at a time, signatures, headers,
// the outcome faults (failed, undelivered) and the callback faults (duplicate, reorder).
import type { ServerResponse } from 'node:http';
import { verifyTwilioSignature } from '@domiq/webhook-signatures';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { addTwilioSimFault, startTwilioSim, twilioSimMessages } from '../src/index.ts';
import type { TwilioSimMessage } from '../src/index.ts';
import { createMessage, fetchMessage, freePort, FROM, newAccount, simJson, startReceiver } from './twilio-sim.helper.ts';
import type { ReceivedCallback } from './twilio-sim.helper.ts';

const account = newAccount();
const sim = await startTwilioSim({ accounts: [account], callbackDelayMs: 10, callbackTimeoutMs: 300 });
const receiver = await startReceiver();
afterAll(async () => {
  await sim.close();
  await receiver.close();
});
beforeEach(async () => {
  await simJson(sim, 'POST', '/_sim/reset');
  receiver.received.length = 0;
  receiver.handle = (_cb, res) => void res.writeHead(204).end();
});

const TO = '+15551230001';
const statusUrl = () => `${receiver.url}/twilio/status?tenant=t-1`;

async function send(to = TO, callback = statusUrl()): Promise<string> {
  const res = await createMessage(sim, account, { To: to, From: FROM, Body: 'hello', StatusCallback: callback });
  expect(res.status).toBe(201);
  return res.body.sid as string;
}

/** Waits until the message has made `count` callbacks (all answered), and returns it. */
async function settled(sid: string, count: number): Promise<TwilioSimMessage> {
  return vi.waitFor(async () => {
    const message = (await twilioSimMessages(sim.url)).find((m) => m.sid === sid);
    expect(message?.callbacks).toHaveLength(count);
    return message!;
  }, { timeout: 5000, interval: 10 });
}

const statuses = (cbs: ReceivedCallback[]) => cbs.map((c) => c.params['MessageStatus']);

describe('status callbacks', () => {
  it('posts queued, sent, delivered in order, form-encoded and signed like Twilio', async () => {
    const sid = await send();
    const message = await settled(sid, 3);
    expect(statuses(receiver.received)).toEqual(['queued', 'sent', 'delivered']);
    for (const cb of receiver.received) {
      const status = cb.params['MessageStatus'];
      expect(cb.params).toEqual({
        AccountSid: account.accountSid, ApiVersion: '2010-04-01', From: FROM, MessageSid: sid, MessageStatus: status,
        SmsSid: sid, SmsStatus: status, To: TO,
      });
      expect(cb.url).toBe(statusUrl());
      expect(cb.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(cb.headers['user-agent']).toBe('TwilioProxy/1.1');
      expect(cb.headers['i-twilio-idempotency-token']).toMatch(/^[0-9a-f]{32}$/);
      const signature = cb.headers['x-twilio-signature'] as string;
      expect(verifyTwilioSignature(account.authToken, cb.url, cb.params, signature)).toBe(true);
      // Signed over the exact URL and params: not over another URL, not with another token.
      expect(verifyTwilioSignature(account.authToken, `${receiver.url}/twilio/status`, cb.params, signature)).toBe(false);
      expect(verifyTwilioSignature('other-token', cb.url, cb.params, signature)).toBe(false);
    }
    expect(new Set(receiver.received.map((c) => c.headers['i-twilio-idempotency-token'])).size).toBe(3);
    expect(message).toMatchObject({ status: 'delivered', errorCode: null, statusCallback: statusUrl() });
    expect(message.callbacks.map((c) => [c.status, c.httpStatus])).toEqual([['queued', 204], ['sent', 204], ['delivered', 204]]);
    for (const c of message.callbacks) {
      expect(c.error).toBeUndefined();
      expect(Number.isNaN(Date.parse(c.at))).toBe(false);
    }
  });

  it('sends the next callback of a message only after the previous one was answered', async () => {
    const answer = (cb: ReceivedCallback, res: ServerResponse) => {
      cb.answeredAt = performance.now();
      res.writeHead(200).end();
    };
    receiver.handle = (cb, res) => {
      // Hold the first callback well past the lifecycle (10 ms a step), within the sim's 300 ms callback timeout.
      if (cb.params['MessageStatus'] === 'queued') setTimeout(() => answer(cb, res), 150);
      else answer(cb, res);
    };
    const sid = await send();
    const message = await settled(sid, 3);
    expect(message.callbacks.map((c) => c.httpStatus)).toEqual([200, 200, 200]);
    const [queued, sent, delivered] = receiver.received;
    expect(statuses(receiver.received)).toEqual(['queued', 'sent', 'delivered']);
    expect(sent!.receivedAt).toBeGreaterThanOrEqual(queued!.answeredAt!);
    expect(delivered!.receivedAt).toBeGreaterThanOrEqual(sent!.answeredAt!);
    // The lifecycle itself did not wait for the receiver.
    expect((await fetchMessage(sim, account, sid)).body.status).toBe('delivered');
  });

  it('records the status the receiver answered, and the error when the call failed', async () => {
    receiver.handle = (cb, res) => {
      if (cb.params['MessageStatus'] === 'queued') res.writeHead(500).end('boom');
      else if (cb.params['MessageStatus'] === 'sent') res.socket?.destroy();
      else res.writeHead(200).end('<Response/>');
    };
    const sid = await send();
    const message = await settled(sid, 3);
    expect(message.callbacks.map((c) => c.httpStatus)).toEqual([500, 0, 200]);
    expect(message.callbacks[1]?.error).toEqual(expect.any(String));
    expect(message.callbacks[0]?.error).toBeUndefined();
  });

  it('records a receiver that does not answer in time, and one that is not there', async () => {
    receiver.handle = () => undefined;
    const slow = await send('+15551230001');
    const gone = await send('+15551230002', `http://127.0.0.1:${await freePort()}/status`);
    const timedOut = await settled(slow, 3);
    expect(timedOut.callbacks.map((c) => c.httpStatus)).toEqual([0, 0, 0]);
    expect(timedOut.callbacks[0]?.error).toMatch(/no answer within 300 ms/);
    const refused = await settled(gone, 3);
    expect(refused.callbacks.map((c) => [c.httpStatus, c.error])).toEqual([0, 0, 0].map(() => [0, expect.stringMatching(/ECONNREFUSED/)]));
  });

  it('makes no callback for a message without StatusCallback, but still runs its lifecycle', async () => {
    const res = await createMessage(sim, account, { To: TO, From: FROM, Body: 'hello' });
    await vi.waitFor(async () => expect((await fetchMessage(sim, account, res.body.sid)).body.status).toBe('delivered'), { timeout: 3000, interval: 10 });
    await new Promise((r) => setTimeout(r, 50));
    expect(receiver.received).toEqual([]);
    expect((await twilioSimMessages(sim.url))[0]).toMatchObject({ statusCallback: null, callbacks: [] });
  });
});

describe('outcome faults', () => {
  it('failed: queued then failed with ErrorCode 30008 (and no ErrorMessage); never sent', async () => {
    await addTwilioSimFault(sim.url, { kind: 'failed' });
    const sid = await send();
    const message = await settled(sid, 2);
    expect(statuses(receiver.received)).toEqual(['queued', 'failed']);
    expect(receiver.received[0]?.params['ErrorCode']).toBeUndefined();
    const failed = receiver.received[1]!;
    expect(failed.params).toMatchObject({ MessageStatus: 'failed', SmsStatus: 'failed', ErrorCode: '30008' });
    expect(failed.params).not.toHaveProperty('ErrorMessage');
    expect(verifyTwilioSignature(account.authToken, failed.url, failed.params, failed.headers['x-twilio-signature'] as string)).toBe(true);
    expect(message).toMatchObject({ status: 'failed', errorCode: 30008 });
    expect((await fetchMessage(sim, account, sid)).body).toMatchObject({ status: 'failed', error_code: 30008, error_message: expect.any(String), date_sent: null });
  });

  it('failed with a given errorCode', async () => {
    await addTwilioSimFault(sim.url, { kind: 'failed', errorCode: 30007 });
    const sid = await send();
    await settled(sid, 2);
    expect(receiver.received[1]?.params['ErrorCode']).toBe('30007');
    expect((await fetchMessage(sim, account, sid)).body.error_code).toBe(30007);
  });

  it('undelivered: queued, sent, then undelivered with ErrorCode 30003; date_sent set', async () => {
    await addTwilioSimFault(sim.url, { kind: 'undelivered' });
    const sid = await send();
    const message = await settled(sid, 3);
    expect(statuses(receiver.received)).toEqual(['queued', 'sent', 'undelivered']);
    expect(receiver.received.map((c) => c.params['ErrorCode'])).toEqual([undefined, undefined, '30003']);
    expect(receiver.received[2]?.params).not.toHaveProperty('ErrorMessage');
    expect(message).toMatchObject({ status: 'undelivered', errorCode: 30003 });
    expect((await fetchMessage(sim, account, sid)).body).toMatchObject({ status: 'undelivered', error_code: 30003, date_sent: expect.any(String) });
  });

  it('applies to the faulted number only, for the given number of sends', async () => {
    await addTwilioSimFault(sim.url, { kind: 'failed', to: '+15551230009', times: 2 });
    const other = await send('+15551230001');
    const first = await send('+15551230009');
    const second = await send('+15551230009');
    const third = await send('+15551230009');
    expect((await settled(other, 3)).status).toBe('delivered');
    expect((await settled(first, 2)).status).toBe('failed');
    expect((await settled(second, 2)).status).toBe('failed');
    expect((await settled(third, 3)).status).toBe('delivered');
  });
});

describe('callback faults', () => {
  it('duplicate_callbacks: every callback of the message is posted twice (same callback, same token)', async () => {
    await addTwilioSimFault(sim.url, { kind: 'duplicate_callbacks' });
    const sid = await send();
    const message = await settled(sid, 6);
    expect(statuses(receiver.received)).toEqual(['queued', 'queued', 'sent', 'sent', 'delivered', 'delivered']);
    const tokens = receiver.received.map((c) => c.headers['i-twilio-idempotency-token']);
    expect([tokens[0] === tokens[1], tokens[2] === tokens[3], tokens[4] === tokens[5]]).toEqual([true, true, true]);
    expect(new Set(tokens).size).toBe(3);
    for (const cb of receiver.received) expect(verifyTwilioSignature(account.authToken, cb.url, cb.params, cb.headers['x-twilio-signature'] as string)).toBe(true);
    expect(message.callbacks.map((c) => c.status)).toEqual(['queued', 'queued', 'sent', 'sent', 'delivered', 'delivered']);
    // The next message is back to normal.
    const next = await send();
    await settled(next, 3);
  });

  it('reorder_callbacks: the message\'s callbacks arrive in reverse order, after its lifecycle', async () => {
    await addTwilioSimFault(sim.url, { kind: 'reorder_callbacks' });
    const sid = await send();
    const message = await settled(sid, 3);
    expect(statuses(receiver.received)).toEqual(['delivered', 'sent', 'queued']);
    expect(message.callbacks.map((c) => c.status)).toEqual(['delivered', 'sent', 'queued']);
    expect(message.status).toBe('delivered');
  });

  it('combines with an outcome fault', async () => {
    await addTwilioSimFault(sim.url, { kind: 'undelivered', errorCode: 30005 });
    await addTwilioSimFault(sim.url, { kind: 'reorder_callbacks' });
    const sid = await send();
    await settled(sid, 3);
    expect(statuses(receiver.received)).toEqual(['undelivered', 'sent', 'queued']);
    expect(receiver.received[0]?.params['ErrorCode']).toBe('30005');
  });
});
