import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@domiq/grpc';
import { RoutingSlaServiceClient } from '@domiq/proto/routing-sla';
import { ResmanConnectorServiceClient } from '@domiq/proto/resman-connector';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { ResolutionsServiceClient } from '@domiq/proto/resolutions';
import { expectEventually, seedDemo, startTestStack, type CollectedSpan, type TestStack, DEMO } from '@domiq/testkit';
import { sendInboundSms, newMessageSid } from '@domiq/twilio-sim';

// The walking skeleton end to end: a signed Twilio webhook through all five services that handle it.
const TOKEN = 'e2e-twilio-token';
const SPAN_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

let stack: TestStack;
let demo: typeof DEMO;
let webhookUrl: string;
let token: string;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity', 'conversations', 'routing-sla', 'resolutions', 'resman-connector', 'channel-gateway'], traces: true, resmanSim: true });
  token = await stack.token({ accountId: DEMO.accountId, userId: DEMO.adminUserId });
  demo = await seedDemo({
    identity: stack.grpcAddr('identity'), routingSla: stack.grpcAddr('routing-sla'), resmanConnector: stack.grpcAddr('resman-connector'),
    channelGateway: stack.grpcAddr('channel-gateway'), resmanBaseUrl: `http://127.0.0.1:${stack.ports.resmanSim}`,
  }, TOKEN, token);
  webhookUrl = `http://127.0.0.1:${stack.ports.gatewayHttp}/webhooks/twilio/${demo.channelKey}`;
}, 180_000);
afterAll(async () => stack?.stop());

const sms = (from: string, body: string, messageSid?: string) => ({ accountSid: demo.twilioAccountSid, to: demo.twilioNumber, from, body, messageSid });

async function simProspects(): Promise<Array<{ prospectId?: string; people: Array<{ phone?: string }>; events: Array<{ eventType?: string; comments?: string; interactionType?: string; description?: string }> }>> {
  const res = await fetch(`http://127.0.0.1:${stack.ports.resmanSim}/_sim/prospects`);
  const body = (await res.json()) as unknown;
  return (Array.isArray(body) ? body : (body as { prospects: unknown[] }).prospects) as never;
}

function eventsMentioning(prospects: Awaited<ReturnType<typeof simProspects>>, text: string): number {
  return prospects.flatMap((p) => p.events).filter((e) => JSON.stringify(e).includes(text)).length;
}

describe('SMS ingest end to end', () => {
  it('produces one trace spanning gateway, conversations, identity, routing-sla and resman-connector, joined across NATS', async () => {
    const res = await sendInboundSms(webhookUrl, TOKEN, sms('+14155550191', 'Is the studio available in March?'));
    expect(res.status).toBe(200);
    expect(res.body).toContain('<Response></Response>');
    const server = await expectEventually(() => {
      const span = stack.collector!.spans.find((s) => s.service === 'channel-gateway' && s.kind === SPAN_KIND.SERVER && String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? s.name).includes('/webhooks/twilio/'));
      if (!span) throw new Error('no gateway server span yet');
      return span;
    });
    const hop = (spans: CollectedSpan[], consumerService: string, producerService: string) => {
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      return spans.some((s) => s.service === consumerService && s.kind === SPAN_KIND.CONSUMER && byId.get(s.parentSpanId)?.kind === SPAN_KIND.PRODUCER && byId.get(s.parentSpanId)?.service === producerService);
    };
    // A consumer span is exported when its handler ends (the connector's after ResMan answered): poll for all of it.
    const trace = await expectEventually(() => {
      const spans = stack.collector!.trace(server.traceId);
      const services = new Set(spans.map((s) => s.service));
      for (const name of ['channel-gateway', 'conversations', 'identity', 'routing-sla', 'resman-connector']) {
        if (!services.has(name)) throw new Error(`trace lacks ${name}: has ${[...services].join(', ')}`);
      }
      for (const [consumer, producer] of [['conversations', 'channel-gateway'], ['routing-sla', 'conversations'], ['resman-connector', 'conversations']] as const) {
        if (!hop(spans, consumer, producer)) throw new Error(`no ${producer} -> ${consumer} hop joined by a producer span yet`);
      }
      return spans;
    }, { timeoutMs: 30_000 });
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    expect(hop(trace, 'conversations', 'channel-gateway')).toBe(true);
    expect(hop(trace, 'routing-sla', 'conversations')).toBe(true);
    expect(hop(trace, 'resman-connector', 'conversations')).toBe(true);
    // Database work is traced too (pg instrumentation), under the services' own spans.
    const pg = trace.filter((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql');
    expect(new Set(pg.map((s) => s.service))).toEqual(new Set(['channel-gateway', 'conversations', 'identity', 'routing-sla', 'resman-connector']));
    // identity is reached from conversations over gRPC inside the same trace.
    expect(trace.some((s) => s.service === 'identity' && s.kind === SPAN_KIND.SERVER && byId.get(s.parentSpanId)?.service === 'conversations')).toBe(true);
  });

  it('assigns an agent and records a first-response due time, and logs the text to ResMan', async () => {
    await sendInboundSms(webhookUrl, TOKEN, sms('+14155550192', 'Can I bring my cat?'));
    const [row] = await expectEventually(async () => {
      const rows = await stack.db.query<{ id: string; customer_id: string }>(`select c.id, c.customer_id from conversations.conversations c join conversations.messages m on m.conversation_id = c.id where m.content = 'Can I bring my cat?'`);
      expect(rows).toHaveLength(1);
      return rows;
    });
    const routing = createClient(RoutingSlaServiceClient, stack.grpcAddr('routing-sla'), { token });
    const resman = createClient(ResmanConnectorServiceClient, stack.grpcAddr('resman-connector'), { token });
    try {
      const r = await expectEventually(() => routing.client.getConversationRouting({ accountId: demo.accountId, conversationId: row!.id }));
      expect(demo.agentIds).toContain(r.assignedAgentId);
      expect(Date.parse(r.firstResponseDueAt)).toBeGreaterThan(0);
      const lead = await expectEventually(async () => {
        const l = await resman.client.getLeadSync({ accountId: demo.accountId, propertyId: demo.propertyId, customerId: row!.customer_id });
        if (!l.prospectId) throw new Error('not synced yet');
        return l;
      });
      const prospects = await simProspects();
      expect(JSON.stringify(prospects)).toContain(lead.prospectId);
      expect(eventsMentioning(prospects, 'Can I bring my cat?')).toBe(1);
    } finally {
      routing.close();
      resman.close();
    }
  });

  it('the same webhook delivered twice produces one message and one ResMan event', async () => {
    const sid = newMessageSid();
    const body = `Twilio retried this one ${sid.slice(-6)}`;
    const first = await sendInboundSms(webhookUrl, TOKEN, sms('+14155550193', body, sid));
    const second = await sendInboundSms(webhookUrl, TOKEN, sms('+14155550193', body, sid));
    expect([first.status, second.status]).toEqual([200, 200]);
    await expectEventually(async () => expect(eventsMentioning(await simProspects(), body)).toBe(1), { timeoutMs: 30_000 });
    const msgs = await stack.db.query<{ n: number }>(`select count(*)::int as n from conversations.messages where content = $1`, [body]);
    expect(msgs[0]!.n).toBe(1);
    const inbound = await stack.db.query<{ n: number }>(`select count(*)::int as n from channel_gateway.inbound_messages where provider_message_id = $1`, [sid]);
    expect(inbound[0]!.n).toBe(1);
  });

  it('a bad signature gets 403 and stores nothing; a malformed body gets 400', async () => {
    const sid = newMessageSid();
    const forged = await sendInboundSms(webhookUrl, TOKEN, sms('+14155550194', 'forged', sid), { signature: 'bm90IGEgc2lnbmF0dXJl' });
    expect(forged.status).toBe(403);
    const wrongToken = await sendInboundSms(webhookUrl, 'not-the-token', sms('+14155550194', 'forged', sid));
    expect(wrongToken.status).toBe(403);
    const malformed = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'x' }, body: '%%%not=a&form' });
    expect(malformed.status).toBe(400);
    const rows = await stack.db.query<{ n: number }>(`select count(*)::int as n from channel_gateway.inbound_messages where provider_message_id = $1`, [sid]);
    expect(rows[0]!.n).toBe(0);
    const msgs = await stack.db.query<{ n: number }>(`select count(*)::int as n from conversations.messages where content = 'forged'`);
    expect(msgs[0]!.n).toBe(0);
  });

  it('an escalated conversation gets a resolution owned by the issue type\'s team', async () => {
    await sendInboundSms(webhookUrl, TOKEN, sms('+14155550195', 'My rent payment was charged twice'));
    const [row] = await expectEventually(async () => {
      const rows = await stack.db.query<{ id: string }>(`select c.id from conversations.conversations c join conversations.messages m on m.conversation_id = c.id where m.content = 'My rent payment was charged twice'`);
      expect(rows).toHaveLength(1);
      return rows;
    });
    const conversations = createClient(ConversationsServiceClient, stack.grpcAddr('conversations'), { token });
    const resolutions = createClient(ResolutionsServiceClient, stack.grpcAddr('resolutions'), { token });
    try {
      await conversations.client.escalateConversation({ accountId: demo.accountId, conversationId: row!.id, issueType: 'ISSUE_TYPE_BILLING', reason: 'double charge', severity: 'SEVERITY_P1' });
      const { resolutions: list } = await expectEventually(async () => {
        const r = await resolutions.client.listResolutions({ accountId: demo.accountId, conversationId: row!.id });
        expect(r.resolutions).toHaveLength(1);
        return r;
      });
      expect(list[0]).toMatchObject({ issueType: 'ISSUE_TYPE_BILLING', owningTeam: 'finance', status: 'investigating', priority: 'SEVERITY_P1' });
    } finally {
      conversations.close();
      resolutions.close();
    }
  });
});
