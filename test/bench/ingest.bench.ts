// `npm run bench`: end-to-end ingest of the walking skeleton (signed Twilio webhook in -> message stored by
// conversations) against a bare baseline measured in the same run on the same machine (HTTP -> JetStream
// publish -> pull consumer -> one INSERT). Prints one JSON object per line; no thresholds are asserted here.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import pg from 'pg';
import { headers } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { expectEventually, freePort, startTestStack } from '@domiq/testkit';
import { createSmsChannel, runBounded, UNTHROTTLED_WEBHOOKS } from '../support/sms-stack.ts';
import { inboundSmsForm } from '@domiq/twilio-sim';

const N = Number(process.env.BENCH_MESSAGES ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WARMUP = 100;
// Latency is measured at a fixed arrival rate below capacity (a saturated queue only measures its own length):
// this share of the skeleton's measured throughput, the same absolute rate for both systems.
const PACE_SHARE = Number(process.env.BENCH_PACE_SHARE ?? 0.5);
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 15);

interface Result { throughput: number; p50: number; p99: number; count: number }

/** CPU seconds used so far by each kind of process on this machine (Linux /proc), to split the cost per message. */
function cpuByProcess(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const service = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((e) => e.startsWith('OTEL_SERVICE_NAME='))?.slice(18);
      const key = cmd.includes('postgres') ? 'postgres' : cmd.includes('nats-server') ? 'nats' : service ?? (Number(pid) === process.pid ? 'bench' : 'other');
      out.set(key, (out.get(key) ?? 0) + seconds);
    } catch {
      // The process ended between listing and reading.
    }
  }
  return out;
}

function cpuDelta(before: Map<string, number>, after: Map<string, number>, messages: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) out[k] = Math.round(((v - (before.get(k) ?? 0)) * 1000 * 100) / messages) / 100;
  return out;
}

type Send = (tag: string, i: number, sentAt?: Map<string, number>) => Promise<void>;
type Stored = (tag: string) => Promise<Array<{ sid: string; t: Date }>>;

/** Sends `count` messages at `rate` per second on a fixed schedule (open loop), whatever the answers take. */
async function paced(count: number, rate: number, send: (i: number) => Promise<void>): Promise<void> {
  const start = Date.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(i));
  }
  await Promise.all(pending);
}

async function waitStored(stored: Stored, tag: string, count: number): Promise<Array<{ sid: string; t: Date }>> {
  return expectEventually(async () => {
    const r = await stored(tag);
    if (r.length < count) throw new Error(`${r.length}/${count} stored`);
    return r;
  }, { timeoutMs: 300_000, intervalMs: 250 });
}

/** Warm-up, a burst for throughput, then a paced run for latency. */
async function measure(send: Send, stored: Stored, paceRate: () => number): Promise<{ burst: Result; paced: Result; rate: number; cpuMsPerMessage: Record<string, number> }> {
  await runBounded(WARMUP, CONCURRENCY, (i) => send('a', i));
  await waitStored(stored, 'a', WARMUP);
  const sentAt = new Map<string, number>();
  const cpuBefore = cpuByProcess();
  const startedAt = Date.now();
  await runBounded(N, CONCURRENCY, (i) => send('b', i, sentAt));
  const burstRows = await waitStored(stored, 'b', N);
  const cpuMsPerMessage = cpuDelta(cpuBefore, cpuByProcess(), N);
  const burst = summarise(sentAt, new Map(burstRows.map((r) => [r.sid, r.t.getTime()])), startedAt);
  const rate = paceRate() || burst.throughput * PACE_SHARE;
  const count = Math.max(50, Math.round(rate * PACED_SECONDS));
  const pacedSent = new Map<string, number>();
  const pacedStart = Date.now();
  await paced(count, rate, (i) => send('c', i, pacedSent));
  const pacedRows = await waitStored(stored, 'c', count);
  return { burst, paced: summarise(pacedSent, new Map(pacedRows.map((r) => [r.sid, r.t.getTime()])), pacedStart), rate, cpuMsPerMessage };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(sentAt: Map<string, number>, storedAt: Map<string, number>, startedAt: number): Result {
  const lat = [...sentAt.entries()].map(([sid, t]) => storedAt.get(sid)! - t).sort((a, b) => a - b);
  const last = Math.max(...storedAt.values());
  return { throughput: (sentAt.size / (last - startedAt)) * 1000, p50: percentile(lat, 50), p99: percentile(lat, 99), count: lat.length };
}

/** The skeleton: gateway (signature, dedupe, outbox) -> JetStream -> conversations (identity gRPC, threading, insert). */
async function benchSkeleton(paceRate: () => number) {
  // Unthrottled webhooks (thousands from one address), and logs at warn as measured so far (the suite logs at trace).
  const stack = await startTestStack({ services: ['identity', 'conversations', 'channel-gateway'], env: { ...UNTHROTTLED_WEBHOOKS, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' } });
  try {
    const channel = await createSmsChannel(stack, 'bench-sms');
    const send: Send = async (tag, i, sentAt) => {
      const sid = `SM${tag}${String(i).padStart(32 - tag.length, '0')}`;
      sentAt?.set(sid, Date.now());
      const res = await channel.send({ from: `+1415556${String(i % 10_000).padStart(4, '0')}`, body: `bench ${tag} ${i}`, messageSid: sid });
      if (res.status !== 200) throw new Error(`gateway answered ${res.status}`);
    };
    const stored: Stored = (tag) => stack.db.query<{ sid: string; t: Date }>(`select channel_message_id as sid, stored_at as t from conversations.messages where content like $1`, [`bench ${tag} %`]);
    return await measure(send, stored, paceRate);
  } finally {
    await stack.stop();
  }
}

/** The floor under it: the same HTTP form post, published to JetStream, consumed and inserted once. */
async function benchBaseline(paceRate: () => number) {
  const stack = await startTestStack({ services: [] });
  const pool = new pg.Pool({ connectionString: stack.db.url, max: 10 });
  // The baseline's own stream and consumer belong to no service: it connects as the platform admin.
  const nc = await stack.nats.connectAdmin();
  const server = createServer();
  try {
    await pool.query('create table baseline_messages (sid text primary key, body text, created_at timestamptz not null)');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'BASELINE', subjects: ['baseline.>'] });
    await jsm.consumers.add('BASELINE', { durable_name: 'baseline', ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 });
    const js = jetstream(nc);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const h = headers();
        await js.publish('baseline.message', JSON.stringify({ sid: form.get('MessageSid'), body: form.get('Body') }), { msgID: form.get('MessageSid')!, headers: h });
        res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response></Response>');
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const consumer = await js.consumers.get('BASELINE', 'baseline');
    const messages = await consumer.consume({ max_messages: CONCURRENCY * 2 });
    const inflight = new Set<Promise<void>>();
    void (async () => {
      for await (const m of messages) {
        const task = (async () => {
          const { sid, body } = m.json<{ sid: string; body: string }>();
          await pool.query('insert into baseline_messages (sid, body, created_at) values ($1, $2, now()) on conflict do nothing', [sid, body]);
          m.ack();
        })().finally(() => inflight.delete(task));
        inflight.add(task);
        while (inflight.size >= CONCURRENCY) await Promise.race(inflight);
      }
    })();
    const url = `http://127.0.0.1:${port}/webhooks/twilio/bench`;
    const send: Send = async (tag, i, sentAt) => {
      const sid = `SM${tag}${String(i).padStart(32 - tag.length, '0')}`;
      sentAt?.set(sid, Date.now());
      const form = inboundSmsForm({ accountSid: 'AC00000000000000000000000000000000', from: '+14155550000', to: '+15005550006', body: `bench ${i}`, messageSid: sid });
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
      await res.text();
    };
    const stored: Stored = async (tag) => (await pool.query<{ sid: string; t: Date }>(`select sid, created_at as t from baseline_messages where sid like $1`, [`SM${tag}%`])).rows;
    const result = await measure(send, stored, paceRate);
    await messages.close();
    return result;
  } finally {
    server.close();
    await nc.close();
    await pool.end();
    await stack.stop();
  }
}

const line = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const round = (x: number) => Math.round(x * 100) / 100;
const skeleton = await benchSkeleton(() => 0);
const baseline = await benchBaseline(() => skeleton.rate);
line({ bench: 'ingest', metric: 'messages', value: N, unit: 'count', concurrency: CONCURRENCY });
line({ bench: 'ingest', metric: 'throughput', value: round(skeleton.burst.throughput), unit: 'msg/s', baseline: round(baseline.burst.throughput), ratio: round(skeleton.burst.throughput / baseline.burst.throughput) });
line({ bench: 'ingest', metric: 'latency_p50', value: skeleton.paced.p50, unit: 'ms', baseline: baseline.paced.p50, ratio: round(skeleton.paced.p50 / Math.max(1, baseline.paced.p50)), rate_per_s: round(skeleton.rate) });
line({ bench: 'ingest', metric: 'latency_p99', value: skeleton.paced.p99, unit: 'ms', baseline: baseline.paced.p99, ratio: round(skeleton.paced.p99 / Math.max(1, baseline.paced.p99)), rate_per_s: round(skeleton.rate) });
line({ bench: 'ingest', metric: 'saturated_latency_p50', value: skeleton.burst.p50, unit: 'ms', baseline: baseline.burst.p50, ratio: round(skeleton.burst.p50 / Math.max(1, baseline.burst.p50)) });
const total = (c: Record<string, number>) => round(Object.values(c).reduce((a, b) => a + b, 0));
line({ bench: 'ingest', metric: 'cpu_per_message', value: total(skeleton.cpuMsPerMessage), unit: 'ms', baseline: total(baseline.cpuMsPerMessage), ratio: round(total(skeleton.cpuMsPerMessage) / Math.max(0.01, total(baseline.cpuMsPerMessage))) });
for (const [process_, ms] of Object.entries(skeleton.cpuMsPerMessage).filter(([, ms]) => ms >= 0.05)) line({ bench: 'ingest', metric: 'cpu_per_message_by_process', process: process_, value: ms, unit: 'ms' });
process.exit(0);
