// `node test/bench/heap.ts`: what each service's resident memory is made of, idle, right after a warm-up and a
// burst (HEAP_MESSAGES, default 2000, every message from a new customer) and 15 s later: VmRSS and RssAnon from /proc,
// V8's heap (total and used) and external memory from the service's own /metrics (prom-client's default metrics).
// Diagnostic only; the figures of record are `npm run bench`'s `rss` lines. docs/hot-path.md (Memory) says how to read it.
import { SERVICE_NAMES, startFullStack } from './full-stack.ts';
import { burst, knob } from './measure.ts';
const sys = await startFullStack({ senders: 0, drainTimeoutMs: 180_000 });
const show = async (phase: string) => {
  for (const s of SERVICE_NAMES) {
    const port = sys.stack.ports.services[s].ops;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const get = (n: string) => Math.round(Number(new RegExp(`^${n}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text)?.[1]) / 1048576);
    const r = sys.resident().find((x) => x.service === s)!;
    console.log(phase, s.padEnd(17), 'rss', r.rss, 'anon', r.anon, 'heapTotal', get('nodejs_heap_size_total_bytes'), 'heapUsed', get('nodejs_heap_size_used_bytes'), 'external', get('nodejs_external_memory_bytes'));
  }
};
try {
  await show('idle');
  await burst(sys, 'a', 100, 16);
  await burst(sys, 'b', knob('HEAP_MESSAGES', 2000), 16);
  await show('after');
  await new Promise((r) => setTimeout(r, 15000));
  await show('after+15s');
} finally { await sys.stop(); }
