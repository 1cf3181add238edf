// Events resman-connector owns (stream RESMAN_CONNECTOR).
import { IntegrationUpserted, LeadSynced } from '../../gen/domiq/resman_connector/v1/events.ts';
import { ownedEvents } from '../event-contract.ts';

const event = ownedEvents('resman-connector');

export const resmanConnectorEvents = {
  leadSynced: event('lead.synced', 'lead', LeadSynced),
  integrationUpserted: event('integration.upserted', 'integration', IntegrationUpserted),
} as const;
