import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromiseClient } from '@domiq/grpc';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { ResmanConnectorServiceClient } from '@domiq/proto/resman-connector';
import { DEFAULT_ACCOUNT_ID, DEFAULT_API_KEY, DEFAULT_PARTNER_ID, DEFAULT_PROPERTY_ID, DEMO_AGENT_ID, DOMIQ_PROSPECT_SOURCE_ID, type SimProspect } from '@domiq/resman-sim';
import { consumerIdle, expectEventually, registerTestSecret, startTestStack, type ServiceProcess, type TestStack } from '@domiq/testkit';
import { createSmsChannel, runBounded, UNTHROTTLED_WEBHOOKS, type SmsChannel } from '../support/sms-stack.ts';

// Signed webhooks while consumers crash (SIGKILL) or the broker restarts: every message must be stored exactly
// once, and every downstream effect must happen exactly once too. Two replicas of every process in the pipeline:
// two channel-gateways (webhooks spread over both like a load balancer would, so two outbox relays publish the one
// event_log), and two of each consuming service sharing its durables: conversations (messages), routing-sla (one
// SLA clock per conversation), resman-connector (one ResMan guest card per customer, one ResMan event per message)
// and resolutions (one resolution per escalated conversation). What is tested: the outboxes, JetStream's
// de-duplication and the consumers' processed-event records, across processes.
//
// 300 per burst, not 1,000: on 2 cores the pipeline (two replicas each of the gateway, conversations, routing-sla,
// resolutions and the connector, plus identity, the ResMan simulator, PostgreSQL and NATS) takes some 15-25 webhooks
// a second, and each SIGKILL costs the ack_wait before the dead process's unacknowledged events are redelivered.
// 300 still puts a hundred or more messages before and after every fault and keeps the file near three minutes.
const TOTAL = 300;
const CONSUMER = 'conversations-message-received';
/** Every durable downstream of the webhook, by the stream it reads. */
const DURABLES: Array<[string, string]> = [
  ['CHANNEL_GATEWAY', CONSUMER],
  ['CONVERSATIONS', 'routing-sla-conversation-created'],
  ['CONVERSATIONS', 'resman-connector-message-created'],
  ['CONVERSATIONS', 'resolutions-conversation-escalated'],
];
registerTestSecret(DEFAULT_API_KEY, 'ResMan API key (ingest-faults.test.ts)');
// A process started again while eleven others take a burst on two cores can need well over the usual 30 s to be ready.
const RESTART_READY_MS = 120_000;

let stack: TestStack;
let channel: SmsChannel;
/** The two conversations processes; a SIGKILLed one is started again in place (same ports, same env). */
let conversations: [ServiceProcess, ServiceProcess];
let gateways: [ServiceProcess, ServiceProcess];
/** The two replicas of each other consuming service. */
let routing: [ServiceProcess, ServiceProcess];
let connectors: [ServiceProcess, ServiceProcess];
let resolutions: [ServiceProcess, ServiceProcess];
let conversationsApi: PromiseClient<ConversationsServiceClient>;
let simUrl: string;
/** Where each gateway process takes webhooks (the origin the "load balancer" forwards to). */
let gatewayOrigins: [string, string];

beforeAll(async () => {
  // Thousands of webhooks from one address to one channel within minutes: far above the default rate limits.
  // A killed consumer's unacked messages come back after the ack wait: 5 s instead of 30 s keeps the file short.
  stack = await startTestStack({
    services: ['identity', 'conversations', 'channel-gateway', 'routing-sla', 'resolutions', 'resman-connector'], resmanSim: true,
    // Eleven service processes share the one PostgreSQL (100 connections by default): a small pool each.
    // RESMAN_TIMEOUT_MS 2 s: a SIGKILLed connector's claimed pushes come back after the lease (3 x the timeout).
    env: { ...UNTHROTTLED_WEBHOOKS, CONSUMER_ACK_WAIT_MS: '5000', DB_POOL_MAX: '4', RESMAN_TIMEOUT_MS: '2000' },
  });
  const [conversations2, gateway2, routing2, resolutions2, connector2] = await Promise.all(
    (['conversations', 'channel-gateway', 'routing-sla', 'resolutions', 'resman-connector'] as const).map((s) => stack.startReplica(s)));
  conversations = [stack.services.conversations!, conversations2!];
  gateways = [stack.services['channel-gateway']!, gateway2!];
  routing = [stack.services['routing-sla']!, routing2!];
  resolutions = [stack.services.resolutions!, resolutions2!];
  connectors = [stack.services['resman-connector']!, connector2!];
  gatewayOrigins = [`http://127.0.0.1:${stack.ports.gatewayHttp}`, `http://127.0.0.1:${gateway2!.opts.env.HTTP_PORT}`];
  channel = await createSmsChannel(stack);
  conversationsApi = await stack.client(ConversationsServiceClient, 'conversations', { accountId: channel.accountId, role: 'agent' });
  // Every inbound text is logged to ResMan on the customer's guest card.
  simUrl = `http://127.0.0.1:${stack.ports.resmanSim}`;
  const connector = await stack.client(ResmanConnectorServiceClient, 'resman-connector', { accountId: channel.accountId });
  await connector.upsertIntegration({
    accountId: channel.accountId, propertyId: channel.propertyId, baseUrl: simUrl, resmanAccountId: DEFAULT_ACCOUNT_ID, resmanPropertyId: DEFAULT_PROPERTY_ID,
    integrationPartnerId: DEFAULT_PARTNER_ID, apiKey: DEFAULT_API_KEY, defaultAgentId: DEMO_AGENT_ID, prospectSourceId: DOMIQ_PROSPECT_SOURCE_ID,
  });
}, 180_000);
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

/** Events this process has committed since it (last) started, from its /metrics (one durable of it). */
async function handledBy(proc: ServiceProcess, durable = CONSUMER): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proc.opts.env.OPS_PORT}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('domiq_events_consumed_total{') && l.includes(`consumer="${durable}"`) && l.includes('outcome="handled"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

const allProcesses = () => [...conversations, ...gateways, ...routing, ...resolutions, ...connectors];

/** Every consumer idle (nothing pending or unacknowledged), every outbox row published, every replica ready. */
async function settled(): Promise<void> {
  await expectEventually(async () => {
    for (const proc of allProcesses()) {
      const res = await fetch(`http://127.0.0.1:${proc.opts.env.OPS_PORT}/readyz`);
      if (res.status !== 200) throw new Error(`${proc.opts.name} not ready: ${res.status}`);
    }
    for (const [stream, durable] of DURABLES) if (!(await consumerIdle(stack.nats.url, stream, durable))) throw new Error(`${durable} still busy`);
    const n = await unpublishedOutboxRows();
    if (n !== 0) throw new Error(`${n} outbox rows unpublished`);
    const [c] = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from conversations.event_log e where not exists (select 1 from conversations.event_log_publication p where p.event_id = e.id)`);
    if (c!.n !== 0) throw new Error(`${c!.n} conversations outbox rows unpublished`);
    // The connector's pushes run from its durable queue, after its consumer has acked.
    const [q] = await stack.db.query<{ n: number }>(`select count(*)::int as n from resman_connector.lead_sync_queue where status in ('pending', 'processing')`);
    if (q!.n !== 0) throw new Error(`${q!.n} ResMan pushes still queued`);
  }, { timeoutMs: 120_000, intervalMs: 250 });
}

/**
 * The downstream effects of a burst's messages, each exactly once: one SLA clock per conversation (routing-sla), one
 * communication-log row and one ResMan event per message, one ResMan guest card per customer (resman-connector).
 */
async function expectDownstreamOnce(tag: string, total: number): Promise<void> {
  const [clocks] = await stack.db.query<{ conversations: number; rows: number; distinct: number }>(
    `with c as (select distinct conversation_id from conversations.messages where content like $1)
     select (select count(*)::int from c) as conversations, count(s.*)::int as rows, count(distinct s.conversation_id)::int as distinct
       from c left join routing_sla.conversation_slas s on s.conversation_id = c.conversation_id`, [`${tag} message %`]);
  expect(clocks!.rows, `${tag}: SLA clocks`).toBe(clocks!.conversations);
  expect(clocks!.distinct, `${tag}: SLA clocks`).toBe(clocks!.conversations);
  const [logged] = await stack.db.query<{ rows: number; ok: number }>(
    `select count(*)::int as rows, count(*) filter (where l.sync_status = 'success')::int as ok
       from conversations.messages m join resman_connector.communication_log_sync l on l.message_id = m.id::text where m.content like $1`, [`${tag} message %`]);
  expect(logged, `${tag}: communication log`).toEqual({ rows: total, ok: total });
  const messageIds = (await stack.db.query<{ id: string }>(`select id from conversations.messages where content like $1`, [`${tag} message %`])).map((r) => r.id);
  const prospects = (await (await fetch(`${simUrl}/_sim/prospects`)).json()) as SimProspect[];
  const carried = new Map<string, number>();
  for (const e of prospects.flatMap((p) => p.events)) {
    const id = /\[domiq:([0-9a-f-]{36})\]/.exec(e.description ?? '')?.[1];
    if (id) carried.set(id, (carried.get(id) ?? 0) + 1);
  }
  const notOnce = messageIds.filter((id) => carried.get(id) !== 1).map((id) => `${id}: ${carried.get(id) ?? 0}`);
  expect(notOnce, `${tag}: ResMan events not exactly once`).toEqual([]);
  const phones = prospects.flatMap((p) => p.people.flatMap((person) => person.phones.map((ph) => ph.number.replace(/\D/g, ''))));
  expect(phones.length, 'one guest card per customer').toBe(new Set(phones).size);
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
  await expectDownstreamOnce(tag, total);
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
  const before = await Promise.all(procs.map((p) => handledBy(p)));
  await sendBurst(tag, async () => undefined, 80);
  await expectExactlyOnce(tag, 80);
  await expectEventually(async () => {
    const now = await Promise.all(procs.map((p) => handledBy(p)));
    now.forEach((n, i) => expect(n, `${procs[i]!.opts.name} handled nothing after its restart`).toBeGreaterThan(before[i]!));
  }, { timeoutMs: 10_000, intervalMs: 200 });
}

describe('ingest under faults, two replicas of every process', () => {
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
        // One replica of every consuming service on the path dies at once: conversations, routing-sla, the connector.
        await Promise.all([victim.kill('SIGKILL'), routing[1].kill('SIGKILL'), connectors[1].kill('SIGKILL')]);
        // Started again at once (as a supervisor would) while the rest of the burst is still arriving; the
        // events they held unacknowledged come back after ack_wait, to whichever replica pulls them.
        restart = Promise.all([victim.start(RESTART_READY_MS), routing[1].start(RESTART_READY_MS), connectors[1].start(RESTART_READY_MS)]);
      }
    });
    await restart;
    expect(beforeKill).toBeDefined();
    await expectExactlyOnce('kill');
    expect(await handledBy(survivor)).toBeGreaterThan(survivorBefore);
    // The surviving replicas of routing-sla and of the connector did work too (the killed ones' counters restarted).
    for (const [proc, durable] of [[routing[0], 'routing-sla-conversation-created'], [connectors[0], 'resman-connector-message-created']] as const) {
      expect(await handledBy(proc, durable), `${proc.opts.name} handled no ${durable}`).toBeGreaterThan(0);
    }
    // The restarted process takes part again.
    await expectRestartedTakePart('killafter', [victim]);
  }, 240_000);

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
        restart = Promise.all([first.start(RESTART_READY_MS), second.start(RESTART_READY_MS)]);
      }
    });
    await restart;
    expect(step).toBe(2);
    await expectExactlyOnce('both');
    // Both restarted processes take part again.
    await expectRestartedTakePart('bothafter', [first, second]);
  }, 240_000);

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
  }, 240_000);

  it('opens exactly one resolution per escalated conversation while a resolutions replica is killed with SIGKILL', async () => {
    const ESCALATIONS = 40;
    const durable = 'resolutions-conversation-escalated';
    const ids = (await stack.db.query<{ id: string }>(
      `select distinct conversation_id as id from conversations.messages where content like 'kill message %' limit $1`, [ESCALATIONS])).map((r) => r.id);
    expect(ids).toHaveLength(ESCALATIONS);
    const before = [await handledBy(resolutions[0], durable)];
    let killed = false;
    let restart: Promise<unknown> | undefined;
    await runBounded(ESCALATIONS, 8, async (i) => {
      await conversationsApi.escalateConversation({ accountId: channel.accountId, conversationId: ids[i]!, issueType: 'ISSUE_TYPE_BILLING', reason: `fault ${i}`, severity: 'SEVERITY_P1' });
    }, async (done) => {
      // Set before the first await: the other workers reach this point meanwhile and must not kill and start it again.
      if (!killed && done >= ESCALATIONS / 3) {
        killed = true;
        await resolutions[1].kill('SIGKILL');
        restart = resolutions[1].start(RESTART_READY_MS);
      }
    });
    await restart;
    await settled();
    const [row] = await stack.db.query<{ rows: number; distinct: number }>(
      `select count(*)::int as rows, count(distinct conversation_id)::int as distinct from resolutions.resolutions where conversation_id = any($1)`, [ids]);
    expect(row).toEqual({ rows: ESCALATIONS, distinct: ESCALATIONS });
    expect(await handledBy(resolutions[0], durable), 'the surviving resolutions replica took part').toBeGreaterThan(before[0]!);
  }, 120_000);

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
          await gateways[0].start(RESTART_READY_MS);
        })();
      }
    }, total);
    await cycle;
    expect(unpublishedAtExit).toBe(0);
    await expectExactlyOnce('term', total);
  }, 120_000);
});
