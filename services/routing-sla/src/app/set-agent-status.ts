import type { UnitOfWork } from '@domiq/bus';
import { NotFoundError } from '@domiq/grpc';
import { Agent } from '../db/routing-sla.entities.ts';
import type { AgentStatus } from '../domain/round-robin.ts';

/** Sets an agent's presence; only `available` agents with spare capacity are routed to. */
export async function setAgentStatus(uow: UnitOfWork, input: { accountId: string; agentId: string; status: AgentStatus }): Promise<{ agentId: string; status: AgentStatus }> {
  const { accountId, agentId, status } = input;
  const agent = await uow.em.findOne(Agent, { agentId, accountId });
  if (!agent) throw new NotFoundError(`agent ${agentId} not found`);
  agent.status = status;
  return { agentId, status };
}
