import type { IdentifierKind } from './identifier.ts';

/**
 * How much an identifier says about who a person is, strongest first: a phone number (one person's handset, proven
 * by every inbound SMS or call, and the key the property systems file people under), an email address (more often
 * shared: "info@", a couple's address; and anyone can type one into a form), a social id (one app's account), a
 * device fingerprint (a household's tablet, a kiosk).
 */
const KIND_RANK: Record<IdentifierKind, number> = { phone: 0, email: 1, social: 2, device: 3 };

export interface HeldIdentifier {
  kind: IdentifierKind;
  isVerified: boolean;
}

/** Lower is stronger: a verified identifier beats any unverified one, then the kind decides. */
export function identifierStrength(i: HeldIdentifier): number {
  return (i.isVerified ? 0 : 10) + KIND_RANK[i.kind];
}

/** A customer holding some of one person's identifiers. */
export interface CandidateCustomer {
  id: string;
  firstSeenAt: Date;
  /** The person's identifiers this customer holds (at least one). */
  identifiers: readonly HeldIdentifier[];
}

/**
 * The customer a person's identifiers resolve to when they belong to several: the one holding the strongest of them;
 * on a tie the one seen first (the longer history), then the smaller id, so every replica picks the same one.
 */
export function strongestCustomer<C extends CandidateCustomer>(candidates: readonly C[]): C {
  if (candidates.length === 0) throw new Error('strongestCustomer needs a candidate');
  const best = (c: CandidateCustomer) => Math.min(...c.identifiers.map(identifierStrength));
  return [...candidates].sort((a, b) => best(a) - best(b) || a.firstSeenAt.getTime() - b.firstSeenAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0]!;
}
