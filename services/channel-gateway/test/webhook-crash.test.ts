import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { expectEventually, isPortOpen, readStream, registerTestSecret, type ServiceProcess, type TestStack } from '@domiq/testkit';
import { gatewayWithSmsChannel, hex, inboundSms } from './twilio.fixtures.ts';
import { postSigned, runBounded, UNTHROTTLED_WEBHOOKS, type Answer } from './webhook-load.ts';

// The group commit's promise, with a real gateway process: a request is answered 200 only once its row and its
// event have committed. A steady stream of concurrent webhooks, the process killed (SIGKILL) or stopped (SIGTERM)
// in the middle of it, with groups queued and committing; then every 200 must be in the database with its event
// (checked while the process is still down: nothing after the fact can make up for a lost one), the requests the
// kill left unanswered are sent again as the provider would (each stored once in the end, whether or not its group
// had committed), and the outbox relay publishes every stored message once. The group settings are the defaults.
const TOKEN = registerTestSecret('0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'Twilio auth token (webhook-crash.test.ts)');
const CHANNEL_KEY = 'crash-sms';
/** Requests in flight at any time: enough that groups are queued and committing whenever the process is stopped. */
const CONCURRENCY = 48;
const TOTAL = 1500;
/** 200 answers before the process is stopped (well before TOTAL: the stream is still going when it dies). */
const STOP_AFTER = 300;

let stack: TestStack;
let gateway: ServiceProcess;
let twilioAccount: string;
let base: string;

beforeAll(async () => {
  ({ stack, base, twilioAccount } = await gatewayWithSmsChannel(CHANNEL_KEY, TOKEN, {}, { env: UNTHROTTLED_WEBHOOKS }));
  gateway = stack.services['channel-gateway']!;
});
afterAll(async () => stack?.stop());

const sms = (tag: string) => inboundSms({ AccountSid: twilioAccount, Body: `${tag} ${hex(4)}` });
const send = (params: Record<string, string>) => postSigned(stack.ports.gatewayHttp, base, CHANNEL_KEY, TOKEN, params);

interface Stream {
  /** The answer of each request that got one, by MessageSid. */
  answered: Map<string, Answer>;
  /** MessageSids whose request was sent but whose connection failed before an answer. */
  unanswered: string[];
}

/** Sends up to TOTAL fresh messages, CONCURRENCY at a time; after STOP_AFTER 200s calls `stop` and sends no more. */
async function streamUntil(tag: string, stop: () => Promise<unknown>): Promise<Stream> {
  const params = Array.from({ length: TOTAL }, () => sms(tag));
  const answered = new Map<string, Answer>();
  const unanswered: string[] = [];
  let ok = 0;
  let stopping: Promise<unknown> | undefined;
  await runBounded(TOTAL, CONCURRENCY, async (i) => {
    const sid = params[i]!.MessageSid!;
    try {
      const answer = await send(params[i]!);
      answered.set(sid, answer);
      if (answer.status === 200 && ++ok >= STOP_AFTER) stopping ??= stop();
    } catch {
      unanswered.push(sid);
    }
  }, () => stopping !== undefined);
  await stopping;
  return { answered, unanswered };
}

/** How many inbound rows and message.received events each MessageSid has, and whether the two came from one transaction. */
async function storedOf(sids: string[]): Promise<Map<string, { rows: number; events: number; together: boolean }>> {
  const found = await stack.db.query<{ sid: string; rows: number; events: number; together: boolean }>(
    `select m.provider_message_id as sid, count(distinct m.id)::int as rows, count(e.id)::int as events, bool_and(e.xmin = m.xmin) as together
       from channel_gateway.inbound_messages m
       left join channel_gateway.event_log e on e.entity_id = m.id and e.subject = 'channel-gateway.message.received'
      where m.provider_message_id = any($1) group by m.provider_message_id`, [sids]);
  return new Map(found.map((r) => [r.sid, { rows: r.rows, events: r.events, together: r.together }]));
}

async function expectEachStoredOnceWithItsEvent(sids: string[]): Promise<void> {
  const stored = await storedOf(sids);
  const wrong = sids.filter((sid) => {
    const s = stored.get(sid);
    return !s || s.rows !== 1 || s.events !== 1 || !s.together;
  }).map((sid) => `${sid}: ${JSON.stringify(stored.get(sid) ?? 'not stored')}`);
  expect(wrong).toEqual([]);
}

async function startAgain(): Promise<void> {
  await stack.start('channel-gateway');
  await expectEventually(async () => {
    if (!(await isPortOpen(stack.ports.gatewayHttp))) throw new Error('webhook port not open yet');
  });
}

/** The provider retrying what got no answer: each is answered 200 now (stored, or a duplicate of what had committed). */
async function resend(stream: Stream, tag: string): Promise<void> {
  const params = new Map([...stream.unanswered].map((sid) => [sid, inboundSms({ AccountSid: twilioAccount, MessageSid: sid, Body: `${tag} retry` })]));
  const answers = await Promise.all([...params.values()].map((p) => send(p)));
  for (const a of answers) expect(a.status).toBe(200);
}

/** Every stored message of these has been published to CHANNEL_GATEWAY exactly once (and recorded as published). */
async function expectPublishedOnce(sids: string[]): Promise<void> {
  await expectEventually(async () => {
    const [pending] = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from channel_gateway.event_log e where not exists (select 1 from channel_gateway.event_log_publication p where p.event_id = e.id)`);
    expect(pending!.n).toBe(0);
  }, { timeoutMs: 30_000 });
  const published = (await readStream(stack.nats.url, 'CHANNEL_GATEWAY', 'channel-gateway.message.received')).map((m) => MessageReceived.fromJSON(m.data).providerMessageId);
  const counts = new Map<string, number>();
  for (const sid of published) counts.set(sid, (counts.get(sid) ?? 0) + 1);
  expect(sids.filter((sid) => counts.get(sid) !== 1).map((sid) => `${sid}: ${counts.get(sid) ?? 0}`)).toEqual([]);
}

describe('group commit and process death', () => {
  it('a SIGKILL mid-stream never leaves a 200 without its row and its event; the unanswered, resent, are stored once', async () => {
    const stream = await streamUntil('killed', () => gateway.kill('SIGKILL'));
    const ok = [...stream.answered].filter(([, a]) => a.status === 200).map(([sid]) => sid);
    expect(ok.length).toBeGreaterThanOrEqual(STOP_AFTER);
    // Nothing but 200s came back: dying is not an answer.
    expect([...stream.answered.values()].filter((a) => a.status !== 200)).toEqual([]);
    // The kill landed with requests in flight (queued, committing, or committed and not yet answered).
    expect(stream.unanswered.length).toBeGreaterThan(0);
    expect(gateway.running).toBe(false);

    // While the process is down: every 200 is durable, its row and its event written by one transaction.
    await expectEachStoredOnceWithItsEvent(ok);

    await startAgain();
    await resend(stream, 'killed');
    const all = [...ok, ...stream.unanswered];
    await expectEachStoredOnceWithItsEvent(all);
    // The restarted relay publishes what the dead one had not (and nothing twice).
    await expectPublishedOnce(all);
  });

  it('a SIGTERM mid-stream answers what it took in, commits it and publishes it before the process exits', async () => {
    const stream = await streamUntil('stopped', () => gateway.stop());
    expect(await gateway.exited).toBe(0);
    const ok = [...stream.answered].filter(([, a]) => a.status === 200).map(([sid]) => sid);
    expect(ok.length).toBeGreaterThanOrEqual(STOP_AFTER);
    // Requests it had taken in were finished, not failed; later ones found the door closed (no answer at all).
    expect([...stream.answered.values()].filter((a) => a.status !== 200)).toEqual([]);
    await expectEachStoredOnceWithItsEvent(ok);
    // Flushed on the way out: every committed event was published before the process exited.
    const [pending] = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from channel_gateway.event_log e where not exists (select 1 from channel_gateway.event_log_publication p where p.event_id = e.id)`);
    expect(pending!.n).toBe(0);

    await startAgain();
    await resend(stream, 'stopped');
    const all = [...ok, ...stream.unanswered];
    await expectEachStoredOnceWithItsEvent(all);
    await expectPublishedOnce(all);
  });
});
