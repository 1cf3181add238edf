import type { EntityManager } from '@domiq/db';
import { Resolution, type ResolutionRow } from '../db/resolutions.entities.ts';

// A conversation has few resolutions; an account-wide listing is capped until the API grows paging.
const LIST_LIMIT = 500;

/** The account's resolutions, oldest first: all of them, or one conversation's when conversationId is set. */
export async function listResolutions(em: EntityManager, query: { accountId: string; conversationId: string | null }): Promise<ResolutionRow[]> {
  const { accountId, conversationId } = query;
  return em.find(Resolution, conversationId ? { accountId, conversationId } : { accountId }, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: LIST_LIMIT });
}
