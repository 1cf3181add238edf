import { defineBatchHandler, eventEnum, eventUuid, PoisonMessageError } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import type { PromiseClient } from '@domiq/grpc';
import { status } from '@grpc/grpc-js';
import type { IdentityServiceClient } from '@domiq/proto/identity';
import type { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { channels, slaTiers, type Channel, type SlaTier } from '@domiq/proto/vocabulary';
import { identifierKindForChannel } from '../domain/conversation-threading.ts';
import { receiveInboundMessages } from '../app/receive-inbound-messages.ts';
import { consentKeyword } from '../domain/consent-keywords.ts';

/** What prepareBatch learnt about one message's sender. */
interface Sender {
  channel: Channel;
  customerId: string;
  slaTier: SlaTier;
}

/**
 * channel-gateway.message.received, batch-first: the senders of a whole batch are resolved through identity with one
 * ResolveCustomers call per account (before the transaction), then every message is threaded and stored by
 * receiveInboundMessages, set-based, in the batch's one transaction.
 */
export function messageReceivedConsumer(identity: PromiseClient<IdentityServiceClient>) {
  return defineBatchHandler<MessageReceived, Sender>({
    durable: 'conversations-message-received',
    contract: events.gatewayMessageReceived,
    // Up to 50 messages, or what arrived within 5 ms of the first: a quiet system still answers in milliseconds.
    batch: { maxMessages: 50, maxWaitMs: 5 },
    async prepareBatch(items) {
      const checked = items.map(({ payload }) => ({ payload, accountId: eventUuid(payload.accountId, 'account_id'), channel: eventEnum(channels, payload.channelType, 'channel_type') }));
      const byAccount = new Map<string, number[]>();
      checked.forEach((c, n) => {
        const indexes = byAccount.get(c.accountId);
        if (indexes) indexes.push(n);
        else byAccount.set(c.accountId, [n]);
      });
      const senders = new Array<Sender>(items.length);
      for (const [accountId, indexes] of byAccount) {
        let results;
        try {
          ({ results } = await identity.resolveCustomers({
            accountId,
            identities: indexes.map((n) => {
              const { payload, channel } = checked[n]!;
              return { kind: identifierKindForChannel(channel), value: payload.fromAddress, network: channel, displayName: payload.senderName, defaultRegion: 'US' };
            }),
          }));
        } catch (err) {
          const code = (err as { code?: number }).code;
          // A sender identity that can never resolve (bad address, unknown account): poison; within a batch the
          // platform splits it until the message is alone, and parks that one with the reason.
          if (code === status.INVALID_ARGUMENT || code === status.NOT_FOUND) throw new PoisonMessageError(`identity: ${(err as Error).message}`);
          throw err;
        }
        indexes.forEach((n, k) => {
          const customer = results[k]?.customer;
          if (!customer) throw new Error(`identity answered ${results.length} results for ${indexes.length} identities`);
          senders[n] = { channel: checked[n]!.channel, customerId: customer.id, slaTier: eventEnum(slaTiers, customer.slaTier, 'customer.sla_tier', 'standard' as const) };
        });
      }
      // A whole-message STOP / START on SMS is the customer's consent: identity records it (idempotent: the same
      // consent again changes nothing, so a redelivered batch is harmless), and conversations' read model follows.
      for (const [n, { payload, channel, accountId }] of checked.entries()) {
        const keyword = channel === 'sms' ? consentKeyword(payload.body) : null;
        if (!keyword) continue;
        await identity.setConsent({
          accountId, customerId: senders[n]!.customerId, channel: 'CHANNEL_SMS',
          status: keyword === 'opted_out' ? 'CONSENT_STATUS_OPTED_OUT' : 'CONSENT_STATUS_OPTED_IN',
          source: keyword === 'opted_out' ? 'CONSENT_SOURCE_SMS_STOP_KEYWORD' : 'CONSENT_SOURCE_SMS_START_KEYWORD',
        });
      }
      return senders;
    },
    async handleBatch({ em, items }) {
      await receiveInboundMessages(em, items.map(({ payload, prepared, emit }) => ({
        emit,
        message: {
          accountId: payload.accountId,
          propertyId: payload.propertyId || null,
          customerId: prepared.customerId,
          slaTier: prepared.slaTier,
          channel: prepared.channel,
          provider: payload.provider,
          providerMessageId: payload.providerMessageId,
          channelId: payload.channelId,
          inboundId: payload.inboundId,
          fromAddress: payload.fromAddress,
          toAddress: payload.toAddress,
          body: payload.body,
          receivedAt: payload.receivedAt ? new Date(payload.receivedAt) : new Date(),
        },
      })));
    },
  });
}
