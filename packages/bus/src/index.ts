export { busEntities, EventLog, EventPublication, ProcessedEvent } from './outbox.entity.ts';
export { appendEvent, OutboxRelay, outboxSql, EventHeaders, type AppendEventOptions } from './outbox.ts';
export { EventConsumer, PoisonMessageError, defineHandler, redeliveryDelay, type EventHandler, type HandlerContext, type PrepareContext } from './consumer.ts';
export { connectNats, provisionStreams } from './nats.ts';
export { metrics as busMetrics } from './metrics.ts';
export { eventUuid, optionalEventUuid, eventTimestamp } from './payload.ts';
