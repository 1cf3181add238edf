import type { UnitOfWork } from '@domiq/bus';
import { FailedPreconditionError, NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { decideMergeSuggestions, lockMergeSuggestion, type MergeSuggestionRecord } from '../db/merge-suggestion.repository.ts';

export interface DismissMergeSuggestionInput {
  accountId: string;
  suggestionId: string;
  /** Who dismisses (the token's subject). */
  actor: string;
}

/**
 * Dismisses an open suggestion (the two customers are different people; the pair is not suggested again), with
 * identity.merge_suggestion.dismissed. Dismissed already: answered as it is, nothing written. Accepted (merged):
 * FailedPreconditionError (undo the merge instead).
 */
export async function dismissMergeSuggestion(uow: UnitOfWork, input: DismissMergeSuggestionInput): Promise<MergeSuggestionRecord> {
  const { accountId, suggestionId, actor } = input;
  const suggestion = await lockMergeSuggestion(uow.em, accountId, suggestionId);
  if (!suggestion) throw new NotFoundError(`merge suggestion ${suggestionId} not found`);
  if (suggestion.status === 'dismissed') return suggestion;
  if (suggestion.status === 'accepted') throw new FailedPreconditionError(`merge suggestion ${suggestionId} was accepted by merge ${suggestion.mergeId}: undo the merge instead`);
  const [dismissed] = await decideMergeSuggestions(uow.em, accountId, [suggestionId], { status: 'dismissed', by: actor, at: new Date(), mergeId: null });
  uow.emit(events.identityMergeSuggestionDismissed, {
    accountId, suggestionId, customerAId: suggestion.customerAId, customerBId: suggestion.customerBId,
  }, { entityId: suggestionId, accountId });
  return dismissed!;
}
