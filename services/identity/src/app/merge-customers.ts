import type { UnitOfWork } from '@domiq/bus';
import { FailedPreconditionError, NotFoundError } from '@domiq/grpc';
import { channels } from '@domiq/proto/vocabulary';
import { events } from '@domiq/proto/events';
import { consentsOf, writeConsent } from '../db/consent.repository.ts';
import { findCustomers, lockCustomers, setMergedFields, setMergedInto, type CustomerRecord } from '../db/customer.repository.ts';
import { identifiersOf, moveIdentifiers } from '../db/identifier.repository.ts';
import { CustomerMerge, type ConsentBefore, type CustomerMergeRow } from '../db/identity.entities.ts';
import { decideMergeSuggestions, openSuggestionsOfPair } from '../db/merge-suggestion.repository.ts';
import { consentSourceToProto, consentStatusToProto } from '../domain/consent.ts';
import { combineFields, mergeBlocker, mergeConsents } from '../domain/customer-merge.ts';

export interface MergeCustomersInput {
  accountId: string;
  sourceCustomerId: string;
  targetCustomerId: string;
  reason: string;
  /** Who merges (the token's subject), for the audit row. */
  actor: string;
}

export interface MergeResult {
  merge: CustomerMergeRow;
  source: CustomerRecord;
  target: CustomerRecord;
}

/**
 * Merges one customer into another, in one transaction: the two rows locked (id order); the source's identifiers
 * moved to the target (those whose kind and network the target has a primary of lose their primary flag); the
 * target's tags, segments and risk flags combined with the source's, and per channel the source's consent where the
 * target has none or the source opted out; the source marked merged into the target; open suggestions of the pair
 * accepted. Everything moved or changed, with the before-values, goes in the customer_merges row, which
 * unmergeCustomers undoes. Emits identity.customer.merged (and consent_changed for each consent changed).
 */
export async function mergeCustomers(uow: UnitOfWork, input: MergeCustomersInput): Promise<MergeResult> {
  const { em } = uow;
  const { accountId, sourceCustomerId, targetCustomerId, actor } = input;
  const locked = await lockCustomers(em, accountId, [sourceCustomerId, targetCustomerId]);
  const source = locked.find((c) => c.id === sourceCustomerId);
  const target = locked.find((c) => c.id === targetCustomerId);
  if (!source) throw new NotFoundError(`customer ${sourceCustomerId} not found`);
  if (!target) throw new NotFoundError(`customer ${targetCustomerId} not found`);
  const blocked = mergeBlocker(source, target);
  if (blocked) throw new FailedPreconditionError(blocked);

  const mergedAt = new Date();
  const identifiers = await identifiersOf(em, accountId, [source.id, target.id]);
  const targetPrimaries = new Set(identifiers.filter((i) => i.customerId === target.id && i.isPrimary).map((i) => `${i.kind}|${i.network}`));
  const moving = identifiers.filter((i) => i.customerId === source.id);
  const demoted = moving.filter((i) => i.isPrimary && targetPrimaries.has(`${i.kind}|${i.network}`)).map((i) => i.id);
  const moved = await moveIdentifiers(em, accountId, {
    ids: moving.map((i) => i.id), toCustomerId: target.id, fromCustomerIds: [source.id], primary: new Map(demoted.map((id) => [id, false])),
  });

  const before = { tags: target.tags, segments: target.segments, riskFlags: target.riskFlags };
  const after = combineFields(before, { tags: source.tags, segments: source.segments, riskFlags: source.riskFlags });
  await setMergedFields(em, accountId, target.id, after);
  await setMergedInto(em, accountId, source.id, { status: 'merged', mergedIntoId: target.id });

  const consents = await consentsOf(em, accountId, [source.id, target.id]);
  const targetConsents = consents.filter((c) => c.customerId === target.id);
  const changedConsents: ConsentBefore[] = [];
  for (const change of mergeConsents(targetConsents, consents.filter((c) => c.customerId === source.id))) {
    const was = targetConsents.find((c) => c.channel === change.channel);
    await writeConsent(em, accountId, target.id, { channel: change.channel, status: change.status, source: 'merge', recordedAt: mergedAt, recordedBy: actor });
    changedConsents.push({
      channel: change.channel,
      before: was ? { status: was.status, source: was.source, recordedAt: was.recordedAt.toISOString(), recordedBy: was.recordedBy } : null,
      merged: { status: change.status, recordedAt: mergedAt.toISOString() },
    });
    uow.emit(events.identityCustomerConsentChanged, {
      accountId, customerId: target.id, channel: channels.toProto(change.channel), status: consentStatusToProto(change.status), source: consentSourceToProto('merge'),
      recordedAt: mergedAt.toISOString(),
    }, { entityId: target.id, accountId, customerId: target.id });
  }

  const merge = em.create(CustomerMerge, {
    id: crypto.randomUUID(), accountId, sourceCustomerId: source.id, targetCustomerId: target.id, reason: input.reason, status: 'merged', mergedBy: actor, mergedAt,
    movedIdentifierIds: moved, demotedIdentifierIds: demoted, sourceStatusBefore: source.status, targetBefore: before, targetAfter: after,
    targetConsentsBefore: changedConsents,
  });
  const accepted = await openSuggestionsOfPair(em, accountId, source.id, target.id);
  await decideMergeSuggestions(em, accountId, accepted.map((s) => s.id), { status: 'accepted', by: actor, at: mergedAt, mergeId: merge.id });

  uow.emit(events.identityCustomerMerged, {
    accountId, sourceCustomerId: source.id, targetCustomerId: target.id, mergeId: merge.id, mergedAt: mergedAt.toISOString(),
  }, { entityId: source.id, accountId, customerId: source.id });
  const now = await findCustomers(em, accountId, [source.id, target.id]);
  return { merge, source: now.find((c) => c.id === source.id)!, target: now.find((c) => c.id === target.id)! };
}
