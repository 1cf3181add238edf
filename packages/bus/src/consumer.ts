import { SpanKind, SpanStatusCode, trace, context as otelContext } from '@opentelemetry/api';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { EntityManager, MikroORM } from '@domiq/db';
import { streamForSubject, type EventContract } from '@domiq/proto/events';
import type { Logger } from '@domiq/logging';
import { extractTraceContext } from '@domiq/telemetry';
import { appendEvent, EventHeaders, type AppendEventOptions } from './outbox.ts';
import { metrics } from './metrics.ts';
import { isNotFound, isStreamNotFound, sleepUnlessAborted } from './nats.ts';

const tracer = trace.getTracer('@domiq/bus');

/** Thrown by a handler for a message that can never succeed; it goes to the dead-letter stream at once. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}

export interface HandlerContext<T> {
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

export interface ConsumerOptions {
  orm: MikroORM;
  nc: NatsConnection;
  schema: string;
  logger: Logger;
  concurrency: number;
  maxDeliver: number;
  ackWaitMs?: number;
  /** How often start() looks again for a stream that does not exist yet (default 1 s). */
  streamWaitMs?: number;
}

/** Backoff for `nak`: 200 ms, 400 ms, ... capped at 10 s. */
export function redeliveryDelay(deliveryCount: number): number {
  return Math.min(10_000, 200 * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * Runs one durable pull consumer: bounded concurrency, a transaction per message with a processed-event
 * record for idempotency, ack only after commit, nak with backoff on failure, and dead-lettering with
 * the reason once `maxDeliver` is reached or the message is poison.
 */
export class EventConsumer<T, P = unknown> {
  readonly #handler: EventHandler<T, P>;
  readonly #opts: ConsumerOptions;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  readonly #inflight = new Set<Promise<void>>();
  #stopping = false;
  #starting: Promise<void> | undefined;
  /** Aborted by stop(): ends a wait for the stream at once. */
  readonly #stop = new AbortController();

  constructor(handler: EventHandler<T, P>, opts: ConsumerOptions) {
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
    const { nc, logger } = this.#opts;
    const { durable, contract } = this.#handler;
    const stream = streamForSubject(contract.subject);
    // checkAPI: false: no `$JS.API.INFO` call, which a service's NATS user is not granted.
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    let waiting = false;
    for (;;) {
      if (this.#stopping) return;
      try {
        await this.#ensureDurable(jsm, stream);
        break;
      } catch (err) {
        if (this.#stopping) return;
        if (!isStreamNotFound(err)) throw err;
        if (!waiting) logger.warn({ stream, consumer: durable }, `stream ${stream} does not exist yet (the platform's provisioning step creates it); waiting for it`);
        waiting = true;
        await sleepUnlessAborted(this.#opts.streamWaitMs ?? 1000, this.#stop.signal);
      }
    }
    if (waiting) logger.info({ stream, consumer: durable }, `stream ${stream} exists now; consumer starting`);
    if (this.#stopping) return;
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    if (this.#stopping) return;
    this.#messages = await consumer.consume({ max_messages: this.#opts.concurrency * 2 });
    this.#loop = this.#run(this.#messages);
  }

  async #ensureDurable(jsm: JetStreamManager, stream: string): Promise<void> {
    const { durable, contract } = this.#handler;
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: contract.subject,
      max_deliver: this.#opts.maxDeliver,
      ack_wait: (this.#opts.ackWaitMs ?? 30_000) * 1_000_000,
      max_ack_pending: Math.max(64, this.#opts.concurrency * 8),
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
    const limit = this.#opts.concurrency;
    for await (const msg of messages) {
      const task = this.#process(msg).finally(() => this.#inflight.delete(task));
      this.#inflight.add(task);
      // Bounded concurrency: pull the next message only when a slot is free.
      while (this.#inflight.size >= limit) await Promise.race(this.#inflight);
      if (this.#stopping) break;
    }
  }

  async #process(msg: JsMsg): Promise<void> {
    const { durable, contract } = this.#handler;
    const { logger, schema, orm } = this.#opts;
    const h = msg.headers ?? natsHeaders();
    const eventId = h.get(EventHeaders.eventId) || h.get('Nats-Msg-Id') || `${msg.info.stream}:${msg.seq}`;
    const parent = extractTraceContext(h, otelContext.active());
    const started = process.hrtime.bigint();
    // A slow handler (a third-party API retrying) must not be redelivered to another worker meanwhile.
    const keepAlive = setInterval(() => msg.working(), Math.max(1000, (this.#opts.ackWaitMs ?? 30_000) / 3));
    keepAlive.unref();
    await tracer.startActiveSpan(
      `${msg.subject} process`,
      { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject, 'messaging.consumer.group.name': durable, 'messaging.message.id': eventId, 'messaging.operation.type': 'process' } },
      parent,
      async (span) => {
        const log = logger.child({ consumer: durable, event_id: eventId });
        try {
          let payload: T;
          try {
            payload = contract.codec.fromJSON(JSON.parse(new TextDecoder().decode(msg.data)));
          } catch (err) {
            throw new PoisonMessageError(`undecodable payload: ${String(err)}`);
          }
          const prepared = this.#handler.prepare ? await this.#handler.prepare({ payload, eventId, logger: log }) : (undefined as P);
          const outcome = await orm.em.fork().transactional(async (em) => {
            const claimed = await em.execute<Array<{ ok: number }>>(
              `insert into "${schema}".processed_event (consumer, event_id, subject, processed_at) values (?, ?, ?, now())
               on conflict do nothing returning 1 as ok`,
              [durable, eventId, msg.subject],
            );
            if (claimed.length === 0) return 'duplicate' as const;
            await this.#handler.handle({
              em,
              payload,
              prepared,
              eventId,
              subject: msg.subject,
              deliveryCount: msg.info.deliveryCount,
              logger: log,
              emit: (c, p, o) => appendEvent(em, c, p, { causationMsgId: eventId, ...o }),
            });
            return 'handled' as const;
          });
          msg.ack();
          metrics.consumed.inc({ consumer: durable, outcome });
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
          const poison = err instanceof PoisonMessageError;
          if (poison || msg.info.deliveryCount >= this.#opts.maxDeliver) {
            await this.#deadLetter(msg, eventId, poison ? String((err as Error).message) : `gave up after ${msg.info.deliveryCount} deliveries: ${String(err)}`);
            log.error({ err: String(err), deliveries: msg.info.deliveryCount }, 'event dead-lettered');
            metrics.consumed.inc({ consumer: durable, outcome: 'dead_lettered' });
          } else {
            const delay = redeliveryDelay(msg.info.deliveryCount);
            log.warn({ err: String(err), deliveries: msg.info.deliveryCount, retry_in_ms: delay }, 'event handling failed, will retry');
            msg.nak(delay);
            metrics.consumed.inc({ consumer: durable, outcome: 'retried' });
          }
        } finally {
          clearInterval(keepAlive);
          metrics.handleSeconds.observe({ consumer: durable }, Number(process.hrtime.bigint() - started) / 1e9);
          span.end();
        }
      },
    );
  }

  async #deadLetter(msg: JsMsg, eventId: string, reason: string): Promise<void> {
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
      msg.term(reason.replace(/[\r\n]+/g, ' ').slice(0, 200));
    } catch (err) {
      // Could not park it: leave it for redelivery rather than lose it.
      this.#opts.logger.error({ err: String(err) }, 'dead-letter publish failed');
      msg.nak(redeliveryDelay(msg.info.deliveryCount));
    }
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
