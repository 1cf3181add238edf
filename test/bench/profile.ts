// `node test/bench/profile.ts` (or `npm run bench -- --profile` is not wired: run this file directly on Node 24):
// where the full stack's CPU goes. Starts the stack as the benchmark does, with every service under V8's sampling
// profiler (--cpu-prof), sends a warm-up and a burst, lets the work behind the store finish, stops the services
// gracefully (the profiles are written on exit) and prints, per service, the functions with the most self time,
// grouped by package (`pg`, `@mikro-orm/core`, ...) or by our own file. Profiles stay in PROFILE_DIR for
// Chrome DevTools / speedscope.
//   PROFILE_MESSAGES=1000  PROFILE_TOP=25  PROFILE_DIR=.data/profiles/<time>
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@domiq/testkit';
import { SERVICE_NAMES, startFullStack } from './full-stack.ts';
import { burst, knob, progress } from './measure.ts';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const messages = knob('PROFILE_MESSAGES', 1000);
const top = knob('PROFILE_TOP', 25);
const dir = process.env.PROFILE_DIR ?? join(repoRoot, '.data', 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));

/** `pg`, `@mikro-orm/core`, `node:internal`, or our file relative to the repo. */
function owner(url: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  return url.replace(`file://${repoRoot}/`, '');
}

function summarise(file: string): { total: number; byOwner: Array<[string, number]>; byFunction: Array<[string, number]> } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    const o = owner(url);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    const f = `${functionName || '(anonymous)'} ${o}:${lineNumber + 1}`;
    byFunction.set(f, (byFunction.get(f) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, byOwner: sorted(byOwner), byFunction: sorted(byFunction) };
}

mkdirSync(dir, { recursive: true });
progress(`profiles in ${dir}`);
const sys = await startFullStack({ senders: 0, drainTimeoutMs: 180_000, env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` } });
try {
  await burst(sys, 'a', 100, 16);
  const b = await burst(sys, 'b', messages, 16);
  progress(`burst of ${messages}: ${b.throughput.toFixed(1)} msg/s`);
} finally {
  const pids = new Map(SERVICE_NAMES.map((s) => [sys.stack.services[s]?.pid, s]));
  await sys.stop();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
    const pid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(file)?.[1]);
    const service = pids.get(pid) ?? `pid ${pid}`;
    const s = summarise(join(dir, file));
    if (s.total < 100_000) continue;
    console.log(`\n== ${service}: ${(s.total / 1000).toFixed(0)} ms of samples (${file})`);
    console.log('  by package / file:');
    for (const [o, us] of s.byOwner.slice(0, 12)) console.log(`    ${((us / s.total) * 100).toFixed(1).padStart(5)} %  ${o}`);
    console.log('  by function (self):');
    for (const [f, us] of s.byFunction.slice(0, top)) console.log(`    ${((us / s.total) * 100).toFixed(1).padStart(5)} %  ${f}`);
  }
}
