import { readFileSync } from 'node:fs';
import { SERVICE_NAMES, startFullStack } from './full-stack.ts';
import { burst, paced } from './measure.ts';
const sys = await startFullStack({ senders: 0, drainTimeoutMs: 180_000, env: JSON.parse(process.env.PROBE_ENV ?? '{}') });
function cats(pid: number) {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const out: Record<string, number> = {};
  let cur = '';
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) {
      const size = (parseInt(m[2]!, 16) - parseInt(m[1]!, 16)) / 1024;
      const name = m[3]!.trim();
      cur = name ? (name.startsWith('/') ? (name.includes('node') && name.endsWith('/node') ? 'node-binary' : 'file') : name) : (size >= 65536 - 4096 && size <= 65536 ? 'anon-64M(arena)' : size === 256 ? 'anon-256K(v8page)' : 'anon-other');
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) out[cur] = (out[cur] ?? 0) + Number(r[1]) / 1024;
  }
  return Object.entries(out).filter(([, v]) => v > 0.5).map(([k, v]) => `${k}=${v.toFixed(1)}`).join(' ');
}
const show = (phase: string) => { for (const s of SERVICE_NAMES) console.log(phase, s.padEnd(17), cats(sys.stack.services[s]!.pid!)); };
try {
  show('idle');
  await burst(sys, 'a', 100, 16);
  await burst(sys, 'b', 2000, 16);
  show('burst');
  await paced(sys, 'c', 100, 10);
  await paced(sys, 'd', 300, 10);
  show('paced');
} finally { await sys.stop(); }
