import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerIdle, expectEventually, startTestStack, type TestStack } from '@domiq/testkit';
import { createSmsChannel, runBounded, UNTHROTTLED_WEBHOOKS, type SmsChannel } from '../support/sms-stack.ts';

// 1,000 signed webhooks while a service crashes (SIGKILL) or the broker restarts: every message must be
// stored exactly once. The gateway's outbox and the consumers' processed-event records are what is tested.
const TOTAL = 1000;

let stack: TestStack;
let channel: SmsChannel;

beforeAll(async () => {
  // 2,300 webhooks from one address to one channel within minutes: far above the default rate limits.
  stack = await startTestStack({ services: ['identity', 'conversations', 'channel-gateway'], env: UNTHROTTLED_WEBHOOKS });
  channel = await createSmsChannel(stack);
});
afterAll(async () => stack?.stop());

// MessageSids must look like Twilio's (SM + 32 hex digits), so each burst gets a hex prefix of its own.
const SID_PREFIX: Record<string, string> = { kill: 'dead', nats: 'beef', term: 'cafe' };

async function sendBurst(tag: string, disrupt: (done: number) => Promise<void>, total = TOTAL): Promise<string[]> {
  const sids: string[] = [];
  await runBounded(total, 16, async (i) => {
    // Twilio retries a webhook that failed; so does this sender, with the same MessageSid.
    const prefix = SID_PREFIX[tag]!;
    const sid = `SM${prefix}${String(i).padStart(32 - prefix.length, '0')}`;
    sids.push(sid);
    await expectEventually(async () => {
      const res = await channel.send({ from: `+1415555${String(i % 10_000).padStart(4, '0')}`, body: `${tag} message ${i}`, messageSid: sid });
      if (res.status !== 200) throw new Error(`gateway answered ${res.status}`);
    }, { timeoutMs: 60_000, intervalMs: 200 });
  }, disrupt);
  return sids;
}

async function storedCounts(tag: string): Promise<{ total: number; distinct: number }> {
  const [row] = await stack.db.query<{ total: number; distinct: number }>(
    `select count(*)::int as total, count(distinct channel_message_id)::int as distinct from conversations.messages where content like $1`, [`${tag} message %`]);
  return row!;
}

async function settled(): Promise<void> {
  await expectEventually(async () => {
    if (!(await consumerIdle(stack.nats.url, 'GATEWAY', 'conversations-message-received'))) throw new Error('consumer still busy');
    const [row] = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from channel_gateway.event_log e where not exists (select 1 from channel_gateway.event_log_publication p where p.event_id = e.id)`);
    if (row!.n !== 0) throw new Error(`${row!.n} outbox rows unpublished`);
  }, { timeoutMs: 60_000, intervalMs: 250 });
}

describe('ingest under faults', () => {
  it(`stores exactly ${TOTAL} messages while conversations is killed with SIGKILL and restarted`, async () => {
    let killed = false;
    let restart: Promise<unknown> | undefined;
    await sendBurst('kill', async (done) => {
      if (!killed && done >= TOTAL * 0.3) {
        killed = true;
        await stack.services.conversations!.kill('SIGKILL');
        // Bring it back while the rest of the burst is still arriving.
        restart = new Promise((r) => setTimeout(r, 1500)).then(() => stack.start('conversations'));
      }
    });
    await restart;
    const counts = await expectEventually(async () => {
      const c = await storedCounts('kill');
      expect(c.total).toBe(TOTAL);
      return c;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    expect(counts.distinct).toBe(TOTAL);
    // And it stays that way once every redelivery that was in flight during the crash has been handled.
    await settled();
    expect(await storedCounts('kill')).toEqual({ total: TOTAL, distinct: TOTAL });
  }, 240_000);

  it(`stores exactly ${TOTAL} messages while NATS is restarted`, async () => {
    let restarted = false;
    let restart: Promise<void> | undefined;
    await sendBurst('nats', async (done) => {
      if (!restarted && done >= TOTAL * 0.3) {
        restarted = true;
        restart = (async () => {
          await stack.nats.stop();
          await new Promise((r) => setTimeout(r, 1500));
          await stack.nats.restart();
        })();
      }
    });
    await restart;
    const counts = await expectEventually(async () => {
      const c = await storedCounts('nats');
      expect(c.total).toBe(TOTAL);
      return c;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    expect(counts.distinct).toBe(TOTAL);
    await settled();
    expect(await storedCounts('nats')).toEqual({ total: TOTAL, distinct: TOTAL });
  }, 240_000);

  it('a gateway stopped with SIGTERM mid-burst flushes its outbox before exiting and loses nothing', async () => {
    const total = 300;
    let stopped = false;
    let unpublishedAtExit = -1;
    let cycle: Promise<unknown> | undefined;
    await sendBurst('term', async (done) => {
      if (!stopped && done >= total * 0.3) {
        stopped = true;
        cycle = (async () => {
          expect(await stack.services['channel-gateway']!.kill('SIGTERM')).toBe(0);
          const [row] = await stack.db.query<{ n: number }>(
            `select count(*)::int as n from channel_gateway.event_log e where not exists (select 1 from channel_gateway.event_log_publication p where p.event_id = e.id)`);
          unpublishedAtExit = row!.n;
          await stack.start('channel-gateway');
        })();
      }
    }, total);
    await cycle;
    expect(unpublishedAtExit).toBe(0);
    await expectEventually(async () => expect((await storedCounts('term')).total).toBe(total), { timeoutMs: 60_000, intervalMs: 500 });
    await settled();
    expect(await storedCounts('term')).toEqual({ total, distinct: total });
  }, 120_000);
});
