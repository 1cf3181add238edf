// Merge suggestions, merge and unmerge, erasure and consent, against real PostgreSQL and NATS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, status, type PromiseClient } from '@domiq/grpc';
import { IdentityServiceClient, IdentifierKind, type CustomerIdentity } from '@domiq/proto/identity';
import { expectEventually, readStream, startTestStack, type TestStack } from '@domiq/testkit';
import { IDENTITY_GRAPH_OF_ROWS } from '../src/db/identifier.repository.ts';

let stack: TestStack;
const accountId = crypto.randomUUID();
const adminId = crypto.randomUUID();
const supervisorId = crypto.randomUUID();
const agentId = crypto.randomUUID();
let admin: PromiseClient<IdentityServiceClient>;
let supervisor: PromiseClient<IdentityServiceClient>;
let agent: PromiseClient<IdentityServiceClient>;
let engineer: PromiseClient<IdentityServiceClient>;
/** Resolves senders as conversations does. */
let asConversations: PromiseClient<IdentityServiceClient>;
const otherAccount = crypto.randomUUID();
let otherAdmin: PromiseClient<IdentityServiceClient>;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity'] });
  admin = await stack.client(IdentityServiceClient, 'identity', { accountId, userId: adminId });
  await admin.createAccount({ name: 'Lifecycle Living', id: accountId });
  supervisor = await stack.client(IdentityServiceClient, 'identity', { accountId, userId: supervisorId, role: 'supervisor' });
  agent = await stack.client(IdentityServiceClient, 'identity', { accountId, userId: agentId, role: 'agent' });
  engineer = await stack.client(IdentityServiceClient, 'identity', { accountId, role: 'engineer' });
  otherAdmin = await stack.client(IdentityServiceClient, 'identity', { accountId: otherAccount });
  await otherAdmin.createAccount({ name: 'Elsewhere Living', id: otherAccount });
  asConversations = createClient(IdentityServiceClient, stack.grpcAddr('identity'), { token: await stack.auth.serviceToken('conversations') }).client;
}, 60_000);
afterAll(async () => stack?.stop());

let numbers = 0;
/** A fresh phone number (E.164) and email address per call, so tests never share a customer by accident. */
const freshPhone = () => `+1415555${String(3000 + numbers++).padStart(4, '0')}`;
const freshEmail = () => `person-${numbers++}-${crypto.randomUUID().slice(0, 6)}@example.com`;
const identity = (kind: IdentifierKind, value: string, displayName = ''): CustomerIdentity => ({ kind, value, network: '', displayName, defaultRegion: 'US' });
const phone = (value: string, displayName = '') => identity(IdentifierKind.IDENTIFIER_KIND_PHONE, value, displayName);
const email = (value: string, displayName = '') => identity(IdentifierKind.IDENTIFIER_KIND_EMAIL, value, displayName);
const resolve = async (i: CustomerIdentity) => (await asConversations.resolveCustomer({ accountId, ...i })).customer!;
const person = (ids: Array<CustomerIdentity | { identity: CustomerIdentity; verified: boolean }>) =>
  asConversations.resolvePerson({ accountId, identities: ids.map((i) => ('identity' in i ? i : { identity: i, verified: false })) });

/** Every row identity keeps about these customers (identifiers, consents included): what an unmerge must give back exactly. */
async function snapshot(customerIds: string[]): Promise<unknown> {
  const customers = await stack.db.query(
    `select id, status, merged_into_id, erased_at, tags, segments, risk_flags, identity_graph, profile, sla_tier from identity.customers where id = any($1) order by id`, [customerIds]);
  const identifiers = await stack.db.query(
    `select id, customer_id, kind, network, value, is_verified, is_primary, created_at from identity.customer_identifiers where customer_id = any($1) order by id`, [customerIds]);
  const consents = await stack.db.query(
    `select customer_id, channel, status, source, recorded_at, recorded_by from identity.customer_consents where customer_id = any($1) order by customer_id, channel`, [customerIds]);
  return { customers, identifiers, consents };
}

/** Customers of the account whose identity_graph is not what their identifier rows say. */
async function graphMismatches(): Promise<string[]> {
  const rows = await stack.db.query<{ id: string }>(`select c.id from identity.customers c where c.account_id = $1 and c.identity_graph <> ${IDENTITY_GRAPH_OF_ROWS}`, [accountId]);
  return rows.map((r) => r.id);
}

const events = (type: string, entityIds: string[]) => stack.db.query<{ entity_id: string; payload: Record<string, unknown>; actor_type: string; actor_id: string | null }>(
  `select entity_id, payload, actor_type, actor_id from identity.event_log where event_type = $1 and entity_id = any($2) order by id`, [type, entityIds]);

const identifierIds = async (customerId: string) =>
  (await stack.db.query<{ id: string }>(`select id from identity.customer_identifiers where customer_id = $1 order by id`, [customerId])).map((r) => r.id);

describe('identifiers as rows', () => {
  it('gives one person\'s new phone and email one customer: a primary row each, the graph as the rows say', async () => {
    const p = freshPhone();
    const e = freshEmail();
    const first = await person([phone(p, 'Pat Person'), email(e.toUpperCase())]);
    expect(first).toMatchObject({ created: true, mergeSuggestionIds: [] });
    expect(first.customer).toMatchObject({ phoneNumbers: [p], emails: [e], name: 'Pat Person' });
    // A second email of the same person joins the customer, not primary (the first one is).
    const e2 = freshEmail();
    const second = await person([phone(p), email(e2)]);
    expect(second).toMatchObject({ created: false, customer: { id: first.customer!.id, emails: [e, e2] } });
    const { customer } = await agent.getCustomer({ accountId, customerId: first.customer!.id });
    // Primary ones first, then the oldest (the two of one call by value).
    expect(customer!.identifiers.map((i) => [i.kind, i.value, i.isPrimary, i.isVerified])).toEqual([
      [IdentifierKind.IDENTIFIER_KIND_PHONE, p, true, false], [IdentifierKind.IDENTIFIER_KIND_EMAIL, e, true, false], [IdentifierKind.IDENTIFIER_KIND_EMAIL, e2, false, false],
    ]);
    // Resolution by either identifier finds it; one customer.created event was written.
    expect((await resolve(email(e2))).id).toBe(first.customer!.id);
    expect(await events('customer.created', [first.customer!.id])).toHaveLength(1);
    expect(await graphMismatches()).toEqual([]);
  });

  it('keeps device fingerprints and several ids of one network in the graph', async () => {
    const fp = `fp-${crypto.randomUUID()}`;
    const { customer } = await person([identity(IdentifierKind.IDENTIFIER_KIND_DEVICE, fp), { ...identity(IdentifierKind.IDENTIFIER_KIND_SOCIAL, 'pat.fb.1'), network: 'facebook' }]);
    await person([identity(IdentifierKind.IDENTIFIER_KIND_DEVICE, fp), { ...identity(IdentifierKind.IDENTIFIER_KIND_SOCIAL, 'pat.fb.2'), network: 'facebook' }]);
    const [row] = await stack.db.query<{ identity_graph: unknown }>(`select identity_graph from identity.customers where id = $1`, [customer!.id]);
    expect(row!.identity_graph).toEqual({ emails: [], phone_numbers: [], social_ids: { facebook: ['pat.fb.1', 'pat.fb.2'] }, device_fingerprints: [fp] });
    expect(await graphMismatches()).toEqual([]);
  });
});

describe('merge suggestions (identity never merges by itself)', () => {
  it('records one suggestion, not a merge, when a person\'s identifiers belong to two customers, and answers the phone\'s', async () => {
    const p = freshPhone();
    const e = freshEmail();
    const byPhone = await resolve(phone(p));
    const byEmail = await resolve(email(e));
    const before = await snapshot([byPhone.id, byEmail.id]);
    // Concurrent calls with the same evidence: one suggestion, whichever commits first.
    const answers = await Promise.all([person([email(e), phone(p)]), person([phone(p), email(e)]), person([email(e), phone(p)])]);
    for (const a of answers) expect(a).toMatchObject({ created: false, customer: { id: byPhone.id, status: 'active' } });
    expect(answers.flatMap((a) => a.mergeSuggestionIds)).toHaveLength(1);
    // Nothing moved: each identifier is still its own customer's.
    expect(await snapshot([byPhone.id, byEmail.id])).toMatchObject({ identifiers: (before as { identifiers: unknown[] }).identifiers });
    const { suggestions } = await agent.listMergeSuggestions({ accountId, status: '', customerId: byEmail.id, limit: 0 });
    expect(suggestions).toEqual([expect.objectContaining({
      customerAId: byPhone.id, customerBId: byEmail.id, status: 'open', reason: 'identifiers_of_one_person',
    })]);
    expect([...suggestions[0]!.identifierIds].sort()).toEqual([...(await identifierIds(byPhone.id)), ...(await identifierIds(byEmail.id))].sort());
    const suggested = await events('customer.merge_suggested', [suggestions[0]!.id]);
    expect(suggested.map((r) => r.payload)).toEqual([expect.objectContaining({ customerAId: byPhone.id, customerBId: byEmail.id })]);
    // The event carries ids, never an identifier's value.
    expect(JSON.stringify(suggested)).not.toContain(p);
    expect(JSON.stringify(suggested)).not.toContain(e);
  });

  it('answers the holder of a verified identifier over an unverified phone, and marks it verified', async () => {
    const p = freshPhone();
    const e = freshEmail();
    const byPhone = await resolve(phone(p));
    const byEmail = await resolve(email(e));
    const r = await person([phone(p), { identity: email(e), verified: true }]);
    expect(r.customer!.id).toBe(byEmail.id);
    expect((await agent.getCustomer({ accountId, customerId: byEmail.id })).customer!.identifiers).toEqual([expect.objectContaining({ value: e, isVerified: true })]);
    const { suggestions } = await agent.listMergeSuggestions({ accountId, status: 'open', customerId: byPhone.id, limit: 10 });
    expect(suggestions.map((s) => [s.customerAId, s.customerBId])).toEqual([[byEmail.id, byPhone.id]]);
  });

  it('dismisses a suggestion (supervisors, not agents) and never suggests that pair again', async () => {
    const p = freshPhone();
    const e = freshEmail();
    const a = await resolve(phone(p));
    const b = await resolve(email(e));
    const [id] = (await person([phone(p), email(e)])).mergeSuggestionIds;
    await expect(agent.dismissMergeSuggestion({ accountId, suggestionId: id! })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    const { suggestion } = await supervisor.dismissMergeSuggestion({ accountId, suggestionId: id! });
    expect(suggestion).toMatchObject({ status: 'dismissed', decidedBy: supervisorId });
    expect((await events('merge_suggestion.dismissed', [id!])).map((r) => [r.actor_type, r.actor_id])).toEqual([['user', supervisorId]]);
    // Again: answered as it is, no second event; the same evidence again records nothing.
    expect((await supervisor.dismissMergeSuggestion({ accountId, suggestionId: id! })).suggestion!.status).toBe('dismissed');
    expect(await events('merge_suggestion.dismissed', [id!])).toHaveLength(1);
    expect((await person([email(e), phone(p)])).mergeSuggestionIds).toEqual([]);
    expect((await agent.listMergeSuggestions({ accountId, status: 'open', customerId: a.id, limit: 10 })).suggestions).toEqual([]);
    expect((await agent.listMergeSuggestions({ accountId, status: 'dismissed', customerId: b.id, limit: 10 })).suggestions.map((s) => s.id)).toEqual([id]);
    await expect(supervisor.dismissMergeSuggestion({ accountId, suggestionId: crypto.randomUUID() })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });
});

describe('MergeCustomers and UnmergeCustomers', () => {
  it('merges: identifiers move, the source is merged (and still answered), fields and consents combine, customer.merged is published; unmerge restores exactly', async () => {
    const p1 = freshPhone();
    const p2 = freshPhone();
    const e2 = freshEmail();
    const target = await resolve(phone(p1, 'Terry Target'));
    const source = (await person([email(e2, 'Sam Source'), phone(p2)])).customer!;
    await stack.db.query(`update identity.customers set tags = '{vip,pets}', segments = '{leasing}' where id = $1`, [target.id]);
    await stack.db.query(`update identity.customers set tags = '{pets,parking}', segments = '{renewal}', risk_flags = '{chargeback}' where id = $1`, [source.id]);
    await agent.setConsent({ accountId, customerId: target.id, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_IN', source: 'CONSENT_SOURCE_WEB_FORM' });
    await agent.setConsent({ accountId, customerId: source.id, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_OUT', source: 'CONSENT_SOURCE_SMS_STOP_KEYWORD' });
    await agent.setConsent({ accountId, customerId: source.id, channel: 'CHANNEL_EMAIL', status: 'CONSENT_STATUS_OPTED_IN', source: 'CONSENT_SOURCE_WEB_FORM' });
    // A suggestion of the pair, which the merge accepts.
    const [suggestionId] = (await person([phone(p1), email(e2)])).mergeSuggestionIds;
    const before = await snapshot([source.id, target.id]);
    const sourceIdentifiers = await identifierIds(source.id);

    const merged = await supervisor.mergeCustomers({ accountId, sourceCustomerId: source.id, targetCustomerId: target.id, reason: 'same person, two numbers' });
    expect(merged.merge).toMatchObject({ sourceCustomerId: source.id, targetCustomerId: target.id, status: 'merged', mergedBy: supervisorId, reason: 'same person, two numbers' });
    expect([...merged.merge!.movedIdentifierIds].sort()).toEqual(sourceIdentifiers);
    expect(merged.source).toMatchObject({ status: 'merged', mergedIntoId: target.id, phoneNumbers: [], emails: [] });
    // The target's own phone stays its primary; the source's phone joins behind it, the source's email is its first.
    expect(merged.target).toMatchObject({ phoneNumbers: [p1, p2], emails: [e2], tags: ['vip', 'pets', 'parking'], segments: ['leasing', 'renewal'] });
    const mergeId = merged.merge!.id;

    // The source is still answered, as merged; its identifiers resolve to the target now.
    expect((await agent.getCustomer({ accountId, customerId: source.id })).customer).toMatchObject({ status: 'merged', mergedIntoId: target.id });
    expect((await resolve(phone(p2))).id).toBe(target.id);
    expect((await asConversations.resolveCustomers({ accountId, identities: [email(e2), phone(p1)] })).results.map((r) => [r.customer!.id, r.created]))
      .toEqual([[target.id, false], [target.id, false]]);
    // Consents: the source's STOP beats the target's web-form opt-in; the email consent only the source had is copied.
    const { customer: t } = await agent.getCustomer({ accountId, customerId: target.id });
    expect(t!.consents.map((c) => [c.channel, c.status, c.source])).toEqual([
      ['CHANNEL_EMAIL', 'CONSENT_STATUS_OPTED_IN', 'CONSENT_SOURCE_MERGE'], ['CHANNEL_SMS', 'CONSENT_STATUS_OPTED_OUT', 'CONSENT_SOURCE_MERGE'],
    ]);
    expect(t!.identifiers.filter((i) => i.kind === IdentifierKind.IDENTIFIER_KIND_PHONE).map((i) => [i.value, i.isPrimary])).toEqual([[p1, true], [p2, false]]);
    expect((await agent.listMergeSuggestions({ accountId, status: 'accepted', customerId: source.id, limit: 10 })).suggestions)
      .toEqual([expect.objectContaining({ id: suggestionId, mergeId, decidedBy: supervisorId })]);
    // The audit row and the event, with the supervisor as the actor.
    const [audit] = await stack.db.query(`select * from identity.customer_merges where id = $1`, [mergeId]);
    expect(audit).toMatchObject({ merged_by: supervisorId, source_status_before: 'active', target_before: { tags: ['vip', 'pets'], segments: ['leasing'], riskFlags: [] } });
    expect((await events('customer.merged', [source.id])).map((r) => [r.payload, r.actor_type, r.actor_id])).toEqual([[
      { accountId, sourceCustomerId: source.id, targetCustomerId: target.id, mergeId, mergedAt: merged.merge!.mergedAt }, 'user', supervisorId,
    ]]);
    await expectEventually(async () => {
      const published = await readStream(stack.nats.url, 'IDENTITY', 'identity.customer.merged');
      expect(published.map((m) => m.data)).toContainEqual(expect.objectContaining({ mergeId, sourceCustomerId: source.id, targetCustomerId: target.id }));
    });
    expect(await graphMismatches()).toEqual([]);

    // A merged customer cannot be merged again, nor merged into; nor a customer into itself; nothing changes.
    const third = await resolve(phone(freshPhone()));
    const during = await snapshot([source.id, target.id, third.id]);
    await expect(supervisor.mergeCustomers({ accountId, sourceCustomerId: source.id, targetCustomerId: third.id, reason: 'again' }))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining(`merged into ${target.id}`) });
    await expect(supervisor.mergeCustomers({ accountId, sourceCustomerId: third.id, targetCustomerId: source.id, reason: 'into merged' }))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    await expect(supervisor.mergeCustomers({ accountId, sourceCustomerId: target.id, targetCustomerId: target.id, reason: 'self' }))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('target_customer_id') });
    await expect(admin.eraseCustomer({ accountId, customerId: source.id, reason: 'erase the merged one' }))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining(target.id) });
    expect(await snapshot([source.id, target.id, third.id])).toEqual(during);

    // Unmerge (an admin): every row as it was before the merge.
    const undone = await admin.unmergeCustomers({ accountId, mergeId, reason: 'two different people after all' });
    expect(undone.merge).toMatchObject({ status: 'unmerged', unmergedBy: adminId, unmergeReason: 'two different people after all' });
    expect(await snapshot([source.id, target.id])).toEqual(before);
    expect((await resolve(phone(p2))).id).toBe(source.id);
    expect((await events('customer.unmerged', [source.id])).map((r) => [r.payload, r.actor_id])).toEqual([[
      { accountId, mergeId, sourceCustomerId: source.id, targetCustomerId: target.id, unmergedAt: undone.merge!.unmergedAt }, adminId,
    ]]);
    // The suggestion the merge accepted is dismissed now (someone said they are two people).
    expect((await agent.listMergeSuggestions({ accountId, status: 'dismissed', customerId: source.id, limit: 10 })).suggestions.map((s) => s.id)).toEqual([suggestionId]);
    await expect(admin.unmergeCustomers({ accountId, mergeId, reason: 'twice' })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('undone already') });
    expect(await snapshot([source.id, target.id])).toEqual(before);
    expect(await graphMismatches()).toEqual([]);
  });

  it('keeps what changed on the target since the merge, and refuses to undo a merge whose target was merged on since', async () => {
    const a = await resolve(phone(freshPhone()));
    const b = await resolve(phone(freshPhone()));
    const c = await resolve(phone(freshPhone()));
    await stack.db.query(`update identity.customers set tags = '{vip,pets}' where id = $1`, [a.id]);
    await stack.db.query(`update identity.customers set tags = '{parking}' where id = $1`, [b.id]);
    const first = (await supervisor.mergeCustomers({ accountId, sourceCustomerId: b.id, targetCustomerId: a.id, reason: 'same' })).merge!;
    // Since the merge an agent dropped pets and added late.
    await stack.db.query(`update identity.customers set tags = '{vip,parking,late}' where id = $1`, [a.id]);
    // a is merged into c: undoing the first merge now would take identifiers from c, which that merge never touched.
    const second = (await supervisor.mergeCustomers({ accountId, sourceCustomerId: a.id, targetCustomerId: c.id, reason: 'same again' })).merge!;
    await expect(supervisor.unmergeCustomers({ accountId, mergeId: first.id, reason: 'wrong order' }))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining(`merged into ${c.id} since`) });
    // Undone in reverse order, both go.
    await supervisor.unmergeCustomers({ accountId, mergeId: second.id, reason: 'undo' });
    const undone = await supervisor.unmergeCustomers({ accountId, mergeId: first.id, reason: 'undo' });
    expect(undone.target!.tags).toEqual(['vip', 'late']);
    expect(undone.source).toMatchObject({ status: 'active', mergedIntoId: '', phoneNumbers: b.phoneNumbers });
    expect(undone.target!.phoneNumbers).toEqual(a.phoneNumbers);
    expect(await graphMismatches()).toEqual([]);
  });

  it('refuses bad input naming the field, agents and another tenant, and changes nothing', async () => {
    const a = await resolve(phone(freshPhone()));
    const b = await resolve(phone(freshPhone()));
    const before = await snapshot([a.id, b.id]);
    const merges = async () => (await stack.db.query<{ n: number }>(`select count(*)::int as n from identity.customer_merges`))[0]!.n;
    const count = await merges();
    await expect(supervisor.mergeCustomers({ accountId, sourceCustomerId: 'nope', targetCustomerId: b.id, reason: 'x' }))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^source_customer_id:/) });
    await expect(supervisor.mergeCustomers({ accountId, sourceCustomerId: a.id, targetCustomerId: b.id, reason: '  ' }))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^reason:/) });
    await expect(supervisor.unmergeCustomers({ accountId, mergeId: '', reason: 'x' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^merge_id:/) });
    await expect(supervisor.unmergeCustomers({ accountId, mergeId: crypto.randomUUID(), reason: 'x' })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(agent.mergeCustomers({ accountId, sourceCustomerId: a.id, targetCustomerId: b.id, reason: 'x' })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    // Another tenant's admin: naming their own account, our customers are not there; naming ours, refused outright.
    await expect(otherAdmin.mergeCustomers({ accountId: otherAccount, sourceCustomerId: a.id, targetCustomerId: b.id, reason: 'x' })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(otherAdmin.mergeCustomers({ accountId, sourceCustomerId: a.id, targetCustomerId: b.id, reason: 'x' })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(otherAdmin.eraseCustomer({ accountId: otherAccount, customerId: a.id, reason: 'x' })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(otherAdmin.setConsent({ accountId: otherAccount, customerId: a.id, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_OUT', source: 'CONSENT_SOURCE_AGENT' }))
      .rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(otherAdmin.getCustomer({ accountId: otherAccount, customerId: a.id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    expect(await snapshot([a.id, b.id])).toEqual(before);
    expect(await merges()).toBe(count);
  });
});

describe('SetConsent', () => {
  it('records consent per channel, answers it with the customer, publishes consent_changed, and records nothing twice', async () => {
    const c = await resolve(phone(freshPhone()));
    const set = await agent.setConsent({ accountId, customerId: c.id, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_OUT', source: 'CONSENT_SOURCE_SMS_STOP_KEYWORD' });
    expect(set).toMatchObject({ changed: true, consent: { channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_OUT', source: 'CONSENT_SOURCE_SMS_STOP_KEYWORD', recordedBy: agentId } });
    expect(set.customer!.consents).toEqual([set.consent]);
    const again = await agent.setConsent({ accountId, customerId: c.id, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_OUT', source: 'CONSENT_SOURCE_SMS_STOP_KEYWORD' });
    expect(again).toMatchObject({ changed: false, consent: set.consent });
    await agent.setConsent({ accountId, customerId: c.id, channel: 'CHANNEL_EMAIL', status: 'CONSENT_STATUS_OPTED_IN', source: 'CONSENT_SOURCE_WEB_FORM' });
    const rows = await events('customer.consent_changed', [c.id]);
    expect(rows.map((r) => [r.payload, r.actor_id])).toEqual([
      [{ accountId, customerId: c.id, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_OUT', source: 'CONSENT_SOURCE_SMS_STOP_KEYWORD', recordedAt: set.consent!.recordedAt }, agentId],
      [expect.objectContaining({ channel: 'CHANNEL_EMAIL', status: 'CONSENT_STATUS_OPTED_IN', source: 'CONSENT_SOURCE_WEB_FORM' }), agentId],
    ]);
    // Every service reads it: GetCustomers (the connector's call) answers it too.
    const asConnector = { token: await stack.auth.serviceToken('resman-connector') };
    const { customers } = await admin.getCustomers({ accountId, customerIds: [c.id] }, asConnector);
    expect(customers[0]!.consents.map((x) => [x.channel, x.status])).toEqual([['CHANNEL_EMAIL', 'CONSENT_STATUS_OPTED_IN'], ['CHANNEL_SMS', 'CONSENT_STATUS_OPTED_OUT']]);
    await expectEventually(async () => {
      const published = await readStream(stack.nats.url, 'IDENTITY', 'identity.customer.consent_changed');
      expect(published.filter((m) => (m.data as { customerId: string }).customerId === c.id)).toHaveLength(2);
    });
  });

  it('refuses a missing channel, status or source (and identity\'s own sources), engineers, and changes nothing', async () => {
    const c = await resolve(phone(freshPhone()));
    const ok = { accountId, customerId: c.id, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_IN', source: 'CONSENT_SOURCE_AGENT' } as const;
    for (const [bad, field] of [
      [{ channel: 'CHANNEL_UNSPECIFIED' }, 'channel'], [{ status: 'CONSENT_STATUS_UNSPECIFIED' }, 'status'], [{ source: 'CONSENT_SOURCE_UNSPECIFIED' }, 'source'],
      [{ source: 'CONSENT_SOURCE_MERGE' }, 'source'], [{ customerId: 'x' }, 'customer_id'],
    ] as const) {
      await expect(agent.setConsent({ ...ok, ...bad })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(new RegExp(`^${field}:`)) });
    }
    await expect(engineer.setConsent(ok)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(agent.setConsent({ ...ok, customerId: crypto.randomUUID() })).rejects.toMatchObject({ code: status.NOT_FOUND });
    expect(await stack.db.query(`select * from identity.customer_consents where customer_id = $1`, [c.id])).toEqual([]);
    expect(await events('customer.consent_changed', [c.id])).toEqual([]);
  });
});

describe('EraseCustomer (GDPR)', () => {
  it('removes the person\'s data (and of the customers merged into it), keeps a non-personal audit row, publishes customer.erased; the phone makes a new customer', async () => {
    const p = freshPhone();
    const e = freshEmail();
    const e2 = freshEmail();
    const name = `Erin Erase ${crypto.randomUUID().slice(0, 4)}`;
    const erin = (await person([phone(p, name), email(e)])).customer!;
    await stack.db.query(`update identity.customers set tags = '{"asked about divorce"}', profile = profile || '{"company": "Erin Co", "metadata": {"dob": "1990-01-01"}}' where id = $1`, [erin.id]);
    await agent.setConsent({ accountId, customerId: erin.id, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_IN', source: 'CONSENT_SOURCE_WEB_FORM' });
    // Her second email was another customer, merged into her; a third customer met her email in a suggestion.
    const older = await resolve(email(e2, name));
    await supervisor.mergeCustomers({ accountId, sourceCustomerId: older.id, targetCustomerId: erin.id, reason: 'her old address' });
    const stranger = await resolve(phone(freshPhone()));
    await person([phone(stranger.phoneNumbers[0]!), email(e)]);
    const otherRows = await snapshot([stranger.id]);

    const { erasure, customer } = await supervisor.eraseCustomer({ accountId, customerId: erin.id, reason: 'GDPR request #4711' });
    expect(erasure).toMatchObject({
      customerId: erin.id, erasedBy: supervisorId, reason: 'GDPR request #4711', identifiersRemoved: 3, consentsRemoved: 1, mergeSuggestionsRemoved: 1, mergesClosed: 1,
      profileFieldsCleared: 5, eventsRedacted: 2,
    });
    expect([...erasure!.erasedCustomerIds].sort()).toEqual([erin.id, older.id].sort());
    expect(customer).toMatchObject({ id: erin.id, name: '', phoneNumbers: [], emails: [], tags: [], status: 'active', erasedAt: erasure!.erasedAt, identifiers: [], consents: [] });

    // The rows: identifiers gone, graph and profile empty, erased_at set, status kept.
    expect(await stack.db.query(`select * from identity.customer_identifiers where customer_id = any($1)`, [[erin.id, older.id]])).toEqual([]);
    const rows = await stack.db.query<{ id: string; status: string; identity_graph: unknown; profile: unknown; tags: string[]; erased_at: Date | null }>(
      `select id, status, identity_graph, profile, tags, erased_at from identity.customers where id = any($1) order by id`, [[erin.id, older.id]]);
    for (const r of rows) {
      expect(r).toMatchObject({
        identity_graph: { emails: [], phone_numbers: [], social_ids: {}, device_fingerprints: [] }, profile: { name: null, company: null, avatar_url: null, metadata: {} }, tags: [],
      });
      expect(r.erased_at).toBeInstanceOf(Date);
    }
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({ [erin.id]: 'active', [older.id]: 'merged' });
    // Not one of her values is left in any of identity's tables, the event_log included (its customer.created events
    // carried her phone, email and name: redacted, everything else of the rows as it was).
    const created = await stack.db.query<{ entity_id: string; payload: unknown }>(
      `select entity_id, payload from identity.event_log where event_type = 'customer.created' and entity_id = any($1) order by id`, [[erin.id, older.id]]);
    expect(created).toEqual([
      { entity_id: erin.id, payload: { accountId, customerId: erin.id, phoneNumbers: '[erased]', emails: '[erased]', name: '[erased]' } },
      // (proto3 JSON leaves an empty list out: that customer had no phone.)
      { entity_id: older.id, payload: { accountId, customerId: older.id, emails: '[erased]', name: '[erased]' } },
    ]);
    const tables = await stack.db.query<{ t: string }>(`select table_name as t from information_schema.tables where table_schema = 'identity' and table_type = 'BASE TABLE'`);
    for (const { t } of tables) {
      const [dump] = await stack.db.query<{ text: string | null }>(`select string_agg(x::text, '|') as text from identity."${t}" x`);
      for (const value of [p, e, e2, name, 'Erin Co', '1990-01-01', 'divorce']) expect(dump!.text ?? '', `${t} still holds ${value}`).not.toContain(value);
    }
    // The audit row says who, when, why and how much, and nothing personal.
    const [audit] = await stack.db.query<Record<string, unknown>>(`select * from identity.customer_erasures where id = $1`, [erasure!.id]);
    expect(audit).toMatchObject({ customer_id: erin.id, erased_by: supervisorId, reason: 'GDPR request #4711', identifiers_removed: 3 });
    // Events: one customer.erased per customer, ids only.
    const erased = await events('customer.erased', [erin.id, older.id]);
    expect(erased.map((r) => r.payload)).toEqual(expect.arrayContaining([
      { accountId, customerId: erin.id, erasedAt: erasure!.erasedAt, erasureId: erasure!.id }, { accountId, customerId: older.id, erasedAt: erasure!.erasedAt, erasureId: erasure!.id },
    ]));
    await expectEventually(async () => {
      const published = await readStream(stack.nats.url, 'IDENTITY', 'identity.customer.erased');
      expect(published.map((m) => (m.data as { customerId: string }).customerId)).toEqual(expect.arrayContaining([erin.id, older.id]));
    });

    // A new message from the same phone: a new customer.
    const again = await asConversations.resolveCustomer({ accountId, ...phone(p) });
    expect(again.created).toBe(true);
    expect(again.customer!.id).not.toBe(erin.id);
    // Erasing again answers the first erasure and writes nothing; the erased one can no longer be merged or consented.
    expect((await admin.eraseCustomer({ accountId, customerId: erin.id, reason: 'again' })).erasure!.id).toBe(erasure!.id);
    expect((await admin.eraseCustomer({ accountId, customerId: older.id, reason: 'again' })).erasure!.id).toBe(erasure!.id);
    expect(await events('customer.erased', [erin.id, older.id])).toHaveLength(2);
    await expect(admin.mergeCustomers({ accountId, sourceCustomerId: again.customer!.id, targetCustomerId: erin.id, reason: 'x' }))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('erased') });
    await expect(agent.setConsent({ accountId, customerId: erin.id, channel: 'CHANNEL_SMS', status: 'CONSENT_STATUS_OPTED_OUT', source: 'CONSENT_SOURCE_AGENT' }))
      .rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    await expect(agent.eraseCustomer({ accountId, customerId: erin.id, reason: 'x' })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    await expect(admin.eraseCustomer({ accountId, customerId: erin.id, reason: '' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^reason:/) });
    // The stranger kept everything of theirs.
    expect(await snapshot([stranger.id])).toEqual(otherRows);
    expect(await graphMismatches()).toEqual([]);
  });
});
