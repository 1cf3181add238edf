import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type PromiseClient } from '@domiq/grpc';
import { IdentityServiceClient, IdentifierKind } from '@domiq/proto/identity';
import { startTestStack, type TestStack } from '@domiq/testkit';

let stack: TestStack;
let identity: PromiseClient<IdentityServiceClient>;
const accountId = crypto.randomUUID();
// The service acts for the account the request names: conversations resolves senders of every account.
let asConversations: PromiseClient<IdentityServiceClient>;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity'] });
  identity = await stack.client(IdentityServiceClient, 'identity', { accountId });
  await identity.createAccount({ name: 'Acme Living', id: accountId });
  const { createClient } = await import('@domiq/grpc');
  asConversations = createClient(IdentityServiceClient, stack.grpcAddr('identity'), { token: await stack.auth.serviceToken('conversations') }).client;
});
afterAll(async () => stack?.stop());

const phone = (value: string, acct = accountId) => ({ accountId: acct, kind: IdentifierKind.IDENTIFIER_KIND_PHONE, value, network: '', displayName: '', defaultRegion: 'US' });

describe('identity ResolveCustomer', () => {
  it('finds the same customer for differently formatted phone numbers', async () => {
    const a = await identity.resolveCustomer(phone('+1 (415) 555-0100'));
    const b = await identity.resolveCustomer(phone('415.555.0100'));
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.customer!.id).toBe(a.customer!.id);
    expect(a.customer!.phoneNumbers).toEqual(['+14155550100']);
  });

  it('creates exactly one customer when 20 first contacts race', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => identity.resolveCustomer(phone('+1 415 555 0199'))));
    expect(new Set(results.map((r) => r.customer!.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const rows = await stack.db.query(`select count(*)::int as n from identity.customer_identifiers where value = '+14155550199'`);
    expect(rows[0]!.n).toBe(1);
  });

  it('keeps tenants apart: the same phone in another account is another customer', async () => {
    const other = crypto.randomUUID();
    const otherAdmin = await stack.client(IdentityServiceClient, 'identity', { accountId: other });
    await otherAdmin.createAccount({ name: 'Other', id: other });
    const a = await identity.resolveCustomer(phone('+14155550111'));
    const b = await asConversations.resolveCustomer(phone('+14155550111', other));
    expect(b.customer!.id).not.toBe(a.customer!.id);
    // Another account's customer is not there for this account's admin, nor for a service acting for that account.
    await expect(otherAdmin.getCustomer({ accountId: other, customerId: a.customer!.id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    const asConnector = { token: await stack.auth.serviceToken('resman-connector') };
    await expect(identity.getCustomer({ accountId: other, customerId: a.customer!.id }, asConnector)).rejects.toMatchObject({ code: status.NOT_FOUND });
    // Its own account's customer it gets, as resolution answered it, with its identifier rows (resolution leaves them out).
    expect((await identity.getCustomer({ accountId, customerId: a.customer!.id }, asConnector)).customer).toEqual({
      ...a.customer, identifiers: [{ id: expect.any(String), kind: IdentifierKind.IDENTIFIER_KIND_PHONE, network: '', value: '+14155550111', isVerified: false, isPrimary: true }],
    });
    // conversations never reads customers: it is not admitted there at all.
    await expect(asConversations.getCustomer({ accountId, customerId: a.customer!.id })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    // And naming the other account with this account's token is refused before anything is read.
    await expect(identity.getCustomer({ accountId: other, customerId: b.customer!.id })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('GetCustomers answers the account\'s customers of the ids asked in one call, leaving out another account\'s and unknown ids', async () => {
    const other = crypto.randomUUID();
    const otherAdmin = await stack.client(IdentityServiceClient, 'identity', { accountId: other });
    await otherAdmin.createAccount({ name: 'Other Again', id: other });
    const mine = await Promise.all(['+14155550131', '+14155550132', '+14155550133'].map((v) => identity.resolveCustomer(phone(v))));
    const theirs = await asConversations.resolveCustomer(phone('+14155550131', other));
    const asConnector = { token: await stack.auth.serviceToken('resman-connector') };
    const ids = [...mine.map((r) => r.customer!.id), theirs.customer!.id, crypto.randomUUID(), mine[0]!.customer!.id];
    const { customers } = await identity.getCustomers({ accountId, customerIds: ids }, asConnector);
    expect(customers.map((c) => c.id).sort()).toEqual(mine.map((r) => r.customer!.id).sort());
    expect(customers.find((c) => c.id === mine[1]!.customer!.id)).toEqual({ ...mine[1]!.customer, identifiers: [expect.objectContaining({ value: '+14155550132', isPrimary: true })] });
    expect((await identity.getCustomers({ accountId: other, customerIds: ids }, asConnector)).customers.map((c) => c.id)).toEqual([theirs.customer!.id]);
    await expect(identity.getCustomers({ accountId, customerIds: [mine[0]!.customer!.id, 'not-a-uuid'] }, asConnector))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('customer_ids[1]') });
    await expect(identity.getCustomers({ accountId, customerIds: Array.from({ length: 501 }, () => crypto.randomUUID()) }, asConnector))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('customer_ids') });
    await expect(asConversations.getCustomers({ accountId, customerIds: ids.slice(0, 1) })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('rejects a bad phone number with INVALID_ARGUMENT naming the field, and stores nothing', async () => {
    const before = await stack.db.query(`select count(*)::int as n from identity.customers`);
    await expect(identity.resolveCustomer(phone('not a phone'))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('value') });
    await expect(asConversations.resolveCustomer({ ...phone('+14155550100'), accountId: 'nope' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('account_id') });
    const after = await stack.db.query(`select count(*)::int as n from identity.customers`);
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('writes an identity.customer.created outbox row per new customer, and the outbox refuses UPDATE and DELETE', async () => {
    const { customer } = await identity.resolveCustomer(phone('+14155550122'));
    const rows = await stack.db.query<{ id: string; subject: string }>(`select id, subject from identity.event_log where entity_id = $1`, [customer!.id]);
    expect(rows.map((r) => r.subject)).toEqual(['identity.customer.created']);
    await expect(stack.db.query(`update identity.event_log set payload = '{}' where id = $1`, [rows[0]!.id])).rejects.toThrow(/append-only/);
    await expect(stack.db.query(`delete from identity.event_log where id = $1`, [rows[0]!.id])).rejects.toThrow(/append-only/);
  });
});

describe('identity ResolveCustomers (the batch form)', () => {
  const ident = (value: string, kind: IdentifierKind = IdentifierKind.IDENTIFIER_KIND_PHONE) => ({ kind, value, network: '', displayName: '', defaultRegion: 'US' });

  it('resolves many identifiers in request order, one customer per identifier however often it is named', async () => {
    const known = (await asConversations.resolveCustomer(phone('+14155550700'))).customer!;
    const { results } = await asConversations.resolveCustomers({
      accountId,
      identities: [ident('415-555-0701'), ident('+1 415 555 0700'), ident('(415) 555-0701'), ident('Batch.Person@Example.com', IdentifierKind.IDENTIFIER_KIND_EMAIL)],
    });
    expect(results.map((r) => r.created)).toEqual([true, false, false, true]);
    expect(results[1]!.customer!.id).toBe(known.id);
    expect(results[2]!.customer!.id).toBe(results[0]!.customer!.id);
    expect(results[0]!.customer!.phoneNumbers).toEqual(['+14155550701']);
    expect(results[3]!.customer!.emails).toEqual(['batch.person@example.com']);
    // The single form agrees, and one identity.customer.created per new customer was written.
    expect((await asConversations.resolveCustomer(phone('4155550701'))).customer!.id).toBe(results[0]!.customer!.id);
    const created = await stack.db.query<{ n: number }>(`select count(*)::int as n from identity.event_log where event_type = 'customer.created' and customer_id = any($1)`,
      [[results[0]!.customer!.id, results[3]!.customer!.id]]);
    expect(created[0]!.n).toBe(2);
  });

  it('sees a known customer again: last seen moves, the channel\'s name fills an unnamed profile and never replaces a name', async () => {
    const named = (await asConversations.resolveCustomer({ ...phone('+14155550720'), displayName: 'Dana Named' })).customer!;
    const unnamed = (await asConversations.resolveCustomer(phone('+14155550721'))).customer!;
    const before = await stack.db.query<{ id: string; last_seen_at: Date }>(`select id, last_seen_at from identity.customers where id = any($1)`, [[named.id, unnamed.id]]);
    const { results } = await asConversations.resolveCustomers({
      accountId, identities: [{ ...ident('+14155550720'), displayName: 'Someone Else' }, { ...ident('+14155550721'), displayName: 'Uma Unnamed' }],
    });
    expect(results.map((r) => [r.customer!.id, r.created, r.customer!.name])).toEqual([[named.id, false, 'Dana Named'], [unnamed.id, false, 'Uma Unnamed']]);
    const after = await stack.db.query<{ id: string; last_seen_at: Date; name: string }>(`select id, last_seen_at, profile->>'name' as name from identity.customers where id = any($1)`, [[named.id, unnamed.id]]);
    for (const row of after) expect(row.last_seen_at.getTime()).toBeGreaterThan(before.find((b) => b.id === row.id)!.last_seen_at.getTime());
    expect(Object.fromEntries(after.map((r) => [r.id, r.name]))).toEqual({ [named.id]: 'Dana Named', [unnamed.id]: 'Uma Unnamed' });
  });

  it('gives racing batches that share senders the same customers (no deadlock, no duplicates)', async () => {
    const numbers = Array.from({ length: 12 }, (_, i) => `+1415555${String(800 + i).padStart(4, '0')}`);
    const batches = await Promise.all(Array.from({ length: 6 }, (_, b) =>
      asConversations.resolveCustomers({ accountId, identities: (b % 2 ? [...numbers].reverse() : numbers).map((n) => ident(n)) })));
    const idOf = (results: typeof batches[number]['results'], n: string) => results.find((r) => r.customer!.phoneNumbers[0] === n)!.customer!.id;
    for (const n of numbers) expect(new Set(batches.map((b) => idOf(b.results, n))).size).toBe(1);
    const [row] = await stack.db.query<{ n: number }>(`select count(*)::int as n from identity.customer_identifiers where account_id = $1 and value = any($2)`, [accountId, numbers]);
    expect(row!.n).toBe(numbers.length);
  });

  it('refuses a bad identifier naming it, and a batch over 500, and stores nothing', async () => {
    const before = await stack.db.query(`select count(*)::int as n from identity.customers where account_id = $1`, [accountId]);
    await expect(asConversations.resolveCustomers({ accountId, identities: [ident('+14155550900'), ident('not a phone')] }))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('identities[1].value') });
    await expect(asConversations.resolveCustomers({ accountId, identities: Array.from({ length: 501 }, (_, i) => ident(`+1415556${String(i).padStart(4, '0')}`)) }))
      .rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('identities') });
    expect(await stack.db.query(`select count(*)::int as n from identity.customers where account_id = $1`, [accountId])).toEqual(before);
    expect((await asConversations.resolveCustomers({ accountId, identities: [] })).results).toEqual([]);
  });
});

describe('identity audit', () => {
  it('records which admin created a user, a team and a property in the event log (actor from the token)', async () => {
    const adminId = crypto.randomUUID();
    const admin = await stack.client(IdentityServiceClient, 'identity', { accountId, userId: adminId });
    const { team } = await admin.createTeam({ accountId, name: 'Audit team', routingMode: '', id: '' });
    const { property } = await admin.createProperty({ accountId, name: 'Audit Towers', timezone: 'UTC', id: '' });
    const { user } = await admin.createUser({ accountId, email: `audit-${adminId}@example.com`, firstName: 'Au', lastName: 'Dit', role: 'ROLE_SUPERVISOR', teamId: team!.id, skills: [], maxConcurrentConversations: 3, id: '' });
    const rows = await stack.db.query<{ subject: string; actor_type: string; actor_id: string }>(
      `select subject, actor_type, actor_id from identity.event_log where entity_id = any($1::uuid[]) order by id`, [[team!.id, property!.id, user!.id]],
    );
    expect(rows).toEqual([
      { subject: 'identity.team.created', actor_type: 'user', actor_id: adminId },
      { subject: 'identity.property.created', actor_type: 'user', actor_id: adminId },
      { subject: 'identity.user.created', actor_type: 'user', actor_id: adminId },
    ]);
  });
});

describe('identity creates with client-chosen ids', () => {
  it('returns the caller\'s own row on a retry, with one event, and refuses an id another account holds', async () => {
    const id = crypto.randomUUID();
    const first = await identity.createTeam({ accountId, name: 'Retry team', routingMode: 'least_busy', id });
    const again = await identity.createTeam({ accountId, name: 'Renamed on retry', routingMode: '', id });
    expect(again.team).toEqual(first.team);
    const other = crypto.randomUUID();
    const otherAdmin = await stack.client(IdentityServiceClient, 'identity', { accountId: other });
    await otherAdmin.createAccount({ name: 'Squatter', id: other });
    await expect(otherAdmin.createTeam({ accountId: other, name: 'Mine now', routingMode: '', id })).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    await expect(otherAdmin.createProperty({ accountId: other, name: 'Mine now', timezone: '', id })).resolves.toBeTruthy();
    await expect(identity.createProperty({ accountId, name: 'Taken', timezone: '', id })).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
    const rows = await stack.db.query<{ subject: string }>(`select subject from identity.event_log where entity_id = $1 order by id`, [id]);
    expect(rows.map((r) => r.subject)).toEqual(['identity.team.created', 'identity.property.created']);
  });

  it('finds a user by email before the id, checks the team and the fields, and needs the account to exist', async () => {
    const user = { accountId, email: 'Same.Person@Example.com', firstName: 'Sam', lastName: 'Person', role: 'ROLE_AGENT' as const, teamId: '', skills: ['spanish'], maxConcurrentConversations: 0, id: '' };
    const a = await identity.createUser(user);
    const b = await identity.createUser({ ...user, email: 'same.person@example.com', id: crypto.randomUUID() });
    expect(b.user).toEqual(a.user);
    expect(a.user).toMatchObject({ email: 'same.person@example.com', maxConcurrentConversations: 5 });
    await expect(identity.createUser({ ...user, email: 'other@example.com', teamId: crypto.randomUUID() })).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(identity.createUser({ ...user, email: 'nope' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('email') });
    await expect(identity.createProperty({ accountId, name: 'Nowhere', timezone: 'Mars/Olympus', id: '' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('timezone') });
    const ghost = crypto.randomUUID();
    await expect(asConversations.resolveCustomer(phone('+14155550133', ghost))).rejects.toMatchObject({ code: status.NOT_FOUND, details: expect.stringContaining('account') });
  });
});
