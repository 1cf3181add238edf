import type { EntityManager } from '@domiq/db';
import { CommunicationLogSync } from '../db/communication-log.entities.ts';
import { LeadSyncMapping } from '../db/lead-sync.entities.ts';

/** Where a customer's ResMan sync at a property stands, and each message logged for it, oldest first. */
export interface LeadSync {
  prospectId: string | null;
  personId: string | null;
  syncStatus: string;
  syncVersion: number;
  lastSyncAt: Date | null;
  communications: Array<{ messageId: string; eventType: string | null; syncStatus: string | null }>;
}

/** Null when nothing of the customer's was ever pushed at this property (or it is another account's). */
export async function getLeadSync(em: EntityManager, accountId: string, k: { propertyId: string; customerId: string }): Promise<LeadSync | null> {
  const { propertyId, customerId } = k;
  const mapping = await em.findOne(LeadSyncMapping, { accountId, propertyId, customerId });
  const logged = await em.find(CommunicationLogSync, { accountId, propertyId, customerId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  if (!mapping && logged.length === 0) return null;
  const communications = logged.map((c) => ({ messageId: c.messageId, eventType: c.resmanEventType ?? null, syncStatus: c.syncStatus ?? null }));
  if (!mapping) {
    // No card recorded yet: the first push is in flight, or failed for good.
    const failed = logged.some((c) => c.syncStatus === 'failed');
    return { prospectId: null, personId: null, syncStatus: failed ? 'failed' : 'syncing', syncVersion: 0, lastSyncAt: null, communications };
  }
  return {
    prospectId: mapping.resmanLeadId, personId: mapping.resmanPersonId ?? null, syncStatus: mapping.syncStatus, syncVersion: mapping.syncVersion,
    lastSyncAt: mapping.lastSyncAt ?? null, communications,
  };
}
