import { defineEntity, p } from '@mikro-orm/core';

/**
 * The seed's append-only `event_log`, used as the transactional outbox: a row is written in the same
 * transaction as the change it describes, and the relay publishes it. UPDATE/DELETE are refused by a trigger.
 */
export const EventLog = defineEntity({
  name: 'EventLog',
  tableName: 'event_log',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    eventType: p.string().length(50),
    eventVersion: p.integer().default(1),
    entityType: p.string().length(50),
    entityId: p.uuid(),
    payload: p.json<Record<string, unknown>>(),
    actorType: p.string().length(20).nullable(),
    actorId: p.uuid().nullable(),
    actorIp: p.string().columnType('inet').nullable(),
    actorUserAgent: p.text().nullable(),
    accountId: p.uuid().nullable().index('idx_event_log_account'),
    conversationId: p.uuid().nullable().index('idx_event_log_conversation'),
    customerId: p.uuid().nullable().index('idx_event_log_customer'),
    resolutionId: p.uuid().nullable(),
    correlationId: p.uuid().nullable().index('idx_event_log_correlation'),
    causationId: p.bigint('number').nullable(),
    /** Msg id of the consumed event that caused this one, when it came from another service. */
    causationMsgId: p.string().length(100).nullable(),
    /** NATS subject the relay publishes to. */
    subject: p.string().length(200),
    /** W3C traceparent of the transaction that wrote the row, so the trace continues across the relay. */
    traceparent: p.string().length(64).nullable(),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).index('idx_event_log_created'),
  },
  indexes: [
    { name: 'idx_event_log_entity', properties: ['entityType', 'entityId'] },
    { name: 'idx_event_log_type', properties: ['eventType'] },
  ],
  checks: [{ name: 'event_log_actor_type_check', expression: `actor_type in ('user', 'system', 'ai', 'automation', 'api')` }],
});

/** Which outbox rows the relay has published (kept apart because event_log rows never change). */
export const EventPublication = defineEntity({
  name: 'EventPublication',
  tableName: 'event_log_publication',
  properties: {
    eventId: p.bigint('number').primary().autoincrement(false),
    streamSeq: p.bigint('number').nullable(),
    duplicate: p.boolean().default(false),
    publishedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});

/** One row per (consumer, event) handled: the handler's writes and this row commit together. */
export const ProcessedEvent = defineEntity({
  name: 'ProcessedEvent',
  tableName: 'processed_event',
  properties: {
    consumer: p.string().length(100).primary(),
    eventId: p.string().length(100).primary(),
    subject: p.string().length(200),
    processedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
  },
});

export const busEntities = [EventLog, EventPublication, ProcessedEvent];
