// Group commit: many concurrent callers' writes in one transaction, each caller answered only once that
// transaction has committed. The piece that queues and cuts groups; what a group's transaction does is the
// `commit` function the owner passes (the webhook server's: src/http/webhook.http.ts).
import { AsyncResource } from 'node:async_hooks';
import { Counter, Histogram } from 'prom-client';

export interface GroupCommitOptions {
  /** Most members in one group (one transaction). */
  maxSize: number;
  /** How long the first queued member waits for others to join before its group is committed anyway. */
  maxWaitMs: number;
  /** Groups committing at the same time (each holds one database connection while it does). */
  maxInFlight: number;
}

/** One member of a group, as the commit function sees it. */
export interface GroupMember<I> {
  item: I;
  /** Runs `fn` in the async context the member was submitted from (its request's trace, for the events it emits). */
  inContext<T>(fn: () => T): T;
}

/**
 * Writes a group in ONE transaction and returns one result per member, in order; it throws (and so has committed
 * nothing) when the transaction fails. Must be safe to run again for part of a failed group.
 */
export type GroupCommitFn<I, R> = (members: ReadonlyArray<GroupMember<I>>) => Promise<R[]>;

/** submit() after close(): the process is shutting down. */
export class GroupCommitClosedError extends Error {
  override name = 'GroupCommitClosedError';
  constructor() {
    super('shutting down');
  }
}

interface Queued<I, R> extends GroupMember<I> {
  since: number;
  resolve(result: R): void;
  reject(err: unknown): void;
}

const metrics = {
  groupSize: new Histogram({
    name: 'domiq_group_commit_size', help: 'Members per committed group transaction (group commit), by committer', labelNames: ['committer'],
    buckets: [1, 2, 4, 8, 16, 32, 50, 64, 100, 200],
  }),
  splits: new Counter({ name: 'domiq_group_commit_splits_total', help: 'Group transactions that failed and were split in halves to isolate the failing member', labelNames: ['committer'] }),
  failed: new Counter({ name: 'domiq_group_commit_failed_total', help: 'Members whose write failed (answered with an error), by committer', labelNames: ['committer'] }),
};

/**
 * Queues items and commits them in groups: up to `maxSize` members, or whatever was queued `maxWaitMs` after the
 * first of them, with at most `maxInFlight` groups committing at once (the next fills while they commit). Each
 * submit() resolves with its member's result only after its group's transaction has committed.
 *
 * When a group's transaction fails nothing of it has committed: it is split in halves and each half committed on
 * its own, recursively, so a member that fails alone is rejected with its own error and the others still commit
 * (once). An error `splittable` says is not any one member's fault (the database is unreachable) fails the whole
 * group at once instead of costing 2n-1 doomed attempts.
 */
export class GroupCommitter<I, R> {
  readonly #name: string;
  readonly #opts: GroupCommitOptions;
  readonly #commit: GroupCommitFn<I, R>;
  readonly #splittable: (err: unknown) => boolean;
  readonly #queue: Array<Queued<I, R>> = [];
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(name: string, opts: GroupCommitOptions, commit: GroupCommitFn<I, R>, splittable: (err: unknown) => boolean = () => true) {
    if (!(opts.maxSize >= 1 && opts.maxInFlight >= 1 && opts.maxWaitMs >= 0)) throw new Error(`group commit ${name}: maxSize and maxInFlight must be at least 1, maxWaitMs not negative`);
    this.#name = name;
    this.#opts = opts;
    this.#commit = commit;
    this.#splittable = splittable;
  }

  /** Queued members not yet taken into a group. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves with the item's result once the transaction holding it has committed; rejects if its write failed. */
  submit(item: I): Promise<R> {
    if (this.#closing) return Promise.reject(new GroupCommitClosedError());
    return new Promise<R>((resolve, reject) => {
      // Bound now, in the caller's async context (its request's span), to be entered later from the group's.
      const inContext = AsyncResource.bind(<T>(fn: () => T): T => fn());
      this.#queue.push({ item, inContext, since: performance.now(), resolve, reject });
      if (this.#queue.length >= this.#opts.maxSize || this.#timer === undefined) this.#pump();
    });
  }

  /**
   * Stops taking new items and commits everything queued at once (graceful shutdown: before the ORM closes);
   * resolves when every group has finished.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#pump();
    while (this.#inFlight.size > 0 || this.#queue.length > 0) {
      await Promise.allSettled([...this.#inFlight]);
      this.#pump();
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Starts every group that is due (full, or its first member has waited long enough) while a slot is free. */
  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const { maxSize, maxWaitMs, maxInFlight } = this.#opts;
    while (this.#queue.length > 0 && this.#inFlight.size < maxInFlight) {
      const due = this.#closing || this.#queue.length >= maxSize || performance.now() - this.#queue[0]!.since >= maxWaitMs;
      if (!due) break;
      const group = this.#queue.splice(0, maxSize);
      const task: Promise<void> = this.#commitGroup(group).finally(() => {
        this.#inFlight.delete(task);
        this.#pump();
      });
      this.#inFlight.add(task);
    }
    // A free slot and members still waiting for company: cut their group when the first has waited maxWaitMs.
    // With every slot busy, the next group is cut when one finishes (above).
    if (this.#queue.length > 0 && this.#inFlight.size < maxInFlight) {
      const waited = performance.now() - this.#queue[0]!.since;
      this.#timer = setTimeout(() => this.#pump(), Math.max(0, maxWaitMs - waited));
    }
  }

  async #commitGroup(group: Array<Queued<I, R>>): Promise<void> {
    let results: R[];
    try {
      results = await this.#commit(group);
      if (results.length !== group.length) throw new Error(`group commit ${this.#name}: ${results.length} results for ${group.length} members`);
    } catch (err) {
      if (group.length > 1 && this.#splittable(err)) {
        // Nothing of the group committed: find the failing member by halves; the others commit once.
        metrics.splits.inc({ committer: this.#name });
        const mid = Math.ceil(group.length / 2);
        await this.#commitGroup(group.slice(0, mid));
        await this.#commitGroup(group.slice(mid));
        return;
      }
      metrics.failed.inc({ committer: this.#name }, group.length);
      for (const member of group) member.reject(err);
      return;
    }
    metrics.groupSize.observe({ committer: this.#name }, group.length);
    group.forEach((member, i) => member.resolve(results[i]!));
  }
}
