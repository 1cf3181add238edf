import { describe, expect, it } from 'vitest';
import { planRouting, type ConversationToRoute } from '../src/domain/routing-plan.ts';
import type { RoutableAgent } from '../src/domain/round-robin.ts';
import type { SlaPolicyTerms } from '../src/domain/sla-policy.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000001';
const PROPERTY = 'cccccccc-0000-4000-8000-000000000001';
const NOW = new Date('2026-03-02T15:00:00Z');

function policy(id: string, accountId: string, over: Partial<SlaPolicyTerms> = {}): SlaPolicyTerms & { accountId: string } {
  return {
    id, accountId, propertyId: null, tier: 'standard', firstResponseTimeMinutes: 60, resolutionTimeMinutes: 480, channelOverrides: {}, priorityOverrides: {},
    businessHoursOnly: false, businessHours: {}, timezone: 'UTC', isDefault: false, isActive: true, updatedAt: new Date('2026-01-01T00:00:00Z'), ...over,
  };
}

function agent(agentId: string, accountId: string, over: Partial<RoutableAgent> = {}): RoutableAgent & { accountId: string } {
  return { agentId, accountId, status: 'available', currentConversationCount: 0, maxConcurrentConversations: 1, lastAssignedAt: null, ...over };
}

let n = 0;
function conversation(accountId: string, over: Partial<ConversationToRoute> = {}): ConversationToRoute {
  n++;
  return { accountId, conversationId: `conv-${n}`, propertyId: null, channel: 'sms', tier: 'standard', createdAt: new Date('2026-03-02T15:00:00Z'), ...over };
}

const agentOf = (d: ReturnType<typeof planRouting>[number]) => (d.outcome === 'routed' ? d.assignment?.agent.agentId ?? null : 'already_routed');

describe('routing a batch of conversations', () => {
  it('gives each agent slot once across the batch, round robin in the order given, each account to its own agents', () => {
    const agents = [agent('a2', A, { maxConcurrentConversations: 2 }), agent('a1', A), agent('b1', B, { maxConcurrentConversations: 2 })];
    const batch = [conversation(A), conversation(B), conversation(A), conversation(A), conversation(B), conversation(A), conversation(B)];
    const plan = planRouting(batch, { alreadyRouted: new Set(), policies: [], agents }, () => NOW);
    expect(plan.map(agentOf)).toEqual(['a1', 'b1', 'a2', 'a2', 'b1', null, null]);
    expect(agents.map((a) => [a.agentId, a.currentConversationCount])).toEqual([['a2', 2], ['a1', 1], ['b1', 2]]);
    // Assignment times strictly increase within the account even in one clock tick.
    const times = plan.flatMap((d, i) => (d.outcome === 'routed' && d.assignment && batch[i]!.accountId === A ? [d.assignment.assignedAt.getTime()] : []));
    expect(times).toEqual([NOW.getTime(), NOW.getTime() + 1, NOW.getTime() + 2]);
  });

  it('decides as routing the conversations one at a time would', () => {
    const make = () => [agent('x', A, { maxConcurrentConversations: 3 }), agent('y', A, { maxConcurrentConversations: 2, lastAssignedAt: new Date('2026-03-01T00:00:00Z') }), agent('z', A, { status: 'away' })];
    const batch = Array.from({ length: 7 }, () => conversation(A));
    const together = planRouting(batch, { alreadyRouted: new Set(), policies: [], agents: make() }, () => NOW).map(agentOf);
    const agents = make();
    const oneByOne = batch.map((c) => agentOf(planRouting([c], { alreadyRouted: new Set(), policies: [], agents }, () => NOW)[0]!));
    expect(together).toEqual(oneByOne);
    expect(together).toEqual(['x', 'y', 'x', 'y', 'x', null, null]);
  });

  it('routes a conversation once: not again when already routed, nor when it is in the batch twice', () => {
    const agents = [agent('a1', A, { maxConcurrentConversations: 5 })];
    const seen = conversation(A);
    const twice = conversation(A);
    const plan = planRouting([seen, twice, { ...twice }, conversation(A)], { alreadyRouted: new Set([seen.conversationId]), policies: [], agents }, () => NOW);
    expect(plan.map((d) => d.outcome)).toEqual(['already_routed', 'routed', 'already_routed', 'routed']);
    expect(agents[0]!.currentConversationCount).toBe(2);
  });

  it("starts each clock under its own account's policy for its property and tier, and none where none applies", () => {
    const policies = [policy('a-wide', A), policy('a-own', A, { propertyId: PROPERTY, firstResponseTimeMinutes: 20, resolutionTimeMinutes: 120 }), policy('b-premium', B, { tier: 'premium' })];
    const plan = planRouting(
      [conversation(A), conversation(A, { propertyId: PROPERTY }), conversation(B, { tier: 'premium' }), conversation(B)],
      { alreadyRouted: new Set(), policies, agents: [] },
      () => NOW,
    );
    const slas = plan.map((d) => (d.outcome === 'routed' && d.sla ? [d.sla.policy.id, d.sla.schedule.firstResponseDueAt.toISOString()] : null));
    expect(slas).toEqual([['a-wide', '2026-03-02T16:00:00.000Z'], ['a-own', '2026-03-02T15:20:00.000Z'], ['b-premium', '2026-03-02T16:00:00.000Z'], null]);
    expect(plan.every((d) => d.outcome === 'routed' && d.assignment === null)).toBe(true);
  });
});
