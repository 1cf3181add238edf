// `npm run bench`: ingest (signed Twilio webhook in -> message stored by conversations, customer resolved and
// threaded) with all six services and the ResMan simulator running, against bare pipelines measured in the same run on
// the same machine (HTTP -> JetStream -> consumer -> INSERT, unbatched and batched). Prints one JSON object per line
// on stdout (progress goes to stderr); asserts nothing. What each line means: test/bench/README.md.
//
// Knobs (environment):
//   BENCH_MESSAGES=2000          messages of each throughput burst
//   BENCH_CONCURRENCY=16         webhooks in flight during a burst (closed loop)
//   BENCH_WARMUP=100             messages sent (and stored) before each measurement starts
//   BENCH_RATES=100,300          arrival rates (msg/s) of the paced latency runs (open loop; at most 10)
//   BENCH_PACED_SECONDS=10       how long each paced run sends
//   BENCH_SENDERS=0              distinct senders per phase; 0: every message from a new customer
//   BENCH_DRAIN_TIMEOUT_S=180    how long to wait after a phase for routing-sla and resman-connector to catch up
//   BENCH_PRELOAD=1              also measure throughput after loading history straight into the database:
//   BENCH_PRELOAD_MESSAGES=1000000, BENCH_PRELOAD_CUSTOMERS=300000
//   TEST_LOG_LEVEL=warn          the services' log level
import { startBarePipeline } from './bare-pipeline.ts';
import { SERVICE_NAMES, startFullStack } from './full-stack.ts';
import { burst, cpuTotal, knob, paced, progress, round, type Result, type System } from './measure.ts';
import { preload } from './preload.ts';

const N = knob('BENCH_MESSAGES', 2000);
const CONCURRENCY = knob('BENCH_CONCURRENCY', 16);
const WARMUP = knob('BENCH_WARMUP', 100);
const RATES = (process.env.BENCH_RATES || '100,300').split(',').map(Number).filter((r) => r > 0).slice(0, 10);
const PACED_SECONDS = knob('BENCH_PACED_SECONDS', 10);
const SENDERS = knob('BENCH_SENDERS', 0);
const DRAIN_TIMEOUT_MS = knob('BENCH_DRAIN_TIMEOUT_S', 180) * 1000;
const PRELOAD = process.env.BENCH_PRELOAD === '1';
const PRELOAD_MESSAGES = knob('BENCH_PRELOAD_MESSAGES', 1_000_000);
const PRELOAD_CUSTOMERS = knob('BENCH_PRELOAD_CUSTOMERS', 300_000);
const RSS_TARGET_MB = 150;
// Each phase has a tag (one hex digit): its message ids (SM<tag>000...) and, in the full stack, its senders are its own.
const RATE_TAGS = '0123456789';

const secondsSince = (t: number) => `${((Date.now() - t) / 1000).toFixed(0)} s`;
const describe = (r: Result) => `${round(r.throughput)} msg/s, p50 ${r.p50} ms, p99 ${r.p99} ms`;

async function warmUp(sys: System, tag: string): Promise<void> {
  if (WARMUP > 0) await burst(sys, tag, WARMUP, CONCURRENCY);
}

/** Warm-up and a burst; with `rates`, a paced run at each. */
async function measure(name: string, sys: System, rates: number[]) {
  await warmUp(sys, 'a');
  const t = Date.now();
  const b = await burst(sys, 'b', N, CONCURRENCY);
  progress(`${name}: burst of ${N}: ${describe(b)} (${secondsSince(t)})`);
  const atRate = new Map<number, Awaited<ReturnType<typeof paced>>>();
  for (const [k, rate] of rates.entries()) {
    const t = Date.now();
    const p = await paced(sys, RATE_TAGS[k]!, rate, PACED_SECONDS);
    progress(`${name}: paced at ${rate}/s: ${describe(p)}${p.keptUp ? '' : ', did not keep up'} (${secondsSince(t)})`);
    atRate.set(rate, p);
  }
  return { burst: b, atRate };
}

async function bare(batched: boolean, rates: number[]) {
  const name = batched ? 'bare batched' : 'bare unbatched';
  const sys = await startBarePipeline({ batched, concurrency: CONCURRENCY });
  try {
    return await measure(name, sys, rates);
  } finally {
    await sys.stop();
  }
}

async function full() {
  let t = Date.now();
  const sys = await startFullStack({ senders: SENDERS, drainTimeoutMs: DRAIN_TIMEOUT_MS });
  progress(`full stack started and configured (${secondsSince(t)})`);
  try {
    const idle = sys.resident();
    const run = await measure('full stack', sys, RATES);
    const loaded = sys.resident();
    const logged = { value: await sys.loggedToResman(), sent: sys.accepted() };
    let preloaded: { empty: Awaited<ReturnType<typeof burst>>; full: Awaited<ReturnType<typeof burst>> } | undefined;
    if (PRELOAD) {
      // Its baseline is a burst on the empty database right before the preload, as warm as the one after it (the
      // first burst runs on processes that have only just warmed up).
      t = Date.now();
      const empty = await burst(sys, 'c', N, CONCURRENCY);
      progress(`full stack, empty again: burst of ${N}: ${describe(empty)} (${secondsSince(t)})`);
      t = Date.now();
      await preload({ url: sys.stack.db.url, accountId: sys.channel.accountId, propertyId: sys.channel.propertyId, messages: PRELOAD_MESSAGES, customers: PRELOAD_CUSTOMERS });
      await warmUp(sys, 'e');
      const full = await burst(sys, 'f', N, CONCURRENCY);
      progress(`full stack, preloaded: burst of ${N}: ${describe(full)} (${secondsSince(t)} with the preload)`);
      preloaded = { empty, full };
    }
    return { ...run, idle, loaded, logged, preloaded };
  } finally {
    await sys.stop();
  }
}

const started = Date.now();
const unbatched = await bare(false, RATES);
const batched = await bare(true, []);
const stack = await full();
progress(`done in ${secondsSince(started)}`);

const line = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const ratio = (value: number, baseline: number, floor = 0) => round(value / Math.max(floor, baseline));
const tp = stack.burst.throughput;
line({ bench: 'ingest', metric: 'messages', value: N, unit: 'count', concurrency: CONCURRENCY, warmup: WARMUP, paced_seconds: PACED_SECONDS, senders: SENDERS, services: SERVICE_NAMES.length });
for (const [kind, base] of [['batched', batched], ['unbatched', unbatched]] as const) {
  line({ bench: 'ingest', metric: 'throughput', value: round(tp), unit: 'msg/s', baseline: round(base.burst.throughput), ratio: ratio(tp, base.burst.throughput), baseline_kind: kind });
}
for (const rate of RATES) {
  const value = stack.atRate.get(rate)!;
  const base = unbatched.atRate.get(rate)!;
  for (const [metric, key] of [['latency_p50', 'p50'], ['latency_p99', 'p99']] as const) {
    line({
      bench: 'ingest', metric, value: value[key], unit: 'ms', rate_per_s: rate, baseline: base[key], ratio: ratio(value[key], base[key], 1),
      stored_per_s: round(value.throughput), ...(value.keptUp ? {} : { kept_up: false }), ...(value.rejected ? { rejected: value.rejected } : {}),
      ...(base.keptUp ? {} : { baseline_kept_up: false }),
    });
  }
}
line({ bench: 'ingest', metric: 'saturated_latency_p50', value: stack.burst.p50, unit: 'ms', baseline: unbatched.burst.p50, ratio: ratio(stack.burst.p50, unbatched.burst.p50, 1), baseline_kind: 'unbatched' });
const cpu = cpuTotal(stack.burst.cpuMsPerMessage);
for (const [name, c] of [['full stack', stack.burst.cpuMsPerMessage], ['full stack, empty again', stack.preloaded?.empty.cpuMsPerMessage ?? {}], ['full stack, preloaded', stack.preloaded?.full.cpuMsPerMessage ?? {}]] as const) {
  // Something else busy on the machine during a burst skews every figure of it (the run is not isolated).
  if ((c.other ?? 0) > 0.1 * cpuTotal(c)) progress(`warning: other processes used ${c.other} of ${cpuTotal(c)} CPU ms per message during the ${name} burst: its figures are skewed`);
}
for (const [kind, base] of [['batched', batched], ['unbatched', unbatched]] as const) {
  const b = cpuTotal(base.burst.cpuMsPerMessage);
  line({ bench: 'ingest', metric: 'cpu_per_message', value: cpu, unit: 'ms', baseline: b, ratio: ratio(cpu, b, 0.01), baseline_kind: kind });
}
const always = new Set<string>([...SERVICE_NAMES, 'postgres', 'nats', 'resman-sim']);
for (const [process_, ms] of Object.entries(stack.burst.cpuMsPerMessage).filter(([p, ms]) => always.has(p) || ms >= 0.05)) {
  line({ bench: 'ingest', metric: 'cpu_per_message_by_process', process: process_, value: ms, unit: 'ms' });
}
for (const [phase, rows] of [['idle', stack.idle], ['loaded', stack.loaded]] as const) {
  for (const r of rows) line({ bench: 'memory', metric: 'rss', service: r.service, phase, value: r.rss, unit: 'MB', target: RSS_TARGET_MB, peak: r.peak, anon: r.anon });
}
line({ bench: 'ingest', metric: 'resman_logged', value: stack.logged.value, unit: 'count', accepted: stack.logged.sent });
if (stack.preloaded) {
  const { empty, full: p } = stack.preloaded;
  line({
    bench: 'ingest', metric: 'throughput_preloaded', value: round(p.throughput), unit: 'msg/s', baseline: round(empty.throughput), ratio: ratio(p.throughput, empty.throughput),
    messages_preloaded: PRELOAD_MESSAGES, customers_preloaded: PRELOAD_CUSTOMERS, cpu_per_message: cpuTotal(p.cpuMsPerMessage), baseline_cpu_per_message: cpuTotal(empty.cpuMsPerMessage),
  });
}
process.exit(0);
