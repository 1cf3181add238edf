// `npm run bench -- search`: full-text search (SearchMessages over gRPC) with 1,000,000 messages stored, against the
// bare indexed query measured in the same run (the same match through the seed's GIN index straight from PostgreSQL:
// unranked, no snippet, no gRPC). Messages are loaded straight into the database (set-based INSERT ... SELECT, as
// preload.ts does), each 6-19 words drawn from a leasing vocabulary with a skewed (Zipf-like) frequency, so queries
// range from words in a third of all messages to words in a few hundred. Prints JSON lines; asserts nothing.
//
// Knobs: BENCH_SEARCH_MESSAGES=1000000, BENCH_SEARCH_QUERIES=300, TEST_LOG_LEVEL=warn.
import pg from 'pg';
import { ConversationsServiceClient } from '@domiq/proto/conversations';
import { startTestStack, warmCompileCache } from '@domiq/testkit';
import { knob, latencyStats, progress, round } from './measure.ts';

const M = knob('BENCH_SEARCH_MESSAGES', 1_000_000);
const Q = knob('BENCH_SEARCH_QUERIES', 300);
const CONVERSATIONS = Math.max(1, Math.round(M / 20));
const CHUNK = 100_000;

// Ordered from most to least frequent: word k is drawn with probability falling off steeply with k.
const WORDS = `rent payment unit apartment lease tour available maintenance portal pay online thanks hello please help
  bedroom bathroom kitchen sink leak water heat door key parking pet dog cat deposit fee late charge refund account login
  password reset code app error broken window noise neighbor package mail gym pool laundry washer dryer trash elevator
  lights power outage gas smell smoke fire alarm heater ac air conditioning mold pest roach mice ants inspection move
  moving date month week weekend morning afternoon evening schedule appointment visit application approved denied
  credit check income proof landlord manager office leasing agent floor plan studio square feet balcony view renewal
  notice vacate sublet roommate guest storage bike garage gate fob intercom buzzer camera security lock lockout toilet
  shower drain clog ceiling wall paint carpet floor tile stove oven fridge dishwasher microwave garbage disposal outlet
  breaker thermostat radiator boiler pipe flood emergency urgent asap tomorrow today tonight yesterday autopay ach card
  declined double charged receipt invoice balance ledger statement utilities internet cable wifi router electricity
  bill meter amenity clubhouse event community rules policy quiet hours smoking towing visitor permit sticker
  transfer upgrade downgrade lease break penalty early termination eviction court lawyer complaint supervisor`.split(/\s+/).filter(Boolean);

warmCompileCache();
const stack = await startTestStack({ services: ['identity', 'conversations'], env: { LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' } });
const line = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
const stats = latencyStats;

try {
  const accountId = await stack.createAccount('Bench Search');
  const client = new pg.Client({ connectionString: stack.db.url });
  // The stack's teardown drops the database under this connection.
  client.on('error', () => undefined);
  await client.connect();
  const started = Date.now();
  await client.query(`
    insert into conversations.conversations (id, account_id, property_id, customer_id, state, channels_used, current_channel, initial_channel, message_count, created_at, updated_at)
    select md5('search-conversation-' || c)::uuid, $1, md5('search-property')::uuid, md5('search-customer-' || c)::uuid, 'open', '{sms}', 'sms', 'sms', 0, now(), now()
      from generate_series(0, ${CONVERSATIONS - 1}) as c`, [accountId]);
  const base = new Date(Date.now() - (M * 30 + 86_400) * 1000).toISOString();
  await client.query('alter table conversations.messages disable trigger user');
  try {
    for (let lo = 0; lo < M; lo += CHUNK) {
      const hi = Math.min(M, lo + CHUNK) - 1;
      // The word list's subquery names i, so it is drawn again for every row (and its aggregate names k, so the aggregate
      // is the subquery's, not the outer query's).
      await client.query(`
        insert into conversations.messages (account_id, conversation_id, channel, direction, sender_type, content, status, created_at, stored_at)
        select $1, md5('search-conversation-' || (i % ${CONVERSATIONS}))::uuid, 'sms', case when i % 3 = 0 then 'outbound' else 'inbound' end,
               case when i % 3 = 0 then 'agent' else 'customer' end,
               (select string_agg(w.words[1 + floor(power(random(), 3) * array_length(w.words, 1))::int], ' ' order by k) from generate_series(1, 6 + (i % 14)) as k),
               'delivered', $2::timestamptz + i * interval '30 seconds', $2::timestamptz + i * interval '30 seconds'
          from generate_series(${lo}, ${hi}) as i, (select $3::text[] as words) as w`, [accountId, base, WORDS]);
      progress(`search: messages ${lo}-${hi} loaded (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  } finally {
    await client.query('alter table conversations.messages enable trigger user');
  }
  await client.query('vacuum (analyze) conversations.messages, conversations.conversations');
  await client.query('checkpoint');
  progress(`search: ${M} messages stored and analysed in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  // Queries across the frequency range: one word (common, middling, rare), two words, a phrase, a word and a negation.
  const pick = (from: number, to: number) => WORDS[from + Math.floor(Math.random() * (to - from))]!;
  const queries = Array.from({ length: Q }, (_, i) => {
    switch (i % 6) {
      case 0: return pick(0, 10);
      case 1: return pick(40, 120);
      case 2: return pick(WORDS.length - 60, WORDS.length);
      case 3: return `${pick(0, 60)} ${pick(20, 150)}`;
      case 4: return `"${pick(0, 40)} ${pick(0, 40)}"`;
      default: return `${pick(0, 80)} -${pick(0, 20)}`;
    }
  });
  const agent = await stack.client(ConversationsServiceClient, 'conversations', { accountId, role: 'agent' });
  const time = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  // Warm both paths (plans, caches) before measuring.
  for (const q of queries.slice(0, 30)) await agent.searchMessages({ accountId, query: q, limit: 20, conversationId: '', groupByConversation: false });
  const bare = `select id from conversations.messages where account_id = $1 and search_vector @@ websearch_to_tsquery('english', $2) limit 20`;
  for (const q of queries.slice(0, 30)) await client.query(bare, [accountId, q]);
  const ours: number[] = [];
  const baseline: number[] = [];
  let hits = 0;
  for (const q of queries) {
    ours.push(await time(async () => {
      hits += (await agent.searchMessages({ accountId, query: q, limit: 20, conversationId: '', groupByConversation: false })).hits.length;
    }));
    baseline.push(await time(() => client.query(bare, [accountId, q])));
  }
  // Per kind of query (stderr): where the time goes.
  const kinds = ['common word', 'middling word', 'rare word', 'two words', 'phrase', 'word -word'];
  for (const [k, kind] of kinds.entries()) {
    const mine = ours.filter((_, i) => i % 6 === k);
    progress(`search: ${kind}: p50 ${stats(mine).p50} ms, p99 ${stats(mine).p99} ms`);
  }
  if (process.env.BENCH_SEARCH_EXPLAIN === '1') {
    const slowest = queries[ours.indexOf(Math.max(...ours))]!;
    const plan = await client.query(`explain (analyze, buffers) with q as (select websearch_to_tsquery('english', $2) as q)
      select m.id from conversations.messages m, q where m.account_id = $1 and m.search_vector @@ q.q order by m.created_at desc limit 500`, [accountId, slowest]);
    progress(`search: slowest query ${slowest}:\n${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}`);
  }
  await client.end();
  const o = stats(ours);
  const b = stats(baseline);
  for (const p of ['p50', 'p99'] as const) {
    line({ bench: 'search', metric: `latency_${p}`, value: o[p], unit: 'ms', baseline: b[p], ratio: round(o[p] / Math.max(0.1, b[p])), baseline_kind: 'bare_gin_query', messages: M, queries: Q, mean_hits: round(hits / Q) });
  }
} catch (err) {
  progress(`search: failed: ${String(err)}`);
} finally {
  await stack.stop();
}
process.exit(0);
