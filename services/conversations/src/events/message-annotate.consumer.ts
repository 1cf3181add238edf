// conversations.message.created (inbound, from a customer) -> the annotator's reading of it (app/record-annotations.ts).
// The annotator runs in prepareBatch, before the transaction (CPU only: the default model is in-process, offline);
// the batch is then stored set-based. Batch-first like every consumer (docs/hot-path.md).
import { defineBatchHandler, eventUuid, optionalEventUuid } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { MessageCreated } from '@domiq/proto/conversations/events';
import { channels } from '@domiq/proto/vocabulary';
import type { Annotation, Annotator } from '@domiq/annotator';
import { recordAnnotations } from '../app/record-annotations.ts';

/** Only what a customer wrote is annotated (agents' replies and system messages are not). */
const annotated = (m: MessageCreated) => m.direction === 'inbound' && m.senderType === 'customer' && m.content.trim() !== '';

export function messageAnnotateConsumer(annotator: Annotator) {
  return defineBatchHandler<MessageCreated, Annotation | null>({
    durable: 'conversations-message-annotate',
    contract: events.messageCreated,
    batch: { maxMessages: 50, maxWaitMs: 5 },
    async prepareBatch(items) {
      return items.map(({ payload: m }) => annotated(m)
        ? annotator.annotate({ id: m.messageId, channel: m.channel === 'CHANNEL_UNSPECIFIED' ? 'api' : channels.fromProto(m.channel, 'channel'), text: m.content, sent_at: m.createdAt || new Date().toISOString() })
        : null);
    },
    async handleBatch({ em, items, logger }) {
      const stored = await recordAnnotations(em, items.flatMap(({ payload: m, prepared, emit }) => prepared ? [{
        accountId: eventUuid(m.accountId, 'account_id'), conversationId: eventUuid(m.conversationId, 'conversation_id'), customerId: eventUuid(m.customerId, 'customer_id'),
        propertyId: optionalEventUuid(m.propertyId, 'property_id'), messageId: eventUuid(m.messageId, 'message_id'), annotation: prepared, emit,
      }] : []), (messageId, problem) => logger.warn({ message_id: messageId, problem }, 'lead not filled from the message: it contradicts the lead'));
      logger.debug({ annotated: stored }, 'messages annotated');
    },
  });
}
