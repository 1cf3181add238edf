// Two identity processes on one database, as two replicas behind a load balancer: first contacts racing on both
// still make one customer per identifier, and one person's identifiers racing on both one suggestion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type PromiseClient } from '@domiq/grpc';
import { IdentityServiceClient, IdentifierKind } from '@domiq/proto/identity';
import { startTestStack, type TestStack } from '@domiq/testkit';

let stack: TestStack;
let accountId: string;
let replicas: Array<PromiseClient<IdentityServiceClient>>;
let admin: PromiseClient<IdentityServiceClient>;

beforeAll(async () => {
  stack = await startTestStack({ services: ['identity'] });
  const second = await stack.startReplica('identity');
  accountId = await stack.createAccount('Twin Identity Living');
  const token = await stack.auth.serviceToken('conversations');
  replicas = [stack.grpcAddr('identity'), `127.0.0.1:${second.opts.env.GRPC_PORT}`].map((addr) => createClient(IdentityServiceClient, addr, { token }).client);
  admin = await stack.client(IdentityServiceClient, 'identity', { accountId });
}, 60_000);
afterAll(async () => stack?.stop());

const phone = (value: string) => ({ kind: IdentifierKind.IDENTIFIER_KIND_PHONE, value, network: '', displayName: '', defaultRegion: 'US' });
const email = (value: string) => ({ ...phone(value), kind: IdentifierKind.IDENTIFIER_KIND_EMAIL });

describe('identity on two replicas', () => {
  it('creates exactly one customer when first contacts race on both replicas', async () => {
    const numbers = ['+14155554001', '+14155554002', '+14155554003'];
    const calls = Array.from({ length: 30 }, (_, i) => {
      const client = replicas[i % 2]!;
      return i % 3 === 0
        ? client.resolveCustomers({ accountId, identities: (i % 2 ? [...numbers].reverse() : numbers).map(phone) }).then((r) => r.results)
        : client.resolveCustomer({ accountId, ...phone(numbers[i % 3]!) }).then((r) => [r]);
    });
    const results = (await Promise.all(calls)).flat();
    for (const n of numbers) {
      const mine = results.filter((r) => r.customer!.phoneNumbers[0] === n);
      expect(new Set(mine.map((r) => r.customer!.id)).size).toBe(1);
      expect(mine.filter((r) => r.created)).toHaveLength(1);
    }
    const [rows] = await stack.db.query<{ customers: number; identifiers: number; created: number }>(
      `select (select count(*)::int from identity.customers where account_id = $1) as customers,
              (select count(*)::int from identity.customer_identifiers where account_id = $1) as identifiers,
              (select count(*)::int from identity.event_log where account_id = $1 and event_type = 'customer.created') as created`, [accountId]);
    expect(rows).toEqual({ customers: 3, identifiers: 3, created: 3 });
  });

  it('resolves one person racing on both replicas to one customer, and conflicting evidence to one suggestion', async () => {
    const fresh = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      replicas[i % 2]!.resolvePerson({ accountId, identities: [{ identity: phone('+14155554101'), verified: false }, { identity: email('twin@example.com'), verified: false }] })));
    expect(new Set(fresh.map((r) => r.customer!.id)).size).toBe(1);
    expect(fresh.filter((r) => r.created)).toHaveLength(1);
    // Two customers, then the evidence that they meet, from both replicas at once.
    const a = (await replicas[0]!.resolveCustomer({ accountId, ...phone('+14155554102') })).customer!;
    const b = (await replicas[1]!.resolveCustomer({ accountId, ...email('twin.b@example.com') })).customer!;
    const met = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      replicas[i % 2]!.resolvePerson({ accountId, identities: [{ identity: email('twin.b@example.com'), verified: false }, { identity: phone('+14155554102'), verified: false }] })));
    for (const r of met) expect(r.customer!.id).toBe(a.id);
    expect(met.flatMap((r) => r.mergeSuggestionIds)).toHaveLength(1);
    const [row] = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from identity.merge_suggestions where account_id = $1 and customer_a_id = $2 and customer_b_id = $3`, [accountId, a.id, b.id]);
    expect(row!.n).toBe(1);
  });

  it('never answers a merged or an erased customer while merges and erasures race with resolutions', async () => {
    const resolveMany = (value: string) => Promise.all(Array.from({ length: 16 }, (_, i) =>
      replicas[i % 2]!.resolveCustomer({ accountId, ...phone(value), displayName: 'Racing Name' }).then((r) => r.customer!)));
    const source = (await replicas[0]!.resolveCustomer({ accountId, ...phone('+14155554201') })).customer!;
    const target = (await replicas[1]!.resolveCustomer({ accountId, ...phone('+14155554202') })).customer!;
    const [answers] = await Promise.all([resolveMany('+14155554201'), admin.mergeCustomers({ accountId, sourceCustomerId: source.id, targetCustomerId: target.id, reason: 'race' })]);
    // Each answer is the source before the merge committed (active) or the target after it, never the merged source.
    for (const c of answers) expect(c.id === source.id ? c.status : c.id, c.id).toBe(c.id === source.id ? 'active' : target.id);
    expect((await replicas[0]!.resolveCustomer({ accountId, ...phone('+14155554201') })).customer!.id).toBe(target.id);

    const doomed = (await replicas[0]!.resolveCustomer({ accountId, ...phone('+14155554301') })).customer!;
    const [during] = await Promise.all([resolveMany('+14155554301'), admin.eraseCustomer({ accountId, customerId: doomed.id, reason: 'race' })]);
    // Before the erasure committed: the customer; after it: one new customer, the same for every later answer.
    const fresh = new Set(during.filter((c) => c.id !== doomed.id).map((c) => c.id));
    expect(fresh.size).toBeLessThanOrEqual(1);
    for (const c of during) expect(c.erasedAt).toBe('');
    const after = (await replicas[1]!.resolveCustomer({ accountId, ...phone('+14155554301') })).customer!;
    expect(after.id).not.toBe(doomed.id);
    if (fresh.size) expect([...fresh]).toEqual([after.id]);
    // Nothing was written back into the erased row (the racing resolutions carried a name).
    const [row] = await stack.db.query<{ profile: unknown; n: number }>(
      `select profile, (select count(*)::int from identity.customer_identifiers where customer_id = $1) as n from identity.customers where id = $1`, [doomed.id]);
    expect(row).toEqual({ profile: { name: null, company: null, avatar_url: null, metadata: {} }, n: 0 });
  });
});
