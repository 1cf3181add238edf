import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { events } from '@domiq/proto/events';
import type { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { expectEventually, publishTestEvent, readStream, startTestStack, type TestStack } from '@domiq/testkit';

// Internal notes on a conversation: never sent, visible by their visibility, counted on the conversation, and each
// mention published for whoever notifies the user.
let stack: TestStack;
let accountId: string;
const propertyId = crypto.randomUUID();
const authorId = crypto.randomUUID();
const colleagueId = crypto.randomUUID();
let author: PromiseClient<ConversationsServiceClient>;
let colleague: PromiseClient<ConversationsServiceClient>;
let manager: PromiseClient<ConversationsServiceClient>;
let n = 0;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'conversations'] });
  accountId = await stack.createAccount('Notes Living');
  author = await stack.client(ConversationsServiceClient, 'conversations', { accountId, userId: authorId, role: 'agent' });
  colleague = await stack.client(ConversationsServiceClient, 'conversations', { accountId, userId: colleagueId, role: 'supervisor' });
  manager = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'property_manager', propertyIds: [propertyId] });
});
afterAll(async () => stack?.stop());

async function conversation(): Promise<string> {
  const body = `notes ${crypto.randomUUID()}`;
  const event: MessageReceived = {
    inboundId: crypto.randomUUID(), accountId, propertyId, channelId: crypto.randomUUID(), channelType: 'CHANNEL_SMS', provider: 'twilio',
    providerMessageId: `SM${crypto.randomUUID().replaceAll('-', '')}`, fromAddress: `+1415555${String(5000 + n++).padStart(4, '0')}`, toAddress: '+15005550006', body,
    receivedAt: new Date().toISOString(), senderName: '',
  };
  await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, event);
  return expectEventually(async () => {
    const rows = await stack.db.query<{ conversation_id: string }>(`select conversation_id from conversations.messages where content = $1`, [body]);
    expect(rows).toHaveLength(1);
    return rows[0]!.conversation_id;
  });
}

describe('internal notes', () => {
  it('adds a note with mentions: counted on the conversation, not in the timeline, one mention event per other user', async () => {
    const id = await conversation();
    const { note } = await author.addInternalNote({ accountId, conversationId: id, content: 'Customer called twice; @Sam please check the ledger', visibility: 'all', mentions: [colleagueId, authorId, colleagueId] });
    expect(note).toMatchObject({ authorId, visibility: 'all', mentions: [colleagueId, authorId] });
    const [row] = await stack.db.query<{ internal_note_count: number; message_count: number }>(`select internal_note_count, message_count from conversations.conversations where id = $1`, [id]);
    expect(row).toEqual({ internal_note_count: 1, message_count: 1 });
    expect((await author.listMessages({ accountId, conversationId: id })).messages).toHaveLength(1);
    const mentions = await expectEventually(async () => {
      const published = (await readStream(stack.nats.url, 'CONVERSATIONS')).filter((m) => (m.data as { noteId?: string }).noteId === note!.id);
      expect(published.map((m) => m.subject).sort()).toEqual(['conversations.internal_note.added', 'conversations.internal_note.mentioned']);
      return published.filter((m) => m.subject === 'conversations.internal_note.mentioned');
    });
    expect(mentions[0]!.data).toMatchObject({ mentionedUserId: colleagueId, authorId, excerpt: 'Customer called twice; @Sam please check the ledger' });

    // A team note's mention carries no text (the mentioned user's role is not known here); a private one notifies nobody.
    const team = await author.addInternalNote({ accountId, conversationId: id, content: 'team only: her deposit is late', visibility: 'team', mentions: [colleagueId] });
    const hidden = await author.addInternalNote({ accountId, conversationId: id, content: 'private: call her back', visibility: 'private', mentions: [colleagueId] });
    const later = await expectEventually(async () => {
      const published = (await readStream(stack.nats.url, 'CONVERSATIONS')).filter((m) => [team.note!.id, hidden.note!.id].includes((m.data as { noteId?: string }).noteId ?? ''));
      expect(published.filter((m) => m.subject === 'conversations.internal_note.added')).toHaveLength(2);
      return published.filter((m) => m.subject === 'conversations.internal_note.mentioned');
    });
    expect(later.map((m) => m.data)).toEqual([expect.objectContaining({ noteId: team.note!.id, mentionedUserId: colleagueId })]);
    expect(later[0]!.data).not.toHaveProperty('excerpt');
  });

  it('shows each note only to who may read it: private to its author, team to staff, all to property managers too', async () => {
    const id = await conversation();
    for (const visibility of ['private', 'team', 'all']) await author.addInternalNote({ accountId, conversationId: id, content: `a ${visibility} note`, visibility, mentions: [] });
    const seen = async (c: PromiseClient<ConversationsServiceClient>) => (await c.listInternalNotes({ accountId, conversationId: id })).notes.map((n) => n.visibility);
    expect(await seen(author)).toEqual(['private', 'team', 'all']);
    expect(await seen(colleague)).toEqual(['team', 'all']);
    expect(await seen(manager)).toEqual(['all']);
  });

  it('refuses bad input naming the field, and another tenant, writing nothing', async () => {
    const id = await conversation();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ content: '  ' }, 'content'],
      [{ content: 'x'.repeat(10_001) }, 'content'],
      [{ visibility: 'everyone' }, 'visibility'],
      [{ mentions: ['sam'] }, 'mentions[0]'],
    ];
    for (const [over, field] of cases) {
      await expect(author.addInternalNote({ accountId, conversationId: id, content: 'ok', visibility: '', mentions: [], ...over }), field)
        .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining(field) });
    }
    const otherAccount = crypto.randomUUID();
    const outsider = await stack.client(ConversationsServiceClient, 'conversations', { accountId: otherAccount, role: 'agent' });
    await expect(outsider.addInternalNote({ accountId: otherAccount, conversationId: id, content: 'hi', visibility: '', mentions: [] })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(outsider.listInternalNotes({ accountId: otherAccount, conversationId: id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    expect(await stack.db.query(`select 1 from conversations.internal_notes where conversation_id = $1`, [id])).toHaveLength(0);
  });
});
