import type { UnitOfWork } from '@domiq/bus';
import { Agent } from '../db/routing-sla.entities.ts';
import { agentCapacity, type RoutableRole } from '../domain/round-robin.ts';

export interface RegisterAgentInput {
  accountId: string;
  agentId: string;
  teamId: string | null;
  role: RoutableRole;
  skills: string[];
  /** As identity has it; 0 means the default. */
  maxConcurrentConversations: number;
}

/**
 * - `registered`: a new agent, offline with nothing assigned;
 * - `refreshed`: a known agent's profile updated, presence and load kept;
 * - `held_by_another_account`: the user id is already another account's agent; nothing changed.
 */
export type RegisterAgentOutcome = 'registered' | 'refreshed' | 'held_by_another_account';

/** Enters a routable user into the agents read model, or refreshes their profile there. */
export async function registerAgent(uow: UnitOfWork, input: RegisterAgentInput): Promise<RegisterAgentOutcome> {
  const { em } = uow;
  const { accountId, agentId } = input;
  const profile = { teamId: input.teamId, role: input.role, skills: input.skills, maxConcurrentConversations: agentCapacity(input.maxConcurrentConversations) };
  const existing = await em.findOne(Agent, { agentId });
  if (existing && existing.accountId !== accountId) return 'held_by_another_account';
  if (existing) {
    em.assign(existing, profile);
    return 'refreshed';
  }
  em.create(Agent, { agentId, accountId, ...profile });
  return 'registered';
}
