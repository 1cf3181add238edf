import type { UnitOfWork } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { Account, type AccountRow } from '../db/identity.entities.ts';

export interface CreateAccountInput {
  id: string;
  name: string;
}

/** Creates the account once; asked again for the same id, returns it as it is. */
export async function createAccount(uow: UnitOfWork, input: CreateAccountInput): Promise<AccountRow> {
  const { id, name } = input;
  const found = await uow.em.findOne(Account, { id });
  if (found) return found;
  const account = uow.em.create(Account, { id, name });
  uow.emit(events.identityAccountCreated, { accountId: id, name }, { entityId: id, accountId: id });
  return account;
}
