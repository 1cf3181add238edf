// identity.customer.merged / .unmerged -> conversations follow the customer (app/repoint-merged-customers.ts). Rare
// events, one transaction each.
import { defineHandler, eventUuid } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { CustomerMerged, CustomerUnmerged } from '@domiq/proto/identity/events';
import { applyCustomerMerge, undoCustomerMerge, type CustomerMergeRef } from '../app/repoint-merged-customers.ts';

const refOf = (p: CustomerMerged | CustomerUnmerged): CustomerMergeRef => ({
  accountId: eventUuid(p.accountId, 'account_id'), mergeId: eventUuid(p.mergeId, 'merge_id'),
  sourceCustomerId: eventUuid(p.sourceCustomerId, 'source_customer_id'), targetCustomerId: eventUuid(p.targetCustomerId, 'target_customer_id'),
});

export function customerMergedConsumer() {
  return defineHandler<CustomerMerged>({
    durable: 'conversations-customer-merged',
    contract: events.identityCustomerMerged,
    async handle({ em, payload, logger }) {
      const moved = await applyCustomerMerge(em, refOf(payload));
      logger.info({ merge_id: payload.mergeId, conversations: moved }, 'conversations re-pointed to the merged customer');
    },
  });
}

export function customerUnmergedConsumer() {
  return defineHandler<CustomerUnmerged>({
    durable: 'conversations-customer-unmerged',
    contract: events.identityCustomerUnmerged,
    async handle({ em, payload, logger }) {
      const moved = await undoCustomerMerge(em, refOf(payload));
      logger.info({ merge_id: payload.mergeId, conversations: moved }, 'conversations re-pointed back after an unmerge');
    },
  });
}
