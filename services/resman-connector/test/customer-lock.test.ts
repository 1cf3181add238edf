// AdvisoryLocks (the connector's cross-replica locks; once CustomerLocks) against the real PostgreSQL: two instances
// stand for two connector processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@domiq/logging';
import { createTestDatabase, expectEventually, type TestDatabase } from '@domiq/testkit';
import { AdvisoryLocks, LockLostError } from '../src/db/advisory-locks.ts';

let db: TestDatabase;
const open: AdvisoryLocks[] = [];
const logger = createLogger('customer-lock-test', 'silent');
const locks = (over: { maxWaitMs?: number } = {}) => {
  const l = new AdvisoryLocks({ databaseUrl: db.url, logger, namespace: 'test:customer:', minPollMs: 2, maxPollMs: 20, ...over });
  open.push(l);
  return l;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(open.map((l) => l.close()));
  await db?.drop();
});

/** Runs tasks on the given instances, all at once, and records how many were inside each key at the same time. */
async function overlap(instances: AdvisoryLocks[], keys: string[], perKey: number): Promise<Map<string, number>> {
  const inside = new Map<string, number>();
  const most = new Map<string, number>();
  await Promise.all(keys.flatMap((key) => Array.from({ length: perKey }, (_, i) => instances[i % instances.length]!.run(key, async (lease) => {
    inside.set(key, (inside.get(key) ?? 0) + 1);
    most.set(key, Math.max(most.get(key) ?? 0, inside.get(key)!));
    await sleep(5 + Math.random() * 10);
    lease.assertHeld();
    inside.set(key, inside.get(key)! - 1);
  }))));
  return most;
}

describe('AdvisoryLocks', () => {
  it('lets one task per key in at a time across processes and within one, other keys in parallel', async () => {
    const a = locks();
    const b = locks();
    const keys = Array.from({ length: 10 }, (_, i) => `acct|prop|customer-${i}`);
    const started = Date.now();
    const most = await overlap([a, b], keys, 4);
    expect([...most.values()]).toEqual(keys.map(() => 1));
    // 10 keys x 4 tasks of ~10 ms each, serialised per key only: far less than 400 ms end to end.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(a.size + b.size).toBe(0);
    // Nothing left held: the other instance takes every key at once.
    const c = locks({ maxWaitMs: 50 });
    await Promise.all(keys.map((k) => c.run(k, async () => undefined)));
  });

  it('releases the key when the task fails', async () => {
    const a = locks();
    const b = locks({ maxWaitMs: 200 });
    await expect(a.run('k-fail', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(b.run('k-fail', async () => 'in')).resolves.toBe('in');
  });

  it('gives up waiting after maxWaitMs while another process holds the key', async () => {
    const a = locks();
    const b = locks({ maxWaitMs: 100 });
    let release!: () => void;
    const held = a.run('k-wait', () => new Promise<void>((r) => (release = r)));
    await sleep(50);
    await expect(b.run('k-wait', async () => 'in')).rejects.toThrow(/timed out/);
    release();
    await held;
    await expect(b.run('k-wait', async () => 'in')).resolves.toBe('in');
  });

  it('marks the lease lost when its connection dies (PostgreSQL has released the lock) and reconnects for the next task', async () => {
    const a = locks();
    const b = locks({ maxWaitMs: 2_000 });
    let lostSeen: unknown;
    await a.run('k-lost', async (lease) => {
      // Only this task holds an advisory lock in the test database now: end the session holding it.
      const ended = await db.query(`select pg_terminate_backend(l.pid) as ok from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and l.granted and d.datname = current_database()`);
      expect(ended).toEqual([{ ok: true }]);
      // The other process can now take the key: the session (and with it the lock) is gone.
      await b.run('k-lost', async () => undefined);
      await sleep(50);
      expect(lease.lost).toBe(true);
      try {
        lease.assertHeld();
      } catch (err) {
        lostSeen = err;
      }
    });
    expect(lostSeen).toBeInstanceOf(LockLostError);
    await expect(a.run('k-lost', async (lease) => lease.lost)).resolves.toBe(false);
  });
});

describe('AdvisoryLocks.tryAcquire', () => {
  it('takes a free key at once and refuses one held by this or another process, until it is released', async () => {
    const a = locks();
    const b = locks();
    const held = await a.tryAcquire('acct-1');
    expect(held).not.toBeNull();
    expect(await b.tryAcquire('acct-1')).toBeNull();
    // The same session would be granted it again by PostgreSQL: refused in-process instead.
    expect(await a.tryAcquire('acct-1')).toBeNull();
    const other = await b.tryAcquire('acct-2');
    expect(other).not.toBeNull();
    await a.release(held!);
    await a.release(held!); // twice is harmless
    const taken = await b.tryAcquire('acct-1');
    expect(taken).not.toBeNull();
    expect(await a.tryAcquire('acct-1')).toBeNull();
    await b.release(taken!);
    await b.release(other!);
  });
});

describe('AdvisoryLocks.listen', () => {
  it('hears NOTIFYs on its lock connection, and again after that connection was cut', async () => {
    const a = new AdvisoryLocks({ databaseUrl: db.url, logger, namespace: 'test:listen:', applicationName: 'advisory-locks listen test' });
    open.push(a);
    let heard = 0;
    await a.listen('test_lead_sync_wake', () => heard++);
    await db.query(`select pg_notify('test_lead_sync_wake', '')`);
    await expectEventually(() => expect(heard).toBe(1));
    await db.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'advisory-locks listen test'`);
    // The worker calls listen on every poll: that reconnects, LISTENing again.
    await expectEventually(async () => {
      await a.listen('test_lead_sync_wake', () => undefined);
      const [row] = await db.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where application_name = 'advisory-locks listen test'`);
      expect(row!.n).toBe(1);
    });
    await db.query(`select pg_notify('test_lead_sync_wake', '')`);
    await expectEventually(() => expect(heard).toBe(2));
  });
});
