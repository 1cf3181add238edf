// Use case (the message-created consumer's, once per batch): the customers' inbound messages that are logged to ResMan
// become pending work in lead_sync_queue, in the batch's transaction and set-based (one query for the batch's
// integrations, one insert of communication rows, one of queue rows). No gRPC and no ResMan call here: the queue
// worker (push-queued-leads.ts) does those, and a ResMan outage only delays the rows.
import type { UnitOfWork } from '@domiq/bus';
import type { Channel } from '@domiq/proto/vocabulary';
import { enqueuePushes, notifyQueued } from '../db/lead-sync-queue.repository.ts';
import { findIntegrations, foreignCommunications, insertPendingCommunications } from '../db/lead-sync.repository.ts';
import { communicationType, inboundEventType } from '../domain/communication.ts';
import { INBOUND_MESSAGE_PRIORITY } from '../domain/lead-sync-queue.ts';
import { redactSensitive } from '../domain/redaction.ts';
import { pushesToResman } from '../domain/resman-integration.ts';

/** A message a customer sent us about a property (conversations.message.created, checked by the consumer). */
export interface InboundCustomerMessage {
  accountId: string;
  propertyId: string;
  customerId: string;
  conversationId: string | null;
  messageId: string;
  channel: Channel;
  content: string;
  createdAt: Date;
  /** The consumed event's id: the causation of the resman.lead.synced its push emits. */
  eventId: string;
}

export interface EnqueueSettings {
  /** lead_sync_queue.max_retries of the rows queued. */
  maxRetries: number;
}

export interface Enqueued {
  /** Message ids queued now. */
  queued: string[];
  /** Messages not logged, with why. */
  skipped: Array<{ messageId: string; reason: string }>;
}

/** A message id already logged for another account: that account's row is never touched, the message cannot be logged. */
export class MessageOfAnotherAccountError extends Error {
  override name = 'MessageOfAnotherAccountError';
  readonly messageIds: string[];
  constructor(messageIds: string[]) {
    super(`message ${messageIds.join(', ')} is already logged for another account`);
    this.messageIds = messageIds;
  }
}

/**
 * Queues each message whose property's integration pushes to ResMan: a 'pending' communication_log_sync row (redacted
 * content; one per message, an existing one left as it is) and a lead_sync_queue row (due now). A message queued
 * before, or logged already, queues nothing; the same message twice in the input counts once. Emits no events (the
 * push does); NOTIFYs the workers when it queued something (delivered when the transaction commits).
 */
export async function enqueueInboundMessages(uow: Pick<UnitOfWork, 'em'>, messages: readonly InboundCustomerMessage[], settings: EnqueueSettings): Promise<Enqueued> {
  const { em } = uow;
  const seen = new Set<string>();
  const unique = messages.filter((m) => !seen.has(m.messageId) && seen.add(m.messageId));
  const pairs = new Map(unique.map((m) => [`${m.accountId}|${m.propertyId}`, { accountId: m.accountId, propertyId: m.propertyId }]));
  const pushing = new Set((await findIntegrations(em, [...pairs.values()])).filter(pushesToResman).map((i) => `${i.accountId}|${i.propertyId}`));
  const skipped: Enqueued['skipped'] = [];
  const logged = unique.filter((m) => {
    if (pushing.has(`${m.accountId}|${m.propertyId}`)) return true;
    skipped.push({ messageId: m.messageId, reason: 'no active ResMan integration for the property' });
    return false;
  });
  if (logged.length === 0) return { queued: [], skipped };

  const firstSeen = await insertPendingCommunications(em, logged.map((m) => ({
    accountId: m.accountId, propertyId: m.propertyId, customerId: m.customerId, conversationId: m.conversationId, messageId: m.messageId,
    communicationType: communicationType(m.channel), content: redactSensitive(m.content), timestamp: m.createdAt, eventType: inboundEventType(m.channel),
  })));
  // Only a message id that was there already can be another account's.
  const foreign = await foreignCommunications(em, logged.filter((m) => !firstSeen.has(m.messageId)));
  if (foreign.length > 0) throw new MessageOfAnotherAccountError(foreign);

  const queued = await enqueuePushes(em, logged.map((m) => ({
    accountId: m.accountId, propertyId: m.propertyId, customerId: m.customerId, conversationId: m.conversationId,
    priority: INBOUND_MESSAGE_PRIORITY, maxRetries: settings.maxRetries,
    data: {
      messageId: m.messageId, channel: m.channel, eventType: inboundEventType(m.channel), sentAt: m.createdAt.toISOString(), eventId: m.eventId,
      seenBefore: !firstSeen.has(m.messageId),
    },
  })));
  if (queued.length > 0) await notifyQueued(em);
  const queuedIds = new Set(queued);
  for (const m of logged) if (!queuedIds.has(m.messageId)) skipped.push({ messageId: m.messageId, reason: 'queued or logged already' });
  return { queued, skipped };
}
