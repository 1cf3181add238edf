// `node test/bench/hops.ts`: where a message's latency goes, hop by hop, from the rows' own timestamps. Starts the
// full stack as the benchmark does, sends a warm-up and one paced run (HOPS_RATE msg/s for HOPS_SECONDS), then reads
// for each message of the run:
//   sent          the benchmark posted the webhook
//   received      the gateway's handler began (inbound_messages.received_at)
//   group         its group-commit transaction began (channel_gateway.event_log.created_at: now() of that transaction)
//   published     the relay recorded the stream's ack (channel_gateway.event_log_publication.published_at)
//   consumed      conversations' batch transaction began (conversations.processed_event.processed_at), after the pull,
//                 the batch's wait and the identity call
//   stored        the message row was written (conversations.messages.stored_at, clock_timestamp())
// and prints p50 / p90 / p99 of each hop, one JSON line each, plus the WAL written per message during the run.
// Diagnostic only (asserts nothing; the figures of record are `npm run bench`'s).
//   HOPS_RATE=100  HOPS_SECONDS=10
import pg from 'pg';
import { startFullStack } from './full-stack.ts';
import { burst, knob, paced, progress, round } from './measure.ts';

const rate = knob('HOPS_RATE', 100);
const seconds = knob('HOPS_SECONDS', 10);

const sys = await startFullStack({ senders: 0, drainTimeoutMs: 180_000 });
try {
  await burst(sys, 'a', 100, 16);
  const admin = new pg.Client({ connectionString: sys.stack.db.url });
  await admin.connect();
  const wal = async () => Number((await admin.query<{ b: string }>('select wal_bytes::text as b from pg_stat_wal')).rows[0]!.b);
  const walBefore = await wal();
  const result = await paced(sys, '0', rate, seconds);
  const { sentAt } = result;
  const walAfter = await wal();
  progress(`paced at ${rate}/s: p50 ${result.p50} ms, p99 ${result.p99} ms, stored ${round(result.throughput)}/s`);
  const { rows } = await admin.query<{ sid: string; received: Date; grp: Date; published: Date; consumed: Date; stored: Date }>(
    `select i.provider_message_id as sid, i.received_at as received, e.created_at as grp, p.published_at as published,
            pe.processed_at as consumed, m.stored_at as stored
       from channel_gateway.inbound_messages i
       join channel_gateway.event_log e on e.entity_id = i.id
       join channel_gateway.event_log_publication p on p.event_id = e.id
       join conversations.processed_event pe on pe.event_id = 'channel_gateway:' || e.id and pe.consumer = 'conversations-message-received'
       join conversations.messages m on m.channel_message_id = i.provider_message_id and m.direction = 'inbound'
      where i.provider_message_id like 'SM0%'`);
  await admin.end();
  const hops: Record<string, number[]> = { 'sent->received': [], 'received->group': [], 'group->published': [], 'published->consumed': [], 'consumed->stored': [], 'sent->stored': [] };
  for (const r of rows) {
    const sent = sentAt.get(r.sid);
    if (sent === undefined) continue;
    const t = [sent, r.received.getTime(), r.grp.getTime(), r.published.getTime(), r.consumed.getTime(), r.stored.getTime()];
    Object.values(hops).forEach((list, k) => list.push(k === 5 ? t[5]! - t[0]! : t[k + 1]! - t[k]!));
  }
  const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  for (const [hop, list] of Object.entries(hops)) {
    const s = list.sort((a, b) => a - b);
    process.stdout.write(`${JSON.stringify({ bench: 'hops', hop, rate_per_s: rate, p50: pct(s, 50), p90: pct(s, 90), p99: pct(s, 99), max: s.at(-1), unit: 'ms', count: s.length })}\n`);
  }
  process.stdout.write(`${JSON.stringify({ bench: 'hops', metric: 'wal_per_message', value: round((walAfter - walBefore) / 1024 / Math.max(1, rows.length)), unit: 'KiB' })}\n`);
} finally {
  await sys.stop();
}

