import { describe, expect, it } from 'vitest';
import { ISSUE_TYPES, OWNING_TEAM_BY_ISSUE, parseIssueType, priorityFromSeverity, UnknownIssueTypeError } from '../src/domain/escalation.ts';

describe('escalation rules', () => {
  it('routes every issue type to a team', () => {
    expect(OWNING_TEAM_BY_ISSUE).toEqual({ technical: 'engineering', billing: 'finance', ops: 'infra', compliance: 'product', security: 'security', other: 'support' });
    expect(Object.keys(OWNING_TEAM_BY_ISSUE).sort()).toEqual([...ISSUE_TYPES].sort());
  });

  it("accepts the seed's issue types, treats unset as other, refuses the rest", () => {
    expect(parseIssueType('Billing')).toBe('billing');
    expect(parseIssueType('')).toBe('other');
    expect(() => parseIssueType('plumbing')).toThrow(UnknownIssueTypeError);
  });

  it('maps severity to priority, P2 by default', () => {
    expect(['P0', 'p1', 'P3'].map(priorityFromSeverity)).toEqual(['P0', 'P1', 'P3']);
    expect(['critical', 'high', 'low'].map(priorityFromSeverity)).toEqual(['P0', 'P1', 'P3']);
    expect(['', 'whatever'].map(priorityFromSeverity)).toEqual(['P2', 'P2']);
  });
});
