export { busEntities, EventLog, EventPublication, ProcessedEvent } from './outbox.entity.ts';
export { appendEvent, EventBatch, OutboxRelay, EventHeaders, type AppendEventOptions, type OutboxRelayOptions, type OutboxRelayStatus } from './outbox.ts';
export { busMigrations, migrateService } from './migrations/index.ts';
export { EventTooLargeError, EVENT_HEADER_ALLOWANCE, maxEventPayloadBytes, setBrokerMaxPayload } from './max-payload.ts';
export {
  EventConsumer, PoisonMessageError, defineBatchHandler, defineHandler, redeliveryDelay,
  type AnyEventHandler, type BatchEventHandler, type BatchHandlerContext, type BatchItem, type ConsumerStatus, type EventHandler, type HandlerContext, type PrepareContext,
} from './consumer.ts';
export { connectNats, provisionStreams, waitForStreams, isStreamNotFound, type BusConnectOptions } from './nats.ts';
export {
  ADMIN_USER, assertRegisteredConsumer, generateNkeys, helmAuthorizationValues, inboxPrefix, natsAuthorization, natsUserNames, nkeyEnvRefs, nkeyEnvVar,
  platformStreams, publicKeyOfSeed, renderAuthorization, renderNatsServerConfig, servicePermissions,
  type GeneratedNkeys, type NatsAuthorization, type NatsServerConfigOptions, type NatsUser, type SubjectPermissions,
} from './nats-auth.ts';
export { metrics as busMetrics } from './metrics.ts';
export { eventEnum, eventUuid, optionalEventUuid, eventTimestamp } from './payload.ts';
export { eventTransaction, inTransaction, readModel, type EventActor, type UnitOfWork } from './unit-of-work.ts';
export { erasePersonalEventData } from './erasure.ts';
