import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expectEventually } from './eventually.ts';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');

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

/** One real service process, startable, killable (SIGKILL for crash tests) and restartable with the same env. */
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
    const args = [...(opts.withTelemetry === false ? [] : ['--import', '@domiq/telemetry/register']), opts.entry];
    const child = spawn(process.execPath, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const onData = (buf: Buffer) => {
      for (const line of buf.toString('utf8').split('\n')) {
        if (!line) continue;
        if (this.lines.length > 5000) this.lines.shift();
        this.lines.push(line);
        opts.onLine?.(line);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
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
