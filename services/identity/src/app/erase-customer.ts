import { erasePersonalEventData, type UnitOfWork } from '@domiq/bus';
import { FailedPreconditionError, NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { deleteConsentsOf } from '../db/consent.repository.ts';
import { eraseCustomerRows, findCustomer, lockCustomers, mergedInto, type CustomerRecord } from '../db/customer.repository.ts';
import { deleteIdentifiersOf } from '../db/identifier.repository.ts';
import { CustomerErasure, CustomerMerge, type CustomerErasureRow } from '../db/identity.entities.ts';
import { deleteSuggestionsOf } from '../db/merge-suggestion.repository.ts';

/**
 * The payload keys of identity's events that carry a customer's personal data: identity.customer.created's phones,
 * emails and name. Every later customer event carries ids only.
 */
export const PERSONAL_EVENT_KEYS = ['phoneNumbers', 'emails', 'name'] as const;

export interface EraseCustomerInput {
  accountId: string;
  customerId: string;
  reason: string;
  /** Who erases (the token's subject), for the audit row. */
  actor: string;
}

export interface ErasureResult {
  erasure: CustomerErasureRow;
  customer: CustomerRecord;
}

/** The profile fields and tags of a customer that hold something (what an erasure clears). */
function filledFields(c: CustomerRecord): number {
  const p = c.profile;
  return [p.name, p.company, p.avatar_url].filter((v) => v !== null && v !== undefined && v !== '').length
    + (p.metadata && Object.keys(p.metadata).length > 0 ? 1 : 0) + (c.tags.length > 0 ? 1 : 0);
}

/**
 * Erases a customer's personal data (GDPR), and that of every customer merged into it (the same person), in one
 * transaction: their identifier rows are deleted (so the identifiers resolve to a new customer from now on) and their
 * graphs emptied, their profiles (name, company, avatar, metadata) and tags cleared, their consents and merge
 * suggestions deleted, the merges among them closed with their recorded before-values removed (they can no longer
 * be undone), and the personal keys of their identity.customer.created events in identity's event_log replaced by
 * "[erased]" (erasePersonalEventData, the one change the append-only guard allows). The rows stay, with erased_at,
 * because other services hold their ids. A non-personal customer_erasures row records who, when, why and how much
 * went. Emits identity.customer.erased per customer.
 * An erased customer again: the first erasure, with nothing written. A merged customer: FailedPreconditionError (its
 * identifiers are its target's now; erasing the target covers it).
 *
 * Not covered: what the IDENTITY stream has published already stays there until its retention (7 days) drops it;
 * other services' copies are theirs to forget on identity.customer.erased; reasons (of merges, of the erasure) are
 * free text kept as written.
 */
export async function eraseCustomer(uow: UnitOfWork, input: EraseCustomerInput): Promise<ErasureResult> {
  const { em } = uow;
  const { accountId, customerId, actor } = input;
  const [customer] = await lockCustomers(em, accountId, [customerId]);
  if (!customer) throw new NotFoundError(`customer ${customerId} not found`);
  if (customer.erasedAt) {
    // It was erased itself, or with the customer it had been merged into.
    const first = await em.findOne(CustomerErasure, { accountId, erasedCustomerIds: { $contains: [customerId] } }, { orderBy: { erasedAt: 'asc' } });
    if (first) return { erasure: first, customer };
  }
  if (customer.status === 'merged') throw new FailedPreconditionError(`customer ${customerId} is merged into ${customer.mergedIntoId}: erase that customer (it covers the customers merged into it)`);

  const merged = await mergedInto(em, accountId, customerId);
  const group = [customerId, ...merged];
  const all = await lockCustomers(em, accountId, group);
  const erasedAt = new Date();
  const identifiersRemoved = await deleteIdentifiersOf(em, accountId, group);
  await eraseCustomerRows(em, accountId, group, erasedAt);
  const consentsRemoved = await deleteConsentsOf(em, accountId, group);
  const mergeSuggestionsRemoved = await deleteSuggestionsOf(em, accountId, group);
  // customer.created is written with entity_id and customer_id = the customer created.
  const eventsRedacted = await erasePersonalEventData(em, 'identity', { accountId, customerId, entityIds: group }, PERSONAL_EVENT_KEYS);
  // Every merge that names one of them: the before/after tags and consents it kept are the erased person's too.
  const merges = await em.find(CustomerMerge, { accountId, $or: [{ sourceCustomerId: { $in: group } }, { targetCustomerId: { $in: group } }] });
  for (const m of merges) {
    if (m.status === 'merged') m.status = 'erased';
    m.targetBefore = null;
    m.targetAfter = null;
    m.targetConsentsBefore = null;
  }
  const erasure = em.create(CustomerErasure, {
    id: crypto.randomUUID(), accountId, customerId, erasedCustomerIds: group, reason: input.reason, erasedBy: actor, erasedAt,
    identifiersRemoved, consentsRemoved, mergeSuggestionsRemoved, mergesClosed: merges.length, profileFieldsCleared: all.reduce((n, c) => n + filledFields(c), 0),
    eventsRedacted,
  });
  for (const id of group) {
    uow.emit(events.identityCustomerErased, { accountId, customerId: id, erasedAt: erasedAt.toISOString(), erasureId: erasure.id }, { entityId: id, accountId, customerId: id });
  }
  return { erasure, customer: (await findCustomer(em, accountId, customerId))! };
}
