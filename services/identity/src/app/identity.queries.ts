import type { EntityManager } from '@domiq/db';
import { NotFoundError } from '@domiq/grpc';
import { findCustomer, findCustomers, type CustomerRecord } from '../db/customer.repository.ts';
import { Property, User, type PropertyRow, type UserRow } from '../db/identity.entities.ts';

export async function getCustomer(em: EntityManager, accountId: string, customerId: string): Promise<CustomerRecord> {
  const customer = await findCustomer(em, accountId, customerId);
  if (!customer) throw new NotFoundError(`customer ${customerId} not found`);
  return customer;
}

/** The account's customers of these ids (the ones it does not have are left out). */
export function getCustomers(em: EntityManager, accountId: string, customerIds: readonly string[]): Promise<CustomerRecord[]> {
  return findCustomers(em, accountId, [...new Set(customerIds)]);
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
