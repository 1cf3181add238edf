import type { UnitOfWork } from '@domiq/bus';
import { NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { accountExists } from '../db/account.repository.ts';
import { findOrCreateCustomers, type CustomerRecord, type IdentifierToResolve } from '../db/customer.repository.ts';

export interface ResolvedCustomer {
  customer: CustomerRecord;
  /** This identifier created the customer (its first occurrence in the call, on first contact). */
  created: boolean;
}

/**
 * The customers of many identifiers of one account, each found or created (with identity.customer.created) in one
 * transaction and a few set-based statements (findOrCreateCustomers): the identifiers' locks are taken in sorted
 * order, so two batches sharing senders cannot deadlock; the same identifier twice is resolved once. Results are in
 * input order. ResolveCustomer is the batch of one.
 */
export async function resolveCustomers(uow: UnitOfWork, accountId: string, inputs: readonly IdentifierToResolve[]): Promise<ResolvedCustomer[]> {
  if (inputs.length === 0) return [];
  if (!(await accountExists(uow.em, accountId))) throw new NotFoundError(`account ${accountId} not found`);
  const keyOf = (i: IdentifierToResolve) => `${i.kind}|${i.network}|${i.value}`;
  const distinct = new Map<string, number>();
  const unique: IdentifierToResolve[] = [];
  for (const i of inputs) {
    const seen = distinct.get(keyOf(i));
    if (seen !== undefined) {
      // A verified mention of it anywhere in the call counts.
      if (i.verified) unique[seen] = { ...unique[seen]!, verified: true };
      continue;
    }
    distinct.set(keyOf(i), unique.length);
    unique.push(i);
  }
  const resolved = await findOrCreateCustomers(uow.em, accountId, unique);
  resolved.forEach((r, n) => {
    if (r.created) announceNewCustomer(uow, unique[n]!.displayName, r.customer);
  });
  // A repeated identifier is the same customer, created at most by its first occurrence.
  const seen = new Set<string>();
  return inputs.map((i) => {
    const key = keyOf(i);
    const r = resolved[distinct.get(key)!]!;
    const first = !seen.has(key);
    seen.add(key);
    return { customer: r.customer, created: r.created && first };
  });
}

/**
 * identity.customer.created for a customer first contact just created. It carries the customer's phones, emails and
 * name, the only personal values in identity's events: an erasure redacts them in the event_log (eraseCustomer).
 */
export function announceNewCustomer(uow: UnitOfWork, name: string, customer: CustomerRecord): void {
  const { accountId } = customer;
  uow.emit(events.identityCustomerCreated, {
    accountId, customerId: customer.id, phoneNumbers: customer.identityGraph.phone_numbers, emails: customer.identityGraph.emails, name,
  }, { entityId: customer.id, accountId, customerId: customer.id });
}
