import type { UnitOfWork } from '@domiq/bus';
import type { CustomerIdentifierKey } from '../db/customer.repository.ts';
import { resolveCustomers, type ResolvedCustomer } from './resolve-customers.ts';

export interface ResolveCustomerInput extends CustomerIdentifierKey {
  /** The sender's name as the channel gave it ('' when none); fills an unnamed customer's profile. */
  displayName: string;
  /** The channel proved the sender holds it (marks the identifier verified). */
  verified: boolean;
}

/** The customer an identifier belongs to, created (with identity.customer.created) on first contact: a batch of one. */
export async function resolveCustomer(uow: UnitOfWork, input: ResolveCustomerInput): Promise<ResolvedCustomer> {
  const { accountId, ...identifier } = input;
  const [result] = await resolveCustomers(uow, accountId, [identifier]);
  return result!;
}
