// One sync at a time per customer and property, across every replica of the connector.
//
// Why a session-level advisory lock on a dedicated connection (docs/decisions.md, "Per-customer serialisation
// across connector replicas"): the critical section (read the mapping, search ResMan, create or update the
// guest card, record the mapping) includes ResMan HTTP calls that can take seconds. A transaction-scoped lock
// would mean holding a pooled connection idle in a transaction across those calls (what `prepare` exists to
// avoid, and what idle_in_transaction_session_timeout cuts off); a "claim" row inserted first would need a
// lease and a sweeper for claims a crashed replica leaves behind. A session lock is released by PostgreSQL itself
// when the process (or its connection) dies, needs no schema, and costs one extra connection per process.
//
// All locks of a process share that one connection, so they are taken with pg_try_advisory_lock and polled
// (a blocking pg_advisory_lock would stall every other key's lock and unlock behind it). Session locks are
// re-entrant within a session: two tasks of this process for the same key would both "get" the lock. The
// in-process lane in front of it (KeyedQueue) is therefore required, and it also keeps waits inside one
// process off the database: only replicas contend through PostgreSQL.
import pg from 'pg';
import type { Logger } from '@domiq/logging';
import { KeyedQueue } from '../resman/keyed-queue.ts';

/** The lock's connection dropped while the task held it: another replica may be in the section now. Retryable. */
export class LockLostError extends Error {
  override name = 'LockLostError';
}

/** A held lock: `assertHeld()` before a write that is only safe under it. */
export interface LockLease {
  readonly key: string;
  readonly lost: boolean;
  assertHeld(): void;
}

class Lease implements LockLease {
  readonly key: string;
  /** The session the lock is (being) taken on. */
  readonly client: pg.Client;
  lost = false;
  constructor(key: string, client: pg.Client) {
    this.key = key;
    this.client = client;
  }
  assertHeld(): void {
    if (this.lost) throw new LockLostError(`the advisory lock on ${this.key} was lost (its database connection dropped)`);
  }
}

export interface CustomerLocksOptions {
  databaseUrl: string;
  logger: Logger;
  /** Longest wait for another replica to let go of a key; then the task fails (the message is redelivered). Default 60 s. */
  maxWaitMs?: number;
  /** First poll interval while another replica holds the key; it grows to `maxPollMs`. Defaults 10 ms, 200 ms. */
  minPollMs?: number;
  maxPollMs?: number;
}

const LOCK_NAMESPACE = 'domiq:resman-connector:customer:';

export class CustomerLocks {
  readonly #opts: Required<Omit<CustomerLocksOptions, 'logger'>> & { logger: Logger };
  readonly #lane = new KeyedQueue();
  readonly #held = new Set<Lease>();
  #connecting: Promise<pg.Client> | undefined;
  #client: pg.Client | undefined;
  /** Queries on the shared connection run one after another (pg 9 no longer queues them itself). */
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(opts: CustomerLocksOptions) {
    this.#opts = { maxWaitMs: 60_000, minPollMs: 10, maxPollMs: 200, ...opts };
  }

  /** Runs `task` holding the key's lock in this process (the lane) and across processes (PostgreSQL). */
  run<T>(key: string, task: (lease: LockLease) => Promise<T>): Promise<T> {
    return this.#lane.run(key, async () => {
      const lease = await this.#acquire(key);
      try {
        return await task(lease);
      } finally {
        await this.#release(lease);
      }
    });
  }

  /** Keys with a task running or queued in this process. */
  get size(): number {
    return this.#lane.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = await this.#connecting?.catch(() => undefined);
    if (client) this.#drop(client);
    await client?.end().catch(() => undefined);
  }

  async #acquire(key: string): Promise<Lease> {
    const started = Date.now();
    let poll = this.#opts.minPollMs;
    let waited = false;
    for (;;) {
      const client = await this.#connection();
      const lease = new Lease(key, client);
      // Registered before the query, so a drop while it runs marks it lost rather than leaving it unnoticed.
      this.#held.add(lease);
      let ok: boolean;
      try {
        ok = await this.#query(client, 'select pg_try_advisory_lock(hashtextextended($1, 0)) as ok', LOCK_NAMESPACE + key);
      } catch (err) {
        this.#held.delete(lease);
        throw err;
      }
      if (ok && !lease.lost) {
        if (waited) this.#opts.logger.debug({ key, waited_ms: Date.now() - started }, 'customer lock acquired after waiting for another replica');
        return lease;
      }
      this.#held.delete(lease);
      if (Date.now() - started + poll > this.#opts.maxWaitMs) {
        throw new Error(`timed out after ${Date.now() - started} ms waiting for the customer lock held by another replica`);
      }
      waited = true;
      await new Promise((r) => setTimeout(r, poll / 2 + Math.random() * poll));
      poll = Math.min(this.#opts.maxPollMs, poll * 2);
    }
  }

  async #release(lease: Lease): Promise<void> {
    this.#held.delete(lease);
    if (lease.lost) return; // its session is gone, and the lock with it
    const client = lease.client;
    try {
      const ok = await this.#query(client, 'select pg_advisory_unlock(hashtextextended($1, 0)) as ok', LOCK_NAMESPACE + lease.key);
      if (!ok) this.#opts.logger.warn({ key: lease.key }, 'customer lock was not held at release');
    } catch (err) {
      // Unsure whether it is still held: end the session, which releases every lock it holds for certain.
      this.#opts.logger.warn({ err: String(err), key: lease.key }, 'customer lock release failed; dropping the lock connection');
      this.#drop(client);
      await client.end().catch(() => undefined);
    }
  }

  #query(client: pg.Client, sql: string, key: string): Promise<boolean> {
    const result = this.#tail.then(() => client.query<{ ok: boolean }>(sql, [key])).then(({ rows }) => rows[0]?.ok === true);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  #connection(): Promise<pg.Client> {
    if (this.#closed) return Promise.reject(new Error('customer locks are closed'));
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.#opts.databaseUrl, application_name: 'resman-connector customer locks', keepAlive: true });
      client.on('error', (err) => {
        this.#opts.logger.warn({ err: String(err) }, 'customer lock connection failed; its locks are released');
        this.#drop(client);
      });
      client.on('end', () => this.#drop(client));
      try {
        await client.connect();
      } catch (err) {
        this.#connecting = undefined;
        throw err;
      }
      this.#client = client;
      return client;
    })();
    return this.#connecting;
  }

  /** The session is gone (or going): every lock it held is released, so every lease on it is lost. */
  #drop(client: pg.Client): void {
    if (this.#client === client) {
      this.#client = undefined;
      this.#connecting = undefined;
    }
    for (const lease of this.#held) {
      if (lease.client !== client) continue;
      lease.lost = true;
      this.#held.delete(lease);
    }
  }
}
