import pg from 'pg';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { query, type EntityManager, type MikroORM } from '@domiq/db';
import { streamForSubject, type EventContract } from '@domiq/proto/events';
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

/** An outbox row as written: the event's proto3 JSON and where it goes. */
interface EventRow {
  eventType: string;
  entityType: string;
  entityId: string;
  payload: Record<string, unknown>;
  subject: string;
  accountId: string | null;
  conversationId: string | null;
  customerId: string | null;
  resolutionId: string | null;
  actorType: NonNullable<AppendEventOptions['actorType']>;
  actorId: string | null;
  correlationId: string | null;
  causationMsgId: string | null;
  traceparent: string | null;
}

/**
 * The row of one event, in the active trace. Throws EventTooLargeError for a payload the broker would refuse, so the
 * transaction that wanted it fails instead of the relay.
 */
function eventRow<T>(contract: EventContract<T>, payload: T, opts: AppendEventOptions): EventRow {
  const json = contract.codec.toJSON(payload) as Record<string, unknown>;
  const size = Buffer.byteLength(JSON.stringify(json));
  if (size > maxEventPayloadBytes()) throw new EventTooLargeError(contract.eventType, opts.entityId, size, maxEventPayloadBytes());
  return {
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
  };
}

/**
 * Adds an outbox row to the entity manager's unit of work; it commits with the caller's transaction or not at all.
 * The payload is the proto3 JSON of the contract's message. Throws EventTooLargeError for a payload the broker
 * would refuse. (The platform's own transactions collect their events in an EventBatch instead: one statement.)
 */
export function appendEvent<T>(em: EntityManager, contract: EventContract<T>, payload: T, opts: AppendEventOptions): void {
  em.create(EventLog, eventRow(contract, payload, opts));
}

/**
 * The events of one platform transaction (a use case run by inTransaction, a consumer's event or batch): collected
 * as they are emitted and written by `write` in ONE insert just before the transaction commits, in emission order
 * (event_log ids follow it, so a batch's events keep their order per entity), without the ORM's unit of work. Rows
 * are validated when emitted (size), so a use case fails where it emits.
 */
export class EventBatch {
  readonly #schema: string;
  #rows: EventRow[] = [];

  constructor(schema: string) {
    this.#schema = schema;
  }

  add<T>(contract: EventContract<T>, payload: T, opts: AppendEventOptions): void {
    this.#rows.push(eventRow(contract, payload, opts));
  }

  get size(): number {
    return this.#rows.length;
  }

  /** Inserts what was added since the last write (one statement; none when nothing was emitted). */
  async write(em: EntityManager): Promise<void> {
    if (this.#rows.length === 0) return;
    const rows = this.#rows;
    this.#rows = [];
    await query(em,
      `insert into "${this.#schema}".event_log (event_type, entity_type, entity_id, payload, subject, account_id, conversation_id, customer_id,
                                              resolution_id, actor_type, actor_id, correlation_id, causation_msg_id, traceparent)
       select r.event_type, r.entity_type, r.entity_id, r.payload, r.subject, r.account_id, r.conversation_id, r.customer_id,
              r.resolution_id, r.actor_type, r.actor_id, r.correlation_id, r.causation_msg_id, r.traceparent
         from rows from (json_to_recordset(?::json) as (event_type text, entity_type text, entity_id uuid, payload jsonb, subject text,
              account_id uuid, conversation_id uuid, customer_id uuid, resolution_id uuid, actor_type text, actor_id uuid, correlation_id uuid,
              causation_msg_id text, traceparent text))
              with ordinality as r(event_type, entity_type, entity_id, payload, subject, account_id, conversation_id, customer_id, resolution_id,
                                   actor_type, actor_id, correlation_id, causation_msg_id, traceparent, n)
        order by r.n`,
      [JSON.stringify(rows.map((r) => ({
        event_type: r.eventType, entity_type: r.entityType, entity_id: r.entityId, payload: r.payload, subject: r.subject, account_id: r.accountId,
        conversation_id: r.conversationId, customer_id: r.customerId, resolution_id: r.resolutionId, actor_type: r.actorType, actor_id: r.actorId,
        correlation_id: r.correlationId, causation_msg_id: r.causationMsgId, traceparent: r.traceparent,
      })))],
    );
  }
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
  /** Rows read per query (default 200). */
  batchSize?: number;
  /** The window: publishes sent and not yet acknowledged, at most (default 1000). */
  maxInFlight?: number;
  pollMs?: number;
  /**
   * How long a transaction that may still commit rows with lower ids holds back the rows after them (default 2000 ms).
   * Past it, later rows are published first and the late ones follow when they commit (out of id order, counted).
   */
  holdMs?: number;
  /** How long a publish waits for its ack (default 5000 ms). */
  publishTimeoutMs?: number;
}

export interface OutboxRelayStatus {
  /** Holds the schema's relay lock: the one relay (of all replicas) that publishes the schema's outbox. */
  active: boolean;
  /** Waiting (up to holdMs) for open transactions that hold lower ids than rows already committed. */
  held: boolean;
  /**
   * The commit horizon: every id up to `settled` is committed or never will be; `seen`: the last id allocated, when
   * looked; `cursor`: every row up to it has been sent (or was published before), the next read starts after it.
   */
  horizon: { settled: number; seen: number; cursor: number };
  /** Publishes sent and awaiting their ack, now, and the most there have been at once. */
  inFlight: number;
  peakInFlight: number;
  /** Rows recorded as published by this relay; of them, how many the stream acknowledged as duplicates. */
  published: number;
  duplicates: number;
  /** Runs stopped by a publish that failed, and started again from the first unrecorded row. */
  restarts: number;
  /**
   * Reads whose horizon the rows themselves gave (ids without a gap after it: one statement), and looks at the
   * transactions inserting (pg_locks) because an id was missing.
   */
  horizonLooks: { contiguous: number; locks: number };
}

/** JetStream refuses a publish whose Nats-Expected-Last-Msg-Id is not the id of the stream's last message. */
const WRONG_LAST_MSG_ID = 10070;
/** How often an active relay checks that its session still holds the relay lock. */
const LOCK_CHECK_MS = 5000;
const SWEEP_EVERY_MS = 30_000;
const SWEEP_WINDOW_MS = 10 * 60_000;

function isChainBreak(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === WRONG_LAST_MSG_ID;
}

/** Rows of one stream are chained to each other; a subject no stream owns (never stored) gets a chain of its own. */
function chainOf(subject: string): string {
  try {
    return streamForSubject(subject);
  } catch {
    return subject.split('.')[0]!;
  }
}

interface Ack {
  event_id: number;
  stream_seq: number;
  duplicate: boolean;
}

/** One run of the pipeline: from its start (the first unrecorded row) until it is idle or a publish fails. */
class Run {
  /** Set by the first failure seen; `failure` is the one of the lowest row id (the cause; later rows were refused after it). */
  failed = false;
  failure: unknown;
  #failedId = Infinity;
  /** Rows sent in this run and not recorded yet: if the run fails, the next one starts at the lowest. */
  readonly unrecorded = new Set<number>();
  recorded = 0;
  /** Acks waiting for the next multi-row insert, and the insert running now. */
  acked: Ack[] = [];
  recording: Promise<void> | undefined;

  fail(err: unknown, id: number): void {
    this.failed = true;
    if (id < this.#failedId) {
      this.#failedId = id;
      this.failure = err;
    }
  }
}

/**
 * Publishes committed event_log rows to JetStream, with `<schema>:<id>` as Nats-Msg-Id so a republish after a
 * crash is dropped by the stream's duplicate window, and records each publication. Woken by NOTIFY from the
 * insert trigger; polls as a backstop.
 *
 * The guarantee: per stream (so per subject, and per entity or conversation), rows reach the stream in event_log id
 * order, each once. How:
 *
 * - Which rows: ids up to the commit horizon only (every id below it is committed or never will be: #horizon), read
 *   in id order. A transaction that holds a lower id is waited for, up to `holdMs`, instead of being overtaken.
 * - Pipelining: rows are sent without waiting for earlier acks, up to `maxInFlight` at once, and the acks are recorded
 *   in multi-row inserts as they come back while the next rows are read and sent. What NATS gives: the client writes
 *   a connection's messages in call order, the server reads a connection in order, and a stream stores what reaches
 *   it in arrival order; so while nothing fails, the stream gets the rows in the order they were sent.
 * - What it does not give: a publish can fail while later ones on the same connection succeed. The stream refused it
 *   (its max_msg_size, a store error, a leader change); or it was lost with a dropped connection while the later ones
 *   went out after the reconnect (the client discards what it buffered while disconnected, but not what is sent
 *   after). Publishing it again would put it after them.
 * - So every publish but the first of a run to a stream carries Nats-Expected-Last-Msg-Id = the msg id of the row
 *   sent before it to that stream, and the server stores it only if that is the stream's last message (otherwise
 *   refuses it, 10070). The server checks the duplicate window first, so a row already stored is acked as a duplicate
 *   whatever it expects. Hence a row is stored only right after the row sent before it: once one is not stored,
 *   none sent after it in that run is. The check is the server's, so it holds whatever happened to the connection.
 * - On any failure the run stops sending, lets everything in flight settle, records what was acknowledged, and the
 *   next run starts at the first unrecorded row, sent without expectation (every row before it is stored): rows
 *   already stored come back as duplicates, the others are stored after them, in order. A refusal only because the
 *   stream's last message was something else (another publisher, a server that lost its last id) restarts at once.
 * - One relay per schema publishes at a time, the holder of a session advisory lock on its LISTEN connection; the
 *   other replicas wait and take over when that session ends. Two relays would both send every row, refusing each
 *   other's chains (10070) all the time, and one stalled for longer than the duplicate window would store rows twice.
 *
 * Not covered: a transaction open longer than `holdMs` (its rows follow the later ones, found by the sweep), and a
 * relay whose lock session was cut while its last publishes were on the way (another may already have taken over).
 */
export class OutboxRelay {
  readonly #opts: Required<Omit<OutboxRelayOptions, 'orm' | 'nc' | 'logger'>> & OutboxRelayOptions;
  readonly #js: JetStreamClient;
  #listener: pg.Client | undefined;
  #relisten: NodeJS.Timeout | undefined;
  #running = false;
  #stopping = false;
  /** Until then, a flush on shutdown may still publish although the loop has stopped. */
  #flushUntil = 0;
  /** A NOTIFY that arrived while rows were being read or published: look again before sleeping. */
  #woken = false;
  /** Whoever waits for a NOTIFY, an ack, a failure or the stop. */
  #waiters: Array<() => void> = [];
  #loop: Promise<void> | undefined;
  #active = false;
  #lockCheckedAt = 0;
  /** Every row up to the cursor has been sent (or skipped as oversized) in this run or recorded before it. */
  #cursor = 0;
  /** The msg id of the row last sent to each stream in this run (the next one expects it). */
  readonly #chains = new Map<string, string>();
  /** Every id up to it is committed or will never be. */
  #settled = 0;
  #seen = 0;
  /** Sequence positions waiting for the transactions that were inserting when they were read. */
  #candidates: Array<{ last: number; txns: string[]; at: number }> = [];
  /** Transactions the relay stopped waiting for (open longer than holdMs); when they end, the sweep looks for their rows. */
  readonly #overtaken = new Set<string>();
  #held = false;
  #holdTick = 2;
  #lastSweep = 0;
  #sweepDue = false;
  /** A sweep in progress: it reads rows created in the window, up to the cursor, from `after` on. */
  #sweep: { after: number; since: Date; late: number } | undefined;
  #inFlight = 0;
  #table: { relation: string; sequence: string } | undefined;
  readonly #stats = { published: 0, duplicates: 0, restarts: 0, peakInFlight: 0, contiguousLooks: 0, lockLooks: 0 };
  /** Rows too large to publish (written before the check in appendEvent, or by SQL): reported once each. */
  readonly #oversized = new Set<number>();

  constructor(opts: OutboxRelayOptions) {
    this.#opts = { batchSize: 200, maxInFlight: 1000, pollMs: 1000, holdMs: 2000, publishTimeoutMs: 5000, ...opts };
    this.#js = jetstream(opts.nc);
  }

  get channel(): string {
    return `domiq_outbox_${this.#opts.schema}`;
  }

  /** The advisory lock (hashtextextended of this key) held by the replica whose relay publishes the schema. */
  get lockKey(): string {
    return `domiq-outbox-relay:${this.#opts.schema}`;
  }

  status(): OutboxRelayStatus {
    const { contiguousLooks, lockLooks, ...stats } = this.#stats;
    return { active: this.#active, held: this.#held, horizon: { settled: this.#settled, seen: this.#seen, cursor: this.#cursor }, inFlight: this.#inFlight, ...stats, horizonLooks: { contiguous: contiguousLooks, locks: lockLooks } };
  }

  async start(): Promise<void> {
    this.#running = true;
    try {
      await this.#listen();
    } catch (err) {
      this.#running = false;
      clearTimeout(this.#relisten);
      throw err;
    }
    this.#loop = this.#run();
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#opts.databaseUrl, keepAlive: true, application_name: `domiq-outbox-relay:${this.#opts.schema}` });
    client.on('notification', () => {
      this.#woken = true;
      this.#notify();
    });
    // The session holds the relay lock: when it goes, so does the lock (another replica may take over). Reconnect
    // and queue for the lock again; meanwhile nothing is published from here.
    let gone = false;
    const lost = () => {
      if (gone) return;
      gone = true;
      if (this.#listener === client) this.#listener = undefined;
      this.#setInactive();
      this.#notify();
      if (this.#running) this.#scheduleListen();
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      await client.query(`listen ${this.channel}`);
    } catch (err) {
      lost();
      await client.end().catch(() => undefined);
      throw err;
    }
    this.#listener = client;
  }

  #scheduleListen(): void {
    clearTimeout(this.#relisten);
    this.#relisten = setTimeout(() => {
      if (this.#running && !this.#listener) this.#listen().catch(() => undefined);
    }, 1000);
  }

  /** Whether this relay may publish: it holds the schema's relay lock (taking it if free). */
  async #ensureActive(): Promise<boolean> {
    const client = this.#listener;
    if (!client) return false;
    try {
      if (this.#active) {
        if (Date.now() - this.#lockCheckedAt < LOCK_CHECK_MS) return true;
        const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted`);
        this.#lockCheckedAt = Date.now();
        if (rows[0]!.n > 0) return true;
        this.#setInactive();
        return false;
      }
      const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as ok', [this.lockKey]);
      if (!rows[0]?.ok || this.#listener !== client) return false;
      this.#lockCheckedAt = Date.now();
      this.#takeOver();
      return true;
    } catch {
      this.#setInactive();
      return false;
    }
  }

  /** Starts as the schema's publisher: nothing is known about what an earlier holder left, so look from the start. */
  #takeOver(): void {
    this.#active = true;
    metrics.relayActive.inc();
    this.#cursor = 0;
    this.#settled = 0;
    this.#seen = 0;
    this.#candidates = [];
    this.#overtaken.clear();
    this.#sweep = undefined;
    this.#sweepDue = false;
    this.#lastSweep = Date.now();
    this.#opts.logger.info({ schema: this.#opts.schema }, 'outbox relay: holds the relay lock; publishing');
  }

  #setInactive(): void {
    if (!this.#active) return;
    this.#active = false;
    metrics.relayActive.dec();
    if (!this.#stopping) this.#opts.logger.warn({ schema: this.#opts.schema }, 'outbox relay: lost the relay lock (its database session ended); stopped publishing');
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once `done()` holds (looked at on every NOTIFY, ack, failure and stop) or after `ms`. */
  async #waitFor(done: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          this.#waiters = this.#waiters.filter((w) => w !== finish);
          resolve();
        };
        const timer = setTimeout(finish, Math.min(left, 2 ** 31 - 1));
        this.#waiters.push(finish);
      });
    }
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      if (!(await this.#ensureActive())) {
        // Another replica publishes (or the database is away): ask again after a while.
        await this.#waitFor(() => !this.#running, this.#opts.pollMs);
        continue;
      }
      try {
        await this.publishPending();
        failures = 0;
      } catch (err) {
        if (isChainBreak(err)) {
          // Only a row refused because the stream's last message was not the one sent before it (e.g. something
          // else published to the stream, or the server forgot its last id): start again at once; the first row
          // of a run is sent unconditionally, so every run moves on.
          metrics.relayRestarts.inc({ reason: 'chain' });
          continue;
        }
        metrics.relayRestarts.inc({ reason: 'failed' });
        failures++;
        this.#opts.logger.warn({ err: String(err), failures }, 'outbox relay: publish failed, will retry');
        await this.#waitFor(() => !this.#running, Math.min(5000, 100 * 2 ** failures));
        continue;
      }
      // Sleep until a commit is signalled (or the poll), unless one was while we were publishing.
      await this.#waitFor(() => !this.#running || this.#woken, this.#opts.pollMs);
    }
  }

  #mayGoOn(run: Run): boolean {
    return !run.failed && this.#active && (this.#running || Date.now() < this.#flushUntil);
  }

  /**
   * Publishes what is committed, pipelined, until there is nothing left to read and every publish is acknowledged
   * and recorded (or one failed: then it throws that failure, and the next call starts at the first unrecorded row).
   * Returns how many rows it recorded as published. One call at a time (the relay's loop, then stop()).
   */
  async publishPending(): Promise<number> {
    if (!(await this.#ensureActive())) return 0;
    const { batchSize, maxInFlight, pollMs } = this.#opts;
    const batch = Math.max(1, Math.min(batchSize, maxInFlight));
    const em = this.#opts.orm.em.fork();
    const run = new Run();
    this.#chains.clear();
    try {
      while (this.#mayGoOn(run) && (await this.#ensureActive())) {
        // The window is full: wait for acks.
        if (this.#inFlight + batch > maxInFlight) {
          await this.#waitFor(() => !this.#mayGoOn(run) || this.#inFlight + batch <= maxInFlight, pollMs);
          continue;
        }
        if (!this.#sweep && (this.#sweepDue || Date.now() - this.#lastSweep > SWEEP_EVERY_MS)) {
          // The sweep looks below the cursor, where a row awaiting its ack is not recorded yet: drain first.
          if (this.#inFlight > 0 || run.recording) {
            await this.#waitFor(() => !this.#mayGoOn(run) || (this.#inFlight === 0 && !run.recording), pollMs);
            continue;
          }
          this.#sweepDue = false;
          this.#lastSweep = Date.now();
          this.#sweep = { after: 0, since: new Date(Date.now() - SWEEP_WINDOW_MS), late: 0 };
        }
        const sweep = this.#sweep;
        if (sweep) {
          const rows = await this.#scan(em, sweep.after, this.#cursor, sweep.since, batch);
          for (const row of rows) {
            if (!this.#mayGoOn(run)) break;
            sweep.after = Number(row.id);
            if (this.#issue(run, row)) sweep.late++;
          }
          if (rows.length < batch || !this.#mayGoOn(run)) {
            this.#sweep = undefined;
            if (run.failed) this.#sweepDue = true;
            if (sweep.late) {
              metrics.relayLate.inc(sweep.late);
              this.#opts.logger.warn({ count: sweep.late }, 'outbox relay: published rows that committed after rows with higher ids (out of id order)');
            }
          }
          continue;
        }
        this.#woken = false;
        // One statement when the rows after the horizon are all there (the usual case); the full look otherwise.
        const read = this.#candidates.length === 0 && this.#overtaken.size === 0 ? await this.#readContiguous(em, batch) : undefined;
        // Nothing unpublished up to the horizon (e.g. after taking over a table its predecessor published): move the
        // cursor there, or every look would read the published history again until a new row came.
        if (read?.complete && read.rows.length === 0) this.#cursor = Math.max(this.#cursor, this.#settled);
        // Rows before a gap go now; those after it wait for the full look (the next round).
        const beforeGap = read !== undefined && !read.complete && read.rows.length > 0;
        const horizon = read?.complete || beforeGap ? { upTo: this.#settled, held: false } : await this.#horizon(em);
        this.#held = horizon.held;
        const rows = read?.complete || beforeGap ? read!.rows : horizon.upTo > this.#cursor ? await this.#scan(em, this.#cursor, horizon.upTo, new Date(0), batch) : [];
        for (const row of rows) {
          if (!this.#mayGoOn(run)) break;
          this.#issue(run, row);
          this.#cursor = Number(row.id);
        }
        // A full read, or rows before a gap: more may be waiting.
        if (rows.length === batch || beforeGap) continue;
        if (horizon.held) this.#holdTick = Math.min(50, this.#holdTick * 2);
        else this.#holdTick = 2;
        if (this.#inFlight === 0 && !horizon.held && !this.#woken) break;
        // Caught up: wait for a commit, for the transactions holding the horizon, or for the last acks.
        await this.#waitFor(() => !this.#mayGoOn(run) || this.#woken || (this.#inFlight === 0 && !horizon.held), horizon.held ? this.#holdTick : pollMs);
      }
    } catch (err) {
      run.fail(err, -1);
    }
    this.#held = false;
    // Everything sent settles (acked, refused or timed out) and every ack is recorded before the run ends.
    await this.#waitFor(() => this.#inFlight === 0 && !run.recording, Number.POSITIVE_INFINITY);
    if (run.failed) {
      if (run.unrecorded.size) this.#cursor = Math.min(this.#cursor, Math.min(...run.unrecorded) - 1);
      this.#stats.restarts++;
      throw run.failure;
    }
    return run.recorded;
  }

  /** Sends one row (unless it is too large for the broker), chained to the row sent before it to its stream. */
  #issue(run: Run, row: OutboxRow): boolean {
    const id = Number(row.id);
    const eventId = `${this.#opts.schema}:${id}`;
    const body = JSON.stringify(row.payload);
    const size = Buffer.byteLength(body);
    if (size > maxEventPayloadBytes()) {
      // Never publishable: say so once and keep relaying the others, rather than failing every run.
      if (!this.#oversized.has(id)) {
        const err = new EventTooLargeError(row.event_type, eventId, size, maxEventPayloadBytes());
        this.#opts.logger.error({ event_id: eventId, err: err.message }, 'outbox relay: event too large for the broker; left unpublished');
      }
      this.#oversized.add(id);
      return false;
    }
    const chain = chainOf(row.subject);
    const previous = this.#chains.get(chain);
    this.#chains.set(chain, eventId);
    run.unrecorded.add(id);
    this.#inFlight++;
    this.#stats.peakInFlight = Math.max(this.#stats.peakInFlight, this.#inFlight);
    metrics.relayInFlight.inc();
    // #publish hands the message to the connection before it returns (call order is wire order).
    this.#publish(row, eventId, body, previous)
      .then(
        (ack) => {
          run.acked.push({ event_id: id, stream_seq: ack.seq, duplicate: ack.duplicate });
          this.#record(run);
        },
        (err: unknown) => run.fail(err, id),
      )
      .finally(() => {
        this.#inFlight--;
        metrics.relayInFlight.dec();
        this.#notify();
      });
    return true;
  }

  /** Records the acks that came back, one multi-row insert at a time, while the pipeline goes on. */
  #record(run: Run): void {
    if (run.recording || run.acked.length === 0) return;
    const em = this.#opts.orm.em.fork();
    run.recording = (async () => {
      while (run.acked.length) {
        const acks = run.acked.splice(0);
        try {
          // One JSON parameter: the driver would expand a JS array into a list of scalars.
          await query(em,
            `insert into "${this.#opts.schema}".event_log_publication (event_id, stream_seq, duplicate)
             select event_id, stream_seq, duplicate from json_to_recordset(?::json) as r(event_id bigint, stream_seq bigint, duplicate boolean)
             on conflict do nothing`,
            [JSON.stringify(acks)],
          );
        } catch (err) {
          // Stored but not recorded: they stay unrecorded, and the next run republishes them (duplicates).
          run.fail(err, Math.min(...acks.map((a) => a.event_id)));
          continue;
        }
        for (const a of acks) run.unrecorded.delete(a.event_id);
        const duplicates = acks.filter((a) => a.duplicate).length;
        run.recorded += acks.length;
        this.#stats.published += acks.length;
        this.#stats.duplicates += duplicates;
        metrics.published.inc(acks.length);
      }
    })().finally(() => {
      run.recording = undefined;
      this.#record(run);
      this.#notify();
    });
  }

  /** Unpublished rows with `after < id <= upTo` created after `since`, in id order. */
  async #scan(em: EntityManager, after: number, upTo: number, since: Date, limit: number): Promise<OutboxRow[]> {
    const { schema } = this.#opts;
    return query<OutboxRow>(em,
      `select e.id, e.subject, e.event_type, e.payload, e.account_id, e.correlation_id, e.traceparent
         from "${schema}".event_log e
        where e.id > ? and e.id <= ? and e.created_at > ?
          and not exists (select 1 from "${schema}".event_log_publication p where p.event_id = e.id)
        order by e.id limit ?`,
      [after, upTo, since, limit],
    );
  }

  /**
   * The unpublished rows after the cursor together with the id sequence's last value, in one statement, and the
   * horizon moved over them where that needs no look at the locks: every id from the horizon on that this statement
   * sees without a gap is committed (a row is visible), so the horizon may pass it. `complete`: the rows reach the
   * sequence's last value (or fill the read) without a gap, so they are every row there is up to their end and
   * nothing holds them. Otherwise `rows` are those before the first gap (published now; the rows after it wait for
   * the full look at the transactions that hold the missing ids: #horizon).
   */
  async #readContiguous(em: EntityManager, limit: number): Promise<{ rows: OutboxRow[]; complete: boolean }> {
    const { schema } = this.#opts;
    const table = await this.#tableIds(em);
    const found = await query<OutboxRow & { last: string | null }>(em,
      `select s.last::text as last, e.id, e.subject, e.event_type, e.payload, e.account_id, e.correlation_id, e.traceparent
         from (select pg_sequence_last_value(?::regclass) as last) s
         left join lateral (
           select e.id, e.subject, e.event_type, e.payload, e.account_id, e.correlation_id, e.traceparent
             from "${schema}".event_log e
            where e.id > ? and e.id <= s.last
              and not exists (select 1 from "${schema}".event_log_publication p where p.event_id = e.id)
            order by e.id limit ?) e on true`,
      [table.sequence, this.#cursor, limit],
    );
    const last = Number(found[0]?.last ?? 0);
    this.#seen = Math.max(this.#seen, last);
    const rows: OutboxRow[] = [];
    let settled = this.#settled;
    for (const r of found) {
      if (r.id === null || r.id === undefined) break;
      const id = Number(r.id);
      if (id > settled + 1) break;
      settled = Math.max(settled, id);
      const { last: _last, ...row } = r;
      rows.push(row);
    }
    this.#settled = settled;
    const complete = settled >= last || (rows.length === limit && rows.length === found.length);
    if (complete || rows.length > 0) {
      this.#stats.contiguousLooks++;
      metrics.relayHorizonLooks.inc({ kind: 'contiguous' });
    }
    return { rows, complete };
  }

  /**
   * The commit horizon: the highest id below which every id is committed or will never be, so rows read up to it
   * in id order are all the rows there will ever be up to it.
   *
   * Ids come from the table's sequence in allocation order, and a transaction takes RowExclusiveLock on event_log
   * before its INSERT allocates one, holding it until it ends. So read the sequence's last value L, then the
   * transactions holding that lock (T): every id up to L was allocated before, by a transaction that had ended (then
   * its rows are visible to any later snapshot, or rolled back) or is in T. Once every transaction of T has ended,
   * a later read sees every row up to L. (It assumes the sequence hands out ids in order: no CACHE on it.)
   */
  async #horizon(em: EntityManager): Promise<{ upTo: number; held: boolean }> {
    const table = await this.#tableIds(em);
    const [seq] = await query<{ last: string | null }>(em, 'select pg_sequence_last_value(?::regclass) as last', [table.sequence]);
    const last = Number(seq?.last ?? 0);
    this.#seen = last;
    if (last <= this.#settled && this.#candidates.length === 0 && this.#overtaken.size === 0) return { upTo: this.#settled, held: false };
    this.#stats.lockLooks++;
    metrics.relayHorizonLooks.inc({ kind: 'locks' });
    const [locks] = await query<{ txns: string[] | null }>(em,
      `select coalesce(array_agg(distinct l.virtualtransaction), '{}') as txns
         from pg_locks l
        where l.locktype = 'relation' and l.relation = ?::oid and l.mode = 'RowExclusiveLock' and l.granted
          and l.database = (select oid from pg_database where datname = current_database())
          and l.pid <> pg_backend_pid()`,
      [table.relation],
    );
    const inserting = new Set(locks?.txns ?? []);
    const now = Date.now();
    for (const t of this.#overtaken) {
      if (inserting.has(t)) continue;
      // Its rows (if it committed) are below ids already published: the sweep finds them.
      this.#overtaken.delete(t);
      this.#sweepDue = true;
    }
    if (last > (this.#candidates.at(-1)?.last ?? this.#settled)) this.#candidates.push({ last, txns: [...inserting], at: now });
    const holds = (c: { txns: string[] }) => c.txns.some((t) => inserting.has(t) && !this.#overtaken.has(t));
    // A transaction that holds an older candidate holds every newer one too: settle up to the newest free one.
    let free = this.#candidates.length - 1;
    while (free >= 0 && holds(this.#candidates[free]!)) free--;
    if (free >= 0) {
      this.#settled = Math.max(this.#settled, this.#candidates[free]!.last);
      this.#candidates.splice(0, free + 1);
    }
    // Stop waiting for a transaction open longer than holdMs: the rows after its ids go first.
    while (this.#candidates.length && now - this.#candidates[0]!.at >= this.#opts.holdMs) {
      const c = this.#candidates.shift()!;
      const late = c.txns.filter((t) => inserting.has(t) && !this.#overtaken.has(t));
      for (const t of late) this.#overtaken.add(t);
      if (late.length) {
        metrics.relayOvertaken.inc(late.length);
        this.#opts.logger.warn({ transactions: late.length, waited_ms: now - c.at }, 'outbox relay: transactions holding lower event ids are still open; publishing the rows after them first');
      }
      this.#settled = Math.max(this.#settled, c.last);
    }
    return { upTo: this.#settled, held: this.#candidates.length > 0 };
  }

  async #tableIds(em: EntityManager): Promise<{ relation: string; sequence: string }> {
    if (this.#table) return this.#table;
    const name = `"${this.#opts.schema}".event_log`;
    const [row] = await query<{ relation: string; sequence: string | null }>(em, `select ?::regclass::oid::text as relation, pg_get_serial_sequence(?, 'id') as sequence`, [name, name]);
    if (!row?.sequence) throw new Error(`${name}.id has no sequence`);
    this.#table = { relation: row.relation, sequence: row.sequence };
    return this.#table;
  }

  /** Hands the message to the connection synchronously (before the first await) and resolves with the ack. */
  #publish(row: OutboxRow, eventId: string, body: string, expectLastMsgId: string | undefined): Promise<{ seq: number; duplicate: boolean }> {
    const parent = contextFromTraceparent(row.traceparent, context.active());
    return tracer.startActiveSpan(
      `${row.subject} publish`,
      { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': row.subject, 'messaging.message.id': eventId, 'messaging.operation.type': 'send' } },
      parent,
      async (span) => {
        try {
          const h = natsHeaders();
          h.set(EventHeaders.eventId, eventId);
          h.set(EventHeaders.eventType, row.event_type);
          if (row.account_id) h.set(EventHeaders.accountId, row.account_id);
          if (row.correlation_id) h.set(EventHeaders.correlationId, row.correlation_id);
          h.set('Content-Type', 'application/json');
          injectTraceHeaders(h);
          const ack = await this.#js.publish(row.subject, body, {
            msgID: eventId,
            headers: h,
            timeout: this.#opts.publishTimeoutMs,
            ...(expectLastMsgId ? { expect: { lastMsgID: expectLastMsgId } } : {}),
          });
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

  /** Stops the loop after publishing everything already committed (graceful shutdown), then lets go of the lock. */
  async stop(flushTimeoutMs = 5000): Promise<void> {
    this.#running = false;
    this.#notify();
    await this.#loop;
    this.#loop = undefined;
    this.#flushUntil = Date.now() + flushTimeoutMs;
    // Look for late commits once more, too.
    this.#sweepDue = true;
    try {
      while (Date.now() < this.#flushUntil) {
        try {
          if ((await this.publishPending()) === 0) break;
        } catch (err) {
          if (isChainBreak(err)) continue;
          this.#opts.logger.warn({ err: String(err) }, 'outbox relay: flush on shutdown failed; rows stay for the next start');
          break;
        }
      }
    } finally {
      this.#flushUntil = 0;
      this.#stopping = true;
      clearTimeout(this.#relisten);
      const listener = this.#listener;
      this.#listener = undefined;
      this.#setInactive();
      // Ending the session releases the relay lock: another replica takes over.
      await listener?.end().catch(() => undefined);
      this.#stopping = false;
    }
  }
}
