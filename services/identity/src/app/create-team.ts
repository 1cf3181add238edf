import type { UnitOfWork } from '@domiq/bus';
import { AlreadyExistsError, NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { accountExists } from '../db/account.repository.ts';
import { Team, type TeamRow } from '../db/identity.entities.ts';
import { claimId } from '../domain/id-claim.ts';

export const ROUTING_MODES = ['round_robin', 'least_busy', 'skill_based', 'manual'] as const;

export interface CreateTeamInput {
  accountId: string;
  id: string;
  name: string;
  routingMode: (typeof ROUTING_MODES)[number];
}

export async function createTeam(uow: UnitOfWork, input: CreateTeamInput): Promise<TeamRow> {
  const { accountId, id, name, routingMode } = input;
  if (!(await accountExists(uow.em, accountId))) throw new NotFoundError(`account ${accountId} not found`);
  const found = await uow.em.findOne(Team, { id });
  if (claimId(found, accountId) === 'taken') throw new AlreadyExistsError(`team id ${id} is taken`);
  if (found) return found;
  const team = uow.em.create(Team, { id, accountId, name, routingMode });
  uow.emit(events.identityTeamCreated, { accountId, teamId: id, name, routingMode }, { entityId: id, accountId });
  return team;
}
