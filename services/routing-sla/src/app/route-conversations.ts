import type { UnitOfWork } from '@domiq/bus';
import type { EntityManager } from '@domiq/db';
import { events } from '@domiq/proto/events';
import type { Channel, SlaTier } from '@domiq/proto/vocabulary';
import {
  findActivePolicies, findAvailableAgents, findRoutedConversationIds, insertConversationSlas, insertRoundRobinAssignments, lockAccounts,
} from '../db/routing.repository.ts';
import { planRouting } from '../domain/routing-plan.ts';

/** A conversation routing has not seen yet (conversations.conversation.created). */
export interface NewConversation {
  accountId: string;
  conversationId: string;
  propertyId: string | null;
  customerId: string | null;
  channel: Channel;
  createdAt: Date;
  tier: SlaTier;
}

/** What routing did: nothing for a conversation seen before; otherwise the policy that started its clock and the agent it went to, if any. */
export type RoutingOutcome =
  | { outcome: 'already_routed' }
  | { outcome: 'routed'; slaPolicyId: string | null; agentId: string | null };

/**
 * Conversations to route in one transaction (`em`), each with the `emit` its events go out with (a batch item's own,
 * so each event records its own conversation's event as the causation). One conversation is a batch of one.
 */
export interface RoutingBatch {
  em: EntityManager;
  items: ReadonlyArray<{ conversation: NewConversation; emit: UnitOfWork['emit'] }>;
}

/**
 * Starts each new conversation's SLA clock and assigns it an agent round robin, for a whole batch in a few set-based
 * statements. The transaction-scoped advisory lock of each account (taken in sorted account order) serialises
 * routing within the account, so two batches cannot both take an agent's last slot; under it, one query finds the
 * conversations already seen (under any event id) and one each loads the accounts' policies and available agents.
 * The rules (planRouting) then route the conversations in the order given, as routing them one at a time would, and
 * a conversation twice in the batch is routed once. With no policy the clock row still records the conversation
 * (and no `routing.sla.scheduled`); with no agent free it stays unassigned.
 *
 * Returns one outcome per item, in order.
 */
export async function routeConversations({ em, items }: RoutingBatch): Promise<RoutingOutcome[]> {
  const conversations = items.map((i) => i.conversation);
  if (conversations.length === 0) return [];
  await lockAccounts(em, conversations.map((c) => c.accountId));
  const alreadyRouted = await findRoutedConversationIds(em, conversations);
  const pending = conversations.filter((c) => !alreadyRouted.has(c.conversationId));
  const accounts = [...new Set(pending.map((c) => c.accountId))];
  const policies = await findActivePolicies(em, accounts, pending.flatMap((c) => (c.propertyId ? [c.propertyId] : [])));
  const agents = await findAvailableAgents(em, accounts);
  const decisions = planRouting(conversations, { alreadyRouted, policies, agents });

  const slaRows = [];
  const assignmentRows = [];
  for (const [n, d] of decisions.entries()) {
    if (d.outcome === 'already_routed') continue;
    const c = conversations[n]!;
    slaRows.push({
      conversationId: c.conversationId, accountId: c.accountId, propertyId: c.propertyId, slaPolicyId: d.sla?.policy.id ?? null,
      startedAt: c.createdAt, firstResponseDueAt: d.sla?.schedule.firstResponseDueAt ?? null, resolutionDueAt: d.sla?.schedule.resolutionDueAt ?? null,
    });
    if (d.assignment) assignmentRows.push({ accountId: c.accountId, conversationId: c.conversationId, agentId: d.assignment.agent.agentId, teamId: d.assignment.agent.teamId ?? null, assignedAt: d.assignment.assignedAt });
  }
  await insertConversationSlas(em, slaRows);
  await insertRoundRobinAssignments(em, assignmentRows);

  // Each conversation's events with its own emit, in the order given.
  return decisions.map((d, n): RoutingOutcome => {
    if (d.outcome === 'already_routed') return d;
    const c = conversations[n]!;
    const { emit } = items[n]!;
    const context = { entityId: c.conversationId, accountId: c.accountId, conversationId: c.conversationId, customerId: c.customerId };
    if (d.sla) {
      emit(events.slaScheduled, {
        accountId: c.accountId,
        conversationId: c.conversationId,
        slaPolicyId: d.sla.policy.id,
        firstResponseDueAt: d.sla.schedule.firstResponseDueAt.toISOString(),
        resolutionDueAt: d.sla.schedule.resolutionDueAt.toISOString(),
      }, context);
    }
    if (d.assignment) {
      emit(events.conversationAssigned, {
        accountId: c.accountId,
        conversationId: c.conversationId,
        agentId: d.assignment.agent.agentId,
        assignedAt: d.assignment.assignedAt.toISOString(),
        assignedBy: 'routing_engine',
      }, context);
    }
    return { outcome: 'routed', slaPolicyId: d.sla?.policy.id ?? null, agentId: d.assignment?.agent.agentId ?? null };
  });
}
