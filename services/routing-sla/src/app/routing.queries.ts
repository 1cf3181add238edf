import type { EntityManager } from '@domiq/db';
import { NotFoundError } from '@domiq/grpc';
import { Assignment, ConversationSla } from '../db/routing-sla.entities.ts';

/** Where a conversation stands: its SLA policy and due times (null without a policy) and its current agent (null when unassigned). */
export interface ConversationRouting {
  conversationId: string;
  slaPolicyId: string | null;
  firstResponseDueAt: Date | null;
  resolutionDueAt: Date | null;
  assignedAgentId: string | null;
  assignedAt: Date | null;
}

/** One conversation of the account as routing knows it; NotFoundError until routing has seen it (or for another account's). */
export async function conversationRouting(em: EntityManager, query: { accountId: string; conversationId: string }): Promise<ConversationRouting> {
  const { accountId, conversationId } = query;
  const sla = await em.findOne(ConversationSla, { conversationId, accountId });
  if (!sla) throw new NotFoundError(`conversation ${conversationId} not found`);
  const assignment = await em.findOne(Assignment, { conversationId, accountId, unassignedAt: null }, { orderBy: { assignedAt: 'desc', id: 'asc' } });
  return {
    conversationId,
    slaPolicyId: sla.slaPolicyId ?? null,
    firstResponseDueAt: sla.firstResponseDueAt ?? null,
    resolutionDueAt: sla.resolutionDueAt ?? null,
    assignedAgentId: assignment?.agentId ?? null,
    assignedAt: assignment?.assignedAt ?? null,
  };
}
