// `npm run bench -- identity`: customer resolution (ResolveCustomer over gRPC, as conversations calls it) with
// 1,000,000 customers and 3,000,000 identifiers stored (a phone, an email and a Facebook id each, loaded straight
// into the database with set-based INSERT ... SELECT, as preload.ts does), against the bare lookup measured in the same
// run (the same unique-index probe straight from PostgreSQL). Known phones, known emails (given in another case and
// format: identity normalises them) and new numbers (a customer created each time). Prints JSON lines; asserts nothing.
//
// Knobs: BENCH_CUSTOMERS=1000000, BENCH_RESOLVES=1500 (a third of each kind), TEST_LOG_LEVEL=warn.
import pg from 'pg';
import { createClient } from '@domiq/grpc';
import { IdentityServiceClient } from '@domiq/proto/identity';
import { startTestStack, warmCompileCache } from '@domiq/testkit';
import { knob, latencyStats, progress, round } from './measure.ts';

const C = knob('BENCH_CUSTOMERS', 1_000_000);
const R = knob('BENCH_RESOLVES', 1500);
const CHUNK = 200_000;
const phone = (c: number) => `+1646${String(c).padStart(7, '0')}`;
const email = (c: number) => `prospect${c}@example.com`;

warmCompileCache();
const stack = await startTestStack({ services: ['identity'], env: { LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' } });
const line = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const stats = latencyStats;

try {
  const accountId = await stack.createAccount('Bench Identity');
  const client = new pg.Client({ connectionString: stack.db.url });
  client.on('error', () => undefined);
  await client.connect();
  const started = Date.now();
  const id = (c: string) => `md5('bench-identity-' || ${c})::uuid`;
  for (let lo = 0; lo < C; lo += CHUNK) {
    const hi = Math.min(C, lo + CHUNK) - 1;
    await client.query(`
      insert into identity.customers (id, account_id, identity_graph, profile, first_seen_at, last_seen_at, created_at, updated_at)
      select ${id('c')}, $1,
             jsonb_build_object('emails', jsonb_build_array('prospect' || c || '@example.com'), 'phone_numbers', jsonb_build_array('+1646' || lpad(c::text, 7, '0')),
                                'social_ids', jsonb_build_object('facebook', jsonb_build_array('fb' || c)), 'device_fingerprints', '[]'::jsonb),
             jsonb_build_object('name', 'Prospect ' || c, 'company', null, 'avatar_url', null, 'metadata', '{}'::jsonb), now(), now(), now(), now()
        from generate_series(${lo}, ${hi}) as c`, [accountId]);
    await client.query(`
      insert into identity.customer_identifiers (account_id, customer_id, kind, network, value, is_primary)
      select $1, ${id('c')}, k.kind, k.network, case k.kind when 'phone' then '+1646' || lpad(c::text, 7, '0') when 'email' then 'prospect' || c || '@example.com' else 'fb' || c end, true
        from generate_series(${lo}, ${hi}) as c, (values ('phone', ''), ('email', ''), ('social', 'facebook')) as k(kind, network)`, [accountId]);
    progress(`identity: customers ${lo}-${hi} loaded (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  await client.query('vacuum (analyze) identity.customers, identity.customer_identifiers');
  await client.query('checkpoint');
  progress(`identity: ${C} customers, ${3 * C} identifiers stored and analysed in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  // Called as conversations calls it: with conversations' own service token.
  const identity = createClient(IdentityServiceClient, stack.grpcAddr('identity'), { token: await stack.auth.serviceToken('conversations') });
  const random = () => Math.floor(Math.random() * C);
  type Case = { kind: 'known_phone' | 'known_email' | 'new_phone'; value: string; identifierKind: 'IDENTIFIER_KIND_PHONE' | 'IDENTIFIER_KIND_EMAIL'; stored: string };
  const cases: Case[] = Array.from({ length: R }, (_, i): Case => {
    const c = random();
    if (i % 3 === 0) return { kind: 'known_phone', value: `(646) ${String(c).padStart(7, '0').slice(0, 3)}-${String(c).padStart(7, '0').slice(3)}`, identifierKind: 'IDENTIFIER_KIND_PHONE', stored: phone(c) };
    if (i % 3 === 1) return { kind: 'known_email', value: ` Prospect${c}@Example.com `, identifierKind: 'IDENTIFIER_KIND_EMAIL', stored: email(c) };
    const fresh = `+1917${String(i).padStart(7, '0')}`;
    return { kind: 'new_phone', value: fresh, identifierKind: 'IDENTIFIER_KIND_PHONE', stored: fresh };
  });
  const resolve = (k: Case) => identity.client.resolveCustomer({ accountId, kind: k.identifierKind, value: k.value, network: '', displayName: '', defaultRegion: 'US' });
  const bare = (k: Case) => client.query(`select customer_id from identity.customer_identifiers where account_id = $1 and kind = $2 and network = '' and value = $3`,
    [accountId, k.identifierKind === 'IDENTIFIER_KIND_PHONE' ? 'phone' : 'email', k.stored]);
  // Warm both paths on other keys.
  for (let i = 0; i < 100; i++) {
    const c = random();
    await identity.client.resolveCustomer({ accountId, kind: 'IDENTIFIER_KIND_PHONE', value: phone(c), network: '', displayName: '', defaultRegion: 'US' });
    await client.query(`select customer_id from identity.customer_identifiers where account_id = $1 and kind = 'phone' and network = '' and value = $2`, [accountId, phone(c)]);
  }
  const ours = new Map<Case['kind'], number[]>();
  const base = new Map<Case['kind'], number[]>();
  let created = 0;
  for (const k of cases) {
    let t = performance.now();
    const r = await resolve(k);
    (ours.get(k.kind) ?? ours.set(k.kind, []).get(k.kind)!).push(performance.now() - t);
    if (r.created) created++;
    t = performance.now();
    await bare(k);
    (base.get(k.kind) ?? base.set(k.kind, []).get(k.kind)!).push(performance.now() - t);
  }
  identity.close();
  await client.end();
  const all = stats([...ours.values()].flat());
  const allBase = stats([...base.values()].flat());
  for (const p of ['p50', 'p99'] as const) {
    line({ bench: 'identity', metric: `resolve_${p}`, value: all[p], unit: 'ms', baseline: allBase[p], ratio: round(all[p] / Math.max(0.1, allBase[p])), baseline_kind: 'bare_index_lookup', customers: C, identifiers: 3 * C, resolves: R });
  }
  for (const [kind, xs] of ours) {
    const o = stats(xs);
    const b = stats(base.get(kind)!);
    line({ bench: 'identity', metric: 'resolve_by_case', case: kind, p50: o.p50, p99: o.p99, unit: 'ms', baseline_p50: b.p50, baseline_p99: b.p99, count: xs.length });
  }
  line({ bench: 'identity', metric: 'customers_created', value: created, unit: 'count', expected: cases.filter((k) => k.kind === 'new_phone').length });
} catch (err) {
  progress(`identity: failed: ${String(err)}`);
} finally {
  await stack.stop();
}
process.exit(0);
