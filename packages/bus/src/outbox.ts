import pg from 'pg';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { EntityManager, MikroORM } from '@domiq/db';
import type { EventContract } from '@domiq/proto/events';
import type { Logger } from '@domiq/logging';
import { contextFromTraceparent, currentTraceparent, injectTraceHeaders } from '@domiq/telemetry';
import { EventLog } from './outbox.entity.ts';
import { metrics } from './metrics.ts';
import { EventTooLargeError, maxEventPayloadBytes } from './max-payload.ts';

const tracer = trace.getTracer('@domiq/bus');

export interface AppendEventOptions {
  entityId: string;
  accountId?: string | null;
  conversationId?: string | null;
  customerId?: string | null;
  resolutionId?: string | null;
  actorType?: 'user' | 'system' | 'ai' | 'automation' | 'api';
  actorId?: string | null;
  correlationId?: string | null;
  causationMsgId?: string | null;
}

/**
 * Adds an outbox row to the unit of work; it commits with the caller's transaction or not at all.
 * The payload is the proto3 JSON of the contract's message. Throws EventTooLargeError for a payload the broker
 * would refuse.
 */
export function appendEvent<T>(em: EntityManager, contract: EventContract<T>, payload: T, opts: AppendEventOptions): void {
  const json = contract.codec.toJSON(payload) as Record<string, unknown>;
  const size = Buffer.byteLength(JSON.stringify(json));
  if (size > maxEventPayloadBytes()) throw new EventTooLargeError(contract.eventType, opts.entityId, size, maxEventPayloadBytes());
  em.create(EventLog, {
    eventType: contract.eventType,
    entityType: contract.entityType,
    entityId: opts.entityId,
    payload: json,
    subject: contract.subject,
    accountId: opts.accountId ?? null,
    conversationId: opts.conversationId ?? null,
    customerId: opts.customerId ?? null,
    resolutionId: opts.resolutionId ?? null,
    actorType: opts.actorType ?? 'system',
    actorId: opts.actorId ?? null,
    correlationId: opts.correlationId ?? null,
    causationMsgId: opts.causationMsgId ?? null,
    traceparent: currentTraceparent(),
  });
}

/** Header names every published event carries besides Nats-Msg-Id and traceparent. */
export const EventHeaders = {
  eventId: 'DomIQ-Event-Id',
  eventType: 'DomIQ-Event-Type',
  accountId: 'DomIQ-Account-Id',
  correlationId: 'DomIQ-Correlation-Id',
} as const;

interface OutboxRow {
  id: string | number;
  subject: string;
  event_type: string;
  payload: unknown;
  account_id: string | null;
  correlation_id: string | null;
  traceparent: string | null;
}

export interface OutboxRelayOptions {
  orm: MikroORM;
  nc: NatsConnection;
  /** The service's schema; also the prefix of every event id it publishes (`<schema>:<row id>`). */
  schema: string;
  databaseUrl: string;
  logger: Logger;
  batchSize?: number;
  pollMs?: number;
}

/**
 * Publishes committed event_log rows to JetStream in id order, with `<schema>:<id>` as Nats-Msg-Id so a
 * republish after a crash is dropped by the stream's duplicate window, and records each publication.
 * Woken by NOTIFY from the insert trigger; polls as a backstop.
 */
export class OutboxRelay {
  readonly #opts: Required<Omit<OutboxRelayOptions, 'orm' | 'nc' | 'logger'>> & OutboxRelayOptions;
  readonly #js: JetStreamClient;
  #listener: pg.Client | undefined;
  #running = false;
  #wake: (() => void) | undefined;
  /** A NOTIFY that arrived while a batch was being published: look again before sleeping. */
  #woken = false;
  #loop: Promise<void> | undefined;
  #floor = 0;
  #lastSweep = 0;
  /** Until one scan of the whole table comes back short, rows left unpublished by an earlier run may remain. */
  #caughtUp = false;
  /** Rows too large to publish (written before the check in appendEvent, or by SQL): reported once each. */
  readonly #oversized = new Set<number>();

  constructor(opts: OutboxRelayOptions) {
    this.#opts = { batchSize: 200, pollMs: 1000, ...opts };
    this.#js = jetstream(opts.nc);
  }

  get channel(): string {
    return `domiq_outbox_${this.#opts.schema}`;
  }

  async start(): Promise<void> {
    this.#running = true;
    await this.#listen();
    this.#loop = this.#run();
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#opts.databaseUrl });
    client.on('notification', () => {
      this.#woken = true;
      this.#wake?.();
    });
    // A dropped LISTEN connection only costs latency (the poll still runs); reconnect quietly.
    client.on('error', () => {
      this.#listener = undefined;
      setTimeout(() => this.#running && void this.#listen().catch(() => undefined), 1000);
    });
    await client.connect();
    await client.query(`listen ${this.channel}`);
    this.#listener = client;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      try {
        this.#woken = false;
        const published = await this.publishPending();
        failures = 0;
        // A full batch means more may be waiting.
        if (published >= this.#opts.batchSize) continue;
      } catch (err) {
        failures++;
        this.#opts.logger.warn({ err: String(err), failures }, 'outbox relay: publish failed, will retry');
      }
      const delay = failures ? Math.min(5000, 100 * 2 ** failures) : this.#opts.pollMs;
      // Otherwise sleep, unless a commit was signalled while we were publishing.
      if (!failures && this.#woken) continue;
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

  /** Publishes one batch of unpublished rows; returns how many were published. */
  async publishPending(): Promise<number> {
    const { schema, batchSize } = this.#opts;
    const em = this.#opts.orm.em.fork();
    // Three scans, cheapest first: the tail above the last batch; every 30 s the last 10 minutes by
    // created_at, for a transaction that committed after rows with higher ids were published; and, after a
    // start, the whole table until it comes back short (rows an earlier run left behind).
    const sweep = Date.now() - this.#lastSweep > 30_000;
    if (sweep) this.#lastSweep = Date.now();
    const mode = !this.#caughtUp ? 'all' : sweep ? 'recent' : 'tail';
    const floor = mode === 'tail' ? this.#floor : 0;
    const since = mode === 'recent' ? new Date(Date.now() - 10 * 60_000) : new Date(0);
    const rows = await em.execute<OutboxRow[]>(
      `select e.id, e.subject, e.event_type, e.payload, e.account_id, e.correlation_id, e.traceparent
         from "${schema}".event_log e
        where e.id > ? and e.created_at > ? and not exists (select 1 from "${schema}".event_log_publication p where p.event_id = e.id)
        order by e.id limit ?`,
      [floor, since, batchSize],
    );
    if (mode === 'all' && rows.length < batchSize) this.#caughtUp = true;
    if (rows.length === 0) return 0;
    const acks = await Promise.allSettled(rows.map((row) => this.#publish(row)));
    const done: Array<{ id: number; seq: number; duplicate: boolean }> = [];
    let firstError: unknown;
    acks.forEach((r, i) => {
      const id = Number(rows[i]!.id);
      if (r.status === 'fulfilled') done.push({ id, ...r.value });
      else if (r.reason instanceof EventTooLargeError) {
        // Never publishable: say so once and keep relaying the others, rather than failing every batch.
        if (!this.#oversized.has(id)) this.#opts.logger.error({ event_id: `${schema}:${id}`, err: r.reason.message }, 'outbox relay: event too large for the broker; left unpublished');
        this.#oversized.add(id);
      } else firstError ??= r.reason;
    });
    if (done.length > 0) {
      // One JSON parameter: the driver would expand a JS array into a list of scalars.
      await em.execute(
        `insert into "${schema}".event_log_publication (event_id, stream_seq, duplicate)
         select event_id, stream_seq, duplicate from json_to_recordset(?::json) as r(event_id bigint, stream_seq bigint, duplicate boolean)
         on conflict do nothing`,
        [JSON.stringify(done.map((d) => ({ event_id: d.id, stream_seq: d.seq, duplicate: d.duplicate })))],
      );
      metrics.published.inc(done.length);
    }
    if (firstError) throw firstError;
    this.#floor = Math.max(0, Number(rows[0]!.id) - 1 - 1000);
    return done.length;
  }

  async #publish(row: OutboxRow): Promise<{ seq: number; duplicate: boolean }> {
    const eventId = `${this.#opts.schema}:${row.id}`;
    const parent = contextFromTraceparent(row.traceparent, context.active());
    return tracer.startActiveSpan(
      `${row.subject} publish`,
      { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': row.subject, 'messaging.message.id': eventId, 'messaging.operation.type': 'send' } },
      parent,
      async (span) => {
        try {
          const body = JSON.stringify(row.payload);
          const size = Buffer.byteLength(body);
          if (size > maxEventPayloadBytes()) throw new EventTooLargeError(row.event_type, eventId, size, maxEventPayloadBytes());
          const h = natsHeaders();
          h.set(EventHeaders.eventId, eventId);
          h.set(EventHeaders.eventType, row.event_type);
          if (row.account_id) h.set(EventHeaders.accountId, row.account_id);
          if (row.correlation_id) h.set(EventHeaders.correlationId, row.correlation_id);
          h.set('Content-Type', 'application/json');
          injectTraceHeaders(h);
          const ack = await this.#js.publish(row.subject, body, { msgID: eventId, headers: h, timeout: 5000 });
          return { seq: ack.seq, duplicate: ack.duplicate };
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }

  /** Stops the loop after publishing everything already committed (graceful shutdown). */
  async stop(flushTimeoutMs = 5000): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    const deadline = Date.now() + flushTimeoutMs;
    this.#lastSweep = 0;
    while (Date.now() < deadline) {
      try {
        if ((await this.publishPending()) === 0) break;
      } catch (err) {
        this.#opts.logger.warn({ err: String(err) }, 'outbox relay: flush on shutdown failed; rows stay for the next start');
        break;
      }
    }
    await this.#listener?.end().catch(() => undefined);
  }
}

