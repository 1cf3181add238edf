import type { EntityManager } from '@domiq/db';
import { insertQueuedReplies, type QueuedReply } from '../db/outbound.repository.ts';

export type { QueuedReply };

/**
 * Agents' replies become rows of the delivery queue (outbound_messages), once each however often their event comes;
 * the runners are told at commit. Nothing is sent here: the runner does that outside any transaction.
 */
export async function queueReplies(em: EntityManager, replies: readonly QueuedReply[]): Promise<number> {
  return insertQueuedReplies(em, replies);
}
