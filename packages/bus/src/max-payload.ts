// The broker's message size limit, checked where events are written rather than where the relay publishes them.

/** Room kept for the headers every published event carries (ids, type, account, correlation, traceparent). */
export const EVENT_HEADER_ALLOWANCE = 4096;
/** NATS' default `max_payload` (1 MiB) until a connection reports the server's own (`setBrokerMaxPayload`). */
let brokerMaxPayload = 1024 * 1024;

/** Records the broker's `max_payload` (from the connection's server info); connectNats calls it on every (re)connect. */
export function setBrokerMaxPayload(bytes: number | undefined): void {
  if (typeof bytes === 'number' && Number.isFinite(bytes) && bytes > EVENT_HEADER_ALLOWANCE) brokerMaxPayload = bytes;
}

/** The largest event payload (bytes of its JSON) that can be published: the broker's max_payload less the headers' room. */
export function maxEventPayloadBytes(): number {
  return brokerMaxPayload - EVENT_HEADER_ALLOWANCE;
}

/**
 * An event too large for the broker. Thrown when it is written (appendEvent), so the transaction that wanted it
 * fails and its caller is told, instead of a row the outbox relay can never publish.
 */
export class EventTooLargeError extends Error {
  override name = 'EventTooLargeError';
  readonly eventType: string;
  readonly sizeBytes: number;
  readonly limitBytes: number;
  constructor(eventType: string, entityId: string, sizeBytes: number, limitBytes: number) {
    super(`event ${eventType} (entity ${entityId}) is ${sizeBytes} bytes, more than the ${limitBytes} bytes the broker accepts (NATS max_payload less ${EVENT_HEADER_ALLOWANCE} for headers)`);
    this.eventType = eventType;
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
  }
}
