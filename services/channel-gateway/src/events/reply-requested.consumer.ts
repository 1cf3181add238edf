// conversations.message.reply_requested -> the reply-delivery queue (app/queue-replies.ts). Batch-first, like every
// consumer (docs/hot-path.md): a batch is one insert. The provider is called by the runner
// (queue/outbound-delivery.runner.ts), never here, so a provider's outage never reaches JetStream redelivery.
import { defineBatchHandler, eventUuid, PoisonMessageError } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { ReplyRequested } from '@domiq/proto/conversations/events';
import { queueReplies } from '../app/queue-replies.ts';

export function replyRequestedConsumer() {
  return defineBatchHandler<ReplyRequested>({
    durable: 'channel-gateway-reply-requested',
    contract: events.replyRequested,
    batch: { maxMessages: 50, maxWaitMs: 5 },
    async handleBatch({ em, items }) {
      const replies = items.map(({ payload: p }) => {
        if (!p.toAddress) throw new PoisonMessageError('to_address is empty');
        if (!p.content) throw new PoisonMessageError('content is empty');
        return {
          accountId: eventUuid(p.accountId, 'account_id'), channelId: eventUuid(p.channelId, 'channel_id'), conversationId: eventUuid(p.conversationId, 'conversation_id'),
          messageId: eventUuid(p.messageId, 'message_id'), toAddress: p.toAddress, body: p.content,
        };
      });
      // The commit's NOTIFY wakes every replica's runner (queue/outbound-delivery.runner.ts).
      await queueReplies(em, replies);
    },
  });
}
