// Events identity owns (stream IDENTITY).
import { AccountCreated, CustomerCreated, PropertyCreated, TeamCreated, UserCreated } from '../../gen/domiq/identity/v1/events.ts';
import { ownedEvents } from '../event-contract.ts';

const event = ownedEvents('identity');

export const identityEvents = {
  identityCustomerCreated: event('customer.created', 'customer', CustomerCreated),
  identityUserCreated: event('user.created', 'user', UserCreated),
  identityPropertyCreated: event('property.created', 'property', PropertyCreated),
  // Administrative changes: the event_log row's actor_type/actor_id record who made them (from the token).
  identityAccountCreated: event('account.created', 'account', AccountCreated),
  identityTeamCreated: event('team.created', 'team', TeamCreated),
} as const;
