// The event contracts: which subject carries which proto message, and which stream owns it.
// Payloads travel as proto3 JSON (the same JSON the outbox row keeps in event_log.payload).
import { ChannelUpserted, MessageReceived } from '../gen/domiq/channel_gateway/v1/events.ts';
import { ConversationCreated, ConversationEscalated, ConversationStateChanged, MessageCreated } from '../gen/domiq/conversations/v1/events.ts';
import { AccountCreated, CustomerCreated, PropertyCreated, TeamCreated, UserCreated } from '../gen/domiq/identity/v1/events.ts';
import { ConversationAssigned, SlaPolicyUpserted, SlaScheduled } from '../gen/domiq/routing_sla/v1/events.ts';
import { ResolutionOpened } from '../gen/domiq/resolutions/v1/events.ts';
import { IntegrationUpserted, LeadSynced } from '../gen/domiq/resman_connector/v1/events.ts';

export interface Codec<T> {
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
  fromPartial(object: any): T;
}

export interface EventContract<T> {
  /** NATS subject, `<service>.<entity>.<event>`. */
  readonly subject: string;
  /** Seed `event_log.event_type` (subject without the service prefix). */
  readonly eventType: string;
  readonly entityType: string;
  readonly codec: Codec<T>;
}

function event<T>(subject: string, entityType: string, codec: Codec<T>): EventContract<T> {
  return { subject, eventType: subject.slice(subject.indexOf('.') + 1), entityType, codec };
}

/** One stream per owning service. */
export const streams = {
  IDENTITY: { subjects: ['identity.>'] },
  GATEWAY: { subjects: ['gateway.>'] },
  CONVERSATIONS: { subjects: ['conversations.>'] },
  ROUTING: { subjects: ['routing.>'] },
  RESOLUTIONS: { subjects: ['resolutions.>'] },
  RESMAN: { subjects: ['resman.>'] },
  /** Dead letters: `dlq.<consumer>`, each keeping the original message and the reason. */
  DLQ: { subjects: ['dlq.>'] },
} as const;
export type StreamName = keyof typeof streams;

export function streamForSubject(subject: string): StreamName {
  const root = subject.split('.')[0] + '.>';
  const found = (Object.keys(streams) as StreamName[]).find((s) => (streams[s].subjects as readonly string[]).includes(root));
  if (!found) throw new Error(`no stream owns subject ${subject}`);
  return found;
}

export const events = {
  gatewayMessageReceived: event('gateway.message.received', 'inbound_message', MessageReceived),
  identityCustomerCreated: event('identity.customer.created', 'customer', CustomerCreated),
  identityUserCreated: event('identity.user.created', 'user', UserCreated),
  identityPropertyCreated: event('identity.property.created', 'property', PropertyCreated),
  conversationCreated: event('conversations.conversation.created', 'conversation', ConversationCreated),
  conversationEscalated: event('conversations.conversation.escalated', 'conversation', ConversationEscalated),
  conversationStateChanged: event('conversations.conversation.state_changed', 'conversation', ConversationStateChanged),
  messageCreated: event('conversations.message.created', 'message', MessageCreated),
  conversationAssigned: event('routing.conversation.assigned', 'conversation', ConversationAssigned),
  slaScheduled: event('routing.sla.scheduled', 'conversation', SlaScheduled),
  resolutionOpened: event('resolutions.resolution.opened', 'resolution', ResolutionOpened),
  leadSynced: event('resman.lead.synced', 'lead', LeadSynced),
  // Administrative changes: the event_log row's actor_type/actor_id record who made them (from the token).
  identityAccountCreated: event('identity.account.created', 'account', AccountCreated),
  identityTeamCreated: event('identity.team.created', 'team', TeamCreated),
  gatewayChannelUpserted: event('gateway.channel.upserted', 'channel', ChannelUpserted),
  slaPolicyUpserted: event('routing.sla_policy.upserted', 'sla_policy', SlaPolicyUpserted),
  integrationUpserted: event('resman.integration.upserted', 'integration', IntegrationUpserted),
} as const;
