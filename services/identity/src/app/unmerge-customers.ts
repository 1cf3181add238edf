import { LockMode } from '@mikro-orm/core';
import type { UnitOfWork } from '@domiq/bus';
import { FailedPreconditionError, NotFoundError } from '@domiq/grpc';
import { channels } from '@domiq/proto/vocabulary';
import { events } from '@domiq/proto/events';
import { consentsOf, deleteConsent, writeConsent } from '../db/consent.repository.ts';
import { findCustomers, lockCustomers, setMergedFields, setMergedInto } from '../db/customer.repository.ts';
import { identifiersOf, moveIdentifiers } from '../db/identifier.repository.ts';
import { CustomerMerge } from '../db/identity.entities.ts';
import { decideMergeSuggestions, suggestionsAcceptedBy } from '../db/merge-suggestion.repository.ts';
import { consentSourceToProto, consentStatusToProto } from '../domain/consent.ts';
import { takeBackFields, unmergeBlocker } from '../domain/customer-merge.ts';
import type { MergeResult } from './merge-customers.ts';

export interface UnmergeCustomersInput {
  accountId: string;
  mergeId: string;
  reason: string;
  /** Who unmerges (the token's subject), for the audit row. */
  actor: string;
}

/**
 * Undoes one merge, in one transaction: the identifiers it moved that the target still holds go back to the source
 * (with the primary flags they had there), the source gets its status back, the target loses what the merge added
 * to its tags, segments and risk flags (takeBack: exactly its before-values if nothing changed since, otherwise
 * later changes stay), and each consent the merge changed on the target is restored if it is still what the merge
 * recorded (one recorded since is the customer's newer word and stays). The suggestions the merge accepted become
 * dismissed: someone has just said these are two people. The merge row records who, when, why and what came back.
 * Emits identity.customer.unmerged (and consent_changed for each consent restored).
 */
export async function unmergeCustomers(uow: UnitOfWork, input: UnmergeCustomersInput): Promise<MergeResult> {
  const { em } = uow;
  const { accountId, mergeId, actor } = input;
  const merge = await em.findOne(CustomerMerge, { id: mergeId, accountId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!merge) throw new NotFoundError(`merge ${mergeId} not found`);
  const locked = await lockCustomers(em, accountId, [merge.sourceCustomerId, merge.targetCustomerId]);
  const source = locked.find((c) => c.id === merge.sourceCustomerId);
  const target = locked.find((c) => c.id === merge.targetCustomerId);
  if (!source || !target) throw new NotFoundError(`the customers of merge ${mergeId} are not found`);
  const blocked = unmergeBlocker(merge, source, target);
  if (blocked) throw new FailedPreconditionError(blocked);

  const unmergedAt = new Date();
  const demoted = new Set(merge.demotedIdentifierIds);
  const stillOnTarget = (await identifiersOf(em, accountId, [target.id])).filter((i) => merge.movedIdentifierIds.includes(i.id)).map((i) => i.id);
  const restored = await moveIdentifiers(em, accountId, {
    ids: stillOnTarget, toCustomerId: source.id, fromCustomerIds: [target.id], primary: new Map(stillOnTarget.filter((id) => demoted.has(id)).map((id) => [id, true])),
  });
  if (merge.targetBefore && merge.targetAfter) {
    await setMergedFields(em, accountId, target.id, takeBackFields({ tags: target.tags, segments: target.segments, riskFlags: target.riskFlags }, merge.targetBefore, merge.targetAfter));
  }
  await setMergedInto(em, accountId, source.id, { status: merge.sourceStatusBefore, mergedIntoId: null });

  const current = await consentsOf(em, accountId, [target.id]);
  for (const changed of merge.targetConsentsBefore ?? []) {
    const now = current.find((c) => c.channel === changed.channel);
    const untouched = now && now.source === 'merge' && now.status === changed.merged.status && now.recordedAt.getTime() === new Date(changed.merged.recordedAt).getTime();
    if (!untouched) continue;
    if (changed.before) {
      const { status, source: was, recordedAt, recordedBy } = changed.before;
      await writeConsent(em, accountId, target.id, { channel: changed.channel, status, source: was, recordedAt: new Date(recordedAt), recordedBy });
    } else {
      await deleteConsent(em, accountId, target.id, changed.channel);
    }
    // The customer's consent for the channel is what it was before the merge (UNSPECIFIED: none on record).
    uow.emit(events.identityCustomerConsentChanged, {
      accountId, customerId: target.id, channel: channels.toProto(changed.channel), status: consentStatusToProto(changed.before?.status ?? null),
      source: consentSourceToProto('unmerge'), recordedAt: unmergedAt.toISOString(),
    }, { entityId: target.id, accountId, customerId: target.id });
  }

  const accepted = await suggestionsAcceptedBy(em, accountId, merge.id);
  await decideMergeSuggestions(em, accountId, accepted.map((s) => s.id), { status: 'dismissed', by: actor, at: unmergedAt, mergeId: null });

  merge.status = 'unmerged';
  merge.unmergedAt = unmergedAt;
  merge.unmergedBy = actor;
  merge.unmergeReason = input.reason;
  merge.restoredIdentifierIds = restored;
  uow.emit(events.identityCustomerUnmerged, {
    accountId, mergeId: merge.id, sourceCustomerId: source.id, targetCustomerId: target.id, unmergedAt: unmergedAt.toISOString(),
  }, { entityId: source.id, accountId, customerId: source.id });
  const now = await findCustomers(em, accountId, [source.id, target.id]);
  return { merge, source: now.find((c) => c.id === source.id)!, target: now.find((c) => c.id === target.id)! };
}
