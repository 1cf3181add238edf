// The loop behind a service's durable work queue (resman-connector's lead-sync pushes, channel-gateway's reply
// deliveries): look for work, then sleep until woken (a NOTIFY, a finished task) or until the poll interval passes;
// after a failed look, back off (100 ms doubling to 5 s). A wake-up that comes while a look runs makes the loop look
// again at once instead of sleeping. With `idleLookMs`, a look that found nothing keeps the next one at least that far
// away, so a stream of wake-ups (a NOTIFY per consumer batch) costs a bounded number of queries.
import type { Logger } from '@domiq/logging';

export interface WakeableLoopOptions {
  /** One look: starts what is due; resolves to whether it found anything (false: idle). */
  look(): Promise<boolean>;
  pollMs: number;
  idleLookMs?: number;
  logger: Logger;
  /** For the log line of a failed look, e.g. "reply delivery". */
  name: string;
}

export class WakeableLoop {
  readonly #opts: WakeableLoopOptions;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #lastIdleLook = 0;

  constructor(opts: WakeableLoopOptions) {
    this.#opts = opts;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Look again now (work was queued, or a task ended). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Ends the loop after the look in progress (tasks a look started are the caller's to wait for). */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { logger, pollMs, idleLookMs = 0, name } = this.#opts;
    let failures = 0;
    while (this.#running) {
      const idleFor = Date.now() - this.#lastIdleLook;
      if (idleFor < idleLookMs) await new Promise((r) => setTimeout(r, idleLookMs - idleFor));
      this.#woken = false;
      try {
        if (!(await this.#opts.look())) this.#lastIdleLook = Date.now();
        failures = 0;
      } catch (err) {
        failures++;
        logger.warn({ err: String(err), failures }, `${name}: looking for work failed, will retry`);
      }
      if (!this.#running) break;
      if (!failures && this.#woken) continue;
      const delay = failures ? Math.min(5000, 100 * 2 ** failures) : pollMs;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}
