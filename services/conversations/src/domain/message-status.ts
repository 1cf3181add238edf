// A reply's status lifecycle (seed: pending -> sent -> delivered -> read, or failed), driven by the gateway's delivery
// updates. Providers do not order their callbacks (Twilio may post "delivered" before "sent", or one twice), so a
// status only ever moves forward, and "failed" ends it.
export const MESSAGE_STATUSES = ['pending', 'sent', 'delivered', 'read', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** The gateway's neutral delivery statuses (channel-gateway.message.delivery_updated). */
export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'undelivered' | 'failed' | 'canceled' | 'unknown';

const RANK: Record<Exclude<MessageStatus, 'failed'>, number> = { pending: 0, sent: 1, delivered: 2, read: 3 };

/** What a delivery status means for the message (null: nothing, e.g. a status we do not know). */
const MEANING: Record<DeliveryStatus, MessageStatus | null> = {
  queued: 'pending', sent: 'sent', delivered: 'delivered', read: 'read', undelivered: 'failed', failed: 'failed', canceled: 'failed', unknown: null,
};

export function isDeliveryStatus(value: string): value is DeliveryStatus {
  return Object.hasOwn(MEANING, value);
}

export function isMessageStatus(value: string): value is MessageStatus {
  return (MESSAGE_STATUSES as readonly string[]).includes(value);
}

/**
 * The status after `update` (the same status when it changes nothing): forward only; failed is final, and a message
 * the customer already has (delivered, read) does not fail afterwards.
 */
export function nextMessageStatus(current: MessageStatus, update: DeliveryStatus): MessageStatus {
  const meant = MEANING[update];
  if (meant === null || current === 'failed') return current;
  if (meant === 'failed') return RANK[current] >= RANK.delivered ? current : 'failed';
  return RANK[meant] > RANK[current] ? meant : current;
}
