// The rules of merging two customers and of undoing a merge: pure, the use cases do the reading and writing.
import type { Channel } from '@domiq/proto/vocabulary';
import type { ConsentStatus } from './consent.ts';

export const MERGE_STATUSES = ['merged', 'unmerged', 'erased'] as const;
/** merged: in effect; unmerged: undone; erased: its customers were erased, its before-values with them (final). */
export type MergeStatus = (typeof MERGE_STATUSES)[number];

export const SUGGESTION_STATUSES = ['open', 'accepted', 'dismissed'] as const;
export type SuggestionStatus = (typeof SUGGESTION_STATUSES)[number];

/** What the merge rules need to know of a customer. */
export interface MergeParty {
  id: string;
  status: string;
  mergedIntoId: string | null;
  erasedAt: Date | null;
}

/**
 * Why `source` cannot be merged into `target`, or null when it can. A merged customer has given its identifiers away
 * (merging it again, or into it, would split one person's history over a chain); an erased one has nothing left.
 */
export function mergeBlocker(source: MergeParty, target: MergeParty): string | null {
  for (const [side, c] of [['source', source], ['target', target]] as const) {
    if (c.erasedAt) return `${side} customer ${c.id} is erased`;
    if (c.status === 'merged') return `${side} customer ${c.id} is merged into ${c.mergedIntoId ?? 'another customer'}`;
  }
  return null;
}

/** The target's fields a merge combines. */
export interface MergedFields {
  tags: string[];
  segments: string[];
  riskFlags: string[];
}

/** a, then what b has that a has not (each value once). */
export function unionOf(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

/** The target's fields after the merge: its own, then the source's it did not have. */
export function combineFields(target: MergedFields, source: MergedFields): MergedFields {
  return { tags: unionOf(target.tags, source.tags), segments: unionOf(target.segments, source.segments), riskFlags: unionOf(target.riskFlags, source.riskFlags) };
}

/**
 * One field of the target at unmerge: what it is now, less what the merge added (in `after`, not in `before`).
 * Unchanged since the merge, that is exactly `before`; changed since, the changes stay (a tag added after the
 * merge is kept, one removed stays removed), and only the merge's own additions go.
 */
export function takeBack(current: readonly string[], before: readonly string[], after: readonly string[]): string[] {
  const had = new Set(before);
  const added = new Set(after.filter((v) => !had.has(v)));
  return current.filter((v) => !added.has(v));
}

export function takeBackFields(current: MergedFields, before: MergedFields, after: MergedFields): MergedFields {
  return {
    tags: takeBack(current.tags, before.tags, after.tags),
    segments: takeBack(current.segments, before.segments, after.segments),
    riskFlags: takeBack(current.riskFlags, before.riskFlags, after.riskFlags),
  };
}

export interface ChannelConsent {
  channel: Channel;
  status: ConsentStatus;
}

/**
 * The target's consents a merge changes, per channel: a channel only the source has a word on gets the source's; an
 * opt-out of the source beats an opt-in of the target (both are now one person, and contacting someone who said
 * STOP is the error that cannot be taken back); otherwise the target's stays.
 */
export function mergeConsents(target: readonly ChannelConsent[], source: readonly ChannelConsent[]): ChannelConsent[] {
  const own = new Map(target.map((c) => [c.channel, c.status]));
  return source.filter((c) => {
    const t = own.get(c.channel);
    return t === undefined || (t === 'opted_in' && c.status === 'opted_out');
  }).map((c) => ({ channel: c.channel, status: c.status }));
}

/** What the unmerge rules need to know of a merge. */
export interface MergeRecord {
  id: string;
  status: MergeStatus;
  sourceCustomerId: string;
  targetCustomerId: string;
}

/**
 * Why a merge cannot be undone, or null. Once the target has been merged into a third customer, the identifiers this
 * merge moved belong to that one: undoing this merge first would take them from a customer it never touched (and
 * the later merge's record would no longer say what it moved), so the later merge must be undone first.
 */
export function unmergeBlocker(merge: MergeRecord, source: MergeParty, target: MergeParty): string | null {
  if (merge.status === 'unmerged') return `merge ${merge.id} is undone already`;
  if (merge.status === 'erased') return `merge ${merge.id} cannot be undone: its customers were erased`;
  if (target.erasedAt || source.erasedAt) return `merge ${merge.id} cannot be undone: its customers were erased`;
  if (target.status === 'merged') return `target customer ${target.id} was merged into ${target.mergedIntoId ?? 'another customer'} since: undo that merge first`;
  if (source.status !== 'merged' || source.mergedIntoId !== target.id) return `source customer ${source.id} is no longer merged into ${target.id}`;
  return null;
}
