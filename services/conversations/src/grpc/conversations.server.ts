import type { MikroORM } from '@domiq/db';
import { inTransaction, readModel } from '@domiq/bus';
import { ConversationsServiceService, type ConversationsServiceServer, type Conversation as ConversationMsg, type Message as MessageMsg } from '@domiq/proto/conversations';
import { defineGrpcService, InvalidArgumentError, requireEnum, requireString, requireUuid, optionalUuid, type AccessGrant, type AccessTable, type GrpcService } from '@domiq/grpc';
import { channels, conversationStates, issueTypes, severities, type Channel } from '@domiq/proto/vocabulary';
import { auditActor } from '@domiq/auth';
import type { ConversationRow, MessageRow } from '../db/conversations.entities.ts';
import { getConversation, listConversations, listMessages, type ReadScope } from '../app/conversation.queries.ts';
import { escalateConversation } from '../app/escalate-conversation.ts';
import { sendReply } from '../app/send-reply.ts';
import { resolveConversation } from '../app/resolve-conversation.ts';
import { getLead, updateLead } from '../app/update-lead.ts';
import { toLeadMsg } from '../app/lead-contract.ts';
import { leadChangesOf } from './lead-changes.ts';
import { searchMessages } from '../db/message-search.repository.ts';
import { correctAnnotation } from '../app/correct-annotation.ts';
import { addInternalNote, listInternalNotes, NOTE_VISIBILITIES, type Reader } from '../app/internal-notes.ts';
import type { InternalNoteRow } from '../db/conversations.entities.ts';
import type { InternalNote as InternalNoteMsg } from '@domiq/proto/conversations';
import { isUuid, requireOneOf } from '@domiq/grpc';
import { isIdempotencyKeyConflict } from '../db/database-errors.ts';

function toConversationMsg(c: ConversationRow): ConversationMsg {
  return {
    id: c.id, accountId: c.accountId, propertyId: c.propertyId ?? '', customerId: c.customerId, state: conversationStates.toProto(c.state),
    initialChannel: channels.toProto(c.initialChannel), currentChannel: c.currentChannel ? channels.toProto(c.currentChannel) : 'CHANNEL_UNSPECIFIED',
    messageCount: c.messageCount, lastMessageAt: c.lastMessageAt?.toISOString() ?? '', createdAt: c.createdAt.toISOString(),
    severity: c.severity ? severities.toProto(c.severity) : 'SEVERITY_UNSPECIFIED',
    previousState: c.previousState ? conversationStates.toProto(c.previousState) : 'CONVERSATION_STATE_UNSPECIFIED',
    firstResponseAt: c.firstResponseAt?.toISOString() ?? '', resolvedAt: c.resolvedAt?.toISOString() ?? '', reopenedAt: c.reopenedAt?.toISOString() ?? '',
  };
}

function toMessageMsg(m: MessageRow): MessageMsg {
  return {
    id: m.id, conversationId: m.conversation.id, channel: m.channel === 'internal' ? 'CHANNEL_UNSPECIFIED' : channels.toProto(m.channel), direction: m.direction, senderType: m.senderType,
    content: m.content, channelMessageId: m.channelMessageId ?? '', status: m.status, createdAt: m.createdAt.toISOString(),
    errorMessage: m.errorMessage ?? '', deliveredAt: m.deliveredAt?.toISOString() ?? '', readAt: m.readAt?.toISOString() ?? '', senderId: m.senderId ?? '',
  };
}

const readScope = (ctx: AccessGrant): ReadScope => ({ accountId: ctx.accountId, propertyScope: ctx.propertyScope });

function toNoteMsg(n: InternalNoteRow): InternalNoteMsg {
  return {
    id: n.id, conversationId: n.conversationId ?? '', authorId: n.authorId, content: n.content, visibility: n.visibility, mentions: n.mentions,
    createdAt: n.createdAt.toISOString(),
  };
}

/** The user behind a call (notes are written and read by users only: the access table admits no service). */
function userOf(ctx: AccessGrant): Reader {
  if (ctx.caller.kind !== 'user') throw new InvalidArgumentError('authorization', 'notes are written and read by users');
  return { ...readScope(ctx), userId: ctx.caller.subject, role: ctx.caller.role };
}

/** Who may call each method. Property managers see only their properties' conversations (checked per row). */
export const conversationsAccess: AccessTable<ConversationsServiceServer> = {
  getConversation: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'] },
  listConversations: { roles: ['admin', 'supervisor', 'agent', 'property_manager'] },
  listMessages: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'] },
  escalateConversation: { roles: ['admin', 'supervisor', 'agent'] },
  // Property managers answer their properties' prospects (checked on the conversation's row); services never reply.
  sendReply: { roles: ['admin', 'supervisor', 'agent', 'property_manager'] },
  resolveConversation: { roles: ['admin', 'supervisor', 'agent', 'property_manager'] },
  reopenConversation: { roles: ['admin', 'supervisor', 'agent', 'property_manager'] },
  // The ResMan connector reads leads and writes ResMan-side changes back.
  getLead: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'], services: ['resman-connector'] },
  updateLead: { roles: ['admin', 'supervisor', 'agent', 'property_manager'], services: ['resman-connector'] },
  addInternalNote: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'] },
  listInternalNotes: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'] },
  searchMessages: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'] },
  correctAnnotation: { roles: ['admin', 'supervisor', 'agent'] },
};

/** A reply: plain text, within what every SMS provider accepts (1600 characters). */
export const MAX_REPLY_CHARS = 1600;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,100}$/;

export function conversationsGrpcService(orm: MikroORM): GrpcService {
  return defineGrpcService<ConversationsServiceServer>({
    name: 'domiq.conversations.v1.ConversationsService',
    definition: ConversationsServiceService,
    access: conversationsAccess,
    handlers: {
    async getConversation(req, ctx) {
      const id = requireUuid(req.conversationId, 'conversation_id');
      return { conversation: toConversationMsg(await getConversation(readModel(orm), readScope(ctx), id)) };
    },

    async listConversations(req, ctx) {
      const customerId = optionalUuid(req.customerId, 'customer_id');
      const limit = Math.min(Math.max(req.limit || 50, 1), 500);
      const rows = await listConversations(readModel(orm), readScope(ctx), { customerId, limit });
      return { conversations: rows.map(toConversationMsg) };
    },

    async listMessages(req, ctx) {
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      const rows = await listMessages(readModel(orm), readScope(ctx), conversationId);
      return { messages: rows.map(toMessageMsg) };
    },

    async escalateConversation(req, ctx) {
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      const issueType = requireEnum(issueTypes, req.issueType, 'issue_type');
      const severity = requireEnum(severities, req.severity, 'severity', 'P2');
      const reason = requireString(req.reason, 'reason', 2000);
      const conversation = await inTransaction(orm, auditActor(ctx.caller), (uow) =>
        escalateConversation(uow, { accountId: ctx.accountId, conversationId, issueType, severity, reason }));
      return { conversation: toConversationMsg(conversation) };
    },

    async sendReply(req, ctx) {
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      // Not trimmed: what the agent wrote is sent as written (only an all-blank reply is refused).
      const content = req.content ?? '';
      if (!content.trim()) throw new InvalidArgumentError('content', 'is required');
      if (content.length > MAX_REPLY_CHARS) throw new InvalidArgumentError('content', `must be at most ${MAX_REPLY_CHARS} characters`);
      const idempotencyKey = req.idempotencyKey ?? '';
      if (!idempotencyKey) throw new InvalidArgumentError('idempotency_key', 'is required');
      if (!IDEMPOTENCY_KEY.test(idempotencyKey)) throw new InvalidArgumentError('idempotency_key', 'must be 1-100 characters of A-Z, a-z, 0-9, _ . : -');
      if (ctx.caller.kind !== 'user') throw new InvalidArgumentError('authorization', 'a reply is sent by a user');
      const senderId = ctx.caller.subject;
      try {
        const { message, created } = await inTransaction(orm, auditActor(ctx.caller), (uow) =>
          sendReply(uow, { scope: readScope(ctx), conversationId, senderId, content, idempotencyKey }));
        return { message: toMessageMsg(message), created };
      } catch (err) {
        // The same key at once on another conversation (a replay of the same reply waits on the row lock instead).
        if (isIdempotencyKeyConflict(err)) throw new InvalidArgumentError('idempotency_key', 'was already used for a different reply');
        throw err;
      }
    },

    async resolveConversation(req, ctx) {
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      const c = await inTransaction(orm, auditActor(ctx.caller), (uow) => resolveConversation(uow, readScope(ctx), conversationId, 'resolve'));
      return { conversation: toConversationMsg(c) };
    },

    async reopenConversation(req, ctx) {
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      const c = await inTransaction(orm, auditActor(ctx.caller), (uow) => resolveConversation(uow, readScope(ctx), conversationId, 'reopen'));
      return { conversation: toConversationMsg(c) };
    },

    async getLead(req, ctx) {
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      return { lead: toLeadMsg(await getLead(readModel(orm), readScope(ctx), conversationId)) };
    },

    async updateLead(req, ctx) {
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      const changes = leadChangesOf(req.changes);
      const expectedVersion = req.expectedVersion ?? null;
      if (expectedVersion !== null && (!Number.isInteger(expectedVersion) || expectedVersion < 0)) throw new InvalidArgumentError('expected_version', 'must be a version (0 or more)');
      const by = ctx.caller.kind === 'user' ? `user:${ctx.caller.subject}` : ctx.caller.subject;
      const { lead, changed } = await inTransaction(orm, auditActor(ctx.caller), (uow) => updateLead(uow, { scope: readScope(ctx), conversationId, changes, expectedVersion, by }));
      return { lead: toLeadMsg(lead), changedFields: changed };
    },

    async addInternalNote(req, ctx) {
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      const content = requireString(req.content, 'content', 10_000);
      const visibility = requireOneOf(req.visibility, 'visibility', NOTE_VISIBILITIES, 'team');
      if (req.mentions.length > 50) throw new InvalidArgumentError('mentions', 'must name at most 50 users');
      const mentions = req.mentions.map((m, i) => {
        if (!isUuid(m)) throw new InvalidArgumentError(`mentions[${i}]`, 'must be a user id (UUID)');
        return m.toLowerCase();
      });
      const author = userOf(ctx);
      const note = await inTransaction(orm, auditActor(ctx.caller), (uow) =>
        addInternalNote(uow, { scope: author, conversationId, authorId: author.userId, content, visibility, mentions }));
      return { note: toNoteMsg(note) };
    },

    async listInternalNotes(req, ctx) {
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      return { notes: (await listInternalNotes(readModel(orm), userOf(ctx), conversationId)).map(toNoteMsg) };
    },

    async correctAnnotation(req, ctx) {
      const annotationId = requireUuid(req.annotationId, 'annotation_id');
      const severity = req.severity === undefined ? null : requireEnum(severities, req.severity, 'severity');
      if (req.notes.length > 2000) throw new InvalidArgumentError('notes', 'must be at most 2000 characters');
      const user = userOf(ctx);
      const a = await inTransaction(orm, auditActor(ctx.caller), (uow) => correctAnnotation(uow, {
        scope: user, annotationId, intent: req.intent ?? null, severity, sentiment: req.sentiment ?? null, notes: req.notes.trim(), correctedBy: user.userId,
      }));
      return {
        annotation: {
          id: a.id, messageId: a.messageId, intent: a.intent, intentConfidence: Number(a.intentConfidence), severity: severities.toProto(a.severity), sentiment: a.sentiment,
          sentimentScore: Number(a.sentimentScore ?? 0), escalationRecommended: a.escalationRecommended, modelVersion: a.modelVersion, humanCorrected: a.humanCorrected,
          correctedById: a.correctedById ?? '', correctedAt: a.correctedAt?.toISOString() ?? '', correctionNotes: a.correctionNotes ?? '',
        },
      };
    },

    async searchMessages(req, ctx) {
      const text = requireString(req.query, 'query', 200);
      const limit = req.limit === 0 ? 20 : req.limit;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidArgumentError('limit', 'must be from 1 to 100');
      const conversationId = optionalUuid(req.conversationId, 'conversation_id');
      const hits = await searchMessages(readModel(orm), { ...readScope(ctx), conversationId, text, limit, groupByConversation: req.groupByConversation });
      return {
        hits: hits.map((h) => ({
          messageId: h.messageId, conversationId: h.conversationId, channel: h.channel === 'internal' ? 'CHANNEL_UNSPECIFIED' : channels.toProto(h.channel as Channel),
          direction: h.direction, createdAt: h.createdAt.toISOString(), snippet: h.snippet, rank: h.rank,
        })),
      };
    },
    },
  });
}
