import type { UnitOfWork } from '@domiq/bus';
import type { EntityManager } from '@domiq/db';
import type { Role } from '@domiq/proto/vocabulary';
import { events } from '@domiq/proto/events';
import { InternalNote, type InternalNoteRow } from '../db/conversations.entities.ts';
import { getConversation, lockConversation, type ReadScope } from './conversation.queries.ts';

export const NOTE_VISIBILITIES = ['private', 'team', 'all'] as const;
export type NoteVisibility = (typeof NOTE_VISIBILITIES)[number];

/** Who reads a note: the account's staff see `team` notes, everyone who sees the conversation sees `all` notes. */
const STAFF: readonly Role[] = ['admin', 'supervisor', 'agent', 'engineer'];

export interface Reader extends ReadScope {
  userId: string;
  role: Role;
}

/** Whether `reader` may read the note (its author always may). */
export function canRead(note: Pick<InternalNoteRow, 'authorId' | 'visibility'>, reader: Reader): boolean {
  if (note.authorId === reader.userId) return true;
  if (note.visibility === 'all') return true;
  if (note.visibility === 'team') return STAFF.includes(reader.role);
  return false;
}

export interface AddNoteInput {
  scope: ReadScope;
  conversationId: string;
  authorId: string;
  content: string;
  visibility: NoteVisibility;
  mentions: readonly string[];
}

/**
 * Adds a note to a conversation the author can see: the note, the conversation's internal_note_count, note.added and
 * one note.mentioned per user mentioned (the author mentioning themselves is no notification), in one transaction.
 */
export async function addInternalNote(uow: UnitOfWork, input: AddNoteInput): Promise<InternalNoteRow> {
  const c = await lockConversation(uow.em, input.scope, input.conversationId);
  const now = new Date();
  const mentions = [...new Set(input.mentions)];
  const note = uow.em.create(InternalNote, {
    id: crypto.randomUUID(), accountId: c.accountId, conversationId: c.id, content: input.content, visibility: input.visibility, authorId: input.authorId,
    mentions, createdAt: now, updatedAt: now,
  });
  c.internalNoteCount += 1;
  const meta = { entityId: note.id, accountId: c.accountId, conversationId: c.id, customerId: c.customerId };
  uow.emit(events.internalNoteAdded, {
    accountId: c.accountId, conversationId: c.id, noteId: note.id, authorId: input.authorId, visibility: input.visibility, mentions, createdAt: now.toISOString(),
  }, meta);
  // A private note notifies nobody (only its author may read it); a team note's mention carries no text, as the
  // mentioned user's role is not known here (only staff may read it); a note for all quotes its beginning.
  if (input.visibility !== 'private') {
    for (const user of mentions.filter((u) => u !== input.authorId)) {
      uow.emit(events.internalNoteMentioned, {
        accountId: c.accountId, conversationId: c.id, noteId: note.id, authorId: input.authorId, mentionedUserId: user,
        excerpt: input.visibility === 'all' ? input.content.slice(0, 200) : '', createdAt: now.toISOString(),
      }, meta);
    }
  }
  return note;
}

/** The notes of a conversation the reader can see, those they may read, oldest first. */
export async function listInternalNotes(em: EntityManager, reader: Reader, conversationId: string): Promise<InternalNoteRow[]> {
  await getConversation(em, reader, conversationId);
  const notes = await em.find(InternalNote, { accountId: reader.accountId, conversationId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  return notes.filter((n) => canRead(n, reader));
}
