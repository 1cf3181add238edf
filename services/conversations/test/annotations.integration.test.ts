import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { events } from '@domiq/proto/events';
import type { MessageReceived } from '@domiq/proto/channel-gateway/events';
import { expectEventually, publishTestEvent, readStream, startTestStack, type TestStack } from '@domiq/testkit';

// Every inbound customer message is annotated by the offline annotator (packages/annotator): an ai_annotations row,
// the conversation's intent / severity / sentiment, message.annotated, and the lead fields the message states.
let stack: TestStack;
let accountId: string;
let agent: PromiseClient<ConversationsServiceClient>;
const agentId = crypto.randomUUID();
const propertyId = crypto.randomUUID();
let n = 0;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'conversations'] });
  accountId = await stack.createAccount('Annotated Living');
  agent = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'agent', userId: agentId });
});
afterAll(async () => stack?.stop());

async function receive(body: string, eventId?: string): Promise<{ conversationId: string; messageId: string }> {
  const event: MessageReceived = {
    inboundId: crypto.randomUUID(), accountId, propertyId, channelId: crypto.randomUUID(), channelType: 'CHANNEL_SMS', provider: 'twilio',
    providerMessageId: `SM${crypto.randomUUID().replaceAll('-', '')}`, fromAddress: `+1415555${String(8000 + n++).padStart(4, '0')}`, toAddress: '+15005550006', body,
    receivedAt: '2026-12-04T15:00:00.000Z', senderName: '',
  };
  await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, event, eventId);
  return expectEventually(async () => {
    const rows = await stack.db.query<{ conversation_id: string; id: string }>(`select conversation_id, id from conversations.messages where content = $1`, [body]);
    expect(rows).toHaveLength(1);
    return { conversationId: rows[0]!.conversation_id, messageId: rows[0]!.id };
  });
}

const annotationOf = (messageId: string) => expectEventually(async () => {
  const rows = await stack.db.query<{ id: string; intent: string; severity: string; sentiment: string; model_version: string; escalation_recommended: boolean }>(
    `select id, intent, severity, sentiment, model_version, escalation_recommended from conversations.ai_annotations where message_id = $1`, [messageId]);
  expect(rows).toHaveLength(1);
  return rows[0]!;
});

describe('the annotator on inbound messages', () => {
  it('reads a gas leak as urgent P0: stored, on the conversation, published with escalation recommended', async () => {
    const { conversationId, messageId } = await receive('There is a strong gas smell in the hallway of building B, please send someone now!!');
    const a = await annotationOf(messageId);
    expect(a).toMatchObject({ intent: 'urgent_high_risk', severity: 'P0', escalation_recommended: true });
    expect(a.model_version).not.toBe('');
    const [c] = await stack.db.query<{ intent: string; severity: string }>(`select intent, severity from conversations.conversations where id = $1`, [conversationId]);
    expect(c).toEqual({ intent: 'urgent_high_risk', severity: 'P0' });
    const [m] = await stack.db.query<{ ai_processed: boolean; summary: Record<string, string> }>(`select ai_processed, ai_annotations as summary from conversations.messages where id = $1`, [messageId]);
    expect(m).toMatchObject({ ai_processed: true, summary: { intent: 'urgent_high_risk', severity: 'P0', annotation_id: a.id } });
    const published = await expectEventually(async () => {
      const e = (await readStream(stack.nats.url, 'CONVERSATIONS')).find((x) => x.subject === 'conversations.message.annotated' && (x.data as { messageId?: string }).messageId === messageId);
      expect(e).toBeDefined();
      return e!.data;
    });
    expect(published).toMatchObject({ intent: 'urgent_high_risk', severity: 'SEVERITY_P0', escalationRecommended: true });
    expect(published).not.toHaveProperty('humanCorrected');
  });

  it('fills the lead with what a prospect states, with a one-line summary, as the annotator', async () => {
    const { conversationId } = await receive('hi! looking for a 2 bedroom for march, i have a dog, budget is 1800 max. can i tour this saturday?');
    const lead = await expectEventually(async () => {
      const { lead: l } = await agent.getLead({ accountId, conversationId });
      expect(l!.version).toBe(1);
      return l!;
    });
    expect(lead).toMatchObject({ isBookTour: true, updatedBy: 'annotator', preferences: { bedrooms: 2, moveIn: '2027-03', rentMax: 1800, pets: [{ type: 'dog', count: 1 }] } });
    expect(lead.aiIntentSummary).toMatch(/^2 bd, move-in 2027-03, 1 dog, up to \$1800, wants a tour/);
  });

  it('does not let a thank-you overwrite a conversation\'s intent, nor lower its severity, and annotates a replayed message once', async () => {
    const first = await receive('My rent payment was declined twice and now I was charged a late fee, this is ridiculous');
    const a = await annotationOf(first.messageId);
    const before = (await stack.db.query<{ intent: string; severity: string }>(`select intent, severity from conversations.conversations where id = $1`, [first.conversationId]))[0]!;
    expect(before.intent).toBe(a.intent);
    // The same sender again (same conversation): a thank-you.
    const phone = `+1415555${String(8000 + n - 1).padStart(4, '0')}`;
    const body = 'ok thanks';
    const event: MessageReceived = {
      inboundId: crypto.randomUUID(), accountId, propertyId, channelId: crypto.randomUUID(), channelType: 'CHANNEL_SMS', provider: 'twilio',
      providerMessageId: `SM${crypto.randomUUID().replaceAll('-', '')}`, fromAddress: phone, toAddress: '+15005550006', body, receivedAt: '2026-12-04T15:05:00.000Z', senderName: '',
    };
    await publishTestEvent(stack.nats.url, events.gatewayMessageReceived, event);
    const thanks = await expectEventually(async () => {
      const rows = await stack.db.query<{ id: string }>(`select id from conversations.messages where conversation_id = $1 and content = $2`, [first.conversationId, body]);
      expect(rows).toHaveLength(1);
      return rows[0]!.id;
    });
    const t = await annotationOf(thanks);
    expect(t.intent).toBe('noise_low_intent');
    const after = (await stack.db.query<{ intent: string; severity: string }>(`select intent, severity from conversations.conversations where id = $1`, [first.conversationId]))[0]!;
    expect(after).toEqual(before);
    // message.created of the first message replayed under another event id: still one annotation.
    const created = (await readStream(stack.nats.url, 'CONVERSATIONS')).find((x) => x.subject === 'conversations.message.created' && (x.data as { messageId?: string }).messageId === first.messageId)!;
    await publishTestEvent(stack.nats.url, events.messageCreated, events.messageCreated.codec.fromJSON(created.data), `conversations:replay-${first.messageId}`);
    await expectEventually(async () => expect(await stack.db.query(`select 1 from conversations.processed_event where event_id = $1`, [`conversations:replay-${first.messageId}`])).toHaveLength(1));
    expect(await stack.db.query(`select 1 from conversations.ai_annotations where message_id = $1`, [first.messageId])).toHaveLength(1);
  });

  it('takes a human\'s correction: recorded with who, when and why, the conversation follows, published as corrected', async () => {
    const { conversationId, messageId } = await receive('the portal shows a blank page when I open the payments tab');
    const a = await annotationOf(messageId);
    const { annotation } = await agent.correctAnnotation({ accountId, annotationId: a.id, intent: 'transaction_system_failure', severity: 'SEVERITY_P1', notes: 'the payment did not go through' });
    expect(annotation).toMatchObject({ intent: 'transaction_system_failure', severity: 'SEVERITY_P1', humanCorrected: true, correctedById: agentId, correctionNotes: 'the payment did not go through' });
    expect(annotation!.correctedAt).not.toBe('');
    const [c] = await stack.db.query<{ intent: string; severity: string }>(`select intent, severity from conversations.conversations where id = $1`, [conversationId]);
    expect(c).toEqual({ intent: 'transaction_system_failure', severity: 'P1' });
    await expectEventually(async () => {
      const e = (await readStream(stack.nats.url, 'CONVERSATIONS')).filter((x) => x.subject === 'conversations.message.annotated' && (x.data as { messageId?: string }).messageId === messageId);
      expect(e.map((x) => (x.data as { humanCorrected?: boolean }).humanCorrected ?? false)).toEqual([false, true]);
    });
    await expect(agent.correctAnnotation({ accountId, annotationId: a.id, intent: 'billing', notes: '' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('intent') });
    // Another account's agent, naming their own account: the annotation is not there for them.
    const otherAccount = crypto.randomUUID();
    const outsider = await stack.client(ConversationsServiceClient, 'conversations', { accountId: otherAccount, role: 'agent' });
    await expect(outsider.correctAnnotation({ accountId: otherAccount, annotationId: a.id, intent: 'unknown', notes: '' })).rejects.toMatchObject({ code: status.NOT_FOUND });
    expect((await stack.db.query<{ intent: string }>(`select intent from conversations.ai_annotations where id = $1`, [a.id]))[0]!.intent).toBe('transaction_system_failure');
  });
});
