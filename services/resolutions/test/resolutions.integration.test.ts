import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { events } from '@domiq/proto/events';
import { ResolutionsServiceClient } from '@domiq/proto/resolutions';
import { expectEventually, publishTestEvent, readStream, startTestStack, type TestStack } from '@domiq/testkit';
import { AUTOMATION_AUTHOR_ID } from '../src/domain/escalation.ts';
import { issueTypes, severities, type IssueType, type Severity } from '@domiq/proto/vocabulary';

let stack: TestStack;
let resolutions: PromiseClient<ResolutionsServiceClient>;

beforeAll(async () => {
  stack = await startTestStack({ services: ['resolutions'] });
  resolutions = stack.adminClient(ResolutionsServiceClient, 'resolutions');
});
afterAll(async () => stack?.stop());

const uuid = () => crypto.randomUUID();

/** Publishes an escalation; `issueType: 'plumbing'` stands for a value the vocabulary does not have, `severity: null` for none. */
function escalate(accountId: string, conversationId: string, over: { issueType?: IssueType | 'plumbing'; severity?: Severity | null; reason?: string } = {}) {
  const issueType = over.issueType ?? 'billing';
  const severity = over.severity === undefined ? 'P1' : over.severity;
  return publishTestEvent(stack.nats.url, events.conversationEscalated, {
    accountId, propertyId: uuid(), conversationId, customerId: uuid(), issueType: issueType === 'plumbing' ? 'UNRECOGNIZED' : issueTypes.toProto(issueType),
    reason: over.reason ?? 'double-charged rent', severity: severity ? severities.toProto(severity) : 'SEVERITY_UNSPECIFIED', escalatedAt: new Date().toISOString(),
  });
}

const updatesOf = (resolutionId: string) =>
  stack.db.query<{ update_type: string; author_id: string; author_source: string; new_status: string | null; content: string }>(
    `select update_type, author_id, author_source, new_status, content from resolutions.resolution_updates where resolution_id = $1 order by created_at, id`, [resolutionId]);

describe('resolutions: escalations', () => {
  it('opens one resolution for an escalated conversation, owned by the issue type team, and publishes resolution.opened', async () => {
    const accountId = uuid();
    const conversationId = uuid();
    await escalate(accountId, conversationId, { issueType: 'billing', severity: 'P1' });
    const [opened] = await expectEventually(async () => {
      const { resolutions: list } = await resolutions.listResolutions({ accountId, conversationId });
      expect(list).toHaveLength(1);
      return list;
    });
    expect(opened).toMatchObject({ accountId, conversationId, issueType: 'ISSUE_TYPE_BILLING', owningTeam: 'finance', priority: 'SEVERITY_P1', status: 'investigating' });
    expect(await updatesOf(opened!.id)).toEqual([
      expect.objectContaining({ update_type: 'status_change', new_status: 'investigating', author_id: AUTOMATION_AUTHOR_ID, author_source: 'automation' }),
    ]);
    await expectEventually(async () => {
      const msgs = (await readStream(stack.nats.url, 'RESOLUTIONS', events.resolutionOpened.subject)).filter((m) => (m.data as { conversationId: string }).conversationId === conversationId);
      expect(msgs.map((m) => m.data)).toEqual([{ accountId, resolutionId: opened!.id, conversationId, issueType: 'ISSUE_TYPE_BILLING', owningTeam: 'finance', priority: 'SEVERITY_P1' }]);
    });
  });

  it('adds a note to the open resolution on a second escalation instead of opening another', async () => {
    const accountId = uuid();
    const conversationId = uuid();
    await escalate(accountId, conversationId, { issueType: 'technical', severity: null });
    const first = await expectEventually(async () => {
      const [r] = (await resolutions.listResolutions({ accountId, conversationId })).resolutions;
      if (!r) throw new Error('not opened yet');
      return r;
    });
    expect([first.owningTeam, first.priority]).toEqual(['engineering', 'SEVERITY_P2']);

    await escalate(accountId, conversationId, { issueType: 'technical', reason: 'still broken after the weekend' });
    const updates = await expectEventually(async () => {
      const rows = await updatesOf(first.id);
      expect(rows.map((r) => r.update_type)).toEqual(['status_change', 'note']);
      return rows;
    });
    expect(updates[1]!.content).toContain('still broken after the weekend');
    expect((await resolutions.listResolutions({ accountId, conversationId })).resolutions).toHaveLength(1);
    const opened = (await readStream(stack.nats.url, 'RESOLUTIONS', events.resolutionOpened.subject)).filter((m) => (m.data as { conversationId: string }).conversationId === conversationId);
    expect(opened).toHaveLength(1);
  });

  it('opens exactly one resolution when escalations of one conversation race', async () => {
    const accountId = uuid();
    const conversationId = uuid();
    await Promise.all(Array.from({ length: 5 }, () => escalate(accountId, conversationId, { issueType: 'ops' })));
    const [r] = await expectEventually(async () => {
      const { resolutions: list } = await resolutions.listResolutions({ accountId, conversationId });
      expect(list).toHaveLength(1);
      const rows = await updatesOf(list[0]!.id);
      expect(rows.filter((x) => x.update_type === 'note')).toHaveLength(4);
      return list;
    });
    expect(r!.owningTeam).toBe('infra');
  });

  it('dead-letters an escalation with an unknown issue_type, keeping the reason', async () => {
    const accountId = uuid();
    const conversationId = uuid();
    await escalate(accountId, conversationId, { issueType: 'plumbing' });
    const dead = await expectEventually(async () => {
      const [m] = (await readStream(stack.nats.url, 'DLQ')).filter((x) => (x.data as { conversationId: string }).conversationId === conversationId);
      if (!m) throw new Error('not dead-lettered yet');
      return m;
    });
    expect(dead.subject).toBe('dlq.resolutions-conversation-escalated');
    expect(dead.headers['DomIQ-Dlq-Reason']).toMatch(/issue_type/);
    expect((await resolutions.listResolutions({ accountId, conversationId })).resolutions).toEqual([]);
  });
});

describe('resolutions: ListResolutions', () => {
  it('is scoped to the account', async () => {
    const accountId = uuid();
    const conversationId = uuid();
    await escalate(accountId, conversationId, { issueType: 'security' });
    await expectEventually(async () => expect((await resolutions.listResolutions({ accountId, conversationId })).resolutions).toHaveLength(1));
    expect((await resolutions.listResolutions({ accountId: uuid(), conversationId })).resolutions).toEqual([]);
    expect((await resolutions.listResolutions({ accountId, conversationId: '' })).resolutions.map((r) => r.owningTeam)).toEqual(['security']);
  });

  it('rejects bad ids with INVALID_ARGUMENT naming the field', async () => {
    await expect(resolutions.listResolutions({ accountId: 'nope', conversationId: '' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('account_id') });
    await expect(resolutions.listResolutions({ accountId: uuid(), conversationId: 'nope' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('conversation_id') });
  });
});
