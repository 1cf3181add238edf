// Events identity owns (stream IDENTITY).
import {
  AccountCreated, CustomerConsentChanged, CustomerCreated, CustomerErased, CustomerMerged, CustomerMergeSuggested, CustomerUnmerged,
  MergeSuggestionDismissed, PropertyCreated, TeamCreated, UserCreated,
} from '../../gen/domiq/identity/v1/events.ts';
import { ownedEvents } from '../event-contract.ts';

const event = ownedEvents('identity');

export const identityEvents = {
  identityCustomerCreated: event('customer.created', 'customer', CustomerCreated),
  identityUserCreated: event('user.created', 'user', UserCreated),
  identityPropertyCreated: event('property.created', 'property', PropertyCreated),
  // Administrative changes: the event_log row's actor_type/actor_id record who made them (from the token).
  identityAccountCreated: event('account.created', 'account', AccountCreated),
  identityTeamCreated: event('team.created', 'team', TeamCreated),
  // Customer lifecycle after creation. These carry ids only, never an identifier's value or a name: an erasure cannot
  // take anything back out of the append-only event_log or the stream.
  identityCustomerMergeSuggested: event('customer.merge_suggested', 'merge_suggestion', CustomerMergeSuggested),
  identityMergeSuggestionDismissed: event('merge_suggestion.dismissed', 'merge_suggestion', MergeSuggestionDismissed),
  identityCustomerMerged: event('customer.merged', 'customer', CustomerMerged),
  identityCustomerUnmerged: event('customer.unmerged', 'customer', CustomerUnmerged),
  identityCustomerErased: event('customer.erased', 'customer', CustomerErased),
  identityCustomerConsentChanged: event('customer.consent_changed', 'customer', CustomerConsentChanged),
} as const;
