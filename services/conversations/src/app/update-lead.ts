import type { UnitOfWork } from '@domiq/bus';
import type { EntityManager } from '@domiq/db';
import { FailedPreconditionError, InvalidArgumentError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { Lead, type ConversationRow, type LeadRow } from '../db/conversations.entities.ts';
import { applyLeadChanges, DEFAULT_LEAD, IllegalLeadChangeError, LEAD_FIELD_NAMES, type LeadFields } from '../domain/lead.ts';
import { getConversation, lockConversation, type ReadScope } from './conversation.queries.ts';
import { toLeadMsg, type LeadRecord } from './lead-contract.ts';

const fieldsOf = (row: LeadRow): LeadFields => ({
  status: row.status, lostReason: row.lostReason ?? null, aiIntentSummary: row.aiIntentSummary ?? null, isQualified: row.isQualified, isBookTour: row.isBookTour,
  tourAt: row.tourAt ?? null, leadSource: row.leadSource ?? null, moveIn: row.moveIn ?? null, bedrooms: row.bedrooms ?? null, bathrooms: row.bathrooms ?? null,
  rentMin: row.rentMin ?? null, rentMax: row.rentMax ?? null, pets: row.pets, occupants: row.occupants ?? null, desiredUnit: row.desiredUnit ?? null,
  desiredFloorplan: row.desiredFloorplan ?? null,
});

function recordOf(c: Pick<ConversationRow, 'id' | 'accountId' | 'propertyId' | 'customerId'>, row: LeadRow | null): LeadRecord {
  return {
    conversationId: c.id, accountId: c.accountId, propertyId: c.propertyId ?? '', customerId: c.customerId,
    ...(row ? fieldsOf(row) : DEFAULT_LEAD), pets: row ? row.pets : [], version: row?.version ?? 0, updatedAt: row?.updatedAt ?? null, updatedBy: row?.updatedBy ?? null,
  };
}

/** The lead of a conversation the reader can see (the defaults when nobody changed it yet). */
export async function getLead(em: EntityManager, scope: ReadScope, conversationId: string): Promise<LeadRecord> {
  const c = await getConversation(em, scope, conversationId);
  if (!c.propertyId) throw new FailedPreconditionError(`conversation ${conversationId} is not about a property: it has no lead`);
  return recordOf(c, await em.findOne(Lead, { conversationId, accountId: scope.accountId }));
}

export interface UpdateLeadInput {
  scope: ReadScope;
  conversationId: string;
  changes: Partial<LeadFields>;
  expectedVersion: number | null;
  /** Who: "user:<id>", "service:<name>" or "annotator" (lead.updated_by and the event's source). */
  by: string;
  /** Fields computed from the lead as the changes leave it (the annotator's one-line summary). */
  derive?: (next: LeadFields) => Partial<LeadFields>;
}

/**
 * Applies the changes to the conversation's lead under the conversation's row lock (so two writers take turns, and
 * expected_version is exact), through the lead's rules (domain/lead.ts); when anything changed, +1 on its version and
 * conversation.updated naming the changed fields with the lead's values, in the same transaction.
 */
export async function updateLead(uow: UnitOfWork, input: UpdateLeadInput): Promise<{ lead: LeadRecord; changed: string[] }> {
  const c = await lockConversation(uow.em, input.scope, input.conversationId);
  if (!c.propertyId) throw new FailedPreconditionError(`conversation ${input.conversationId} is not about a property: it has no lead`);
  const row = await uow.em.findOne(Lead, { conversationId: c.id, accountId: c.accountId });
  const before = recordOf(c, row);
  if (input.expectedVersion !== null && input.expectedVersion !== before.version) {
    throw new FailedPreconditionError(`the lead changed since version ${input.expectedVersion} (it is at version ${before.version})`);
  }
  let applied;
  try {
    applied = applyLeadChanges(before, input.changes);
    if (input.derive) applied = applyLeadChanges(before, { ...input.changes, ...input.derive(applied.next) });
  } catch (err) {
    if (err instanceof IllegalLeadChangeError) {
      // A status the rules refuse is the lead's state; contradictory values are the request's.
      if (err.field === 'status') throw new FailedPreconditionError(err.message);
      throw new InvalidArgumentError(`changes.${err.field}`, err.message.slice(err.field.length + 2));
    }
    throw err;
  }
  if (applied.changed.length === 0) return { lead: before, changed: [] };
  const now = new Date();
  const target = row ?? uow.em.create(Lead, { conversationId: c.id, accountId: c.accountId, propertyId: c.propertyId, customerId: c.customerId });
  Object.assign(target, applied.next, { version: before.version + 1, updatedBy: input.by, updatedAt: now });
  const lead = recordOf(c, target);
  const changed = applied.changed.map((f) => LEAD_FIELD_NAMES[f]);
  uow.emit(events.conversationUpdated, {
    accountId: c.accountId, propertyId: c.propertyId, conversationId: c.id, customerId: c.customerId, changedFields: changed, lead: toLeadMsg(lead),
    source: input.by.startsWith('user:') ? 'agent' : input.by, updatedAt: now.toISOString(),
  }, { entityId: c.id, accountId: c.accountId, conversationId: c.id, customerId: c.customerId });
  return { lead, changed };
}
