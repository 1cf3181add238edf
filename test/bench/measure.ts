// What the ingest benchmark measures with, whatever the system: CPU and memory of processes (Linux /proc), a closed-
// loop burst for throughput, an open-loop paced run for latency, and their summaries.
import { readdirSync, readFileSync } from 'node:fs';
import { expectEventually, type TestStack } from '@domiq/testkit';
import { runBounded } from '../support/sms-stack.ts';

/** A number from the environment (the knobs documented in ingest.bench.ts and README.md). */
export function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

export const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
export const round = (x: number) => Math.round(x * 100) / 100;

/** Posts message `i` of phase `tag`, recording when it was sent (if `sentAt` is given). */
export type Send = (tag: string, i: number, sentAt?: Map<string, number>) => Promise<void>;
/** The messages of phase `tag` stored so far: provider message id and store time. */
export type Stored = (tag: string) => Promise<Array<{ sid: string; t: Date }>>;

/** One system under test: how to feed it, how to see what it stored, how to wait for the work behind the store. */
export interface System {
  send: Send;
  stored: Stored;
  /** Waits until work downstream of the store (other consumers of the same events) is done too. */
  settle(): Promise<void>;
  processes: ProcessNames;
}

/**
 * The Twilio message id of message `i` of phase `tag`: SM and 32 hex digits, as the gateway requires, so a tag is one
 * hex digit (phases: a warm-up, b burst, 0-9 paced runs; with the preload, c a burst before it, e and f after).
 */
export function sidOf(tag: string, i: number): string {
  if (!/^[0-9a-f]$/.test(tag)) throw new Error(`phase tag ${tag}: one hex digit`);
  return `SM${tag}${String(i).padStart(31, '0')}`;
}

/** Which process is which: the stack's own processes by pid, its nats-server by its config file. */
export interface ProcessNames {
  pids: Map<number, string>;
  natsConfig: string;
}

export function stackProcesses(stack: TestStack): ProcessNames {
  const pids = new Map<number, string>();
  for (const [name, proc] of Object.entries(stack.services)) if (proc?.pid) pids.set(proc.pid, name);
  if (stack.resmanSim?.pid) pids.set(stack.resmanSim.pid, 'resman-sim');
  return { pids, natsConfig: stack.nats.configFile };
}

const readProc = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // The process ended between listing and reading.
  }
};

function processKind(pid: number, comm: string, names: ProcessNames): string {
  const known = names.pids.get(pid);
  if (known) return known;
  if (pid === process.pid) return 'bench';
  // The machine's PostgreSQL: the postmaster, every backend and helper (other databases' work included).
  if (comm === 'postgres') return 'postgres';
  if (readProc(`/proc/${pid}/cmdline`).includes(names.natsConfig)) return 'nats';
  return 'other';
}

/**
 * CPU seconds used so far by each kind of process on this machine, to split the cost per message. A process's own
 * time plus that of its children it has waited for, so a PostgreSQL backend that exits mid-run (its time then
 * moves to the postmaster) is not lost.
 */
export function cpuByProcess(names: ProcessNames): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(`/proc/${entry}/stat`);
    if (!stat) continue;
    // Fields after "(comm) ": state is [0], utime [11], stime [12], cutime [13], cstime [14], in clock ticks (100/s).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const seconds = (f[11]! + f[12]! + f[13]! + f[14]!) / 100;
    const key = processKind(Number(entry), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), names);
    out.set(key, (out.get(key) ?? 0) + seconds);
  }
  return out;
}

/** Milliseconds of CPU per message, by kind of process, between two cpuByProcess snapshots. */
export function cpuDelta(before: Map<string, number>, after: Map<string, number>, messages: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) out[k] = round(((v - (before.get(k) ?? 0)) * 1000) / messages);
  return out;
}

export const cpuTotal = (c: Record<string, number>) => round(Object.values(c).reduce((a, b) => a + b, 0));

/**
 * Resident set of a process in MiB: VmRSS, its peak so far (VmHWM), and the anonymous part of it (RssAnon: heap and
 * stacks, without the file pages such as the node binary's, which the processes share).
 */
export function residentMb(pid: number): { rss: number; peak: number; anon: number } | undefined {
  const status = readProc(`/proc/${pid}/status`);
  const mb = (field: string) => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 102.4) / 10;
  if (!status) return undefined;
  return { rss: mb('VmRSS'), peak: mb('VmHWM'), anon: mb('RssAnon') };
}

export interface Result {
  /** Messages stored per second, from the first send to the last store. */
  throughput: number;
  /** Webhook sent -> stored, in ms. */
  p50: number;
  p99: number;
  count: number;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** p50 and p99 of unsorted samples, rounded. */
export function latencyStats(samples: readonly number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)) };
}

function summarise(sentAt: Map<string, number>, rows: Array<{ sid: string; t: Date }>, startedAt: number): Result {
  const storedAt = new Map(rows.map((r) => [r.sid, r.t.getTime()]));
  const lat = [...sentAt.entries()].map(([sid, t]) => storedAt.get(sid)! - t).sort((a, b) => a - b);
  const last = Math.max(...storedAt.values());
  return { throughput: (sentAt.size / (last - startedAt)) * 1000, p50: percentile(lat, 50), p99: percentile(lat, 99), count: lat.length };
}

async function waitStored(stored: Stored, tag: string, count: number): Promise<Array<{ sid: string; t: Date }>> {
  return expectEventually(async () => {
    const r = await stored(tag);
    if (r.length < count) throw new Error(`${r.length}/${count} stored`);
    return r;
  }, { timeoutMs: 600_000, intervalMs: 250, message: `phase ${tag}: every message stored` });
}

/**
 * `count` messages with at most `concurrency` in flight (closed loop): throughput, latency under saturation, and
 * CPU per message from the first send until the work behind the store is done too (settle).
 */
export async function burst(sys: System, tag: string, count: number, concurrency: number): Promise<Result & { cpuMsPerMessage: Record<string, number> }> {
  const sentAt = new Map<string, number>();
  const cpuBefore = cpuByProcess(sys.processes);
  const startedAt = Date.now();
  await runBounded(count, concurrency, (i) => sys.send(tag, i, sentAt));
  const rows = await waitStored(sys.stored, tag, count);
  await sys.settle();
  return { ...summarise(sentAt, rows, startedAt), cpuMsPerMessage: cpuDelta(cpuBefore, cpuByProcess(sys.processes), count) };
}

/**
 * `rate` messages a second for `seconds` on a fixed schedule (open loop), whatever the answers take: latency at
 * that arrival rate. `keptUp` is false when messages were stored more than 10 % slower than they arrived.
 */
export async function paced(sys: System, tag: string, rate: number, seconds: number): Promise<Result & { rate: number; keptUp: boolean; rejected: number; sentAt: Map<string, number> }> {
  const count = Math.max(50, Math.round(rate * seconds));
  const sentAt = new Map<string, number>();
  const rejected: string[] = [];
  const reasons = new Map<string, number>();
  const startedAt = Date.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = startedAt + (i * 1000) / rate - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // A webhook refused under load is counted, not waited for (the provider would retry it later).
    pending.push(sys.send(tag, i, sentAt).catch((err: unknown) => {
      rejected.push(sidOf(tag, i));
      const reason = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }));
  }
  await Promise.all(pending);
  for (const sid of rejected) sentAt.delete(sid);
  for (const [reason, n] of reasons) progress(`paced at ${rate}/s: ${n} webhooks refused: ${reason}`);
  const result = summarise(sentAt, await waitStored(sys.stored, tag, sentAt.size), startedAt);
  await sys.settle();
  return { ...result, rate, keptUp: result.throughput >= 0.9 * rate, rejected: rejected.length, sentAt };
}
