import type { UnitOfWork } from '@domiq/bus';
import { AlreadyExistsError, NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { accountExists } from '../db/account.repository.ts';
import { Property, type PropertyRow } from '../db/identity.entities.ts';
import { claimId } from '../domain/id-claim.ts';

export interface CreatePropertyInput {
  accountId: string;
  id: string;
  name: string;
  /** An IANA time zone (isTimeZone). */
  timezone: string;
}

export async function createProperty(uow: UnitOfWork, input: CreatePropertyInput): Promise<PropertyRow> {
  const { accountId, id, name, timezone } = input;
  if (!(await accountExists(uow.em, accountId))) throw new NotFoundError(`account ${accountId} not found`);
  const found = await uow.em.findOne(Property, { id });
  if (claimId(found, accountId) === 'taken') throw new AlreadyExistsError(`property id ${id} is taken`);
  if (found) return found;
  const property = uow.em.create(Property, { id, accountId, name, timezone });
  uow.emit(events.identityPropertyCreated, { accountId, propertyId: id, name, timezone }, { entityId: id, accountId });
  return property;
}
