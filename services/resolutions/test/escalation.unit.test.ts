import { describe, expect, it } from 'vitest';
import { ISSUE_TYPES, openingOf, OWNING_TEAM_BY_ISSUE, parseIssueType, priorityFromSeverity, reEscalationNote, UnknownIssueTypeError } from '../src/domain/escalation.ts';

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

  it("opens a resolution investigating, owned by the issue type's team at the severity's priority", () => {
    expect(openingOf({ issueType: 'billing', severity: ' high ', reason: ' double-charged rent ' })).toEqual({
      owningTeam: 'finance', priority: 'P1', status: 'investigating', note: 'Opened from an escalated conversation for finance at P1: double-charged rent',
    });
    expect(openingOf({ issueType: 'other', severity: '', reason: '  ' }).note).toBe('Opened from an escalated conversation for support at P2: no reason given');
  });

  it('words a repeat escalation as a note, saying when severity or reason is missing', () => {
    expect(reEscalationNote({ issueType: 'technical', severity: ' P0 ', reason: 'still broken' })).toBe('Conversation escalated again (technical, severity P0): still broken');
    expect(reEscalationNote({ issueType: 'ops', severity: '', reason: '' })).toBe('Conversation escalated again (ops, severity unset): no reason given');
  });
});
