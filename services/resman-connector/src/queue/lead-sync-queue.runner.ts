// The lead-sync queue's worker loop (one per process, started by main.ts, stopped on shutdown): finds due groups
// (one customer's pending messages at one property) and pushes them in rounds with the use case pushQueuedRound (up
// to `groupsPerRound` groups of one ResMan account, one after another), up to `workers` rounds at once, each to a
// different ResMan account.
//
// At most one request in flight per ResMan account, on every replica: a push runs only while its worker holds the
// account's advisory lock (AdvisoryLocks.tryAcquire: never waited for; an account another replica holds is passed over
// this round). PostgreSQL lets go of that lock the moment the worker's process (or its lock connection) dies. The
// per-customer serialisation that keeps a customer's cards single follows from it: a customer's property has one
// integration, hence one ResMan account.
//
// The rows a push claims are 'processing' with a lease (locked_at, renewed while it runs). A dead worker's rows are
// taken back by the next holder of the account's lock once that lease has run out: not at once, because a request the
// dead worker had sent may still be in progress at ResMan (the lease outlasts any request), and the retry's marker
// check must see what it did, or it would create the card a second time. Until then that customer's later messages
// wait too (their order is kept); the account's other customers do not.
//
// Woken by NOTIFY when the consumer's transaction enqueued rows (on every replica, at commit) and whenever one of its
// pushes ends; polls every `pollMs` as the backstop (retries coming due, rows left by a dead worker, a lost NOTIFY).
import type { MikroORM } from '@domiq/db';
import { WakeableLoop } from '@domiq/runtime';
import type { Logger } from '@domiq/logging';
import type { AdvisoryLocks, LockLease } from '../db/advisory-locks.ts';
import { findDueGroups, LEAD_SYNC_QUEUE_CHANNEL, type DueGroup } from '../db/lead-sync-queue.repository.ts';
import { resmanAccountKey } from '../domain/lead-sync-queue.ts';
import type { QueuedGroup, RoundSummary } from '../app/push-queued-leads.ts';

const MIN_LOOK_INTERVAL_MS = 20;

export interface LeadSyncQueueRunnerOptions {
  orm: MikroORM;
  /** Locks in the ResMan-account namespace; their connection also LISTENs for the consumer's NOTIFY. */
  locks: AdvisoryLocks;
  logger: Logger;
  /** One round (pushQueuedRound bound to its dependencies): groups of the one ResMan account of `accountKey`. */
  push(groups: QueuedGroup[], accountKey: string, logger: Logger): Promise<RoundSummary>;
  /** Rounds in flight at once in this process (each to another ResMan account). 0: this process does not push. */
  workers: number;
  /** Most groups (customers) one round pushes. */
  groupsPerRound: number;
  /** Backstop poll interval. */
  pollMs: number;
  /** The claims' lease (QueueWorkerDeps.leaseMs): groups with a live one are not due. */
  leaseMs: number;
}

/** The lock key of a group's ResMan account (groups without an integration get a key of their own, to be cancelled). */
export function groupAccountKey(g: DueGroup): string {
  return g.baseUrl !== null && g.resmanAccountId !== null
    ? resmanAccountKey({ baseUrl: g.baseUrl, resmanAccountId: g.resmanAccountId })
    : `none|${g.accountId}|${g.propertyId}`;
}

export class LeadSyncQueueRunner {
  readonly #opts: LeadSyncQueueRunnerOptions;
  /** Accounts this process is pushing to. */
  readonly #busy = new Set<string>();
  readonly #inflight = new Set<Promise<void>>();
  readonly #onNotify = () => this.wake();
  /**
   * Looks for work (after a dropped lock connection the look connects and LISTENs again); under load the consumer
   * NOTIFYs for every batch, so a look that found nothing keeps the next one MIN_LOOK_INTERVAL_MS away.
   */
  readonly #loop: WakeableLoop;

  constructor(opts: LeadSyncQueueRunnerOptions) {
    this.#opts = opts;
    this.#loop = new WakeableLoop({
      name: 'lead-sync queue', pollMs: opts.pollMs, idleLookMs: MIN_LOOK_INTERVAL_MS, logger: opts.logger,
      look: async () => {
        await this.#listen();
        return (await this.#dispatch()) > 0;
      },
    });
  }

  get #running(): boolean {
    return this.#loop.running;
  }

  async start(): Promise<void> {
    if (this.#opts.workers <= 0 || this.#running) return;
    await this.#listen().catch((err: unknown) => this.#opts.logger.warn({ err: String(err) }, 'lead-sync queue: LISTEN failed; polling only until it works'));
    this.#loop.start();
  }

  /** Look for work now (rows were queued, or a push ended). */
  wake(): void {
    this.#loop.wake();
  }

  /** Stops taking work and waits for the pushes in flight (each bounded by the ResMan timeouts). */
  async stop(): Promise<void> {
    await this.#loop.stop();
    await Promise.allSettled([...this.#inflight]);
  }

  #listen(): Promise<void> {
    return this.#opts.locks.listen(LEAD_SYNC_QUEUE_CHANNEL, this.#onNotify);
  }

  /**
   * Starts pushes for due groups until every slot is taken or nothing due is left that this process may take; returns
   * how many it started (all slots already busy counts as one: there was work).
   */
  async #dispatch(): Promise<number> {
    const { orm, locks, workers, groupsPerRound } = this.#opts;
    if (this.#inflight.size >= workers) return 1;
    // Accounts another replica holds: passed over until the next round.
    const elsewhere = new Set<string>();
    let started = 0;
    while (this.#running && this.#inflight.size < workers) {
      const wanted = workers - this.#inflight.size + 2;
      const due = await findDueGroups(orm.em.fork({ clear: true }), [...this.#busy, ...elsewhere], wanted * groupsPerRound, this.#opts.leaseMs, groupsPerRound);
      if (due.length === 0) return started;
      // A round per ResMan account, the accounts in the order of their most urgent group.
      const rounds = new Map<string, DueGroup[]>();
      for (const group of due) {
        const key = groupAccountKey(group);
        if (!rounds.has(key)) rounds.set(key, []);
        rounds.get(key)!.push(group);
      }
      // Every account returned is either started or passed over, so the next query excludes it: this ends.
      for (const [key, groups] of rounds) {
        if (!this.#running || this.#inflight.size >= workers) return started;
        if (this.#busy.has(key) || elsewhere.has(key)) continue;
        const lease = await locks.tryAcquire(key);
        if (!lease) {
          elsewhere.add(key);
          continue;
        }
        this.#busy.add(key);
        started++;
        const task = this.#push(groups, key, lease).then((ok) => {
          this.#inflight.delete(task);
          this.#busy.delete(key);
          // More may be due (the account's other customers, rows queued meanwhile); after a round that broke, the
          // poll looks again instead, so a round failing at once cannot spin.
          if (ok) this.wake();
        });
        this.#inflight.add(task);
      }
      // Fewer accounts than asked for: that was everything due that this process may take (each account returned was
      // started or passed over), so looking again now would find nothing; a finished round or a NOTIFY wakes the next look.
      if (rounds.size < wanted) return started;
    }
    return started;
  }

  /** One round under the account's lock; false when it broke unexpectedly (its rows stay as they were for a later round). */
  async #push(groups: DueGroup[], key: string, lease: LockLease): Promise<boolean> {
    const { logger, locks } = this.#opts;
    try {
      await this.#opts.push(groups, key, logger);
      return true;
    } catch (err) {
      logger.error({ err: String(err), resman_account: key, groups: groups.length }, 'lead-sync queue: push round failed unexpectedly');
      return false;
    } finally {
      await locks.release(lease).catch((err: unknown) => logger.warn({ err: String(err) }, 'lead-sync queue: could not release the account lock'));
    }
  }
}
