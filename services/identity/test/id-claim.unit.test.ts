import { describe, expect, it } from 'vitest';
import { claimId } from '../src/domain/id-claim.ts';

const mine = crypto.randomUUID();
const theirs = crypto.randomUUID();

describe('claimId', () => {
  it('is free when nobody holds the id, own when the caller\'s account does, taken when another account does', () => {
    expect(claimId(null, mine)).toBe('free');
    expect(claimId({ accountId: mine }, mine)).toBe('own');
    expect(claimId({ accountId: theirs }, mine)).toBe('taken');
  });
});
