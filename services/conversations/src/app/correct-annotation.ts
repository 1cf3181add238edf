import type { UnitOfWork } from '@domiq/bus';
import { InvalidArgumentError, NotFoundError } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { severities, type Severity } from '@domiq/proto/vocabulary';
import { INTENTS, SENTIMENTS } from '@domiq/annotator';
import { AiAnnotation, Message, type AiAnnotationRow } from '../db/conversations.entities.ts';
import { lockConversation, type ReadScope } from './conversation.queries.ts';

export interface Correction {
  scope: ReadScope;
  annotationId: string;
  intent: string | null;
  severity: Severity | null;
  sentiment: string | null;
  notes: string;
  correctedBy: string;
}

/**
 * A human's correction: the annotation takes the corrected values with who, when and why (human_corrected), its
 * conversation takes the corrected reading, and message.annotated is published again (human_corrected: true). The
 * conversation's row lock orders it with the annotator's own updates.
 */
export async function correctAnnotation(uow: UnitOfWork, c: Correction): Promise<AiAnnotationRow> {
  if (c.intent !== null && !(INTENTS as readonly string[]).includes(c.intent)) throw new InvalidArgumentError('intent', `must be one of ${INTENTS.join(', ')}`);
  if (c.sentiment !== null && !(SENTIMENTS as readonly string[]).includes(c.sentiment)) throw new InvalidArgumentError('sentiment', `must be one of ${SENTIMENTS.join(', ')}`);
  const a = await uow.em.findOne(AiAnnotation, { id: c.annotationId, accountId: c.scope.accountId });
  const message = a ? await uow.em.findOne(Message, { id: a.messageId, accountId: c.scope.accountId }) : null;
  if (!a || !message) throw new NotFoundError(`annotation ${c.annotationId} not found`);
  const conversation = await lockConversation(uow.em, c.scope, message.conversation.id);
  const now = new Date();
  if (c.intent !== null) a.intent = c.intent;
  if (c.severity !== null) a.severity = c.severity;
  if (c.sentiment !== null) a.sentiment = c.sentiment;
  Object.assign(a, { humanCorrected: true, correctedById: c.correctedBy, correctedAt: now, correctionNotes: c.notes || null });
  conversation.intent = a.intent;
  conversation.severity = a.severity;
  conversation.sentiment = a.sentiment;
  uow.emit(events.messageAnnotated, {
    accountId: a.accountId, conversationId: conversation.id, messageId: a.messageId, annotationId: a.id, intent: a.intent, intentConfidence: Number(a.intentConfidence),
    severity: severities.toProto(a.severity), sentiment: a.sentiment, sentimentScore: Number(a.sentimentScore ?? 0), escalationRecommended: a.escalationRecommended,
    suggestedSkills: a.suggestedSkills ?? [], modelVersion: a.modelVersion, humanCorrected: true, customerId: conversation.customerId,
  }, { entityId: a.messageId, accountId: a.accountId, conversationId: conversation.id, customerId: conversation.customerId });
  return a;
}
