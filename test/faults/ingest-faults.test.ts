import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerIdle, expectEventually, startTestStack, type ServiceProcess, type TestStack } from '@domiq/testkit';
import { createSmsChannel, runBounded, UNTHROTTLED_WEBHOOKS, type SmsChannel } from '../support/sms-stack.ts';

// Signed webhooks while consumers crash (SIGKILL) or the broker restarts: every message must be stored exactly
// once. Two replicas of every process in the pipeline: two channel-gateways (webhooks spread over both like a
// load balancer would, so two outbox relays publish the one event_log) and two conversations processes sharing
// the one durable consumer. What is tested: the gateways' outbox, JetStream's de-duplication and the consumers'
// processed-event records, across processes.
//
// 400 per burst, not 1,000: on 2 cores the pipeline (2 gateways, 2 conversations, identity, PostgreSQL, NATS)
// takes some 25-30 webhooks a second, and each SIGKILL costs the 30 s ack_wait before the dead process's
// unacknowledged events are redelivered. 400 still puts hundreds of messages before and after every fault and
// keeps the file near two minutes.
const TOTAL = 400;
const CONSUMER = 'conversations-message-received';

let stack: TestStack;
let channel: SmsChannel;
/** The two conversations processes; a SIGKILLed one is started again in place (same ports, same env). */
let conversations: [ServiceProcess, ServiceProcess];
let gateways: [ServiceProcess, ServiceProcess];
/** Where each gateway process takes webhooks (the origin the "load balancer" forwards to). */
let gatewayOrigins: [string, string];

beforeAll(async () => {
  // Thousands of webhooks from one address to one channel within minutes: far above the default rate limits.
  // A killed consumer's unacked messages come back after the ack wait: 5 s instead of 30 s keeps the file short.
  stack = await startTestStack({ services: ['identity', 'conversations', 'channel-gateway'], env: { ...UNTHROTTLED_WEBHOOKS, CONSUMER_ACK_WAIT_MS: '5000' } });
  const [conversations2, gateway2] = await Promise.all([stack.startReplica('conversations'), stack.startReplica('channel-gateway')]);
  conversations = [stack.services.conversations!, conversations2];
  gateways = [stack.services['channel-gateway']!, gateway2];
  gatewayOrigins = [`http://127.0.0.1:${stack.ports.gatewayHttp}`, `http://127.0.0.1:${gateway2.opts.env.HTTP_PORT}`];
  channel = await createSmsChannel(stack);
}, 120_000);
afterAll(async () => stack?.stop());

// MessageSids must look like Twilio's (SM + 32 hex digits), so each burst gets a hex prefix of its own.
const SID_PREFIX: Record<string, string> = { kill: 'dead', both: 'b0b0', nats: 'beef', term: 'cafe', killafter: 'dea1', bothafter: 'b0b1' };

/** Which gateway process (0 or 1) answered 200 for each MessageSid. */
const answeredBy = new Map<string, number>();

async function sendBurst(tag: string, disrupt: (done: number) => Promise<void>, total = TOTAL): Promise<string[]> {
  const sids: string[] = [];
  await runBounded(total, 16, async (i) => {
    const prefix = SID_PREFIX[tag]!;
    const sid = `SM${prefix}${String(i).padStart(32 - prefix.length, '0')}`;
    sids.push(sid);
    // Twilio retries a webhook that failed with the same MessageSid; the load balancer sends each try to the
    // next gateway process (so a retry after a gateway failure usually lands on the other one).
    let attempt = 0;
    await expectEventually(async () => {
      const g = (i + attempt++) % 2;
      const res = await channel.send({ from: `+1415555${String(i % 10_000).padStart(4, '0')}`, body: `${tag} message ${i}`, messageSid: sid }, { via: gatewayOrigins[g] });
      if (res.status !== 200) throw new Error(`gateway answered ${res.status}`);
      answeredBy.set(sid, g);
    }, { timeoutMs: 60_000, intervalMs: 200 });
  }, disrupt);
  return sids;
}

async function storedCounts(tag: string): Promise<{ total: number; distinct: number }> {
  const [row] = await stack.db.query<{ total: number; distinct: number }>(
    `select count(*)::int as total, count(distinct channel_message_id)::int as distinct from conversations.messages where content like $1`, [`${tag} message %`]);
  return row!;
}

async function unpublishedOutboxRows(): Promise<number> {
  const [row] = await stack.db.query<{ n: number }>(
    `select count(*)::int as n from channel_gateway.event_log e where not exists (select 1 from channel_gateway.event_log_publication p where p.event_id = e.id)`);
  return row!.n;
}

/** Events this process has committed since it (last) started, from its /metrics. */
async function handledBy(proc: ServiceProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proc.opts.env.OPS_PORT}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('domiq_events_consumed_total{') && l.includes(`consumer="${CONSUMER}"`) && l.includes('outcome="handled"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Both consumers idle (nothing pending or unacknowledged), every outbox row published, both replicas ready. */
async function settled(): Promise<void> {
  await expectEventually(async () => {
    for (const proc of [...conversations, ...gateways]) {
      const res = await fetch(`http://127.0.0.1:${proc.opts.env.OPS_PORT}/readyz`);
      if (res.status !== 200) throw new Error(`${proc.opts.name} not ready: ${res.status}`);
    }
    if (!(await consumerIdle(stack.nats.url, 'CHANNEL_GATEWAY', CONSUMER))) throw new Error('consumer still busy');
    const n = await unpublishedOutboxRows();
    if (n !== 0) throw new Error(`${n} outbox rows unpublished`);
  }, { timeoutMs: 90_000, intervalMs: 250 });
}

/** Exactly `total` stored, all distinct, and still so once everything in flight during the fault has been handled. */
async function expectExactlyOnce(tag: string, total = TOTAL): Promise<void> {
  const counts = await expectEventually(async () => {
    const c = await storedCounts(tag);
    expect(c.total).toBe(total);
    return c;
  }, { timeoutMs: 90_000, intervalMs: 500 });
  expect(counts.distinct).toBe(total);
  await settled();
  expect(await storedCounts(tag)).toEqual({ total, distinct: total });
}

/** Both conversations processes are consuming: each has committed at least one event (since it started). */
async function expectBothConsumed(baseline: [number, number] = [0, 0]): Promise<[number, number]> {
  const now = [await handledBy(conversations[0]), await handledBy(conversations[1])] as [number, number];
  expect(now[0], `${conversations[0].opts.name} handled nothing`).toBeGreaterThan(baseline[0]);
  expect(now[1], `${conversations[1].opts.name} handled nothing`).toBeGreaterThan(baseline[1]);
  return now;
}

/**
 * After a restart the other replica may have drained the whole backlog alone (ack_wait is short here), so whether
 * the restarted process takes part is shown with fresh traffic: a small burst, stored exactly once, that both
 * replicas pull from.
 */
async function expectRestartedTakePart(tag: string, procs: ServiceProcess[]): Promise<void> {
  const before = await Promise.all(procs.map(handledBy));
  await sendBurst(tag, async () => undefined, 80);
  await expectExactlyOnce(tag, 80);
  await expectEventually(async () => {
    const now = await Promise.all(procs.map(handledBy));
    now.forEach((n, i) => expect(n, `${procs[i]!.opts.name} handled nothing after its restart`).toBeGreaterThan(before[i]!));
  }, { timeoutMs: 10_000, intervalMs: 200 });
}

describe('ingest under faults, two replicas of each process', () => {
  it(`stores exactly ${TOTAL} messages while one conversations replica is killed with SIGKILL and restarted`, async () => {
    const [survivor, victim] = conversations;
    let killed = false;
    let restart: Promise<unknown> | undefined;
    let beforeKill: [number, number] | undefined;
    const survivorBefore = await handledBy(survivor);
    await sendBurst('kill', async (done) => {
      if (!killed && done >= TOTAL * 0.3) {
        killed = true;
        // Both were sharing the work up to here.
        beforeKill = await expectEventually(() => expectBothConsumed(), { timeoutMs: 10_000, intervalMs: 100 });
        await victim.kill('SIGKILL');
        // Started again at once (as a supervisor would) while the rest of the burst is still arriving; the
        // events it held unacknowledged come back after ack_wait, to whichever replica pulls them.
        restart = victim.start();
      }
    });
    await restart;
    expect(beforeKill).toBeDefined();
    await expectExactlyOnce('kill');
    expect(await handledBy(survivor)).toBeGreaterThan(survivorBefore);
    // The restarted process takes part again.
    await expectRestartedTakePart('killafter', [victim]);
  }, 150_000);

  it(`stores exactly ${TOTAL} messages while both conversations replicas are killed with SIGKILL, one after the other`, async () => {
    const [first, second] = conversations;
    let step = 0;
    let restart: Promise<unknown> | undefined;
    await sendBurst('both', async (done) => {
      if (step === 0 && done >= TOTAL * 0.2) {
        step = 1;
        await expectEventually(() => expectBothConsumed(), { timeoutMs: 10_000, intervalMs: 100 });
        await first.kill('SIGKILL');
      } else if (step === 1 && done >= TOTAL * 0.4) {
        step = 2;
        // Now no consumer at all: the gateways keep taking webhooks and publishing, the stream holds the backlog.
        await second.kill('SIGKILL');
        restart = Promise.all([first.start(), second.start()]);
      }
    });
    await restart;
    expect(step).toBe(2);
    await expectExactlyOnce('both');
    // Both restarted processes take part again.
    await expectRestartedTakePart('bothafter', [first, second]);
  }, 150_000);

  it(`stores exactly ${TOTAL} messages while NATS is restarted`, async () => {
    let restarted = false;
    let restart: Promise<void> | undefined;
    const before = [await handledBy(conversations[0]), await handledBy(conversations[1])] as [number, number];
    const backlogBefore = await unpublishedOutboxRows();
    await sendBurst('nats', async (done) => {
      if (!restarted && done >= TOTAL * 0.3) {
        restarted = true;
        restart = (async () => {
          await stack.nats.stop();
          // The broker stays down until the gateways have visibly taken webhooks they could not publish (their
          // outbox grows), not for a fixed time.
          await expectEventually(async () => {
            const n = await unpublishedOutboxRows();
            if (n < backlogBefore + 20) throw new Error(`only ${n} outbox rows waiting`);
          }, { timeoutMs: 30_000, intervalMs: 100 });
          await stack.nats.restart();
        })();
      }
    });
    await restart;
    expect(restarted).toBe(true);
    await expectExactlyOnce('nats');
    await expectBothConsumed(before);
  }, 150_000);

  it('a gateway stopped with SIGTERM mid-burst flushes its outbox before exiting and loses nothing', async () => {
    const total = 200;
    let stopped = false;
    let unpublishedAtExit = -1;
    let cycle: Promise<unknown> | undefined;
    await sendBurst('term', async (done) => {
      if (!stopped && done >= total * 0.3) {
        stopped = true;
        cycle = (async () => {
          // The other gateway keeps taking webhooks (and writing outbox rows) meanwhile, so the whole outbox
          // need not be empty at exit: every row of a webhook this process answered must be published.
          expect(await gateways[0].kill('SIGTERM')).toBe(0);
          const mine = [...answeredBy].filter(([sid, g]) => g === 0 && sid.startsWith(`SM${SID_PREFIX.term}`)).map(([sid]) => sid);
          const [row] = await stack.db.query<{ rows: number; unpublished: number }>(
            `select count(*)::int as rows, count(*) filter (where not exists (select 1 from channel_gateway.event_log_publication p where p.event_id = e.id))::int as unpublished
               from channel_gateway.event_log e where e.payload->>'providerMessageId' = any($1)`, [mine]);
          expect(mine.length).toBeGreaterThan(0);
          expect(row!.rows).toBeGreaterThanOrEqual(mine.length);
          unpublishedAtExit = row!.unpublished;
          await gateways[0].start();
        })();
      }
    }, total);
    await cycle;
    expect(unpublishedAtExit).toBe(0);
    await expectExactlyOnce('term', total);
  }, 120_000);
});
