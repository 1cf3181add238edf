import { BusinessCalendar, type WeeklyHours } from './business-calendar.ts';

export const SLA_TIERS = ['free', 'standard', 'premium', 'enterprise'] as const;
export type SlaTier = (typeof SLA_TIERS)[number];

/** The seed's channel list (channels.type) plus the generic API channel. */
export const CHANNELS = ['web_chat', 'email', 'whatsapp', 'facebook', 'instagram', 'twitter', 'voice', 'sms', 'api'] as const;
export const PRIORITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Priority = (typeof PRIORITIES)[number];

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
