import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@domiq/db';
import { NotFoundError } from '@domiq/grpc';
import { Conversation, Message, type ConversationRow, type MessageRow } from '../db/conversations.entities.ts';

/** Who is reading: the account, and the properties they are limited to (null: every property of the account). */
export interface ReadScope {
  accountId: string;
  propertyScope: readonly string[] | null;
}

// A property-limited reader sees only conversations of their properties (none without a property).
const scoped = ({ accountId, propertyScope }: ReadScope) => ({ accountId, ...(propertyScope ? { propertyId: { $in: [...propertyScope] } } : {}) });

export async function getConversation(em: EntityManager, scope: ReadScope, conversationId: string): Promise<ConversationRow> {
  const c = await em.findOne(Conversation, { id: conversationId, ...scoped(scope) });
  if (!c) throw new NotFoundError(`conversation ${conversationId} not found`);
  return c;
}

export async function listConversations(em: EntityManager, scope: ReadScope, filter: { customerId: string | null; limit: number }): Promise<ConversationRow[]> {
  const where = { ...scoped(scope), ...(filter.customerId ? { customerId: filter.customerId } : {}) };
  return em.find(Conversation, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: filter.limit });
}

/** The conversation's timeline, oldest first; NotFoundError when the reader cannot see the conversation. */
export async function listMessages(em: EntityManager, scope: ReadScope, conversationId: string): Promise<MessageRow[]> {
  if (!(await em.count(Conversation, { id: conversationId, ...scoped(scope) }))) throw new NotFoundError(`conversation ${conversationId} not found`);
  return em.find(Message, { accountId: scope.accountId, conversation: conversationId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
}

/**
 * The conversation row-locked until the transaction ends (a message being threaded into it meanwhile changes it after
 * us, from our state); NotFoundError when the caller cannot see it.
 */
export async function lockConversation(em: EntityManager, scope: ReadScope, conversationId: string): Promise<ConversationRow> {
  const c = await em.findOne(Conversation, { id: conversationId, ...scoped(scope) }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!c) throw new NotFoundError(`conversation ${conversationId} not found`);
  return c;
}
