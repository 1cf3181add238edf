import type { UnitOfWork } from '@domiq/bus';
import { query, type EntityManager } from '@domiq/db';
import { events } from '@domiq/proto/events';
import { severities, type Severity } from '@domiq/proto/vocabulary';
import type { Annotation } from '@domiq/annotator';
import type { LeadFields } from '../domain/lead.ts';
import { updateLead } from './update-lead.ts';
import { FailedPreconditionError, InvalidArgumentError } from '@domiq/grpc';

const S = '"conversations"';

/** An inbound message and what the annotator made of it. */
export interface AnnotatedMessage {
  accountId: string;
  conversationId: string;
  customerId: string;
  propertyId: string | null;
  messageId: string;
  annotation: Annotation;
  emit: UnitOfWork['emit'];
}

const SEVERITY_RANK: Record<Severity, number> = { P0: 0, P1: 1, P2: 2, P3: 3 };

/** What an annotation states about the lead, in the lead's terms (only what the message says). */
export function leadChangesOf(a: Annotation): Partial<LeadFields> {
  const l = a.lead;
  const out: Partial<LeadFields> = {};
  if (l.bedrooms !== undefined) out.bedrooms = l.bedrooms;
  if (l.bathrooms !== undefined) out.bathrooms = l.bathrooms;
  if (l.move_in !== undefined) out.moveIn = l.move_in;
  if (l.pets !== undefined && l.pets.length) out.pets = l.pets.map((p) => ({ type: p.type.toLowerCase(), count: p.count }));
  if (l.budget_max !== undefined) out.rentMax = Math.round(l.budget_max);
  if (l.occupants !== undefined) out.occupants = l.occupants;
  if (l.tour_requested) out.isBookTour = true;
  return out;
}

/** A one-line reading of the lead for agents and ResMan ("2 bd, move-in 2027-03, 1 dog, up to $1800, wants a tour"). */
export function leadSummary(fields: LeadFields, tourTime: string | undefined): string | null {
  const parts: string[] = [];
  if (fields.bedrooms !== null) parts.push(fields.bedrooms === 0 ? 'studio' : `${fields.bedrooms} bd`);
  if (fields.bathrooms !== null) parts.push(`${fields.bathrooms} ba`);
  if (fields.moveIn) parts.push(`move-in ${fields.moveIn}`);
  if (fields.pets.length) parts.push(fields.pets.map((p) => `${p.count} ${p.type}${p.count > 1 ? 's' : ''}`).join(', '));
  if (fields.rentMax !== null) parts.push(`up to $${fields.rentMax}`);
  if (fields.occupants !== null) parts.push(`${fields.occupants} occupant${fields.occupants > 1 ? 's' : ''}`);
  if (fields.isBookTour) parts.push(tourTime ? `wants a tour (${tourTime.replace('T', ' ')})` : 'wants a tour');
  return parts.length ? parts.join(', ') : null;
}

/**
 * Stores each annotation (ai_annotations, once per message and model version), marks its message processed with a
 * summary, moves each conversation's intent / severity / sentiment (severity only towards the more severe; a noise
 * message does not overwrite a real intent), fills the lead with what the message states (source "annotator"), and
 * publishes message.annotated. Set-based for the rows of the batch; the lead, rarely stated, per conversation.
 */
export async function recordAnnotations(em: EntityManager, items: readonly AnnotatedMessage[], onLeadConflict?: (messageId: string, problem: string) => void): Promise<number> {
  if (items.length === 0) return 0;
  const rows = items.map(({ accountId, messageId, annotation: a }) => ({
    id: crypto.randomUUID(), account_id: accountId, message_id: messageId, intent: a.intent, intent_confidence: a.intent_confidence, severity: a.severity,
    severity_confidence: a.severity_confidence, sentiment: a.sentiment, sentiment_score: a.sentiment_score, entities: a.entities,
    suspected_root_cause: a.suspected_root_cause, suggested_action: a.suggested_action, suggested_response: a.suggested_reply,
    suggested_skills: a.suggested_skills, escalation_recommended: a.escalation_recommended, model_version: a.model_version,
    processing_time_ms: Math.round(a.processing_time_ms),
  }));
  const stored = await query<{ id: string; message_id: string }>(em,
    `insert into ${S}.ai_annotations (id, account_id, message_id, intent, intent_confidence, severity, severity_confidence, sentiment, sentiment_score, entities,
            suspected_root_cause, suggested_action, suggested_response, suggested_skills, escalation_recommended, model_version, processing_time_ms)
     select r.id, r.account_id, r.message_id, r.intent, r.intent_confidence, r.severity, r.severity_confidence, r.sentiment, r.sentiment_score, r.entities,
            r.suspected_root_cause, r.suggested_action, r.suggested_response, array(select jsonb_array_elements_text(r.suggested_skills)), r.escalation_recommended,
            r.model_version, r.processing_time_ms
       from jsonb_to_recordset(?::jsonb) as r(id uuid, account_id uuid, message_id uuid, intent text, intent_confidence numeric, severity text, severity_confidence numeric,
            sentiment text, sentiment_score numeric, entities jsonb, suspected_root_cause text, suggested_action text, suggested_response text, suggested_skills jsonb,
            escalation_recommended boolean, model_version text, processing_time_ms int)
      -- A message erased since its event was published is not read again.
      where exists (select 1 from ${S}.messages m where m.id = r.message_id and m.account_id = r.account_id and m.content <> '[erased]')
     on conflict (message_id, model_version) do nothing
     returning id, message_id`,
    [JSON.stringify(rows)]);
  const annotationOf = new Map(stored.map((r) => [r.message_id, r.id]));
  const fresh = items.filter((i) => annotationOf.has(i.messageId));
  if (fresh.length === 0) return 0;
  await query(em,
    `update ${S}.messages m set ai_processed = true, ai_annotations = u.summary
       from jsonb_to_recordset(?::jsonb) as u(id uuid, account_id uuid, summary jsonb)
      where m.id = u.id and m.account_id = u.account_id`,
    [JSON.stringify(fresh.map((i) => ({
      id: i.messageId, account_id: i.accountId,
      summary: { annotation_id: annotationOf.get(i.messageId), intent: i.annotation.intent, severity: i.annotation.severity, sentiment: i.annotation.sentiment, model_version: i.annotation.model_version },
    })))]);
  // Per conversation, the batch's last message decides intent and sentiment; the most severe one the severity.
  const byConversation = new Map<string, { accountId: string; intent: string | null; sentiment: string; severity: Severity }>();
  for (const i of fresh) {
    const a = i.annotation;
    const seen = byConversation.get(i.conversationId);
    const intent = a.intent === 'noise_low_intent' || a.intent === 'unknown' ? seen?.intent ?? null : a.intent;
    const severity = seen && SEVERITY_RANK[seen.severity] < SEVERITY_RANK[a.severity] ? seen.severity : a.severity;
    byConversation.set(i.conversationId, { accountId: i.accountId, intent, sentiment: a.sentiment, severity });
  }
  await query(em,
    `update ${S}.conversations c
        set intent = coalesce(u.intent, c.intent), sentiment = u.sentiment,
            severity = case when c.severity is null or u.severity < c.severity then u.severity else c.severity end
       from jsonb_to_recordset(?::jsonb) as u(id uuid, account_id uuid, intent text, sentiment text, severity text)
      where c.id = u.id and c.account_id = u.account_id`,
    [JSON.stringify([...byConversation].map(([id, v]) => ({ id, account_id: v.accountId, intent: v.intent, sentiment: v.sentiment, severity: v.severity })))]);
  for (const i of fresh) {
    const a = i.annotation;
    i.emit(events.messageAnnotated, {
      accountId: i.accountId, conversationId: i.conversationId, messageId: i.messageId, annotationId: annotationOf.get(i.messageId)!, intent: a.intent,
      intentConfidence: a.intent_confidence, severity: severities.toProto(a.severity), sentiment: a.sentiment, sentimentScore: a.sentiment_score,
      escalationRecommended: a.escalation_recommended, suggestedSkills: a.suggested_skills, modelVersion: a.model_version, humanCorrected: false, customerId: i.customerId,
    }, { entityId: i.messageId, accountId: i.accountId, conversationId: i.conversationId, customerId: i.customerId, actorType: 'ai' });
    const changes = leadChangesOf(a);
    if (i.propertyId && Object.keys(changes).length) {
      try {
        await updateLead({ em, emit: i.emit }, {
          scope: { accountId: i.accountId, propertyScope: null }, conversationId: i.conversationId, changes, expectedVersion: null, by: 'annotator',
          // The summary reads the whole lead, what earlier messages stated too.
          derive: (next) => ({ aiIntentSummary: leadSummary(next, a.lead.tour_time) }),
        });
      } catch (err) {
        // What the message states contradicts the lead (rent_min above the stated budget, a leased lead): the lead
        // keeps what an agent set; the annotation itself stands.
        if (!(err instanceof InvalidArgumentError || err instanceof FailedPreconditionError)) throw err;
        onLeadConflict?.(i.messageId, err.message);
      }
    }
  }
  return fresh.length;
}
