import { describe, expect, it } from 'vitest';
import { agentCapacity, assignRoundRobin, isRoutableRole, nextAssignedAt, pickRoundRobin, type RoutableAgent } from '../src/domain/round-robin.ts';
import { scheduleSla, selectSlaPolicy, slaTargets, type SlaPolicyTerms } from '../src/domain/sla-policy.ts';

const PROPERTY = 'aaaaaaaa-0000-4000-8000-000000000001';
const OTHER_PROPERTY = 'aaaaaaaa-0000-4000-8000-000000000002';

function policy(id: string, over: Partial<SlaPolicyTerms> = {}): SlaPolicyTerms {
  return {
    id, propertyId: null, tier: 'standard', firstResponseTimeMinutes: 60, resolutionTimeMinutes: 480, channelOverrides: {}, priorityOverrides: {},
    businessHoursOnly: false, businessHours: {}, timezone: 'UTC', isDefault: false, isActive: true, updatedAt: new Date('2026-01-01T00:00:00Z'), ...over,
  };
}

describe('SLA policy selection', () => {
  const conv = { propertyId: PROPERTY, tier: 'premium' };

  it("prefers the property's own policy for the tier over the account-wide one", () => {
    const chosen = selectSlaPolicy([policy('account', { tier: 'premium' }), policy('property', { tier: 'premium', propertyId: PROPERTY })], conv);
    expect(chosen?.id).toBe('property');
  });

  it("never applies another property's policy", () => {
    const chosen = selectSlaPolicy([policy('other', { tier: 'premium', propertyId: OTHER_PROPERTY }), policy('account', { tier: 'premium' })], conv);
    expect(chosen?.id).toBe('account');
  });

  it('prefers a tier match over a default, and falls back to the default (property before account)', () => {
    expect(selectSlaPolicy([policy('default', { isDefault: true, propertyId: PROPERTY }), policy('tier', { tier: 'premium' })], conv)?.id).toBe('tier');
    expect(selectSlaPolicy([policy('account-default', { isDefault: true }), policy('property-default', { isDefault: true, propertyId: PROPERTY }), policy('free', { tier: 'free' })], conv)?.id).toBe('property-default');
  });

  it('ignores inactive policies and returns nothing when none applies', () => {
    expect(selectSlaPolicy([policy('off', { tier: 'premium', isActive: false })], conv)).toBeUndefined();
    expect(selectSlaPolicy([policy('free', { tier: 'free' })], conv)).toBeUndefined();
  });

  it('breaks a tie between two policies of one scope by the most recently updated', () => {
    const older = policy('b-older', { tier: 'premium', updatedAt: new Date('2026-01-01T00:00:00Z') });
    const newer = policy('a-newer', { tier: 'premium', updatedAt: new Date('2026-02-01T00:00:00Z') });
    expect(selectSlaPolicy([older, newer], conv)?.id).toBe('a-newer');
  });

  it('applies the channel override, then the priority override on top', () => {
    const p = policy('p', { channelOverrides: { web_chat: { first_response: 5 } }, priorityOverrides: { P0: { first_response: 2, resolution: 60 } } });
    expect(slaTargets(p, { channel: 'web_chat' })).toEqual({ firstResponseMinutes: 5, resolutionMinutes: 480 });
    expect(slaTargets(p, { channel: 'email' })).toEqual({ firstResponseMinutes: 60, resolutionMinutes: 480 });
    expect(slaTargets(p, { channel: 'web_chat', priority: 'P0' })).toEqual({ firstResponseMinutes: 2, resolutionMinutes: 60 });
  });

  it('schedules both due times on the policy calendar', () => {
    const p = policy('p', { businessHoursOnly: true, businessHours: { monday: { start: '09:00', end: '17:00' } }, timezone: 'Europe/London' });
    // Mon 2 Mar 2026 16:00 GMT: first response 60 min fits today, resolution 480 continues next Monday.
    const s = scheduleSla(p, { startedAt: new Date('2026-03-02T16:00:00Z'), channel: 'sms' });
    expect(s.firstResponseDueAt.toISOString()).toBe('2026-03-02T17:00:00.000Z');
    expect(s.resolutionDueAt.toISOString()).toBe('2026-03-09T16:00:00.000Z');
  });
});

describe('round-robin picker', () => {
  const agent = (agentId: string, over: Partial<RoutableAgent> = {}): RoutableAgent => ({
    agentId, status: 'available', currentConversationCount: 0, maxConcurrentConversations: 5, lastAssignedAt: null, ...over,
  });

  it('picks a never-assigned agent first, then the least recently assigned, ties by id', () => {
    const t = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m));
    expect(pickRoundRobin([agent('b', { lastAssignedAt: t(1) }), agent('c'), agent('a', { lastAssignedAt: t(0) })])?.agentId).toBe('c');
    expect(pickRoundRobin([agent('b', { lastAssignedAt: t(1) }), agent('a', { lastAssignedAt: t(0) })])?.agentId).toBe('a');
    expect(pickRoundRobin([agent('b', { lastAssignedAt: t(1) }), agent('a', { lastAssignedAt: t(1) })])?.agentId).toBe('a');
    expect(pickRoundRobin([agent('b'), agent('a')])?.agentId).toBe('a');
  });

  it('skips agents who are not available or are at capacity', () => {
    const agents = [agent('a', { status: 'offline' }), agent('b', { status: 'busy' }), agent('c', { currentConversationCount: 5 }), agent('d', { lastAssignedAt: new Date() })];
    expect(pickRoundRobin(agents)?.agentId).toBe('d');
    expect(pickRoundRobin(agents.slice(0, 3))).toBeUndefined();
    expect(pickRoundRobin([])).toBeUndefined();
  });

  it('rotates evenly even when every assignment happens within one clock tick', () => {
    const agents = [agent('c'), agent('a'), agent('b')];
    const now = new Date('2026-03-02T15:00:00Z');
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const picked = pickRoundRobin(agents)!;
      picked.lastAssignedAt = nextAssignedAt(now, agents);
      picked.currentConversationCount++;
      order.push(picked.agentId);
    }
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('books the conversation on the picked agent: one more held, last assigned strictly after everyone else', () => {
    const now = new Date('2026-03-02T15:00:00Z');
    const later = new Date('2026-03-02T16:00:00Z');
    const agents = [agent('a', { lastAssignedAt: later }), agent('b', { currentConversationCount: 2 })];
    const assigned = assignRoundRobin(agents, now);
    expect(assigned?.agent.agentId).toBe('b');
    expect(assigned?.assignedAt.getTime()).toBe(later.getTime() + 1);
    expect(agents[1]).toMatchObject({ currentConversationCount: 3, lastAssignedAt: assigned?.assignedAt });
  });

  it('assigns nobody, and changes nobody, when no agent can take the conversation', () => {
    const agents = [agent('a', { status: 'away' }), agent('b', { currentConversationCount: 5 })];
    expect(assignRoundRobin(agents, new Date())).toBeUndefined();
    expect(agents.map((a) => [a.currentConversationCount, a.lastAssignedAt])).toEqual([[0, null], [5, null]]);
  });
});

describe('agents read model', () => {
  it('keeps only agents and supervisors', () => {
    expect(['agent', 'supervisor', 'admin', 'engineer', ''].filter(isRoutableRole)).toEqual(['agent', 'supervisor']);
  });

  it("takes identity's capacity, 5 when it gives none", () => {
    expect([3, 0, -1].map(agentCapacity)).toEqual([3, 5, 5]);
  });
});
