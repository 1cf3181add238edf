// The event catalog: which subject carries which proto message, and which stream holds it. Each owner lists its
// own events in `events/<service>.events.ts`; this file only joins them. Payloads travel as proto3 JSON (the
// same JSON the outbox row keeps in event_log.payload).
import { SERVICE_NAMES, streamOf, type ServiceName, type StreamOf } from './service-names.ts';
import { identityEvents } from './events/identity.events.ts';
import { conversationsEvents } from './events/conversations.events.ts';
import { routingSlaEvents } from './events/routing-sla.events.ts';
import { resolutionsEvents } from './events/resolutions.events.ts';
import { resmanConnectorEvents } from './events/resman-connector.events.ts';
import { channelGatewayEvents } from './events/channel-gateway.events.ts';

export type { Codec, EventContract } from './event-contract.ts';

/** Every event contract, by name. A name appears in one owner's file only (the type check refuses a clash). */
export const events = {
  ...identityEvents,
  ...conversationsEvents,
  ...routingSlaEvents,
  ...resolutionsEvents,
  ...resmanConnectorEvents,
  ...channelGatewayEvents,
} as const;

type ServiceStreams = { [N in ServiceName as StreamOf<N>]: { readonly subjects: readonly [`${N}.>`] } };

/** One stream per owning service (`<SERVICE_NAME>` holding `<service-name>.>`), and the platform's dead letters. */
export const streams = {
  ...(Object.fromEntries(SERVICE_NAMES.map((n) => [streamOf(n), { subjects: [`${n}.>`] }])) as unknown as ServiceStreams),
  /** Dead letters: `dlq.<consumer>`, each keeping the original message and the reason. */
  DLQ: { subjects: ['dlq.>'] as const },
} as const;
export type StreamName = keyof typeof streams;

export function streamForSubject(subject: string): StreamName {
  const root = subject.split('.')[0] + '.>';
  const found = (Object.keys(streams) as StreamName[]).find((s) => (streams[s].subjects as readonly string[]).includes(root));
  if (!found) throw new Error(`no stream owns subject ${subject}`);
  return found;
}
