// channel-gateway.message.delivery_updated -> the reply's status (pending -> sent -> delivered -> read, or failed with
// the provider's reason). Batch-first like every consumer (docs/hot-path.md): a batch of updates is two statements.
import { defineBatchHandler, eventTimestamp, eventUuid, PoisonMessageError } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { MessageDeliveryUpdated } from '@domiq/proto/channel-gateway/events';
import { isDeliveryStatus } from '../domain/message-status.ts';
import { recordDeliveryUpdates, type DeliveryUpdate } from '../app/record-delivery-updates.ts';

/** The agent sees the provider's code and words: "30003: Unreachable destination handset". */
export function failureText(p: Pick<MessageDeliveryUpdated, 'errorCode' | 'errorMessage'>): string | null {
  const text = [p.errorCode, p.errorMessage].filter(Boolean).join(': ');
  return text ? text.slice(0, 2000) : null;
}

export function deliveryUpdatedConsumer() {
  return defineBatchHandler<MessageDeliveryUpdated>({
    durable: 'conversations-delivery-updated',
    contract: events.gatewayMessageDeliveryUpdated,
    batch: { maxMessages: 50, maxWaitMs: 5 },
    async handleBatch({ em, items, logger }) {
      const updates = items.map(({ payload: p }): DeliveryUpdate => {
        if (!isDeliveryStatus(p.status)) throw new PoisonMessageError(`status is not a delivery status: "${p.status}"`);
        return {
          accountId: eventUuid(p.accountId, 'account_id'), messageId: eventUuid(p.messageId, 'message_id'), status: p.status,
          providerMessageId: p.providerMessageId || null, failure: failureText(p), occurredAt: eventTimestamp(p.occurredAt, 'occurred_at', new Date()),
        };
      });
      const missing = await recordDeliveryUpdates(em, updates);
      // A reply erased since, or a message of another account: nothing here to update.
      if (missing.length) logger.warn({ message_ids: missing }, 'delivery update for a message that is not here');
    },
  });
}
