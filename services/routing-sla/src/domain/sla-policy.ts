import { BusinessCalendar, InvalidCalendarError, isIanaZone, isWeekday, parseClock, WEEKDAYS, type WeeklyHours } from './business-calendar.ts';

import { CHANNELS, SEVERITIES, SLA_TIERS, slaTiers, type Severity, type SlaTier } from '@domiq/proto/vocabulary';

export { SLA_TIERS, type SlaTier };

export function isSlaTier(value: string): value is SlaTier {
  return slaTiers.is(value);
}

/** Overrides are keyed by the shared vocabularies: channel (web_chat, ..., api) and severity as priority (P0..P3). */
export const PRIORITIES = SEVERITIES;
export type Priority = Severity;

/** One entry of the seed's `channel_overrides` / `priority_overrides` JSON, e.g. `{"first_response": 5}`. */
export interface SlaOverride {
  first_response?: number;
  resolution?: number;
}
export type SlaOverrides = Record<string, SlaOverride>;

/** What selection and scheduling need from an `slas` row. */
export interface SlaPolicyTerms {
  id: string;
  /** Null (or absent) for the account-wide policy. */
  propertyId?: string | null;
  tier: string;
  firstResponseTimeMinutes: number;
  resolutionTimeMinutes: number;
  channelOverrides: SlaOverrides;
  priorityOverrides: SlaOverrides;
  businessHoursOnly: boolean;
  businessHours: WeeklyHours;
  timezone: string;
  isDefault: boolean;
  isActive: boolean;
  updatedAt: Date;
}

/**
 * Picks the policy for a conversation among one account's policies. A policy for the customer's tier wins over
 * a default one; within each, the conversation's property's own policy wins over the account-wide one
 * (property_id null). Inactive policies and other properties' policies never apply. Ties (two active policies
 * for the same scope and tier) go to the most recently updated, then the lowest id, so the choice is stable.
 */
export function selectSlaPolicy<P extends SlaPolicyTerms>(policies: readonly P[], conversation: { propertyId: string | null; tier: string }): P | undefined {
  const rank = (p: P): number => {
    if (!p.isActive) return -1;
    const own = p.propertyId != null;
    if (own && p.propertyId !== conversation.propertyId) return -1;
    if (p.tier === conversation.tier) return own ? 0 : 1;
    if (p.isDefault) return own ? 2 : 3;
    return -1;
  };
  return policies
    .map((p) => ({ p, r: rank(p) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || b.p.updatedAt.getTime() - a.p.updatedAt.getTime() || (a.p.id < b.p.id ? -1 : a.p.id > b.p.id ? 1 : 0))[0]?.p;
}

/** Response targets in minutes after the channel override, then the priority override (priority wins). */
export function slaTargets(policy: SlaPolicyTerms, conversation: { channel: string; priority?: string | null }): { firstResponseMinutes: number; resolutionMinutes: number } {
  let firstResponseMinutes = policy.firstResponseTimeMinutes;
  let resolutionMinutes = policy.resolutionTimeMinutes;
  const overrides = [policy.channelOverrides[conversation.channel], conversation.priority ? policy.priorityOverrides[conversation.priority] : undefined];
  for (const o of overrides) {
    if (!o) continue;
    if (o.first_response && o.first_response > 0) firstResponseMinutes = o.first_response;
    if (o.resolution && o.resolution > 0) resolutionMinutes = o.resolution;
  }
  return { firstResponseMinutes, resolutionMinutes };
}

export interface SlaSchedule {
  firstResponseDueAt: Date;
  resolutionDueAt: Date;
}

/** Due times counted from the conversation's start in the policy's business time. */
export function scheduleSla(policy: SlaPolicyTerms, conversation: { startedAt: Date; channel: string; priority?: string | null }): SlaSchedule {
  const calendar = new BusinessCalendar({ hours: policy.businessHours, timezone: policy.timezone, businessHoursOnly: policy.businessHoursOnly });
  const targets = slaTargets(policy, conversation);
  return {
    firstResponseDueAt: calendar.addMinutes(conversation.startedAt, targets.firstResponseMinutes),
    resolutionDueAt: calendar.addMinutes(conversation.startedAt, targets.resolutionMinutes),
  };
}

// A year: anything longer is a typo, and it bounds the business-calendar walk.
export const MAX_SLA_MINUTES = 525_600;
/** The seed's default for slas.update_interval_minutes. */
export const DEFAULT_UPDATE_INTERVAL_MINUTES = 720;

/** A policy the rules refuse; `field` is the API's name of the offending term (`resolution_minutes`, `business_hours[0].end`). */
export class InvalidSlaPolicyError extends InvalidCalendarError {
  override name = 'InvalidSlaPolicyError';
}

/** Minutes overridden for one channel or priority; 0 keeps the policy's own. */
export interface SlaOverrideDraft {
  firstResponseMinutes: number;
  resolutionMinutes: number;
}

/** A policy's terms as an administrator writes them (the API's shape): 0 and '' mean the default where there is one. */
export interface SlaPolicyDraft {
  tier: string;
  firstResponseMinutes: number;
  resolutionMinutes: number;
  updateIntervalMinutes: number;
  timezone: string;
  businessHoursOnly: boolean;
  businessHours: ReadonlyArray<{ day: string; start: string; end: string }>;
  channelOverrides: Readonly<Record<string, SlaOverrideDraft>>;
  priorityOverrides: Readonly<Record<string, SlaOverrideDraft>>;
}

/** The terms of a policy once checked, shaped like the `slas` columns. */
export interface SlaPolicyDefinition {
  tier: SlaTier;
  firstResponseTimeMinutes: number;
  resolutionTimeMinutes: number;
  updateIntervalMinutes: number;
  timezone: string;
  businessHoursOnly: boolean;
  businessHours: WeeklyHours;
  channelOverrides: SlaOverrides;
  priorityOverrides: SlaOverrides;
}

/**
 * Checks a drafted policy and fills in its defaults, or throws InvalidSlaPolicyError naming the first bad term.
 * Every minute count is whole and at most a year; resolution never comes before first response; the calendar
 * must be one BusinessCalendar accepts (one window per listed day, end after start, an open day when hours count).
 */
export function defineSlaPolicy(draft: SlaPolicyDraft): SlaPolicyDefinition {
  try {
    if (!isSlaTier(draft.tier)) throw new InvalidSlaPolicyError('tier', `must be one of ${SLA_TIERS.join(', ')}`);
    const firstResponseTimeMinutes = minutes(draft.firstResponseMinutes, 'first_response_minutes');
    const resolutionTimeMinutes = minutes(draft.resolutionMinutes, 'resolution_minutes');
    if (resolutionTimeMinutes < firstResponseTimeMinutes) throw new InvalidSlaPolicyError('resolution_minutes', 'must not be shorter than first_response_minutes');
    const updateIntervalMinutes = draft.updateIntervalMinutes === 0 ? DEFAULT_UPDATE_INTERVAL_MINUTES : minutes(draft.updateIntervalMinutes, 'update_interval_minutes');
    const timezone = draft.timezone || 'UTC';
    if (!isIanaZone(timezone)) throw new InvalidSlaPolicyError('timezone', `must be an IANA time zone, got "${timezone}"`);
    const businessHours = weeklyHours(draft.businessHours);
    // Refuses what only the whole calendar can tell (no open day while business hours count).
    new BusinessCalendar({ hours: businessHours, timezone, businessHoursOnly: draft.businessHoursOnly });
    return {
      tier: draft.tier, firstResponseTimeMinutes, resolutionTimeMinutes, updateIntervalMinutes, timezone, businessHoursOnly: draft.businessHoursOnly, businessHours,
      channelOverrides: overrides(draft.channelOverrides, 'channel_overrides', CHANNELS),
      priorityOverrides: overrides(draft.priorityOverrides, 'priority_overrides', PRIORITIES),
    };
  } catch (err) {
    if (err instanceof InvalidCalendarError) throw new InvalidSlaPolicyError(err.field, err.problem);
    throw err;
  }
}

function minutes(value: number, field: string): number {
  if (!Number.isInteger(value) || value <= 0 || value > MAX_SLA_MINUTES) throw new InvalidSlaPolicyError(field, `must be a whole number of minutes between 1 and ${MAX_SLA_MINUTES}`);
  return value;
}

function weeklyHours(entries: SlaPolicyDraft['businessHours']): WeeklyHours {
  const hours: WeeklyHours = {};
  entries.forEach((h, i) => {
    const field = `business_hours[${i}]`;
    const day = h.day.toLowerCase();
    if (!isWeekday(day)) throw new InvalidSlaPolicyError(`${field}.day`, `must be one of ${WEEKDAYS.join(', ')}`);
    if (hours[day]) throw new InvalidSlaPolicyError(`${field}.day`, `${day} is listed twice`);
    const start = parseClock(h.start, `${field}.start`);
    const end = parseClock(h.end, `${field}.end`, true);
    if (end <= start) throw new InvalidSlaPolicyError(`${field}.end`, 'must be after start (split an overnight window over two days)');
    hours[day] = { start: h.start, end: h.end };
  });
  return hours;
}

function overrides(drafts: SlaPolicyDraft['channelOverrides'], field: string, allowedKeys: readonly string[]): SlaOverrides {
  const out: SlaOverrides = {};
  for (const [key, o] of Object.entries(drafts)) {
    if (!allowedKeys.includes(key)) throw new InvalidSlaPolicyError(`${field}[${key}]`, `key must be one of ${allowedKeys.join(', ')}`);
    const entry: SlaOverride = {};
    if (o.firstResponseMinutes) entry.first_response = minutes(o.firstResponseMinutes, `${field}[${key}].first_response_minutes`);
    if (o.resolutionMinutes) entry.resolution = minutes(o.resolutionMinutes, `${field}[${key}].resolution_minutes`);
    if (entry.first_response === undefined && entry.resolution === undefined) throw new InvalidSlaPolicyError(`${field}[${key}]`, 'must override first_response_minutes or resolution_minutes');
    out[key] = entry;
  }
  return out;
}
