import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { expectEventually } from './eventually.ts';
import { processLogFile, registerEnvSecrets } from './test-logs.ts';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');

/** V8 flags every service runs with, as in each service's package.json "start" and deploy/Dockerfile's CMD. */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=20'] as const;

/** Node's compile cache for the processes the testkit starts (NODE_COMPILE_CACHE when set). scripts/compile-cache.ts. */
export const COMPILE_CACHE_DIR = process.env.NODE_COMPILE_CACHE ?? join(repoRoot, '.data', 'compile-cache');

/**
 * Environment every service runs with, as in each service's package.json "start" and deploy/Dockerfile's ENV: two
 * glibc malloc arenas instead of one per thread that allocates (V8's GC helpers, libuv's pool), ~10 MB less resident
 * memory per process for no measurable CPU; fixed mmap and trim thresholds, so blocks of 32 KiB and more (the JIT
 * compilers' scratch memory) go back to the system when freed (glibc's default raises both after freeing a large
 * block and keeps what a burst freed: 10-20 MB more after load in channel-gateway and conversations); and
 * Node's compile cache, which holds every module's stripped source so that the process never loads the TypeScript
 * stripper (10-25 MB; scripts/compile-cache.ts fills it). docs/hot-path.md, memory.
 */
export const SERVICE_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768', MALLOC_TRIM_THRESHOLD_: '65536', NODE_COMPILE_CACHE: COMPILE_CACHE_DIR } as const;

/**
 * Fills the compile cache for every service (scripts/compile-cache.ts, run with the services' flags and environment
 * plus `env`, so it fills the folder they read), so that the services started next load no TypeScript stripper.
 * Quick when the cache is already full (the sources are read and hashed, nothing is stripped).
 */
export function warmCompileCache(env: Record<string, string> = {}): void {
  const r = spawnSync(process.execPath, [...SERVICE_NODE_FLAGS, join(repoRoot, 'scripts', 'compile-cache.ts')], {
    cwd: repoRoot, env: { ...process.env, ...SERVICE_ENV, ...env }, encoding: 'utf8', timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`scripts/compile-cache.ts failed (${r.error?.message ?? r.status ?? r.signal}): ${r.stderr}`);
}

export interface ServiceProcessOptions {
  /** Folder under services/ (or a path relative to the repo root for anything else). */
  name: string;
  cwd: string;
  /** Entry file relative to cwd. */
  entry: string;
  env: Record<string, string>;
  /** URL that answers 200 when the process is ready. */
  readyUrl: string;
  withTelemetry?: boolean;
  /** Called with every output line (logs are JSON). */
  onLine?: (line: string) => void;
}

/**
 * One real service process, startable, killable (SIGKILL for crash tests) and restartable with the same env.
 * Its output lines are kept in `lines` (the last 20,000) and, in a test run, all of them are appended to
 * `$DOMIQ_TEST_LOG_DIR/<test file>-<name>.log`, which the run's secret scan reads (see test-logs.ts).
 */
export class ServiceProcess {
  readonly opts: ServiceProcessOptions;
  readonly lines: string[] = [];
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);

  constructor(opts: ServiceProcessOptions) {
    this.opts = opts;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return !!this.#child && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(readyTimeoutMs = 30_000): Promise<void> {
    const { opts } = this;
    // The services' own command line (package.json "start", deploy/Dockerfile's CMD): a small young generation
    // (docs/hot-path.md, memory) and the telemetry loader first.
    const args = [...SERVICE_NODE_FLAGS, ...(opts.withTelemetry === false ? [] : ['--import', '@domiq/telemetry/register']), opts.entry];
    // Secret-named variables (*_KEY, *_TOKEN, *_SECRET, *SEED*) handed to the process must never be logged.
    registerEnvSecrets(opts.env, opts.name);
    const logFile = await processLogFile(opts.name);
    const logFd = logFile ? openSync(logFile, 'a') : undefined;
    const child = spawn(process.execPath, args, { cwd: opts.cwd, env: { ...process.env, ...SERVICE_ENV, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const take = (lines: string[]) => {
      const complete = lines.filter(Boolean);
      if (complete.length === 0) return;
      // Synchronous, so nothing is lost when the test worker ends right after the process.
      if (logFd !== undefined) writeSync(logFd, complete.join('\n') + '\n');
      for (const line of complete) {
        if (this.lines.length > 20_000) this.lines.shift();
        this.lines.push(line);
        opts.onLine?.(line);
      }
    };
    // A chunk can end mid-line or mid-character (and stdout and stderr interleave): each stream keeps its own.
    const lineReader = () => {
      const decoder = new StringDecoder('utf8');
      let rest = '';
      return {
        data: (buf: Buffer) => {
          const parts = (rest + decoder.write(buf)).split('\n');
          rest = parts.pop()!;
          take(parts);
        },
        end: () => {
          take([rest + decoder.end()]);
          rest = '';
        },
      };
    };
    const out = lineReader();
    const err = lineReader();
    child.stdout!.on('data', out.data);
    child.stderr!.on('data', err.data);
    child.once('close', () => {
      out.end();
      err.end();
      if (logFd !== undefined) closeSync(logFd);
    });
    await expectEventually(async () => {
      if (!this.running) throw new Error(`${opts.name} exited:\n${this.lines.slice(-20).join('\n')}`);
      const res = await fetch(opts.readyUrl);
      if (res.status !== 200) throw new Error(`${opts.name} not ready: ${res.status}`);
    }, { timeoutMs: readyTimeoutMs, intervalMs: 150, message: `${opts.name} did not become ready` });
  }

  /** Sends a signal and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.running) return this.#child?.exitCode ?? null;
    this.#child!.kill(signal);
    return this.#exited;
  }

  stop(): Promise<number | null> {
    return this.kill('SIGTERM');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  get exited(): Promise<number | null> {
    return this.#exited;
  }
}
