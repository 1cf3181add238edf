// conversations.customer.data_erased -> the gateway forgets the same messages (app/forget-messages.ts).
import { defineHandler, eventUuid } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { CustomerDataErased } from '@domiq/proto/conversations/events';
import { forgetMessages } from '../app/forget-messages.ts';

export function customerDataErasedConsumer() {
  return defineHandler<CustomerDataErased>({
    durable: 'channel-gateway-customer-data-erased',
    contract: events.customerDataErased,
    async handle(ctx) {
      const { payload, logger } = ctx;
      const outcome = await forgetMessages(ctx, {
        accountId: eventUuid(payload.accountId, 'account_id'),
        inboundIds: payload.inboundIds.map((id, i) => eventUuid(id, `inbound_ids[${i}]`)),
        outboundMessageIds: payload.outboundMessageIds.map((id, i) => eventUuid(id, `outbound_message_ids[${i}]`)),
      });
      logger.info({ customer_id: payload.customerId, ...outcome }, 'erased customer\'s messages forgotten');
    },
  });
}
