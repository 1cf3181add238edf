import type { MikroORM } from '@domiq/db';
import { appendEvent } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { ConversationsServiceService, type ConversationsServiceServer, type Conversation as ConversationMsg, type Message as MessageMsg } from '@domiq/proto/conversations';
import { defineGrpcService, FailedPreconditionError, NotFoundError, requireOneOf, requireString, requireUuid, optionalUuid, type AccessTable, type GrpcService } from '@domiq/grpc';
import { auditActor } from '@domiq/auth';
import { currentTraceparent } from '@domiq/telemetry';
import { Conversation, Message } from '../db/conversations.entities.ts';

type ConversationRow = InstanceType<typeof Conversation.class>;

function toConversationMsg(c: ConversationRow): ConversationMsg {
  return {
    id: c.id, accountId: c.accountId, propertyId: c.propertyId ?? '', customerId: c.customerId, state: c.state,
    initialChannel: c.initialChannel, currentChannel: c.currentChannel ?? '', messageCount: c.messageCount,
    lastMessageAt: c.lastMessageAt?.toISOString() ?? '', createdAt: c.createdAt.toISOString(), severity: c.severity ?? '',
  };
}

function toMessageMsg(m: InstanceType<typeof Message.class>): MessageMsg {
  return {
    id: m.id, conversationId: m.conversation.id, channel: m.channel, direction: m.direction, senderType: m.senderType,
    content: m.content, channelMessageId: m.channelMessageId ?? '', status: m.status, createdAt: m.createdAt.toISOString(),
  };
}

/** Who may call each method. Property managers see only their properties' conversations (checked per row). */
export const conversationsAccess: AccessTable<ConversationsServiceServer> = {
  getConversation: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'] },
  listConversations: { roles: ['admin', 'supervisor', 'agent', 'property_manager'] },
  listMessages: { roles: ['admin', 'supervisor', 'agent', 'engineer', 'property_manager'] },
  escalateConversation: { roles: ['admin', 'supervisor', 'agent'] },
};

export function conversationsGrpcService(orm: MikroORM): GrpcService {
  const em = () => orm.em.fork({ clear: true });
  return defineGrpcService<ConversationsServiceServer>({
    name: 'domiq.conversations.v1.ConversationsService',
    definition: ConversationsServiceService,
    access: conversationsAccess,
    handlers: {
    async getConversation(req, ctx) {
      const { accountId } = ctx;
      const id = requireUuid(req.conversationId, 'conversation_id');
      const c = await em().findOne(Conversation, { id, accountId });
      if (!c || !ctx.reachesProperty(c.propertyId)) throw new NotFoundError(`conversation ${id} not found`);
      return { conversation: toConversationMsg(c) };
    },

    async listConversations(req, ctx) {
      const { accountId } = ctx;
      const customerId = optionalUuid(req.customerId, 'customer_id');
      const limit = Math.min(Math.max(req.limit || 50, 1), 500);
      const where = {
        accountId,
        ...(customerId ? { customerId } : {}),
        ...(ctx.propertyScope ? { propertyId: { $in: [...ctx.propertyScope] } } : {}),
      };
      const rows = await em().find(Conversation, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit });
      return { conversations: rows.map(toConversationMsg) };
    },

    async listMessages(req, ctx) {
      const { accountId } = ctx;
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      const fork = em();
      const scope = ctx.propertyScope ? { propertyId: { $in: [...ctx.propertyScope] } } : {};
      if (!(await fork.count(Conversation, { id: conversationId, accountId, ...scope }))) throw new NotFoundError(`conversation ${conversationId} not found`);
      const rows = await fork.find(Message, { accountId, conversation: conversationId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      return { messages: rows.map(toMessageMsg) };
    },

    async escalateConversation(req, ctx) {
      const { accountId } = ctx;
      const id = requireUuid(req.conversationId, 'conversation_id');
      const issueType = requireOneOf(req.issueType, 'issue_type', ['technical', 'billing', 'ops', 'compliance', 'security', 'other'] as const);
      const severity = requireOneOf(req.severity, 'severity', ['P0', 'P1', 'P2', 'P3'] as const, 'P2');
      const reason = requireString(req.reason, 'reason', 2000);
      const conversation = await em().transactional(async (tx) => {
        await tx.execute(`select set_config('domiq.traceparent', ?, true)`, [currentTraceparent() ?? '']);
        const c = await tx.findOne(Conversation, { id, accountId });
        if (!c) throw new NotFoundError(`conversation ${id} not found`);
        if (c.state === 'resolved') throw new FailedPreconditionError('a resolved conversation cannot be escalated');
        if (c.state !== 'escalated') {
          c.previousState = c.state;
          c.state = 'escalated';
        }
        c.severity = severity;
        appendEvent(tx, events.conversationEscalated, {
          accountId, propertyId: c.propertyId ?? '', conversationId: c.id, customerId: c.customerId, issueType, reason, severity, escalatedAt: new Date().toISOString(),
        }, { entityId: c.id, accountId, conversationId: c.id, customerId: c.customerId, ...auditActor(ctx.caller) });
        return c;
      });
      return { conversation: toConversationMsg(conversation) };
    },
    },
  });
}
