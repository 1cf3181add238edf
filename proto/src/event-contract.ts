import type { ServiceName } from './service-names.ts';

export interface Codec<T> {
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
  fromPartial(object: any): T;
}

export interface EventContract<T> {
  /** The service that owns (and alone publishes) the event. */
  readonly owner: ServiceName;
  /** NATS subject, `<owner>.<entity>.<event>`. */
  readonly subject: string;
  /** Seed `event_log.event_type` (subject without the owner prefix). */
  readonly eventType: string;
  readonly entityType: string;
  readonly codec: Codec<T>;
}

/**
 * An owner's event contracts: `eventType` is `<entity>.<event>` and the subject is the owner's name in front of it,
 * so a subject can never be spelt apart from its service.
 */
export function ownedEvents<const O extends ServiceName>(owner: O) {
  return function event<T>(eventType: string, entityType: string, codec: Codec<T>): EventContract<T> {
    return { owner, subject: `${owner}.${eventType}`, eventType, entityType, codec };
  };
}
