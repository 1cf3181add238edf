import { assignRoundRobin, type RoutableAgent } from './round-robin.ts';
import { scheduleSla, selectSlaPolicy, type SlaPolicyTerms, type SlaSchedule } from './sla-policy.ts';

/** What routing needs to know of a new conversation. */
export interface ConversationToRoute {
  accountId: string;
  conversationId: string;
  propertyId: string | null;
  channel: string;
  tier: string;
  createdAt: Date;
}

/** What routing decided for one conversation. */
export type RoutingDecision<P, A> =
  | { outcome: 'already_routed' }
  | {
    outcome: 'routed';
    /** The policy that starts its SLA clock, with the due times; null when no policy applies. */
    sla: { policy: P; schedule: SlaSchedule } | null;
    /** The agent it goes to; null when nobody can take it. */
    assignment: { agent: A; assignedAt: Date } | null;
  };

/**
 * Routes conversations one after the other, in the order given, exactly as routing them one at a time would: each
 * conversation's policy is chosen among its own account's policies (selectSlaPolicy, scheduleSla), and its agent
 * among its own account's agents round robin (assignRoundRobin), which books the conversation on the agent, so the
 * next conversation of the account sees that agent's load and turn (an agent's last slot is given once).
 *
 * A conversation in `alreadyRouted`, or seen earlier in the list (under another event), is left alone.
 * Mutates `agents` (their load and last assignment), as assignRoundRobin does; returns one decision per conversation.
 */
export function planRouting<P extends SlaPolicyTerms & { accountId: string }, A extends RoutableAgent & { accountId: string }>(
  conversations: readonly ConversationToRoute[],
  known: { alreadyRouted: ReadonlySet<string>; policies: readonly P[]; agents: readonly A[] },
  now: () => Date = () => new Date(),
): Array<RoutingDecision<P, A>> {
  const policiesOf = groupBy(known.policies, (p) => p.accountId);
  const agentsOf = groupBy(known.agents, (a) => a.accountId);
  const seen = new Set(known.alreadyRouted);
  return conversations.map((c): RoutingDecision<P, A> => {
    if (seen.has(c.conversationId)) return { outcome: 'already_routed' };
    seen.add(c.conversationId);
    const policy = selectSlaPolicy(policiesOf.get(c.accountId) ?? [], { propertyId: c.propertyId, tier: c.tier });
    const sla = policy ? { policy, schedule: scheduleSla(policy, { startedAt: c.createdAt, channel: c.channel }) } : null;
    const assignment = assignRoundRobin(agentsOf.get(c.accountId) ?? [], now()) ?? null;
    return { outcome: 'routed', sla, assignment };
  });
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = out.get(k);
    if (group) group.push(item);
    else out.set(k, [item]);
  }
  return out;
}
