import type { MikroORM } from '@domiq/db';
import { appendEvent } from '@domiq/bus';
import { events } from '@domiq/proto/events';
import { ConversationsServiceService, type ConversationsServiceServer, type Conversation as ConversationMsg, type Message as MessageMsg } from '@domiq/proto/conversations';
import { implement, FailedPreconditionError, NotFoundError, requireOneOf, requireString, requireUuid, optionalUuid, type GrpcService } from '@domiq/grpc';
import { currentTraceparent } from '@domiq/telemetry';
import type { Logger } from '@domiq/logging';
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

export function conversationsGrpcService(orm: MikroORM, logger: Logger): GrpcService {
  const em = () => orm.em.fork({ clear: true });
  const impl = implement<ConversationsServiceServer>({
    async getConversation(req) {
      const accountId = requireUuid(req.accountId, 'account_id');
      const id = requireUuid(req.conversationId, 'conversation_id');
      const c = await em().findOne(Conversation, { id, accountId });
      if (!c) throw new NotFoundError(`conversation ${id} not found`);
      return { conversation: toConversationMsg(c) };
    },

    async listConversations(req) {
      const accountId = requireUuid(req.accountId, 'account_id');
      const customerId = optionalUuid(req.customerId, 'customer_id');
      const limit = Math.min(Math.max(req.limit || 50, 1), 500);
      const rows = await em().find(Conversation, customerId ? { accountId, customerId } : { accountId }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit });
      return { conversations: rows.map(toConversationMsg) };
    },

    async listMessages(req) {
      const accountId = requireUuid(req.accountId, 'account_id');
      const conversationId = requireUuid(req.conversationId, 'conversation_id');
      const fork = em();
      if (!(await fork.count(Conversation, { id: conversationId, accountId }))) throw new NotFoundError(`conversation ${conversationId} not found`);
      const rows = await fork.find(Message, { accountId, conversation: conversationId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      return { messages: rows.map(toMessageMsg) };
    },

    async escalateConversation(req) {
      const accountId = requireUuid(req.accountId, 'account_id');
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
        }, { entityId: c.id, accountId, conversationId: c.id, customerId: c.customerId, actorType: 'user' });
        return c;
      });
      return { conversation: toConversationMsg(conversation) };
    },
  }, logger);
  return { name: 'domiq.conversations.v1.ConversationsService', definition: ConversationsServiceService, implementation: impl };
}
