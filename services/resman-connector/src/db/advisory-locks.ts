// Cross-replica locks of the connector: PostgreSQL session-level advisory locks on one dedicated connection per
// process. The lead-sync queue worker holds one per ResMan account while it pushes (at most one request in flight per
// account, on every replica: src/queue/lead-sync-queue.runner.ts); the same connection LISTENs for the consumer's
// "rows enqueued" notifications, so waking the worker costs no connection of its own.
//
// Why a session lock on a dedicated connection (docs/decisions.md, "Per-customer serialisation across connector
// replicas"): the critical section includes ResMan HTTP calls that can take seconds. A transaction-scoped lock would
// mean holding a pooled connection idle in a transaction across those calls (what idle_in_transaction_session_timeout
// cuts off); a lease column alone lets a live worker that is slower than its lease overlap with the next one. A session
// lock is released by PostgreSQL itself when the process (or its connection) dies, needs no schema, and costs one
// extra connection per process. (The queue's rows still carry a lease, for a different reason: see the runner.)
//
// All locks of a process share that one connection, so they are taken with pg_try_advisory_lock (a blocking
// pg_advisory_lock would stall every other key's lock and unlock behind it): `tryAcquire` once, or `run`, which polls.
// Session locks are re-entrant within a session: two tasks of this process for the same key would both "get" the
// lock, so a key held in this process is refused here before PostgreSQL is asked (and `run` queues same-key tasks in
// an in-process lane), and only replicas contend through PostgreSQL.
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
  released = false;
  constructor(key: string, client: pg.Client) {
    this.key = key;
    this.client = client;
  }
  assertHeld(): void {
    if (this.lost) throw new LockLostError(`the advisory lock on ${this.key} was lost (its database connection dropped)`);
  }
}

export interface AdvisoryLocksOptions {
  databaseUrl: string;
  logger: Logger;
  /** Prefix of every key's lock (one namespace per kind of key), e.g. 'domiq:resman-connector:resman-account:'. */
  namespace: string;
  /** The connection's name in pg_stat_activity. */
  applicationName?: string;
  /** `run`: longest wait for another replica to let go of a key; then the task fails. Default 60 s. */
  maxWaitMs?: number;
  /** `run`: first poll interval while another replica holds the key; it grows to `maxPollMs`. Defaults 10 ms, 200 ms. */
  minPollMs?: number;
  maxPollMs?: number;
}

// The server notices a vanished client (a machine that died without closing its socket) after about 25 s instead of
// the kernel default of hours, and so frees the locks that client held.
const SERVER_KEEPALIVES = '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3';

export class AdvisoryLocks {
  readonly #opts: Required<Omit<AdvisoryLocksOptions, 'logger'>> & { logger: Logger };
  readonly #lane = new KeyedQueue();
  readonly #held = new Set<Lease>();
  /** Keys this process holds (or is taking): PostgreSQL would grant them again to this same session. */
  readonly #local = new Set<string>();
  readonly #listeners = new Map<string, Set<() => void>>();
  #connecting: Promise<pg.Client> | undefined;
  #client: pg.Client | undefined;
  /** Queries on the shared connection run one after another (pg 9 no longer queues them itself). */
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(opts: AdvisoryLocksOptions) {
    this.#opts = { maxWaitMs: 60_000, minPollMs: 10, maxPollMs: 200, applicationName: 'resman-connector advisory locks', ...opts };
  }

  /** Runs `task` holding the key's lock in this process (the lane) and across processes (PostgreSQL), waiting for it. */
  run<T>(key: string, task: (lease: LockLease) => Promise<T>): Promise<T> {
    return this.#lane.run(key, async () => {
      const lease = await this.#acquire(key);
      try {
        return await task(lease);
      } finally {
        await this.release(lease);
      }
    });
  }

  /**
   * The key's lock if nobody holds it, in this process or another; null at once otherwise. Give it back with
   * `release`. Fails only when the database cannot be asked.
   */
  async tryAcquire(key: string): Promise<LockLease | null> {
    if (this.#local.has(key)) return null;
    this.#local.add(key);
    try {
      const lease = await this.#tryOnce(key);
      if (!lease) this.#local.delete(key);
      return lease;
    } catch (err) {
      this.#local.delete(key);
      throw err;
    }
  }

  async release(held: LockLease): Promise<void> {
    const lease = held as Lease;
    if (lease.released) return;
    lease.released = true;
    this.#held.delete(lease);
    // Only now is the key free in this process: a task whose lease was lost may still have been running.
    this.#local.delete(lease.key);
    if (lease.lost) return; // its session is gone, and the lock with it
    const client = lease.client;
    try {
      const ok = await this.#query(client, 'select pg_advisory_unlock(hashtextextended($1, 0)) as ok', [this.#opts.namespace + lease.key]);
      if (!ok) this.#opts.logger.warn({ key: lease.key }, 'advisory lock was not held at release');
    } catch (err) {
      // Unsure whether it is still held: end the session, which releases every lock it holds for certain.
      this.#opts.logger.warn({ err: String(err), key: lease.key }, 'advisory lock release failed; dropping the lock connection');
      this.#drop(client);
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Calls `onNotify` for every NOTIFY on `channel` (a plain identifier), LISTENing on the locks' connection, and again
   * whenever that connection is made anew. Calling it again (e.g. on every poll) reconnects a dropped connection.
   */
  async listen(channel: string, onNotify: () => void): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a plain channel name: ${channel}`);
    let set = this.#listeners.get(channel);
    const fresh = !set;
    if (!set) this.#listeners.set(channel, (set = new Set()));
    set.add(onNotify);
    const before = this.#client;
    const client = await this.#connection();
    // A new connection LISTENs to every channel while connecting; an existing one learns this channel now.
    if (fresh && client === before) await this.#run(client, `listen "${channel}"`);
  }

  /** Keys with a `run` task running or queued in this process. */
  get size(): number {
    return this.#lane.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = await this.#connecting?.catch(() => undefined);
    if (client) this.#drop(client);
    await client?.end().catch(() => undefined);
  }

  async #tryOnce(key: string): Promise<Lease | null> {
    const client = await this.#connection();
    const lease = new Lease(key, client);
    // Registered before the query, so a drop while it runs marks it lost rather than leaving it unnoticed.
    this.#held.add(lease);
    let ok: boolean;
    try {
      ok = await this.#query(client, 'select pg_try_advisory_lock(hashtextextended($1, 0)) as ok', [this.#opts.namespace + key]);
    } catch (err) {
      this.#held.delete(lease);
      throw err;
    }
    if (ok && !lease.lost) return lease;
    this.#held.delete(lease);
    return null;
  }

  async #acquire(key: string): Promise<Lease> {
    const started = Date.now();
    let poll = this.#opts.minPollMs;
    let waited = false;
    for (;;) {
      if (!this.#local.has(key)) {
        this.#local.add(key);
        let lease: Lease | null = null;
        try {
          lease = await this.#tryOnce(key);
        } finally {
          if (!lease) this.#local.delete(key);
        }
        if (lease) {
          if (waited) this.#opts.logger.debug({ key, waited_ms: Date.now() - started }, 'advisory lock acquired after waiting for another holder');
          return lease;
        }
      }
      if (Date.now() - started + poll > this.#opts.maxWaitMs) {
        throw new Error(`timed out after ${Date.now() - started} ms waiting for the lock on ${key} held by another replica`);
      }
      waited = true;
      await new Promise((r) => setTimeout(r, poll / 2 + Math.random() * poll));
      poll = Math.min(this.#opts.maxPollMs, poll * 2);
    }
  }

  #query(client: pg.Client, sql: string, params: unknown[]): Promise<boolean> {
    const result = this.#tail.then(() => client.query<{ ok: boolean }>(sql, params)).then(({ rows }) => rows[0]?.ok === true);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  #run(client: pg.Client, sql: string): Promise<void> {
    const result = this.#tail.then(() => client.query(sql)).then(() => undefined);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  #connection(): Promise<pg.Client> {
    if (this.#closed) return Promise.reject(new Error('advisory locks are closed'));
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.#opts.databaseUrl, application_name: this.#opts.applicationName, keepAlive: true, options: SERVER_KEEPALIVES });
      client.on('error', (err) => {
        this.#opts.logger.warn({ err: String(err) }, 'advisory lock connection failed; its locks are released');
        this.#drop(client);
      });
      client.on('end', () => this.#drop(client));
      client.on('notification', (msg) => {
        for (const fn of this.#listeners.get(msg.channel) ?? []) fn();
      });
      try {
        await client.connect();
        for (const channel of this.#listeners.keys()) await client.query(`listen "${channel}"`);
      } catch (err) {
        this.#connecting = undefined;
        await client.end().catch(() => undefined);
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
