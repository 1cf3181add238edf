import type { EntityManager } from '@domiq/db';
import { isMessageStatus, nextMessageStatus, type DeliveryStatus } from '../domain/message-status.ts';
import { lockOutboundMessages, updateDeliveries, type DeliveryRow } from '../db/message-delivery.repository.ts';

/** What the gateway reported about one reply. */
export interface DeliveryUpdate {
  accountId: string;
  messageId: string;
  status: DeliveryStatus;
  providerMessageId: string | null;
  /** "<code>: <reason>" for a failure, shown to the agent. */
  failure: string | null;
  occurredAt: Date;
}

/**
 * Applies delivery updates to their replies, in the order given (stream order), each only moving its message forward
 * (domain/message-status.ts): the provider's id is kept once known, delivered_at / read_at are the provider's times,
 * and a failure keeps the provider's reason. Set-based: one statement locks every message named, one writes the
 * changed ones. Returns the ids of the updates whose message is not here (erased, or never ours).
 */
export async function recordDeliveryUpdates(em: EntityManager, updates: readonly DeliveryUpdate[]): Promise<string[]> {
  if (updates.length === 0) return [];
  const rows = await lockOutboundMessages(em, updates.map((u) => ({ accountId: u.accountId, id: u.messageId })));
  const changed = new Map<string, DeliveryRow>();
  const missing: string[] = [];
  for (const u of updates) {
    const row = rows.get(u.messageId);
    if (!row || row.accountId !== u.accountId) {
      missing.push(u.messageId);
      continue;
    }
    const before = JSON.stringify(row);
    const current = isMessageStatus(row.status) ? row.status : 'pending';
    const next = nextMessageStatus(current, u.status);
    row.status = next;
    row.channelMessageId ??= u.providerMessageId;
    if (u.status === 'delivered' || u.status === 'read') row.deliveredAt ??= u.occurredAt;
    if (u.status === 'read') row.readAt ??= u.occurredAt;
    if (next === 'failed' && current !== 'failed') row.errorMessage = u.failure ?? 'delivery failed';
    if (JSON.stringify(row) !== before) changed.set(row.id, row);
  }
  await updateDeliveries(em, [...changed.values()]);
  return missing;
}
