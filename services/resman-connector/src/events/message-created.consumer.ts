// conversations.message.created -> the customer's ResMan guest card gets the message as an event. Batch-first
// (docs/hot-path.md): in the batch's one transaction the messages that are logged become pending rows of the lead-sync
// queue (app/enqueue-inbound-messages.ts); the queue worker (queue/lead-sync-queue.runner.ts) pushes them to ResMan.
// So neither identity nor ResMan is called here, and ResMan's latency and outages never reach JetStream redelivery.
import { defineBatchHandler, eventEnum, eventUuid, PoisonMessageError } from '@domiq/bus';
import { isUuid } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { channels } from '@domiq/proto/vocabulary';
import type { MessageCreated } from '@domiq/proto/conversations/events';
import { enqueueInboundMessages, MessageOfAnotherAccountError, type EnqueueSettings, type InboundCustomerMessage } from '../app/enqueue-inbound-messages.ts';
import { notLoggedReason } from '../domain/communication.ts';

export function messageCreatedHandler(settings: EnqueueSettings) {
  return defineBatchHandler<MessageCreated>({
    durable: 'resman-connector-message-created',
    contract: events.messageCreated,
    // Up to 50 messages, or what arrived within 5 ms of the first: a quiet system still answers in milliseconds.
    batch: { maxMessages: 50, maxWaitMs: 5 },

    async handleBatch({ em, items, logger }) {
      const messages: InboundCustomerMessage[] = [];
      for (const { payload: m, eventId } of items) {
        const notLogged = notLoggedReason(m);
        if (notLogged !== null) {
          logger.debug({ event_id: eventId, reason: notLogged }, 'message not synced to ResMan');
          continue;
        }
        // A field that can never be right is poison: the platform splits the batch until this event is alone and
        // dead-letters it with the reason; the others are queued.
        messages.push({
          accountId: eventUuid(m.accountId, 'account_id'), propertyId: eventUuid(m.propertyId, 'property_id'),
          customerId: eventUuid(m.customerId, 'customer_id'), messageId: eventUuid(m.messageId, 'message_id'),
          channel: eventEnum(channels, m.channel, 'channel'), content: m.content,
          conversationId: isUuid(m.conversationId) ? m.conversationId : null,
          createdAt: Number.isNaN(Date.parse(m.createdAt)) ? new Date() : new Date(m.createdAt),
          eventId,
        });
      }
      if (messages.length === 0) return;
      try {
        const { queued, skipped } = await enqueueInboundMessages({ em }, messages, settings);
        logger.debug({ queued: queued.length, skipped: skipped.length }, 'messages queued for ResMan');
      } catch (err) {
        if (err instanceof MessageOfAnotherAccountError) throw new PoisonMessageError(err.message);
        throw err;
      }
    },
  });
}
