import { SpanKind, SpanStatusCode, trace, context as otelContext } from '@opentelemetry/api';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { query, type EntityManager, type MikroORM } from '@domiq/db';
import { streamForSubject, type EventContract } from '@domiq/proto/events';
import type { Logger } from '@domiq/logging';
import { extractTraceContext } from '@domiq/telemetry';
import { EventHeaders, type AppendEventOptions } from './outbox.ts';
import { eventTransaction, type UnitOfWork } from './unit-of-work.ts';
import { metrics } from './metrics.ts';
import { EventTooLargeError } from './max-payload.ts';
import { isNotFound, isStreamNotFound, sleepUnlessAborted } from './nats.ts';

const tracer = trace.getTracer('@domiq/bus');

/** Thrown by a handler for a message that can never succeed; it goes to the dead-letter stream at once. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}

/** A handler runs in a UnitOfWork: its writes, its emitted events and the processed-event row commit together. */
export interface HandlerContext<T> extends UnitOfWork {
  /** Transactional entity manager: the handler's writes, its emitted events and the processed-event row commit together. */
  em: EntityManager;
  payload: T;
  eventId: string;
  subject: string;
  deliveryCount: number;
  logger: Logger;
  /** Appends an outbox event caused by this one. */
  emit<U>(contract: EventContract<U>, payload: U, opts: AppendEventOptions): void;
}

export interface PrepareContext<T> {
  payload: T;
  eventId: string;
  logger: Logger;
}

export interface EventHandler<T, P = undefined> {
  /** Durable consumer name, unique per service and handler (e.g. `conversations-message-received`). */
  durable: string;
  contract: EventContract<T>;
  /**
   * Optional I/O before the transaction (calls to other services), so no database transaction is held open
   * across a network call. Must be idempotent: it runs again on every redelivery.
   */
  prepare?(ctx: PrepareContext<T>): Promise<P>;
  handle(ctx: HandlerContext<T> & { prepared: P }): Promise<void>;
}

export function defineHandler<T, P = undefined>(handler: EventHandler<T, P>): EventHandler<T, P> {
  return handler;
}

/** One event of a batch, as a batch handler sees it. */
export interface BatchItem<T, P> {
  payload: T;
  prepared: P;
  eventId: string;
  subject: string;
  deliveryCount: number;
  /** Appends an outbox event caused by this item's event. */
  emit<U>(contract: EventContract<U>, payload: U, opts: AppendEventOptions): void;
}

export interface BatchHandlerContext<T, P> {
  /** Transactional entity manager: the batch's writes, its events and its processed-event rows commit together. */
  em: EntityManager;
  /** The batch, in stream order, without events this consumer already handled. */
  items: Array<BatchItem<T, P>>;
  logger: Logger;
}

/**
 * A batch-first consumer (the hot-path pattern): the platform collects up to `maxMessages` events, or what arrived
 * within `maxWaitMs` of the first, and hands them to `handleBatch` in one transaction with one multi-row
 * processed-event insert; all are acked after the commit. When the transaction fails, the batch is split in halves
 * and each half tried again, down to single events, so one bad event is isolated (dead-lettered with its reason, or
 * retried with backoff) and never blocks or duplicates the others.
 *
 * Batches run concurrently (up to CONSUMER_CONCURRENCY): a handler that takes per-key locks must take them in a
 * stable order (sort the keys), or two batches sharing keys deadlock (PostgreSQL aborts one; it is split and retried).
 */
export interface BatchEventHandler<T, P = undefined> {
  durable: string;
  contract: EventContract<T>;
  batch: { maxMessages: number; maxWaitMs: number };
  /**
   * Optional I/O before the transaction for the whole batch (one call to another service for all of it), returning
   * one prepared value per payload, in order. Idempotent: it runs again on redelivery and for each half of a split.
   */
  prepareBatch?(items: ReadonlyArray<{ payload: T; eventId: string }>, ctx: { logger: Logger }): Promise<P[]>;
  handleBatch(ctx: BatchHandlerContext<T, P>): Promise<void>;
}

export function defineBatchHandler<T, P = undefined>(handler: BatchEventHandler<T, P>): BatchEventHandler<T, P> {
  return handler;
}

export type AnyEventHandler<T, P> = EventHandler<T, P> | BatchEventHandler<T, P>;

function isBatchHandler<T, P>(h: AnyEventHandler<T, P>): h is BatchEventHandler<T, P> {
  return 'handleBatch' in h;
}

/** An event of a batch once its message is decoded. */
interface Decoded<T> {
  msg: JsMsg;
  eventId: string;
  payload: T;
  /** The trace the event came with: the events its handling emits carry it on. */
  trace: ReturnType<typeof otelContext.active>;
}

export interface ConsumerOptions {
  orm: MikroORM;
  nc: NatsConnection;
  schema: string;
  logger: Logger;
  concurrency: number;
  maxDeliver: number;
  ackWaitMs?: number;
  /**
   * How long working() keeps extending one message's ack_wait (default 5 min, `CONSUMER_MAX_WORKING_MS`). After
   * it the consumer stops, logs it, and ack_wait runs out: the message is redelivered (its handler, if it ever
   * finishes, still acks or naks; the processed-event record keeps the effect single).
   */
  maxWorkingMs?: number;
  /** How often start() looks again for a stream that does not exist yet (default 1 s). */
  streamWaitMs?: number;
  /** First delay before pulling again after the consume() loop ended (default 500 ms, doubling to 30 s). */
  restartDelayMs?: number;
}

/** Whether the consumer is pulling; `reason` says why not (readiness reports it). */
export interface ConsumerStatus {
  durable: string;
  running: boolean;
  reason?: string;
  /** When it stopped pulling (ms since the epoch). */
  since?: number;
}

/** Backoff for `nak`: 200 ms, 400 ms, ... capped at 10 s. */
export function redeliveryDelay(deliveryCount: number): number {
  return Math.min(10_000, 200 * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * Runs one durable pull consumer: bounded concurrency, a transaction per message with a processed-event
 * record for idempotency, ack only after commit, nak with backoff on failure, and dead-lettering with
 * the reason once `maxDeliver` is reached or the message is poison.
 *
 * The durable's server-side max_deliver is unlimited: the consumer itself gives up after `maxDeliver` deliveries
 * (to the dead-letter stream), and a message leaves the consumer only acked or, once safely in the DLQ, termed.
 * When the consume() loop ends (the durable or its stream deleted, a connection problem the client gives up on)
 * it is started again with backoff, recreating the durable; `status()` says whether it is pulling.
 */
export class EventConsumer<T, P = unknown> {
  readonly #handler: AnyEventHandler<T, P>;
  readonly #opts: ConsumerOptions;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  /** Set while the consumer is not pulling (before start, while its stream is missing, between restarts). */
  #down: { reason: string; since: number } | undefined = { reason: 'not started', since: Date.now() };
  readonly #inflight = new Set<Promise<void>>();
  #stopping = false;
  #starting: Promise<void> | undefined;
  /** Aborted by stop(): ends a wait for the stream at once. */
  readonly #stop = new AbortController();

  constructor(handler: AnyEventHandler<T, P>, opts: ConsumerOptions) {
    this.#handler = handler;
    this.#opts = opts;
  }

  /**
   * Creates or updates the durable and starts pulling. The stream is never created here (no service's NATS user
   * may): when it does not exist yet, start() logs once and waits until the platform's provisioning step has
   * created it. stop() ends that wait: start() then resolves without having started anything.
   */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const messages = await this.#attach();
    if (messages) this.#loop = this.#supervise(messages);
  }

  /** Whether it is pulling, and if not why: `/readyz` names every consumer that is not. */
  status(): ConsumerStatus {
    const down = this.#down;
    return down ? { durable: this.#handler.durable, running: false, reason: down.reason, since: down.since } : { durable: this.#handler.durable, running: true };
  }

  /**
   * Ensures the durable (waiting while its stream is missing) and starts pulling. Resolves undefined when stop()
   * came meanwhile.
   */
  async #attach(): Promise<ConsumerMessages | undefined> {
    const { nc, logger } = this.#opts;
    const { durable, contract } = this.#handler;
    const stream = streamForSubject(contract.subject);
    // checkAPI: false: no `$JS.API.INFO` call, which a service's NATS user is not granted.
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    let waiting = false;
    for (;;) {
      if (this.#stopping) return undefined;
      try {
        await this.#ensureDurable(jsm, stream);
        break;
      } catch (err) {
        if (this.#stopping) return undefined;
        if (!isStreamNotFound(err)) throw err;
        if (!waiting) logger.warn({ stream, consumer: durable }, `stream ${stream} does not exist yet (the platform's provisioning step creates it); waiting for it`);
        if (!waiting) this.#down = { reason: `stream ${stream} does not exist`, since: this.#down?.since ?? Date.now() };
        waiting = true;
        await sleepUnlessAborted(this.#opts.streamWaitMs ?? 1000, this.#stop.signal);
      }
    }
    if (waiting) logger.info({ stream, consumer: durable }, `stream ${stream} exists now; consumer starting`);
    if (this.#stopping) return undefined;
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    if (this.#stopping) return undefined;
    // abort_on_missing_resource: a deleted durable or stream ends the iterator (and #supervise recreates it)
    // instead of the client waiting silently, forever, for it to come back.
    const h = this.#handler;
    // A batch consumer keeps two batches' worth buffered per slot it may fill.
    const buffered = isBatchHandler(h) ? Math.max(h.batch.maxMessages * 2, this.#opts.concurrency * 2) : this.#opts.concurrency * 2;
    const messages = await consumer.consume({ max_messages: buffered, abort_on_missing_resource: true });
    if (this.#stopping) {
      await messages.close().catch(() => undefined);
      return undefined;
    }
    this.#messages = messages;
    this.#down = undefined;
    return messages;
  }

  /** Runs the pull loop; whenever it ends other than by stop(), starts it again with backoff. */
  async #supervise(first: ConsumerMessages): Promise<void> {
    const { logger } = this.#opts;
    const { durable } = this.#handler;
    const initial = this.#opts.restartDelayMs ?? 500;
    let messages = first;
    let failures = 0;
    for (;;) {
      const began = Date.now();
      let reason = 'its message iterator finished';
      try {
        await this.#run(messages);
      } catch (err) {
        reason = `its message iterator failed: ${String((err as Error)?.message ?? err)}`;
      }
      if (this.#stopping) return;
      this.#messages = undefined;
      this.#down = { reason, since: Date.now() };
      // A loop that ran a while was healthy: start the backoff over.
      if (Date.now() - began > 60_000) failures = 0;
      for (;;) {
        const delay = Math.min(30_000, initial * 2 ** failures++);
        logger.warn({ consumer: durable, reason, restart_in_ms: delay }, `consumer ${durable} stopped pulling (${reason}); restarting it`);
        await sleepUnlessAborted(delay, this.#stop.signal);
        if (this.#stopping) return;
        try {
          const next = await this.#attach();
          if (!next) return;
          messages = next;
          break;
        } catch (err) {
          reason = `restart failed: ${String((err as Error)?.message ?? err)}`;
          this.#down = { reason, since: this.#down?.since ?? Date.now() };
        }
      }
      metrics.consumerRestarts.inc({ consumer: durable });
      logger.info({ consumer: durable }, `consumer ${durable} is pulling again`);
    }
  }

  async #ensureDurable(jsm: JetStreamManager, stream: string): Promise<void> {
    const { durable, contract } = this.#handler;
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: contract.subject,
      // Unlimited on the server: this class dead-letters after maxDeliver, and a message whose dead-lettering
      // failed is nak'ed to be tried again; a server-side limit would silently strand it in the stream.
      max_deliver: -1,
      ack_wait: (this.#opts.ackWaitMs ?? 30_000) * 1_000_000,
      max_ack_pending: Math.max(64, this.#opts.concurrency * 8, isBatchHandler(this.#handler) ? this.#handler.batch.maxMessages * (this.#opts.concurrency + 2) : 0),
    };
    try {
      await jsm.consumers.info(stream, durable);
      await jsm.consumers.update(stream, durable, { max_deliver: config.max_deliver, ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
    } catch (err) {
      if (isStreamNotFound(err) || !isNotFound(err)) throw err;
      await jsm.consumers.add(stream, config);
    }
  }

  async #run(messages: ConsumerMessages): Promise<void> {
    if (isBatchHandler(this.#handler)) return this.#runBatches(messages, this.#handler);
    const limit = this.#opts.concurrency;
    for await (const msg of messages) {
      const task = this.#process(msg).catch((err: unknown) => this.#opts.logger.error({ consumer: this.#handler.durable, err: String(err) }, 'message processing failed unexpectedly')).finally(() => this.#inflight.delete(task));
      this.#inflight.add(task);
      // Bounded concurrency: pull the next message only when a slot is free.
      while (this.#inflight.size >= limit) await Promise.race(this.#inflight);
      if (this.#stopping) break;
    }
  }

  /** Collects messages into batches (full, or `maxWaitMs` after the first) and runs up to `concurrency` at once. */
  async #runBatches(messages: ConsumerMessages, handler: BatchEventHandler<T, P>): Promise<void> {
    const limit = this.#opts.concurrency;
    const { maxMessages, maxWaitMs } = handler.batch;
    let buffer: JsMsg[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      const task = this.#processBatch(batch, handler)
        .catch((err: unknown) => this.#opts.logger.error({ consumer: handler.durable, err: String(err) }, 'batch processing failed unexpectedly'))
        .finally(() => this.#inflight.delete(task));
      this.#inflight.add(task);
    };
    try {
      for await (const msg of messages) {
        buffer.push(msg);
        if (buffer.length >= maxMessages) flush();
        else timer ??= setTimeout(flush, maxWaitMs);
        while (this.#inflight.size >= limit) await Promise.race(this.#inflight);
        if (this.#stopping) break;
      }
    } finally {
      flush();
    }
  }

  /** A batch: budget and decoding checks per message, then one transaction for the rest (split on failure). */
  async #processBatch(msgs: JsMsg[], handler: BatchEventHandler<T, P>): Promise<void> {
    const { durable, contract } = handler;
    const { schema, orm } = this.#opts;
    const startedMs = Date.now();
    const maxWorking = this.#opts.maxWorkingMs ?? 300_000;
    const keepAlive = setInterval(() => {
      if (Date.now() - startedMs < maxWorking) for (const m of msgs) m.working();
      else clearInterval(keepAlive);
    }, Math.max(1000, (this.#opts.ackWaitMs ?? 30_000) / 3));
    keepAlive.unref();
    const traces = msgs.map((m) => extractTraceContext(m.headers ?? natsHeaders(), otelContext.active()));
    const links = traces.map((t) => trace.getSpanContext(t)).filter((c) => c !== undefined).map((c) => ({ context: c }));
    try {
      // The batch's span continues the first event's trace and links every event's; each event's emitted events
      // carry on that event's own trace (see #commitBatch), so a message is still one trace end to end.
      await tracer.startActiveSpan(`${contract.subject} process batch`, { kind: SpanKind.CONSUMER, links, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': contract.subject, 'messaging.consumer.group.name': durable, 'messaging.batch.message_count': msgs.length, 'messaging.operation.type': 'process' } }, traces[0]!, async (span) => {
        // Budget and decoding are per message: a bad one is dealt with alone and the rest go on as a batch.
        const decoded: Array<Decoded<T>> = [];
        for (const [index, msg] of msgs.entries()) {
          const h = msg.headers ?? natsHeaders();
          const eventId = h.get(EventHeaders.eventId) || h.get('Nats-Msg-Id') || `${msg.info.stream}:${msg.seq}`;
          if (msg.info.deliveryCount > this.#opts.maxDeliver) {
            const done = await orm.em.fork().execute<unknown[]>(`select 1 from "${schema}".processed_event where consumer = ? and event_id = ?`, [durable, eventId]);
            if (done.length > 0) {
              msg.ack();
              metrics.consumed.inc({ consumer: durable, outcome: 'duplicate' });
            } else await this.#failed(msg, eventId, new PoisonMessageError(`exceeded ${this.#opts.maxDeliver} deliveries (delivery ${msg.info.deliveryCount})`));
            continue;
          }
          try {
            decoded.push({ msg, eventId, payload: contract.codec.fromJSON(JSON.parse(new TextDecoder().decode(msg.data))), trace: traces[index]! });
          } catch (err) {
            await this.#failed(msg, eventId, new PoisonMessageError(`undecodable payload: ${String(err)}`));
          }
        }
        try {
          await this.#commitBatch(decoded, handler);
        } finally {
          span.end();
        }
      });
    } finally {
      clearInterval(keepAlive);
      metrics.handleSeconds.observe({ consumer: durable }, (Date.now() - startedMs) / 1000);
    }
  }

  /** One transaction for the events; on failure the halves are tried on their own, down to one event. */
  async #commitBatch(items: Array<Decoded<T>>, handler: BatchEventHandler<T, P>): Promise<void> {
    if (items.length === 0) return;
    const { durable } = handler;
    const { logger, schema, orm } = this.#opts;
    try {
      const prepared = handler.prepareBatch ? await handler.prepareBatch(items.map((i) => ({ payload: i.payload, eventId: i.eventId })), { logger }) : items.map(() => undefined as P);
      if (prepared.length !== items.length) throw new Error(`prepareBatch returned ${prepared.length} values for ${items.length} events`);
      const handled = await eventTransaction(orm, async (em, events) => {
        // One statement claims the whole batch; one JSON parameter (the driver would expand a JS array).
        const rows = await query<{ event_id: string }>(em,
          `insert into "${schema}".processed_event (consumer, event_id, subject, processed_at)
           select ?, r.event_id, r.subject, now() from json_to_recordset(?::json) as r(event_id text, subject text)
           on conflict do nothing returning event_id`,
          [durable, JSON.stringify(items.map((i) => ({ event_id: i.eventId, subject: i.msg.subject })))],
        );
        const claimed = new Set(rows.map((r) => r.event_id));
        // The same event twice in one batch (published again under another message id) is handled once.
        const work: Array<BatchItem<T, P>> = [];
        items.forEach((i, n) => {
          if (!claimed.delete(i.eventId)) return;
          work.push({
            payload: i.payload, prepared: prepared[n]!, eventId: i.eventId, subject: i.msg.subject, deliveryCount: i.msg.info.deliveryCount,
            emit: (c, p, o) => otelContext.with(i.trace, () => events.add(c, p, { causationMsgId: i.eventId, ...o })),
          });
        });
        if (work.length > 0) await handler.handleBatch({ em, items: work, logger: logger.child({ consumer: durable }) });
        return new Set(work.map((w) => w.eventId));
      });
      for (const i of items) {
        i.msg.ack();
        metrics.consumed.inc({ consumer: durable, outcome: handled.delete(i.eventId) ? 'handled' : 'duplicate' });
      }
    } catch (err) {
      if (items.length > 1) {
        // Nothing of the batch committed: find the bad event by halves; the good ones still commit once.
        const mid = Math.ceil(items.length / 2);
        await this.#commitBatch(items.slice(0, mid), handler);
        await this.#commitBatch(items.slice(mid), handler);
        return;
      }
      await this.#failed(items[0]!.msg, items[0]!.eventId, err);
    }
  }

  /** One event that failed on its own: dead-lettered when poison or out of deliveries, otherwise retried with backoff. */
  async #failed(msg: JsMsg, eventId: string, err: unknown): Promise<void> {
    const durable = this.#handler.durable;
    const log = this.#opts.logger.child({ consumer: durable, event_id: eventId });
    // An event too large for the broker will be just as large next time.
    const poison = err instanceof PoisonMessageError || err instanceof EventTooLargeError;
    if (poison || msg.info.deliveryCount >= this.#opts.maxDeliver) {
      if (await this.#deadLetter(msg, eventId, poison ? String((err as Error).message) : `gave up after ${msg.info.deliveryCount} deliveries: ${String(err)}`)) {
        log.error({ err: String(err), deliveries: msg.info.deliveryCount }, 'event dead-lettered');
        metrics.consumed.inc({ consumer: durable, outcome: 'dead_lettered' });
      } else metrics.consumed.inc({ consumer: durable, outcome: 'retried' });
      return;
    }
    const delay = redeliveryDelay(msg.info.deliveryCount);
    log.warn({ err: String(err), deliveries: msg.info.deliveryCount, retry_in_ms: delay }, 'event handling failed, will retry');
    msg.nak(delay);
    metrics.consumed.inc({ consumer: durable, outcome: 'retried' });
  }

  async #process(msg: JsMsg): Promise<void> {
    const handler = this.#handler as EventHandler<T, P>;
    const { durable, contract } = handler;
    const { logger, schema, orm } = this.#opts;
    const h = msg.headers ?? natsHeaders();
    const eventId = h.get(EventHeaders.eventId) || h.get('Nats-Msg-Id') || `${msg.info.stream}:${msg.seq}`;
    const parent = extractTraceContext(h, otelContext.active());
    const started = process.hrtime.bigint();
    const startedMs = Date.now();
    // A slow handler (a third-party API retrying) must not be redelivered to another worker meanwhile; but only
    // up to maxWorkingMs: a handler stuck for good must not hold its message forever. After that ack_wait runs
    // out and the server redelivers it.
    const maxWorking = this.#opts.maxWorkingMs ?? 300_000;
    const keepAlive = setInterval(() => {
      const elapsed = Date.now() - startedMs;
      if (elapsed < maxWorking) return msg.working();
      clearInterval(keepAlive);
      logger.warn({ consumer: durable, event_id: eventId, deliveries: msg.info.deliveryCount, working_ms: elapsed, max_working_ms: maxWorking },
        'handler still running after the working limit (CONSUMER_MAX_WORKING_MS); no longer extending ack_wait, the event will be redelivered');
      metrics.workingLimitExceeded.inc({ consumer: durable });
    }, Math.max(1000, (this.#opts.ackWaitMs ?? 30_000) / 3));
    keepAlive.unref();
    await tracer.startActiveSpan(
      `${msg.subject} process`,
      { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject, 'messaging.consumer.group.name': durable, 'messaging.message.id': eventId, 'messaging.operation.type': 'process' } },
      parent,
      async (span) => {
        const log = logger.child({ consumer: durable, event_id: eventId });
        try {
          // Past the consumer's own budget (an earlier attempt overran the working limit, or its dead-lettering
          // failed): do not run the handler again, park the message.
          if (msg.info.deliveryCount > this.#opts.maxDeliver) {
            const done = await orm.em.fork().execute<unknown[]>(`select 1 from "${schema}".processed_event where consumer = ? and event_id = ?`, [durable, eventId]);
            if (done.length > 0) {
              msg.ack();
              metrics.consumed.inc({ consumer: durable, outcome: 'duplicate' });
              return;
            }
            throw new PoisonMessageError(`exceeded ${this.#opts.maxDeliver} deliveries (delivery ${msg.info.deliveryCount}: an earlier attempt overran the working limit or could not be dead-lettered)`);
          }
          let payload: T;
          try {
            payload = contract.codec.fromJSON(JSON.parse(new TextDecoder().decode(msg.data)));
          } catch (err) {
            throw new PoisonMessageError(`undecodable payload: ${String(err)}`);
          }
          const prepared = handler.prepare ? await handler.prepare({ payload, eventId, logger: log }) : (undefined as P);
          const outcome = await eventTransaction(orm, async (em, events) => {
            const claimed = await query<{ ok: number }>(em,
              `insert into "${schema}".processed_event (consumer, event_id, subject, processed_at) values (?, ?, ?, now())
               on conflict do nothing returning 1 as ok`,
              [durable, eventId, msg.subject],
            );
            if (claimed.length === 0) return 'duplicate' as const;
            await handler.handle({
              em,
              payload,
              prepared,
              eventId,
              subject: msg.subject,
              deliveryCount: msg.info.deliveryCount,
              logger: log,
              emit: (c, p, o) => events.add(c, p, { causationMsgId: eventId, ...o }),
            });
            return 'handled' as const;
          });
          msg.ack();
          metrics.consumed.inc({ consumer: durable, outcome });
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
          await this.#failed(msg, eventId, err);
        } finally {
          clearInterval(keepAlive);
          metrics.handleSeconds.observe({ consumer: durable }, Number(process.hrtime.bigint() - started) / 1e9);
          span.end();
        }
      },
    );
  }

  /** Publishes the message to `dlq.<durable>` and terms it; true when it is parked, false when it was nak'ed for later. */
  async #deadLetter(msg: JsMsg, eventId: string, reason: string): Promise<boolean> {
    const h = natsHeaders();
    // Keep every original header but the dedupe id, which the dead letter gets its own of.
    for (const [k, v] of msg.headers ?? []) for (const value of v) if (k.toLowerCase() !== 'nats-msg-id') h.append(k, value);
    h.set('DomIQ-Dlq-Original-Msg-Id', msg.headers?.get('Nats-Msg-Id') ?? '');
    // NATS refuses CR/LF in header values, and database errors are multi-line.
    h.set('DomIQ-Dlq-Reason', reason.replace(/[\r\n]+/g, ' ').slice(0, 1000));
    h.set('DomIQ-Dlq-Subject', msg.subject);
    h.set('DomIQ-Dlq-Consumer', this.#handler.durable);
    h.set('DomIQ-Dlq-Stream-Seq', String(msg.seq));
    h.set('DomIQ-Dlq-Deliveries', String(msg.info.deliveryCount));
    try {
      await jetstream(this.#opts.nc).publish(`dlq.${this.#handler.durable}`, msg.data, { headers: h, msgID: `dlq:${this.#handler.durable}:${eventId}` });
    } catch (err) {
      // Could not park it (DLQ stream missing or full, no connection): never term it, leave it in the stream for
      // redelivery (the durable's max_deliver is unlimited); the next delivery tries the dead-letter stream again.
      const delay = redeliveryDelay(msg.info.deliveryCount);
      this.#opts.logger.error({ consumer: this.#handler.durable, event_id: eventId, err: String(err), retry_in_ms: delay }, 'dead-letter publish failed; the event stays in its stream and is retried');
      metrics.deadLetterFailed.inc({ consumer: this.#handler.durable });
      msg.nak(delay);
      return false;
    }
    // A bare +TERM: servers before 2.10 (e.g. Debian's 2.9) ignore `+TERM <reason>` altogether, which with an
    // unlimited max_deliver would redeliver the message forever. The reason travels in the DLQ headers.
    msg.term();
    return true;
  }

  /** Stops intake (or the wait for the stream), waits for in-flight messages to commit and ack. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stop.abort();
    // A start() still waiting for its stream (or half-way) ends first, so nothing starts after stop() returned.
    await this.#starting?.catch(() => undefined);
    await this.#messages?.close();
    await this.#loop?.catch(() => undefined);
    await Promise.allSettled([...this.#inflight]);
  }
}
