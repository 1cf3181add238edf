import type { EntityManager } from '@domiq/db';
import { Account } from './identity.entities.ts';

// Accounts are never deleted, so one that exists once exists for good: the hot path (resolveCustomer) skips the lookup.
const known = new Set<string>();

export async function accountExists(em: EntityManager, accountId: string): Promise<boolean> {
  if (known.has(accountId)) return true;
  if (!(await em.count(Account, { id: accountId }))) return false;
  if (known.size > 100_000) known.clear();
  known.add(accountId);
  return true;
}
