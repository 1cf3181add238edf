/** Agent presence statuses (the seed's users.status). */
export const AGENT_STATUSES = ['available', 'busy', 'away', 'offline', 'do_not_disturb'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** Roles that take conversations; other users never enter the agents read model. */
export const ROUTABLE_ROLES = ['agent', 'supervisor'] as const;
export type RoutableRole = (typeof ROUTABLE_ROLES)[number];

export function isRoutableRole(role: string): role is RoutableRole {
  return (ROUTABLE_ROLES as readonly string[]).includes(role);
}

/** The seed's default for how many conversations an agent holds at once. */
export const DEFAULT_MAX_CONCURRENT_CONVERSATIONS = 5;

/** An agent's capacity: what identity says, or the default when it says nothing (0) or nonsense. */
export function agentCapacity(maxConcurrentConversations: number): number {
  return maxConcurrentConversations > 0 ? maxConcurrentConversations : DEFAULT_MAX_CONCURRENT_CONVERSATIONS;
}

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

/**
 * Gives a new conversation to the agent round robin picks, and books it on them: one more conversation held,
 * last assigned at nextAssignedAt. Undefined, with nobody changed, when no agent can take it.
 */
export function assignRoundRobin<A extends RoutableAgent>(agents: readonly A[], now: Date): { agent: A; assignedAt: Date } | undefined {
  const agent = pickRoundRobin(agents);
  if (!agent) return undefined;
  const assignedAt = nextAssignedAt(now, agents);
  agent.currentConversationCount += 1;
  agent.lastAssignedAt = assignedAt;
  return { agent, assignedAt };
}
