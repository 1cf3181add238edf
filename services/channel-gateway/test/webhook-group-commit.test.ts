import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { expectEventually, readStream, registerTestSecret, type TestStack } from '@domiq/testkit';
import { gatewayWithSmsChannel, hex, inboundSms } from './twilio.fixtures.ts';
import { metricValue, postSigned, UNTHROTTLED_WEBHOOKS, type Answer } from './webhook-load.ts';

// Group commit over real HTTP against a real gateway process: concurrent verified webhooks are written by shared
// transactions (one multi-row insert plus their outbox rows), each answered only after its own row committed.
// Which transaction wrote a row is PostgreSQL's own record (xmin), so "fewer transactions than requests" and "a row
// and its event in the same transaction" are read from the rows themselves, not from the gateway's word.
//
// WEBHOOK_GROUP_COMMIT_MAX_WAIT_MS is 25 here (default 2): a burst fired at once reaches the committer spread over
// the time the gateway needs to verify each request, and on a loaded 2-core machine that can exceed 2 ms per
// request; 25 ms keeps each burst in a few groups, so the failing member below always shares its group.
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const TOKEN = registerTestSecret('4e5f60718293a4b5c6d7e8f90a1b2c3d', 'Twilio auth token (webhook-group-commit.test.ts)');
const CHANNEL_KEY = 'group-sms';

let stack: TestStack;
let twilioAccount: string;
let port: number;
let base: string;
let opsPort: string;

beforeAll(async () => {
  ({ stack, base, twilioAccount } = await gatewayWithSmsChannel(CHANNEL_KEY, TOKEN, {}, { env: { ...UNTHROTTLED_WEBHOOKS, WEBHOOK_GROUP_COMMIT_MAX_WAIT_MS: '25' } }));
  port = stack.ports.gatewayHttp;
  opsPort = stack.services['channel-gateway']!.opts.env.OPS_PORT!;
});
afterAll(async () => stack?.stop());

const sms = (over: Record<string, string> = {}) => inboundSms({ AccountSid: twilioAccount, Body: `group ${hex(4)}`, ...over });
const send = (params: Record<string, string>, headers: Record<string, string> = {}) => postSigned(port, base, CHANNEL_KEY, TOKEN, params, headers);
const groups = () => metricValue(opsPort, 'domiq_group_commit_size_count{committer="webhook-inbound"}');
const members = () => metricValue(opsPort, 'domiq_group_commit_size_sum{committer="webhook-inbound"}');
const splits = () => metricValue(opsPort, 'domiq_group_commit_splits_total{committer="webhook-inbound"}');

interface Written { sid: string; id: string; xmin: string; events: Array<{ xmin: string; traceparent: string | null }> }

/** Every stored row of these MessageSids, the transaction that wrote it, and its outbox rows. */
async function written(sids: string[]): Promise<Written[]> {
  return stack.db.query<Written>(
    `select m.provider_message_id as sid, m.id, m.xmin::text as xmin,
            coalesce((select json_agg(json_build_object('xmin', e.xmin::text, 'traceparent', e.traceparent)) from channel_gateway.event_log e
                       where e.entity_id = m.id and e.subject = 'channel-gateway.message.received'), '[]') as events
       from channel_gateway.inbound_messages m where m.provider_message_id = any($1)`, [sids]);
}

/** Each MessageSid stored exactly once, with exactly one event written by the same transaction. */
function expectOnceWithItsEvent(rows: Written[], sids: string[]): void {
  expect(rows.map((r) => r.sid).sort()).toEqual([...new Set(sids)].sort());
  for (const row of rows) expect(row.events.map((e) => e.xmin), row.sid).toEqual([row.xmin]);
}

const expectTwiml = (answers: Answer[]) => {
  for (const a of answers) expect(a).toEqual({ status: 200, body: EMPTY_TWIML });
};

/** 'webhook message received' log lines of these MessageSids: how often each was stored (duplicate: false) and answered as a duplicate. */
function logged(sids: string[]): Map<string, { stored: number; duplicate: number }> {
  const wanted = new Set(sids);
  const out = new Map(sids.map((s) => [s, { stored: 0, duplicate: 0 }]));
  for (const line of stack.services['channel-gateway']!.lines) {
    if (!line.includes('webhook message received')) continue;
    const entry = JSON.parse(line) as { provider_message_id?: string; duplicate?: boolean };
    if (!entry.provider_message_id || !wanted.has(entry.provider_message_id)) continue;
    const n = out.get(entry.provider_message_id)!;
    if (entry.duplicate) n.duplicate++;
    else n.stored++;
  }
  return out;
}

describe('group commit of concurrent webhooks', () => {
  it('stores and announces each concurrently sent message once, in fewer transactions than requests, answering repeats as duplicates', async () => {
    const groupsBefore = await groups();
    const membersBefore = await members();
    const first = Array.from({ length: 60 }, () => sms());
    // Ten of them posted three times within the same burst (a provider retrying while the first is still queued).
    const repeated = first.slice(0, 10);
    const burst = [...first, ...repeated, ...repeated];
    const answers = await Promise.all(burst.map((p) => send(p)));
    expectTwiml(answers);

    const sids = first.map((p) => p.MessageSid!);
    const rows = await written(sids);
    expectOnceWithItsEvent(rows, sids);
    // Grouped: the 80 requests' 60 rows came from fewer transactions than rows (the PostgreSQL record, not ours).
    const transactions = new Set(rows.map((r) => r.xmin)).size;
    expect(transactions).toBeLessThan(rows.length);
    // The gateway's own account agrees: every request was a member of a committed group, in fewer groups.
    expect((await members()) - membersBefore).toBe(burst.length);
    expect((await groups()) - groupsBefore).toBeLessThan(burst.length);

    // Across groups: half of them again, with new ones, in a later burst: only the new ones are stored.
    const later = Array.from({ length: 20 }, () => sms());
    const resent = first.slice(20, 50);
    const again = await Promise.all([...resent, ...later].map((p) => send(p)));
    expectTwiml(again);
    expectOnceWithItsEvent(await written([...sids, ...later.map((p) => p.MessageSid!)]), [...sids, ...later.map((p) => p.MessageSid!)]);

    // Stored once, every other request for it answered as a duplicate (the log lines reach the test through a pipe,
    // maybe after the answers).
    await expectEventually(() => {
      const counts = logged([...sids, ...later.map((p) => p.MessageSid!)]);
      for (const [sid, n] of counts) {
        const copies = burst.filter((p) => p.MessageSid === sid).length + resent.filter((p) => p.MessageSid === sid).length + later.filter((p) => p.MessageSid === sid).length;
        expect(n, sid).toEqual({ stored: 1, duplicate: copies - 1 });
      }
    });

    // And the relay publishes each once.
    const all = [...sids, ...later.map((p) => p.MessageSid!)];
    await expectEventually(async () => {
      const published = (await readStream(stack.nats.url, 'CHANNEL_GATEWAY', 'channel-gateway.message.received')).map((m) => MessageReceived.fromJSON(m.data).providerMessageId);
      for (const sid of all) expect(published.filter((p) => p === sid), sid).toHaveLength(1);
    });
  });

  it('emits each message\'s event with its own request\'s trace, though the group shares one transaction', async () => {
    const params = Array.from({ length: 20 }, () => sms());
    const traces = params.map(() => hex(16));
    const answers = await Promise.all(params.map((p, i) => send(p, { traceparent: `00-${traces[i]}-${hex(8)}-01` })));
    expectTwiml(answers);
    const rows = await written(params.map((p) => p.MessageSid!));
    expectOnceWithItsEvent(rows, params.map((p) => p.MessageSid!));
    expect(new Set(rows.map((r) => r.xmin)).size).toBeLessThan(rows.length);
    for (const row of rows) {
      const i = params.findIndex((p) => p.MessageSid === row.sid);
      expect(row.events[0]!.traceparent, row.sid).toMatch(new RegExp(`^00-${traces[i]}-[0-9a-f]{16}-0[01]$`));
    }
  });

  it('answers a webhook the database refuses with its own 500; the others of its group are stored once and answered 200', async () => {
    const splitsBefore = await splits();
    const good = Array.from({ length: 30 }, () => sms());
    // Signed and well formed, but the database refuses it (a trigger this test adds to its own database: a constraint
    // the gateway does not check up front), so the group's insert fails as a whole.
    const bad = sms({ Body: `refused by the database ${hex(4)}` });
    await stack.db.query(`create or replace function channel_gateway.test_refuse_body() returns trigger language plpgsql as $$
      begin if new.body = '${bad.Body}' then raise exception 'test: refused' using errcode = 'check_violation'; end if; return new; end $$`);
    await stack.db.query(`create trigger test_refuse_body before insert on channel_gateway.inbound_messages for each row execute function channel_gateway.test_refuse_body()`);
    const burst = [...good.slice(0, 15), bad, ...good.slice(15)];
    const answers = await Promise.all(burst.map((p) => send(p)));
    expect(answers[15]).toEqual({ status: 500, body: JSON.stringify({ error: 'internal error' }) });
    expectTwiml(answers.filter((_, i) => i !== 15));

    const goodSids = good.map((p) => p.MessageSid!);
    expectOnceWithItsEvent(await written(goodSids), goodSids);
    expect(await written([bad.MessageSid!])).toEqual([]);
    const [outbox] = await stack.db.query<{ n: number }>(`select count(*)::int as n from channel_gateway.event_log where payload->>'providerMessageId' = $1`, [bad.MessageSid]);
    expect(outbox!.n).toBe(0);
    // It was in a group with others (which was split to find it), not alone.
    expect((await splits()) - splitsBefore).toBeGreaterThanOrEqual(1);
    // The provider's retry of a good one is still a duplicate; the bad one keeps failing alone.
    expectTwiml([await send(good[3]!)]);
    expect((await send(bad)).status).toBe(500);
    expect(await written([bad.MessageSid!])).toEqual([]);
    await stack.db.query('drop trigger test_refuse_body on channel_gateway.inbound_messages');
  });

  it('answers a field with a NUL character with 400 naming it, and stores nothing', async () => {
    const bad = sms({ Body: 'a NUL \u0000 in the body' });
    const answer = await send(bad);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('Body');
    expect(await written([bad.MessageSid!])).toEqual([]);
  });
});
