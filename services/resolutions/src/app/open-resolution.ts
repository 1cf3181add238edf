import type { UnitOfWork } from '@domiq/bus';
import { lockForTransaction } from '@domiq/db';
import { events } from '@domiq/proto/events';
import { issueTypes, severities } from '@domiq/proto/vocabulary';
import { Resolution, ResolutionUpdate } from '../db/resolutions.entities.ts';
import { AUTOMATION_AUTHOR_ID, CLOSED_STATUSES, openingOf, reEscalationNote, type Escalation } from '../domain/escalation.ts';

/** A conversation escalated to resolutions (conversations.conversation.escalated). */
export interface ConversationEscalation extends Escalation {
  accountId: string;
  conversationId: string;
  propertyId: string | null;
  customerId: string | null;
  escalatedAt: Date;
}

/** `opened`: a new resolution (and `resolutions.resolution.opened`); `noted`: a note on the one already open. */
export type OpenResolutionOutcome = { outcome: 'opened' | 'noted'; resolutionId: string };

/**
 * One open resolution per conversation. The first escalation opens it (openingOf: status, owning team, priority,
 * with an automation status_change update); any escalation while it is open becomes a note on it. A
 * per-conversation advisory lock serialises concurrent escalations and the partial unique index on open
 * resolutions backs it up.
 */
export async function openResolution(uow: UnitOfWork, e: ConversationEscalation): Promise<OpenResolutionOutcome> {
  const { em } = uow;
  await lockForTransaction(em, `resolutions:conversation:${e.accountId}:${e.conversationId}`);
  const open = await em.findOne(Resolution, { accountId: e.accountId, conversationId: e.conversationId, status: { $nin: [...CLOSED_STATUSES] } });
  if (open) {
    em.create(ResolutionUpdate, {
      accountId: e.accountId, resolutionId: open.id, updateType: 'note', visibility: 'internal', authorId: AUTOMATION_AUTHOR_ID, authorSource: 'automation',
      content: reEscalationNote(e),
    });
    return { outcome: 'noted', resolutionId: open.id };
  }
  const opening = openingOf(e);
  const resolution = em.create(Resolution, {
    id: crypto.randomUUID(),
    accountId: e.accountId,
    propertyId: e.propertyId,
    customerId: e.customerId,
    conversationId: e.conversationId,
    issueType: e.issueType,
    owningTeam: opening.owningTeam,
    priority: opening.priority,
    status: opening.status,
    slaStartedAt: e.escalatedAt,
  });
  // The entities hold plain ids, so the unit of work cannot see that the update's foreign key needs this row first.
  await em.flush();
  em.create(ResolutionUpdate, {
    accountId: e.accountId, resolutionId: resolution.id, updateType: 'status_change', visibility: 'internal', previousStatus: null, newStatus: opening.status,
    authorId: AUTOMATION_AUTHOR_ID, authorSource: 'automation', content: opening.note,
  });
  uow.emit(events.resolutionOpened, {
    accountId: e.accountId, resolutionId: resolution.id, conversationId: e.conversationId, issueType: issueTypes.toProto(e.issueType), owningTeam: opening.owningTeam,
    priority: severities.toProto(opening.priority),
  }, { entityId: resolution.id, accountId: e.accountId, conversationId: e.conversationId, customerId: e.customerId, resolutionId: resolution.id, actorType: 'automation' });
  return { outcome: 'opened', resolutionId: resolution.id };
}
