// BENCH_PRELOAD: history loaded straight into the database, not through the services, so ingest can be measured
// against a database of realistic size. pg-copy-streams is not a dependency of this repository (and `pg` alone
// cannot COPY FROM STDIN), so the rows are made by set-based SQL, INSERT ... SELECT over generate_series, in the
// tables' real columns and within their check constraints:
//   identity.customers + customer_identifiers  one phone (+1 212 ...) per customer, in the bench's account;
//   conversations.conversations                one per customer, message_count and last_*_at exact;
//   conversations.messages                     round robin over the conversations, alternately inbound from the
//                                              customer (with a Twilio-like MM... provider id) and outbound from an agent,
//                                              one every 30 s of the past year or so.
// The per-row message-count trigger on messages is disabled during the load (the conversations are inserted with
// their final counts instead), then everything is vacuumed, analysed and checkpointed, as a long-lived database
// would be, so none of that lands in the measurement.
import pg from 'pg';
import { progress } from './measure.ts';

const CHUNK = 100_000;
const STEP = `interval '30 seconds'`;

export interface PreloadOptions {
  url: string;
  accountId: string;
  propertyId: string;
  messages: number;
  customers: number;
}

const customerId = (c: string) => `md5('bench-customer-' || ${c})::uuid`;
const conversationId = (c: string) => `md5('bench-conversation-' || ${c})::uuid`;
const phone = (c: string) => `'+1212' || lpad((${c})::text, 7, '0')`;

/** Messages lo..hi as rows (i, conversation c, sent at, inbound?); $1 is the time of message 0. */
function messageRows(lo: number, hi: number, conversations: number): string {
  return `select i, i % ${conversations} as c, $1::timestamptz + i * ${STEP} as at, (i / ${conversations}) % 2 = 0 as inbound
            from generate_series(${lo}, ${hi}) as i`;
}

export async function preload(o: PreloadOptions): Promise<void> {
  const { messages: M, customers: C } = o;
  if (!Number.isSafeInteger(M) || !Number.isSafeInteger(C) || C < 1 || M < 1 || C > 9_999_999) throw new Error('preload: messages >= 1 and 1 <= customers <= 9,999,999');
  const client = new pg.Client({ connectionString: o.url });
  await client.connect();
  const started = Date.now();
  const step = async (what: string, sql: string, params: unknown[]) => {
    const t = Date.now();
    const r = await client.query(sql, params);
    progress(`preload: ${what}: ${r.rowCount ?? 0} rows in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  };
  // The first message a day more than the whole history ago, the last one about a day ago.
  const base = new Date(Date.now() - (M * 30 + 86_400) * 1000).toISOString();
  try {
    await client.query(`set lock_timeout = '10s'`);
    await step('customers', `
      insert into identity.customers (id, account_id, identity_graph, profile, first_seen_at, last_seen_at, created_at, updated_at)
      select ${customerId('c')}, $2,
             jsonb_build_object('emails', '[]'::jsonb, 'phone_numbers', jsonb_build_array(${phone('c')}), 'social_ids', '{}'::jsonb, 'device_fingerprints', '[]'::jsonb),
             jsonb_build_object('name', 'Preloaded Customer ' || c, 'company', null, 'avatar_url', null, 'metadata', '{}'::jsonb),
             at, at, at, at
        from generate_series(0, ${C - 1}) as c, lateral (select $1::timestamptz + c * ${STEP} as at) as t`, [base, o.accountId]);
    await step('customer identifiers', `
      insert into identity.customer_identifiers (account_id, customer_id, kind, network, value, created_at)
      select $2, ${customerId('c')}, 'phone', '', ${phone('c')}, $1::timestamptz + c * ${STEP}
        from generate_series(0, ${C - 1}) as c`, [base, o.accountId]);
    // One row per conversation that gets messages, its counters aggregated from the same rows the messages are.
    await step('conversations', `
      with m as (${messageRows(0, M - 1, C)})
      insert into conversations.conversations (id, account_id, property_id, customer_id, state, channels_used, current_channel, initial_channel,
             message_count, last_message_at, last_customer_message_at, last_agent_message_at, resolved_at, created_at, updated_at)
      select ${conversationId('c')}, $2, $3, ${customerId('c')}, case when c % 5 = 0 then 'open' else 'resolved' end, '{sms}', 'sms', 'sms',
             count(*), max(at), max(at) filter (where inbound), max(at) filter (where not inbound),
             case when c % 5 = 0 then null else max(at) end, min(at), max(at)
        from m group by c`, [base, o.accountId, o.propertyId]);
    await client.query('alter table conversations.messages disable trigger user');
    try {
      for (let lo = 0; lo < M; lo += CHUNK) {
        const hi = Math.min(M, lo + CHUNK) - 1;
        await step(`messages ${lo}-${hi}`, `
          with m as (${messageRows(lo, hi, C)})
          insert into conversations.messages (account_id, conversation_id, channel, direction, sender_type, content, channel_message_id, channel_metadata, status, created_at, stored_at)
          select $2, ${conversationId('c')}, 'sms',
                 case when inbound then 'inbound' else 'outbound' end, case when inbound then 'customer' else 'agent' end,
                 case when inbound then 'Hi, is unit ' || (i % 400) || ' still available in ' || to_char(at, 'FMMonth') || '? (' || i || ')'
                      else 'Yes, unit ' || (i % 400) || ' can be toured any weekday, reply with a time that suits you. (' || i || ')' end,
                 case when inbound then 'MM' || lpad(i::text, 32, '0') end,
                 jsonb_build_object('provider', 'twilio', 'from', case when inbound then ${phone('c')} else '+15005550006' end,
                                    'to', case when inbound then '+15005550006' else ${phone('c')} end),
                 case when inbound then 'delivered' else 'sent' end, at, at
            from m`, [base, o.accountId]);
      }
    } finally {
      await client.query('alter table conversations.messages enable trigger user');
    }
    const t = Date.now();
    await client.query('vacuum (analyze) identity.customers, identity.customer_identifiers, conversations.conversations, conversations.messages');
    await client.query('checkpoint');
    progress(`preload: vacuum, analyze, checkpoint in ${((Date.now() - t) / 1000).toFixed(1)} s; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  } finally {
    await client.end();
  }
}
