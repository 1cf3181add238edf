import { describe, expect, it } from 'vitest';
import { combineFields, mergeBlocker, mergeConsents, takeBack, takeBackFields, unionOf, unmergeBlocker, type MergeParty } from '../src/domain/customer-merge.ts';

const live = (id: string): MergeParty => ({ id, status: 'active', mergedIntoId: null, erasedAt: null });

describe('mergeBlocker', () => {
  it('lets two live customers merge, and names the side that is merged or erased', () => {
    expect(mergeBlocker(live('s'), live('t'))).toBeNull();
    expect(mergeBlocker({ ...live('s'), status: 'blocked' }, live('t'))).toBeNull();
    expect(mergeBlocker({ ...live('s'), status: 'merged', mergedIntoId: 'x' }, live('t'))).toBe('source customer s is merged into x');
    expect(mergeBlocker(live('s'), { ...live('t'), status: 'merged', mergedIntoId: 'x' })).toBe('target customer t is merged into x');
    expect(mergeBlocker(live('s'), { ...live('t'), erasedAt: new Date() })).toBe('target customer t is erased');
  });
});

describe('combining and taking back fields', () => {
  it('keeps the target\'s values first and adds the source\'s it lacks, once each', () => {
    expect(unionOf(['vip', 'pets'], ['pets', 'parking'])).toEqual(['vip', 'pets', 'parking']);
    expect(combineFields({ tags: ['a'], segments: [], riskFlags: ['r'] }, { tags: ['b', 'a'], segments: ['s'], riskFlags: [] }))
      .toEqual({ tags: ['a', 'b'], segments: ['s'], riskFlags: ['r'] });
  });

  it('gives exactly the before-values back when nothing changed since the merge', () => {
    const before = { tags: ['vip', 'pets'], segments: ['leasing'], riskFlags: [] };
    const after = combineFields(before, { tags: ['parking', 'vip'], segments: ['renewal'], riskFlags: ['chargeback'] });
    expect(takeBackFields(after, before, after)).toEqual(before);
  });

  it('takes back only what the merge added when the target changed since: later additions and removals stay', () => {
    // before [vip, pets], merge added [parking]; since then an agent removed pets and added late.
    expect(takeBack(['vip', 'parking', 'late'], ['vip', 'pets'], ['vip', 'pets', 'parking'])).toEqual(['vip', 'late']);
    // A value the target already had before is never taken away.
    expect(takeBack(['vip'], ['vip'], ['vip'])).toEqual(['vip']);
  });
});

describe('mergeConsents', () => {
  it('copies a channel only the source has a word on, lets the source\'s opt-out beat the target\'s opt-in, and keeps the rest', () => {
    expect(mergeConsents(
      [{ channel: 'sms', status: 'opted_in' }, { channel: 'email', status: 'opted_out' }, { channel: 'voice', status: 'opted_in' }],
      [{ channel: 'sms', status: 'opted_out' }, { channel: 'email', status: 'opted_in' }, { channel: 'whatsapp', status: 'opted_in' }, { channel: 'voice', status: 'opted_in' }],
    )).toEqual([{ channel: 'sms', status: 'opted_out' }, { channel: 'whatsapp', status: 'opted_in' }]);
  });
});

describe('unmergeBlocker', () => {
  const merge = { id: 'm', status: 'merged' as const, sourceCustomerId: 's', targetCustomerId: 't' };
  const source = { ...live('s'), status: 'merged', mergedIntoId: 't' };
  it('undoes a merge in effect whose target is still live', () => {
    expect(unmergeBlocker(merge, source, live('t'))).toBeNull();
  });
  it('refuses a merge undone already, one whose customers were erased, and one whose target was merged on since', () => {
    expect(unmergeBlocker({ ...merge, status: 'unmerged' }, source, live('t'))).toMatch(/undone already/);
    expect(unmergeBlocker({ ...merge, status: 'erased' }, source, live('t'))).toMatch(/erased/);
    expect(unmergeBlocker(merge, source, { ...live('t'), status: 'merged', mergedIntoId: 'u' })).toMatch(/merged into u since: undo that merge first/);
  });
});
