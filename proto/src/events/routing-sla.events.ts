// Events routing-sla owns (stream ROUTING_SLA).
import { ConversationAssigned, SlaPolicyUpserted, SlaScheduled } from '../../gen/domiq/routing_sla/v1/events.ts';
import { ownedEvents } from '../event-contract.ts';

const event = ownedEvents('routing-sla');

export const routingSlaEvents = {
  conversationAssigned: event('conversation.assigned', 'conversation', ConversationAssigned),
  slaScheduled: event('sla.scheduled', 'conversation', SlaScheduled),
  slaPolicyUpserted: event('sla_policy.upserted', 'sla_policy', SlaPolicyUpserted),
} as const;
