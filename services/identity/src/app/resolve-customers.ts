import type { UnitOfWork } from '@domiq/bus';
import { NotFoundError } from '@domiq/grpc';
import { accountExists } from '../db/account.repository.ts';
import { findOrCreateCustomer } from '../db/customer.repository.ts';
import type { CustomerRow } from '../db/identity.entities.ts';
import { announceNewCustomer, type ResolveCustomerInput } from './resolve-customer.ts';

/**
 * The customers of many identifiers of one account, each found or created (with identity.customer.created) as
 * resolveCustomer does, in one transaction. Identifiers are resolved in the order of their lock keys, so two batches
 * sharing senders take the per-identifier locks in the same order and cannot deadlock; the same identifier twice is
 * resolved once. Results are in input order.
 */
export async function resolveCustomers(uow: UnitOfWork, accountId: string, inputs: ReadonlyArray<Omit<ResolveCustomerInput, 'accountId'>>): Promise<Array<{ customer: CustomerRow; created: boolean }>> {
  if (inputs.length === 0) return [];
  if (!(await accountExists(uow.em, accountId))) throw new NotFoundError(`account ${accountId} not found`);
  const keyOf = (i: Omit<ResolveCustomerInput, 'accountId'>) => `${i.kind}|${i.network}|${i.value}`;
  const firstByKey = new Map<string, Omit<ResolveCustomerInput, 'accountId'>>();
  for (const i of inputs) if (!firstByKey.has(keyOf(i))) firstByKey.set(keyOf(i), i);
  const resolved = new Map<string, { customer: CustomerRow; created: boolean }>();
  for (const key of [...firstByKey.keys()].sort()) {
    const input = { ...firstByKey.get(key)!, accountId };
    const result = await findOrCreateCustomer(uow.em, input, input.displayName);
    if (result.created) announceNewCustomer(uow, input, result.customer);
    resolved.set(key, result);
  }
  // A repeated identifier is the same customer, created at most by its first occurrence.
  const seen = new Set<string>();
  return inputs.map((i) => {
    const key = keyOf(i);
    const r = resolved.get(key)!;
    const first = !seen.has(key);
    seen.add(key);
    return { customer: r.customer, created: r.created && first };
  });
}
