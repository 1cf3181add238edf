// identity.customer.erased -> conversations forgets the customer's personal data (app/erase-customer-data.ts).
import { defineHandler, eventUuid } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { CustomerErased } from '@domiq/proto/identity/events';
import { eraseCustomerData } from '../app/erase-customer-data.ts';

export function customerErasedConsumer() {
  return defineHandler<CustomerErased>({
    durable: 'conversations-customer-erased',
    contract: events.identityCustomerErased,
    async handle(ctx) {
      const outcome = await eraseCustomerData(ctx, { accountId: eventUuid(ctx.payload.accountId, 'account_id'), customerId: eventUuid(ctx.payload.customerId, 'customer_id') });
      // Counts only: nothing personal in the log.
      ctx.logger.info({ customer_id: ctx.payload.customerId, ...outcome }, 'customer data erased');
    },
  });
}
