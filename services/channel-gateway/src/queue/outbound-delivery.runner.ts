// The reply-delivery queue's worker loop (one per process, started by main.ts, stopped on shutdown). It claims due
// replies (db/outbound.repository.ts claimDueReplies: SKIP LOCKED, so replicas take disjoint rows; the claim commits
// before any provider call) and runs up to `workers` attempts (app/deliver-reply.ts) at once.
//
// Woken by PostgreSQL's NOTIFY when the consumer's transaction queued replies (on every replica, at commit) and when
// an attempt ends; polls every `pollMs` as the backstop (retries coming due, a dead worker's expired leases, a lost
// NOTIFY). The LISTEN connection is its own (a pooled connection cannot hold a LISTEN); when it drops, the loop
// polls until it is back.
import pg from 'pg';
import type { MikroORM } from '@domiq/db';
import { WakeableLoop } from '@domiq/runtime';
import type { Logger } from '@domiq/logging';
import { Counter } from 'prom-client';
import { deliverReply, type AttemptOutcome, type DeliveryDeps } from '../app/deliver-reply.ts';
import { claimDueReplies, OUTBOUND_QUEUED_CHANNEL, type ClaimedReply } from '../db/outbound.repository.ts';

const attemptsTotal = new Counter({
  name: 'domiq_reply_delivery_attempts_total',
  help: 'Reply delivery attempts by outcome (accepted, reconciled: found already sent, retry, failed, taken_over: lease lost)',
  labelNames: ['outcome'],
});

export interface OutboundDeliveryRunnerOptions {
  orm: MikroORM;
  deps: DeliveryDeps;
  /** For the LISTEN connection. */
  databaseUrl: string;
  logger: Logger;
  /** Attempts in flight at once in this process; 0: this process sends nothing. */
  workers: number;
  /** How long a claim is the claimer's: longer than any attempt (a reconciliation and a send, each with its timeout). */
  leaseMs: number;
  pollMs: number;
}

export class OutboundDeliveryRunner {
  readonly #opts: OutboundDeliveryRunnerOptions;
  readonly #inflight = new Set<Promise<void>>();
  readonly #loop: WakeableLoop;
  #listener: pg.Client | undefined;

  constructor(opts: OutboundDeliveryRunnerOptions) {
    this.#opts = opts;
    this.#loop = new WakeableLoop({
      name: 'reply delivery', pollMs: opts.pollMs, logger: opts.logger,
      look: async () => {
        await this.#listen().catch((err: unknown) => opts.logger.warn({ err: String(err) }, 'reply delivery: LISTEN failed; polling'));
        return (await this.#dispatch()) > 0;
      },
    });
  }

  start(): void {
    if (this.#opts.workers > 0) this.#loop.start();
  }

  wake(): void {
    this.#loop.wake();
  }

  /** Stops claiming and waits for the attempts in flight (each bounded by the provider's timeouts). */
  async stop(): Promise<void> {
    await this.#loop.stop();
    await Promise.allSettled([...this.#inflight]);
    await this.#listener?.end().catch(() => undefined);
    this.#listener = undefined;
  }

  async #listen(): Promise<void> {
    if (this.#listener) return;
    const client = new pg.Client({ connectionString: this.#opts.databaseUrl, application_name: 'channel-gateway outbound listener' });
    client.on('notification', () => this.wake());
    client.on('error', (err) => {
      this.#opts.logger.warn({ err: String(err) }, 'reply delivery: LISTEN connection lost; polling until it is back');
      if (this.#listener === client) this.#listener = undefined;
      client.end().catch(() => undefined);
    });
    this.#listener = client;
    try {
      await client.connect();
      await client.query(`listen "${OUTBOUND_QUEUED_CHANNEL}"`);
    } catch (err) {
      this.#listener = undefined;
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  /** Claims as many due replies as there are free slots and starts an attempt for each; returns how many (all busy: 1). */
  async #dispatch(): Promise<number> {
    const { orm, workers, leaseMs } = this.#opts;
    const free = workers - this.#inflight.size;
    if (free <= 0) return 1;
    const claimed = await claimDueReplies(orm.em.fork({ clear: true }), free, leaseMs);
    for (const claim of claimed) {
      const task = this.#attempt(claim).then(() => {
        this.#inflight.delete(task);
        this.wake();
      });
      this.#inflight.add(task);
    }
    return claimed.length;
  }

  async #attempt(claim: ClaimedReply): Promise<void> {
    let outcome: AttemptOutcome | 'error';
    try {
      outcome = await deliverReply(this.#opts.deps, claim);
    } catch (err) {
      // Our own failure (the database while recording): the claim's lease runs out and the reply is reconciled and
      // tried again, so nothing is lost and nothing sent twice.
      outcome = 'error';
      this.#opts.logger.error({ err: String(err), message_id: claim.messageId, attempt: claim.attempts }, 'reply delivery attempt broke; its lease will run out and it is tried again');
    }
    attemptsTotal.inc({ outcome });
  }
}
