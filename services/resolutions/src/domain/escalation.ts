export const ISSUE_TYPES = ['technical', 'billing', 'ops', 'compliance', 'security', 'other'] as const;
export type IssueType = (typeof ISSUE_TYPES)[number];
export const OWNING_TEAMS = ['engineering', 'infra', 'finance', 'support', 'security', 'product'] as const;
export type OwningTeam = (typeof OWNING_TEAMS)[number];
export const PRIORITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Priority = (typeof PRIORITIES)[number];

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

export class UnknownIssueTypeError extends Error {
  override name = 'UnknownIssueTypeError';
}

/** An unset issue type (proto3 empty string) is 'other'; anything outside the seed's list is refused. */
export function parseIssueType(value: string): IssueType {
  const v = value.trim().toLowerCase() || 'other';
  if (!(ISSUE_TYPES as readonly string[]).includes(v)) throw new UnknownIssueTypeError(`issue_type must be one of ${ISSUE_TYPES.join(', ')}, got "${value}"`);
  return v as IssueType;
}

const SEVERITY_WORDS: Record<string, Priority> = { critical: 'P0', urgent: 'P0', high: 'P1', medium: 'P2', normal: 'P2', low: 'P3' };

/** P0..P3 as given (the AI annotator's scale), or the usual words for them; anything else is the seed default P2. */
export function priorityFromSeverity(severity: string): Priority {
  const v = severity.trim();
  if ((PRIORITIES as readonly string[]).includes(v.toUpperCase())) return v.toUpperCase() as Priority;
  return SEVERITY_WORDS[v.toLowerCase()] ?? 'P2';
}

/** What an escalated conversation says about its issue (the annotator's words, untrimmed). */
export interface Escalation {
  issueType: IssueType;
  severity: string;
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
  const priority = priorityFromSeverity(e.severity);
  return { owningTeam, priority, status: OPENING_STATUS, note: `Opened from an escalated conversation for ${owningTeam} at ${priority}: ${reasonOf(e)}` };
}

/** An escalation while the conversation's resolution is open adds this note to it instead of a second resolution. */
export function reEscalationNote(e: Escalation): string {
  return `Conversation escalated again (${e.issueType}, severity ${e.severity.trim() || 'unset'}): ${reasonOf(e)}`;
}

function reasonOf(e: Escalation): string {
  return e.reason.trim() || 'no reason given';
}
