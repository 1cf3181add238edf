import type { MikroORM, EntityManager } from '@domiq/db';
import type { EventContract } from '@domiq/proto/events';
import { EventBatch, type AppendEventOptions } from './outbox.ts';

/** Who made a change, as the outbox row records it (`auditActor(ctx.caller)` from `@domiq/auth` for gRPC callers). */
export type EventActor = Pick<AppendEventOptions, 'actorType' | 'actorId'>;

/**
 * What a use case runs in: one transaction, its rows and its events. A use case (`services/<name>/src/app/*.ts`)
 * takes a UnitOfWork and never opens a transaction itself, so the same use case serves a gRPC handler, an HTTP
 * route and a consumer alike: the adapter decides where the transaction comes from and who the actor is.
 *
 * A consumer's HandlerContext is a UnitOfWork already (its `emit` records the consumed event as the causation);
 * gRPC and HTTP adapters get one from `inTransaction`.
 */
export interface UnitOfWork {
  /** Transactional entity manager: the use case's writes and its events commit together or not at all. */
  readonly em: EntityManager;
  /** Appends an outbox event to this transaction (the adapter's actor and causation are filled in). */
  emit<T>(contract: EventContract<T>, payload: T, opts: AppendEventOptions): void;
}

/**
 * Runs `work` in a new transaction on a fresh entity manager; every event it emits carries `actor` (unless the
 * use case names another). Used by gRPC and HTTP adapters; consumers already run in one.
 */
export async function inTransaction<R>(orm: MikroORM, actor: EventActor, work: (uow: UnitOfWork) => Promise<R>): Promise<R> {
  return eventTransaction(orm, async (em, events) => work({ em, emit: (contract, payload, opts) => events.add(contract, payload, { ...actor, ...opts }) }));
}

/**
 * A transaction on a fresh entity manager whose events are collected in an EventBatch and written in one statement
 * after `work` (and after the unit of work's own flush, so rows the events describe are written first), just before
 * the commit. Every platform transaction that emits runs through here (inTransaction, the consumers).
 */
export async function eventTransaction<R>(orm: MikroORM, work: (em: EntityManager, events: EventBatch) => Promise<R>): Promise<R> {
  const events = new EventBatch(orm.config.get('schema') ?? 'public');
  return orm.em.fork({ clear: true }).transactional(async (em) => {
    const result = await work(em, events);
    await em.flush();
    await events.write(em);
    return result;
  });
}

/** A fresh entity manager for a read-only use case (queries need no transaction and emit nothing). */
export function readModel(orm: MikroORM): EntityManager {
  return orm.em.fork({ clear: true });
}
