import { lockForTransaction, type EntityManager } from '@domiq/db';
import { Customer, CustomerIdentifier, type CustomerRow } from './identity.entities.ts';
import type { IdentifierKind } from '../domain/identifier.ts';

export interface CustomerIdentifierKey {
  accountId: string;
  kind: IdentifierKind;
  network: string;
  /** Normalised (normaliseIdentifier). */
  value: string;
}

/**
 * Finds the customer owning an identifier in an account or creates it, in the caller's transaction. A
 * transaction-scoped advisory lock on the identifier serialises concurrent first contacts, and the unique index on
 * customer_identifiers backs it up.
 */
export async function findOrCreateCustomer(em: EntityManager, key: CustomerIdentifierKey, displayName: string): Promise<{ customer: CustomerRow; created: boolean }> {
  // Outside a transaction the lock would be released as soon as it is taken.
  if (!em.isInTransaction()) throw new Error('findOrCreateCustomer must run in a transaction');
  await lockForTransaction(em, `${key.accountId}|${key.kind}|${key.network}|${key.value}`);
  const existing = await em.findOne(CustomerIdentifier, { accountId: key.accountId, kind: key.kind, network: key.network, value: key.value });
  if (existing) {
    const customer = await em.findOneOrFail(Customer, { id: existing.customerId, accountId: key.accountId });
    customer.lastSeenAt = new Date();
    if (!customer.profile.name && displayName) customer.profile = { ...customer.profile, name: displayName };
    return { customer, created: false };
  }
  const customer = em.create(Customer, {
    id: crypto.randomUUID(),
    accountId: key.accountId,
    identityGraph: {
      emails: key.kind === 'email' ? [key.value] : [],
      phone_numbers: key.kind === 'phone' ? [key.value] : [],
      social_ids: key.kind === 'social' ? { [key.network]: key.value } : {},
      device_fingerprints: [],
    },
    profile: { name: displayName || null, company: null, avatar_url: null, metadata: {} },
  });
  em.create(CustomerIdentifier, { accountId: key.accountId, customerId: customer.id, kind: key.kind, network: key.network, value: key.value });
  return { customer, created: true };
}
