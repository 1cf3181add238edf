import { ISSUE_TYPES, SEVERITIES, type IssueType, type Severity } from '@domiq/proto/vocabulary';

export { ISSUE_TYPES, type IssueType };
export const OWNING_TEAMS = ['engineering', 'infra', 'finance', 'support', 'security', 'product'] as const;
export type OwningTeam = (typeof OWNING_TEAMS)[number];
/** A resolution's priority is on the shared severity scale (P0 highest). */
export const PRIORITIES = SEVERITIES;
export type Priority = Severity;
/** The seed's default priority, for an escalation that gave no severity. */
export const DEFAULT_PRIORITY: Priority = 'P2';

/** The status a resolution opens in. */
export const OPENING_STATUS = 'investigating';

/** Statuses after which a conversation's next escalation opens a new resolution. */
export const CLOSED_STATUSES = ['resolved', 'wont_fix', 'duplicate'] as const;

/**
 * Author of the updates the service writes itself (author_source 'automation'). resolution_updates.author_id is
 * NOT NULL in the seed and users live in identity, so automation signs with this fixed, well-known id.
 */
export const AUTOMATION_AUTHOR_ID = '00000000-0000-4000-8000-0000000a0701';

/**
 * Which team owns an escalated issue. Compliance goes to product: compliance issues (consent, retention,
 * fair-housing wording, what a message may say) are decisions about how the product behaves, which product
 * owns; breaches and access problems are `security`, which has its own team.
 */
export const OWNING_TEAM_BY_ISSUE: Record<IssueType, OwningTeam> = {
  technical: 'engineering',
  billing: 'finance',
  ops: 'infra',
  compliance: 'product',
  security: 'security',
  other: 'support',
};

/** What an escalated conversation says about its issue (the reason untrimmed; severity null when not given). */
export interface Escalation {
  issueType: IssueType;
  severity: Severity | null;
  reason: string;
}

/** The resolution a conversation's first escalation opens, and the status_change update that records why. */
export interface ResolutionOpening {
  owningTeam: OwningTeam;
  priority: Priority;
  status: typeof OPENING_STATUS;
  note: string;
}

/** A first escalation opens a resolution owned by its issue type's team, at the priority its severity says. */
export function openingOf(e: Escalation): ResolutionOpening {
  const owningTeam = OWNING_TEAM_BY_ISSUE[e.issueType];
  const priority = e.severity ?? DEFAULT_PRIORITY;
  return { owningTeam, priority, status: OPENING_STATUS, note: `Opened from an escalated conversation for ${owningTeam} at ${priority}: ${reasonOf(e)}` };
}

/** An escalation while the conversation's resolution is open adds this note to it instead of a second resolution. */
export function reEscalationNote(e: Escalation): string {
  return `Conversation escalated again (${e.issueType}, severity ${e.severity ?? 'unset'}): ${reasonOf(e)}`;
}

function reasonOf(e: Escalation): string {
  return e.reason.trim() || 'no reason given';
}
