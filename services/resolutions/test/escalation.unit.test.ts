import { describe, expect, it } from 'vitest';
import { ISSUE_TYPES, openingOf, OWNING_TEAM_BY_ISSUE, reEscalationNote } from '../src/domain/escalation.ts';

describe('escalation rules', () => {
  it('routes every issue type to a team', () => {
    expect(OWNING_TEAM_BY_ISSUE).toEqual({ technical: 'engineering', billing: 'finance', ops: 'infra', compliance: 'product', security: 'security', other: 'support' });
    expect(Object.keys(OWNING_TEAM_BY_ISSUE).sort()).toEqual([...ISSUE_TYPES].sort());
  });

  it("opens a resolution investigating, owned by the issue type's team at the severity's priority", () => {
    expect(openingOf({ issueType: 'billing', severity: 'P1', reason: ' double-charged rent ' })).toEqual({
      owningTeam: 'finance', priority: 'P1', status: 'investigating', note: 'Opened from an escalated conversation for finance at P1: double-charged rent',
    });
    expect(openingOf({ issueType: 'other', severity: null, reason: '  ' }).note).toBe('Opened from an escalated conversation for support at P2: no reason given');
  });

  it('words a repeat escalation as a note, saying when severity or reason is missing', () => {
    expect(reEscalationNote({ issueType: 'technical', severity: 'P0', reason: 'still broken' })).toBe('Conversation escalated again (technical, severity P0): still broken');
    expect(reEscalationNote({ issueType: 'ops', severity: null, reason: '' })).toBe('Conversation escalated again (ops, severity unset): no reason given');
  });
});
