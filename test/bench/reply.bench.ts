// `npm run bench -- reply`: the reply round trip. An agent's SendReply (gRPC) -> conversations stores it and publishes
// reply_requested -> the gateway's delivery queue sends it to Twilio (the simulator, a process) -> Twilio's status
// callbacks (queued, sent, delivered) come back through the gateway's signed webhook -> conversations records
// "delivered". Beside it, in the same run, the floor the simulator itself sets: a bare client posting the same
// message straight to the simulator and timing its own delivered callback. Prints JSON lines; asserts nothing.
//
// Knobs: BENCH_REPLIES=300 (replies, each to its own conversation), BENCH_REPLY_RATE=20 (replies per second, open
// loop), TEST_LOG_LEVEL=warn.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChannelGatewayServiceClient } from '@domiq/proto/channel-gateway';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { expectEventually, isPortOpen, startTestStack, warmCompileCache } from '@domiq/testkit';
import { newAccountSid, registerTwilioSimAccount, sendInboundSms, twilioSimMessages } from '@domiq/twilio-sim';
import { knob, latencyStats, progress, round } from './measure.ts';

const N = knob('BENCH_REPLIES', 300);
const RATE = knob('BENCH_REPLY_RATE', 20);
const TOKEN = 'bench-reply-twilio-token';
const CHANNEL_NUMBER = '+14155550100';
const phone = (i: number) => `+1628555${String(i).padStart(4, '0')}`;

// Every module's stripped source into Node's compile cache first, as `npm start` and the tests do.
warmCompileCache();
const stack = await startTestStack({
  services: ['identity', 'conversations', 'channel-gateway'], twilioSim: true,
  env: { LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' },
});
const line = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const stats = latencyStats;

try {
  const accountId = await stack.createAccount('Bench Replies');
  const twilioAccount = newAccountSid();
  await registerTwilioSimAccount(stack.twilioSimUrl, { accountSid: twilioAccount, authToken: TOKEN });
  await stack.adminClient(ChannelGatewayServiceClient, 'channel-gateway').upsertChannel({
    accountId, propertyId: crypto.randomUUID(), channelKey: 'bench-replies', type: 'CHANNEL_SMS', name: 'Bench line', address: CHANNEL_NUMBER,
    credentials: { $case: 'twilio', value: { accountSid: twilioAccount, authToken: TOKEN } },
  });
  await expectEventually(async () => {
    if (!(await isPortOpen(stack.ports.gatewayHttp))) throw new Error('webhook port not open yet');
  });
  const agent = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'agent' });

  // Baseline: the simulator's own floor (HTTP post, its callback schedule, one callback receiver) with none of ours.
  const delivered = new Map<string, () => void>();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      if (form.get('MessageStatus') === 'delivered') delivered.get(form.get('MessageSid') ?? '')?.();
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response></Response>');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/status`;
  const auth = `Basic ${Buffer.from(`${twilioAccount}:${TOKEN}`).toString('base64')}`;
  const direct = async (i: number) => {
    const t0 = performance.now();
    const res = await fetch(`${stack.twilioSimUrl}/2010-04-01/Accounts/${twilioAccount}/Messages.json`, {
      method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ To: phone(9000 + (i % 900)), From: CHANNEL_NUMBER, Body: `direct ${i}`, StatusCallback: callbackUrl }).toString(),
    });
    const { sid } = (await res.json()) as { sid: string };
    const accepted = performance.now() - t0;
    await new Promise<void>((resolve) => delivered.set(sid, resolve));
    return { accepted, delivered: performance.now() - t0 };
  };
  const paced = async <T>(count: number, fn: (i: number) => Promise<T>): Promise<T[]> => {
    const start = performance.now();
    return Promise.all(Array.from({ length: count }, async (_, i) => {
      const wait = start + (i * 1000) / RATE - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return fn(i);
    }));
  };
  progress(`baseline: ${N} messages straight to the simulator at ${RATE}/s`);
  const base = await paced(N, direct);
  receiver.close();

  // Conversations to answer: one customer each.
  const webhookUrl = `http://127.0.0.1:${stack.ports.gatewayHttp}/webhooks/twilio/bench-replies`;
  progress(`seeding ${N} conversations`);
  for (let i = 0; i < N; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, N - i) }, (_, k) =>
      sendInboundSms(webhookUrl, TOKEN, { accountSid: twilioAccount, to: CHANNEL_NUMBER, from: phone(i + k), body: `Is unit ${i + k} available?` })));
  }
  const conversationOf = await expectEventually(async () => {
    const rows = await stack.db.query<{ from: string; conversation_id: string }>(
      `select channel_metadata->>'from' as from, conversation_id from conversations.messages where direction = 'inbound'`);
    if (rows.length < N) throw new Error(`${rows.length}/${N} stored`);
    return new Map(rows.map((r) => [r.from, r.conversation_id]));
  }, { timeoutMs: 120_000, intervalMs: 250 });

  // Replies at the same rate; "delivered recorded" is when conversations' row says so (polled every 5 ms).
  progress(`${N} replies at ${RATE}/s`);
  const sentAt = new Map<string, number>();
  const recordedAt = new Map<string, number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const waiting = [...sentAt.keys()].filter((id) => !recordedAt.has(id));
      if (waiting.length) {
        const rows = await stack.db.query<{ id: string }>(`select id from conversations.messages where id = any($1::uuid[]) and status = 'delivered'`, [waiting]);
        const now = performance.now();
        for (const r of rows) recordedAt.set(r.id, now);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const wallStart = Date.now() - performance.now();
  const replies = await paced(N, async (i) => {
    const t0 = performance.now();
    const { message } = await agent.sendReply({ accountId, conversationId: conversationOf.get(phone(i))!, content: `Yes, unit ${i} is available.`, idempotencyKey: crypto.randomUUID() });
    sentAt.set(message!.id, t0);
    return { id: message!.id, to: phone(i), t0, answered: performance.now() - t0 };
  });
  await expectEventually(async () => {
    if (recordedAt.size < N) throw new Error(`${recordedAt.size}/${N} delivered`);
  }, { timeoutMs: 120_000, intervalMs: 100 });
  polling = false;
  await poller;
  const atSim = new Map((await twilioSimMessages(stack.twilioSimUrl)).map((m) => [m.to, Date.parse(m.dateCreated) - wallStart]));

  const roundTrip = stats(replies.map((r) => recordedAt.get(r.id)! - r.t0));
  const toProvider = stats(replies.map((r) => atSim.get(r.to)! - r.t0));
  const baseRound = stats(base.map((b) => b.delivered));
  const baseAccept = stats(base.map((b) => b.accepted));
  const rpc = stats(replies.map((r) => r.answered));
  const common = { bench: 'reply', unit: 'ms', replies: N, rate_per_s: RATE, baseline_kind: 'provider_direct' };
  for (const p of ['p50', 'p99'] as const) {
    line({ ...common, metric: `round_trip_${p}`, value: roundTrip[p], baseline: baseRound[p], ratio: round(roundTrip[p] / Math.max(1, baseRound[p])) });
  }
  for (const p of ['p50', 'p99'] as const) {
    line({ ...common, metric: `to_provider_${p}`, value: toProvider[p], baseline: baseAccept[p], ratio: round(toProvider[p] / Math.max(1, baseAccept[p])) });
  }
  for (const p of ['p50', 'p99'] as const) line({ bench: 'reply', metric: `send_reply_rpc_${p}`, value: rpc[p], unit: 'ms', replies: N, rate_per_s: RATE });
  // Where the time goes, from the rows' own timestamps (ms after the SendReply call, p50 of each stage).
  const stages = await stack.db.query<{ id: string; stored: Date; queued: Date; claimed: Date; receipt: Date | null }>(
    `select m.id, m.stored_at as stored, o.created_at as queued, o.last_attempt_at as claimed,
            (select max(r.received_at) from channel_gateway.delivery_receipts r where r.provider_message_id = o.provider_message_id and r.provider_status = 'delivered') as receipt
       from conversations.messages m join channel_gateway.outbound_messages o on o.message_id = m.id where m.id = any($1::uuid[])`, [replies.map((r) => r.id)]);
  const t0 = new Map(replies.map((r) => [r.id, r.t0 + wallStart]));
  const at = (pick: (r: (typeof stages)[number]) => Date | null) => stats(stages.map((r) => new Date(pick(r) ?? NaN).getTime() - t0.get(r.id)!)).p50;
  const simAt = stats(replies.map((r) => atSim.get(r.to)! - r.t0)).p50;
  line({
    bench: 'reply', metric: 'stages_p50', unit: 'ms', stored: at((r) => r.stored), queued_in_gateway: at((r) => r.queued), claimed: at((r) => r.claimed),
    at_provider: simAt, delivered_receipt: at((r) => r.receipt), delivered_recorded: roundTrip.p50,
  });
} finally {
  await stack.stop();
}
process.exit(0);
