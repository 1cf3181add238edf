/** Agent presence statuses (the seed's users.status). */
export const AGENT_STATUSES = ['available', 'busy', 'away', 'offline', 'do_not_disturb'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** Roles that take conversations; other users never enter the agents read model. */
export const ROUTABLE_ROLES = ['agent', 'supervisor'] as const;

export interface RoutableAgent {
  agentId: string;
  status: string;
  currentConversationCount: number;
  maxConcurrentConversations: number;
  lastAssignedAt?: Date | null;
}

export function hasCapacity(agent: RoutableAgent): boolean {
  return agent.status === 'available' && agent.currentConversationCount < agent.maxConcurrentConversations;
}

/**
 * Round robin: among available agents with spare capacity, the one assigned least recently (never assigned
 * first), ties broken by id so the order is stable. Undefined when nobody can take the conversation.
 */
export function pickRoundRobin<A extends RoutableAgent>(agents: readonly A[]): A | undefined {
  let best: A | undefined;
  for (const a of agents) {
    if (!hasCapacity(a)) continue;
    if (!best || before(a, best)) best = a;
  }
  return best;
}

function before(a: RoutableAgent, b: RoutableAgent): boolean {
  const ta = a.lastAssignedAt?.getTime() ?? -Infinity;
  const tb = b.lastAssignedAt?.getTime() ?? -Infinity;
  if (ta !== tb) return ta < tb;
  return a.agentId < b.agentId;
}

/**
 * The last_assigned_at to stamp on the picked agent: now, but strictly after every other agent's, so two
 * assignments within one clock tick (or a clock step back) cannot make the rotation repeat an agent.
 */
export function nextAssignedAt(now: Date, agents: readonly RoutableAgent[]): Date {
  const latest = Math.max(-Infinity, ...agents.map((a) => a.lastAssignedAt?.getTime() ?? -Infinity));
  return new Date(Math.max(now.getTime(), latest + 1));
}
