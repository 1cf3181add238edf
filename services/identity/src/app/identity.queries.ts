import type { EntityManager } from '@domiq/db';
import { NotFoundError } from '@domiq/grpc';
import { findCustomerDetails, type CustomerDetails } from '../db/customer.repository.ts';
import { Property, User, type PropertyRow, type UserRow } from '../db/identity.entities.ts';
import { listMergeSuggestions as listSuggestions, type MergeSuggestionRecord } from '../db/merge-suggestion.repository.ts';
import type { SuggestionStatus } from '../domain/customer-merge.ts';

/** A customer of the account with its identifiers and consents; a merged one too (status merged, merged_into_id). */
export async function getCustomer(em: EntityManager, accountId: string, customerId: string): Promise<CustomerDetails> {
  const [customer] = await findCustomerDetails(em, accountId, [customerId]);
  if (!customer) throw new NotFoundError(`customer ${customerId} not found`);
  return customer;
}

/** The account's customers of these ids (the ones it does not have are left out), with identifiers and consents. */
export function getCustomers(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<CustomerDetails[]> {
  return findCustomerDetails(em, accountId, [...new Set(customerIds)]);
}

/** The account's merge suggestions of one status, newest first. */
export function listMergeSuggestions(em: EntityManager, accountId: string, filter: { status: SuggestionStatus; customerId: string | null; limit: number }): Promise<MergeSuggestionRecord[]> {
  return listSuggestions(em, accountId, filter);
}

export async function getProperty(em: EntityManager, accountId: string, propertyId: string): Promise<PropertyRow> {
  const property = await em.findOne(Property, { id: propertyId, accountId });
  if (!property) throw new NotFoundError(`property ${propertyId} not found`);
  return property;
}

/** The account's users (of one team when teamId is given), oldest first. */
export async function listUsers(em: EntityManager, accountId: string, filter: { teamId: string | null }): Promise<UserRow[]> {
  return em.find(User, filter.teamId ? { accountId, teamId: filter.teamId } : { accountId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
}
