import type { UnitOfWork } from '@domiq/bus';
import { lockAllForTransaction } from '@domiq/db';
import { NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { accountExists } from '../db/account.repository.ts';
import {
  createCustomers, findCustomer, findIdentifierOwners, identifierLockKey, lockCustomers, touchCustomer, type CustomerRecord, type IdentifierOwner,
  type IdentifierToResolve,
} from '../db/customer.repository.ts';
import { addIdentifiers, markVerified } from '../db/identifier.repository.ts';
import { recordMergeSuggestions } from '../db/merge-suggestion.repository.ts';
import { strongestCustomer } from '../domain/identifier-strength.ts';
import { announceNewCustomer, type ResolvedCustomer } from './resolve-customers.ts';

/** Why resolution records a suggestion. */
export const ONE_PERSON_REASON = 'identifiers_of_one_person';

export interface ResolvedPerson extends ResolvedCustomer {
  /** The merge suggestions recorded. */
  suggestionIds: string[];
}

/** A merge, unmerge or erasure committing between finding the holders and locking them moves identifiers. */
const MAX_LOOKUPS = 5;

/**
 * The one customer of one person's identifiers (a web form's phone and email; ResolvePerson), in one transaction. Identity never
 * merges by itself: when the identifiers belong to several customers, the answer is the one holding the strongest
 * identifier (strongestCustomer: verified first, then phone > email > social id > device; ties to the customer seen
 * first), and a merge suggestion is recorded (identity.customer.merge_suggested) for it and each other holder, unless
 * the pair has an open or a dismissed one already. Identifiers nobody holds yet are added to the answer; none held
 * at all creates a customer (identity.customer.created). The identifiers' advisory locks are taken first (as in
 * findOrCreateCustomers), then their holders' rows, in id order (as a merge takes them).
 */
export async function resolvePerson(uow: UnitOfWork, accountId: string, inputs: readonly IdentifierToResolve[]): Promise<ResolvedPerson> {
  const { em } = uow;
  if (inputs.length === 0) throw new Error('resolvePerson needs an identifier');
  if (!(await accountExists(em, accountId))) throw new NotFoundError(`account ${accountId} not found`);
  const keyOf = (i: IdentifierToResolve) => `${i.kind}|${i.network}|${i.value}`;
  const byKey = new Map<string, IdentifierToResolve>();
  // The same identifier twice is one; a verified mention of it anywhere in the call counts.
  for (const i of inputs) byKey.set(keyOf(i), { ...i, verified: i.verified || !!byKey.get(keyOf(i))?.verified });
  const unique = [...byKey.values()];
  await lockAllForTransaction(em, unique.map((i) => identifierLockKey({ accountId, ...i })));

  let owners: IdentifierOwner[] = [];
  let holders: CustomerRecord[] = [];
  for (let attempt = 0; ; attempt++) {
    if (attempt === MAX_LOOKUPS) throw new Error('identifiers kept moving while being resolved');
    owners = await findIdentifierOwners(em, accountId, unique);
    const ids = [...new Set(owners.map((o) => o.customerId))];
    holders = await lockCustomers(em, accountId, ids);
    // Locked, the holders can no longer change; if they did between the lookup and the lock, look again.
    const again = await findIdentifierOwners(em, accountId, unique);
    const same = again.length === owners.length && again.every((o) => owners.some((p) => p.k === o.k && p.customerId === o.customerId));
    if (same && holders.length === ids.length && holders.every((c) => c.status !== 'merged' && !c.erasedAt)) break;
  }

  const name = inputs.find((i) => i.displayName)?.displayName ?? '';
  let chosenId: string;
  let created = false;
  if (holders.length === 0) {
    chosenId = crypto.randomUUID();
    await createCustomers(em, accountId, [{ id: chosenId, name }]);
    created = true;
  } else {
    const candidates = holders.map((c) => ({
      id: c.id,
      firstSeenAt: c.firstSeenAt,
      identifiers: owners.filter((o) => o.customerId === c.id).map((o) => ({ kind: o.kind, isVerified: o.isVerified || unique[o.k]!.verified })),
    }));
    chosenId = strongestCustomer(candidates).id;
    await touchCustomer(em, accountId, chosenId, name);
  }
  const held = new Set(owners.map((o) => o.k));
  await addIdentifiers(em, accountId, unique.flatMap((i, k) => held.has(k) ? [] : [{ customerId: chosenId, kind: i.kind, network: i.network, value: i.value, isVerified: i.verified }]));
  await markVerified(em, accountId, owners.filter((o) => unique[o.k]!.verified && !o.isVerified).map((o) => o.identifierId));

  const suggestions = await recordMergeSuggestions(em, accountId, holders.filter((c) => c.id !== chosenId).map((other) => ({
    customerAId: chosenId,
    customerBId: other.id,
    reason: ONE_PERSON_REASON,
    identifierIds: owners.filter((o) => o.customerId === chosenId || o.customerId === other.id).map((o) => o.identifierId),
  })));
  for (const s of suggestions) {
    uow.emit(events.identityCustomerMergeSuggested, {
      accountId, suggestionId: s.id, customerAId: s.customerAId, customerBId: s.customerBId, reason: s.reason, identifierIds: s.identifierIds,
      createdAt: s.createdAt.toISOString(),
    }, { entityId: s.id, accountId, customerId: s.customerAId });
  }
  const customer = (await findCustomer(em, accountId, chosenId))!;
  if (created) announceNewCustomer(uow, name, customer);
  return { customer, created, suggestionIds: suggestions.map((s) => s.id) };
}
