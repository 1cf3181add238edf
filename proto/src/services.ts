// The service registry: every service's name, ports, gRPC service, the streams it owns, the durable consumers
// it runs (and what they read), and the peers it calls. The platform, the testkit, `npm start`, the NATS
// permissions and the service-caller rules all read this one table, so they cannot drift apart.
import { events, streams, streamForSubject, type StreamName } from './events.ts';
import { SERVICE_NAMES, snakeName, streamOf, type ServiceName } from './service-names.ts';

export { SERVICE_NAMES, snakeName, streamOf, type ServiceName };

export interface ConsumerEntry {
  /** Durable consumer name (unique in its stream). */
  readonly durable: string;
  /** The event contract it reads. */
  readonly event: keyof typeof events;
}

export interface ServiceEntry {
  readonly name: ServiceName;
  /** PostgreSQL schema; also the prefix of every event id the service publishes. */
  readonly schema: string;
  readonly grpcPort: number;
  readonly opsPort: number;
  /** Environment variable through which callers find this service's gRPC address. */
  readonly addrVar: string;
  /** Fully qualified gRPC service name (the health-status key). */
  readonly grpcService: string;
  /** Streams it owns: it alone creates them and publishes to their subjects. */
  readonly streams: readonly StreamName[];
  readonly consumers: readonly ConsumerEntry[];
  /** Services whose gRPC methods it calls, as `service:<its name>`. */
  readonly calls: readonly ServiceName[];
}

// Schema and stream follow from the name (one spelling: see service-names.ts).
const entry = (e: Omit<ServiceEntry, 'schema' | 'streams'>): ServiceEntry => ({ ...e, schema: snakeName(e.name), streams: [streamOf(e.name)] });

export const registry: Record<ServiceName, ServiceEntry> = {
  identity: entry({
    name: 'identity', grpcPort: 50051, opsPort: 9101, addrVar: 'IDENTITY_GRPC_ADDR', grpcService: 'domiq.identity.v1.IdentityService', consumers: [], calls: [],
  }),
  conversations: entry({
    name: 'conversations', grpcPort: 50052, opsPort: 9102, addrVar: 'CONVERSATIONS_GRPC_ADDR', grpcService: 'domiq.conversations.v1.ConversationsService', consumers: [
      { durable: 'conversations-message-received', event: 'gatewayMessageReceived' }, { durable: 'conversations-delivery-updated', event: 'gatewayMessageDeliveryUpdated' },
      { durable: 'conversations-customer-merged', event: 'identityCustomerMerged' }, { durable: 'conversations-customer-unmerged', event: 'identityCustomerUnmerged' },
      { durable: 'conversations-customer-erased', event: 'identityCustomerErased' }, { durable: 'conversations-message-annotate', event: 'messageCreated' },
      { durable: 'conversations-consent-changed', event: 'identityCustomerConsentChanged' },
    ],
    calls: ['identity'],
  }),
  'routing-sla': entry({
    name: 'routing-sla', grpcPort: 50053, opsPort: 9103, addrVar: 'ROUTING_SLA_GRPC_ADDR', grpcService: 'domiq.routing_sla.v1.RoutingSlaService',
    consumers: [{ durable: 'routing-sla-user-created', event: 'identityUserCreated' }, { durable: 'routing-sla-conversation-created', event: 'conversationCreated' }],
    calls: [],
  }),
  resolutions: entry({
    name: 'resolutions', grpcPort: 50054, opsPort: 9104, addrVar: 'RESOLUTIONS_GRPC_ADDR', grpcService: 'domiq.resolutions.v1.ResolutionsService', consumers: [{ durable: 'resolutions-conversation-escalated', event: 'conversationEscalated' }], calls: [],
  }),
  'resman-connector': entry({
    name: 'resman-connector', grpcPort: 50055, opsPort: 9105, addrVar: 'RESMAN_CONNECTOR_GRPC_ADDR', grpcService: 'domiq.resman_connector.v1.ResmanConnectorService', consumers: [{ durable: 'resman-connector-message-created', event: 'messageCreated' }],
    calls: ['identity', 'conversations'],
  }),
  'channel-gateway': entry({
    name: 'channel-gateway', grpcPort: 50056, opsPort: 9106, addrVar: 'CHANNEL_GATEWAY_GRPC_ADDR', grpcService: 'domiq.channel_gateway.v1.ChannelGatewayService',
    consumers: [{ durable: 'channel-gateway-reply-requested', event: 'replyRequested' }, { durable: 'channel-gateway-customer-data-erased', event: 'customerDataErased' }], calls: [],
  }),
};

export const services: readonly ServiceEntry[] = SERVICE_NAMES.map((n) => registry[n]);

/** The stream a consumer reads and the subject it filters on. */
export function consumerSource(c: ConsumerEntry): { stream: StreamName; subject: string } {
  const subject = events[c.event].subject;
  return { stream: streamForSubject(subject), subject };
}

/** Subjects a service may publish events on: those of the streams it owns. */
export function ownedSubjects(name: ServiceName): string[] {
  return registry[name].streams.flatMap((s) => [...streams[s].subjects]);
}

/** The service that owns a stream (the DLQ stream belongs to the platform, not to one service). */
export function streamOwner(stream: StreamName): ServiceName | undefined {
  return services.find((s) => s.streams.includes(stream))?.name;
}
