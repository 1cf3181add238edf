import { lockForTransaction, type EntityManager } from '@domiq/db';
import { appendEvent } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { Customer, CustomerIdentifier } from './identity.entities.ts';
import type { IdentifierKind } from '../domain/identifier.ts';

type CustomerRow = InstanceType<typeof Customer.class>;

/**
 * Finds the customer owning an identifier in an account or creates it, with its `identity.customer.created`
 * event, in one transaction. A transaction-scoped advisory lock on the identifier serialises concurrent
 * first contacts, and the unique index on customer_identifiers backs it up.
 */
export async function resolveCustomer(
  em: EntityManager,
  input: { accountId: string; kind: IdentifierKind; network: string; value: string; displayName: string },
): Promise<{ customer: CustomerRow; created: boolean }> {
  return em.transactional(async (tx) => {
    const key = `${input.accountId}|${input.kind}|${input.network}|${input.value}`;
    await lockForTransaction(tx, key);
    const existing = await tx.findOne(CustomerIdentifier, { accountId: input.accountId, kind: input.kind, network: input.network, value: input.value });
    if (existing) {
      const customer = await tx.findOneOrFail(Customer, { id: existing.customerId, accountId: input.accountId });
      customer.lastSeenAt = new Date();
      if (!customer.profile.name && input.displayName) customer.profile = { ...customer.profile, name: input.displayName };
      return { customer, created: false };
    }
    const customer = tx.create(Customer, {
      id: crypto.randomUUID(),
      accountId: input.accountId,
      identityGraph: {
        emails: input.kind === 'email' ? [input.value] : [],
        phone_numbers: input.kind === 'phone' ? [input.value] : [],
        social_ids: input.kind === 'social' ? { [input.network]: input.value } : {},
        device_fingerprints: [],
      },
      profile: { name: input.displayName || null, company: null, avatar_url: null, metadata: {} },
    });
    tx.create(CustomerIdentifier, { accountId: input.accountId, customerId: customer.id, kind: input.kind, network: input.network, value: input.value });
    appendEvent(tx, events.identityCustomerCreated, {
      accountId: input.accountId,
      customerId: customer.id,
      phoneNumbers: customer.identityGraph.phone_numbers,
      emails: customer.identityGraph.emails,
      name: input.displayName,
    }, { entityId: customer.id, accountId: input.accountId, customerId: customer.id });
    return { customer, created: true };
  });
}
