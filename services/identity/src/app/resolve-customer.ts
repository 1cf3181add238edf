import type { UnitOfWork } from '@domiq/bus';
import { NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { accountExists } from '../db/account.repository.ts';
import { findOrCreateCustomer, type CustomerIdentifierKey } from '../db/customer.repository.ts';
import type { CustomerRow } from '../db/identity.entities.ts';

export interface ResolveCustomerInput extends CustomerIdentifierKey {
  /** The sender's name as the channel gave it ('' when none); fills an unnamed customer's profile. */
  displayName: string;
}

/** The customer an identifier belongs to, created (with identity.customer.created) on first contact. */
export async function resolveCustomer(uow: UnitOfWork, input: ResolveCustomerInput): Promise<{ customer: CustomerRow; created: boolean }> {
  const { accountId } = input;
  if (!(await accountExists(uow.em, accountId))) throw new NotFoundError(`account ${accountId} not found`);
  const result = await findOrCreateCustomer(uow.em, input, input.displayName);
  if (result.created) announceNewCustomer(uow, input, result.customer);
  return result;
}

/** identity.customer.created for a customer first contact just created. */
export function announceNewCustomer(uow: UnitOfWork, input: ResolveCustomerInput, customer: CustomerRow): void {
  const { accountId } = input;
  uow.emit(events.identityCustomerCreated, {
    accountId, customerId: customer.id, phoneNumbers: customer.identityGraph.phone_numbers, emails: customer.identityGraph.emails, name: input.displayName,
  }, { entityId: customer.id, accountId, customerId: customer.id });
}
