/**
 * A create with a client-chosen id: `free` creates it; `own` is the caller's own row, returned as it is (a retry is
 * idempotent); `taken` is an id another account holds, the same answer whoever asks, and nothing is written.
 */
export type IdClaim = 'free' | 'own' | 'taken';

export function claimId(holder: { accountId: string } | null, accountId: string): IdClaim {
  if (!holder) return 'free';
  return holder.accountId === accountId ? 'own' : 'taken';
}
