import type { UnitOfWork } from '@domiq/bus';
import { insertReceipts, markReceiptsApplied, repliesByProviderId, updateDeliveryStatuses } from '../db/outbound.repository.ts';
import type { DeliveryReceipt, ProviderAdapter } from '../providers/provider.ts';
import { emitReceipt, receiptLockKey } from './deliver-reply.ts';
import { lockAllForTransaction } from '@domiq/db';

export interface ReceiptsOutcome {
  /** Receipts stored now (the provider's duplicates are not). */
  stored: number;
  /** Of those, the ones for a reply we know (emitted as delivery updates now; the others wait for the send's record). */
  applied: number;
}

/**
 * A verified status webhook's receipts: each stored once, and for a reply whose send is recorded, published as a
 * delivery update in the same transaction. A receipt that comes before the send's answer is recorded (providers call
 * back at once) waits, and the send's record publishes it (app/deliver-reply.ts). Four statements whatever the count.
 */
export async function recordReceipts(uow: UnitOfWork, channel: { accountId: string; channelId: string }, adapter: ProviderAdapter, receipts: readonly DeliveryReceipt[]): Promise<ReceiptsOutcome> {
  // The same lock the send's record takes (app/deliver-reply.ts): whichever commits second sees the other's rows.
  await lockAllForTransaction(uow.em, receipts.map((r) => receiptLockKey(adapter.id, r.providerMessageId)));
  const stored = await insertReceipts(uow.em, channel, adapter.id, receipts);
  const replies = await repliesByProviderId(uow.em, channel.accountId, adapter.id, [...new Set(stored.map((r) => r.providerMessageId))]);
  const applied: string[] = [];
  const latest = new Map<string, string>();
  for (const receipt of stored) {
    const reply = replies.get(receipt.providerMessageId);
    if (!reply) continue;
    emitReceipt(uow, { accountId: channel.accountId, ...reply }, adapter, receipt.providerMessageId, receipt);
    applied.push(receipt.id);
    latest.set(receipt.providerMessageId, receipt.status);
  }
  await markReceiptsApplied(uow.em, applied);
  await updateDeliveryStatuses(uow.em, channel.accountId, adapter.id, latest);
  return { stored: stored.length, applied: applied.length };
}
