import type { UnitOfWork } from '@domiq/bus';
import { roles, type Role } from '@domiq/proto/vocabulary';
import { AlreadyExistsError, NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { accountExists } from '../db/account.repository.ts';
import { Team, User, type UserRow } from '../db/identity.entities.ts';
import { claimId } from '../domain/id-claim.ts';

export interface CreateUserInput {
  accountId: string;
  id: string;
  /** Lower-case (isEmailAddress). */
  email: string;
  firstName: string;
  lastName: string;
  role: Role;
  teamId: string | null;
  skills: string[];
  maxConcurrentConversations: number;
}

/** Creates a user; a user with the same email in the account is returned as it is (a retry, or a second invite). */
export async function createUser(uow: UnitOfWork, input: CreateUserInput): Promise<UserRow> {
  const { em } = uow;
  const { accountId, id, email, firstName, lastName, role, teamId, skills, maxConcurrentConversations } = input;
  if (!(await accountExists(em, accountId))) throw new NotFoundError(`account ${accountId} not found`);
  if (teamId && !(await em.count(Team, { id: teamId, accountId }))) throw new NotFoundError(`team ${teamId} not found`);
  const sameEmail = await em.findOne(User, { accountId, email });
  if (sameEmail) return sameEmail;
  const found = await em.findOne(User, { id });
  if (claimId(found, accountId) === 'taken') throw new AlreadyExistsError(`user id ${id} is taken`);
  if (found) return found;
  const user = em.create(User, { id, accountId, email, firstName, lastName, role, teamId, skills, maxConcurrentConversations, displayName: `${firstName} ${lastName}` });
  uow.emit(events.identityUserCreated, {
    accountId, userId: id, teamId: teamId ?? '', role: roles.toProto(role), skills, maxConcurrentConversations, email, firstName, lastName,
  }, { entityId: id, accountId });
  return user;
}
