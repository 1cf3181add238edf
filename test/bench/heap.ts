// `node test/bench/heap.ts`: what each service's resident memory is made of, idle, after a warm-up and a burst
// (HEAP_MESSAGES, default 2000, every message from a new customer), and after paced runs at 100 and 300 msg/s for
// 10 s each (as `npm run bench` runs them before its after-load `rss` lines). Per service: VmRSS and RssAnon from
// /proc; V8's heap (total and used) and external memory from the service's own /metrics (prom-client's default
// metrics); and the resident set by kind of mapping from /proc/<pid>/smaps: `binary` (the node executable's pages,
// shared by every process), `v8` (V8's heap pages: 256 KiB anonymous mappings), `brk` (glibc's main malloc heap),
// `anon` (other anonymous mappings: the second malloc arena, thread stacks, WebAssembly memory), `files`.
// Diagnostic only; the figures of record are `npm run bench`'s `rss` lines. docs/hot-path.md (Memory) says how to read it.
import { readFileSync } from 'node:fs';
import { SERVICE_NAMES, startFullStack } from './full-stack.ts';
import { burst, knob, paced } from './measure.ts';

/** Resident MiB of a process by kind of mapping (see the header). */
function residentByMapping(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let kind = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) {
      const kib = (parseInt(m[2]!, 16) - parseInt(m[1]!, 16)) / 1024;
      const name = m[3]!.trim();
      if (name === process.execPath) kind = 'binary';
      else if (name.startsWith('/')) kind = 'files';
      else if (name === '[heap]') kind = 'brk';
      else if (!name && kib === 256) kind = 'v8';
      else kind = 'anon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] = (out[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  return out;
}

const sys = await startFullStack({ senders: 0, drainTimeoutMs: 180_000 });
const show = async (phase: string) => {
  for (const s of SERVICE_NAMES) {
    const port = sys.stack.ports.services[s].ops;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const get = (n: string) => Math.round(Number(new RegExp(`^${n}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text)?.[1]) / 1048576);
    const r = sys.resident().find((x) => x.service === s)!;
    const byMapping = Object.entries(residentByMapping(sys.stack.services[s]!.pid!)).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' ');
    console.log(phase.padEnd(9), s.padEnd(17), 'rss', r.rss, 'anon', r.anon, 'heapTotal', get('nodejs_heap_size_total_bytes'), 'heapUsed', get('nodejs_heap_size_used_bytes'), 'external', get('nodejs_external_memory_bytes'), '|', byMapping);
  }
};
try {
  await show('idle');
  await burst(sys, 'a', 100, 16);
  await burst(sys, 'b', knob('HEAP_MESSAGES', 2000), 16);
  await show('burst');
  await paced(sys, 'c', 100, 10);
  await paced(sys, 'd', 300, 10);
  await show('paced');
} finally { await sys.stop(); }
