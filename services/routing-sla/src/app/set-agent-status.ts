import type { UnitOfWork } from '@domiq/bus';
import { NotFoundError } from '@domiq/grpc';
import { Agent } from '../db/routing-sla.entities.ts';
import { lockAccounts } from '../db/routing.repository.ts';
import type { AgentStatus } from '../domain/round-robin.ts';

/**
 * Sets an agent's presence; only `available` agents with spare capacity are routed to. Under the account's routing
 * lock (as routeConversations takes it), so a batch being routed never gives a conversation to an agent who has
 * just gone offline: the change waits for the batch, or the batch sees it.
 */
export async function setAgentStatus(uow: UnitOfWork, input: { accountId: string; agentId: string; status: AgentStatus }): Promise<{ agentId: string; status: AgentStatus }> {
  const { accountId, agentId, status } = input;
  await lockAccounts(uow.em, [accountId]);
  const agent = await uow.em.findOne(Agent, { agentId, accountId });
  if (!agent) throw new NotFoundError(`agent ${agentId} not found`);
  agent.status = status;
  return { agentId, status };
}
