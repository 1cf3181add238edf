// The four resman-*.md seeds, translated per DESIGN.md "Seeds that touch another service's tables":
// every table carries account_id (tenancy); references to other services' rows (conversation, customer,
// property, "user") are plain ids without foreign keys; the resman_* columns the seeds add to DomIQ's
// conversation / "user" tables live here, on lead_sync_mapping and contact_sync.
// The entities are defined by area, one file per seed (and the integration); this is the list the ORM loads.
import { CommunicationComplianceFlag, CommunicationLogSync, CommunicationMetadata, CommunicationSyncQueue } from './communication-log.entities.ts';
import { ContactEnrichmentLog, ContactMatchingRule, ContactSync } from './contact-sync.entities.ts';
import { ResmanIntegration } from './integration.entities.ts';
import { LeadSyncConflict, LeadSyncLog, LeadSyncMapping, LeadSyncQueue } from './lead-sync.entities.ts';
import { StatusNotificationPreference, StatusSyncLog, StatusWorkflowRule } from './status-sync.entities.ts';

export const resmanConnectorEntities = [
  ResmanIntegration, LeadSyncLog, LeadSyncQueue, LeadSyncConflict, LeadSyncMapping,
  CommunicationLogSync, CommunicationMetadata, CommunicationComplianceFlag, CommunicationSyncQueue,
  ContactSync, ContactMatchingRule, ContactEnrichmentLog,
  StatusSyncLog, StatusWorkflowRule, StatusNotificationPreference,
];
