// The floor under the services, on the same PostgreSQL and a private nats-server: the same HTTP form post,
// published to JetStream, pulled by a consumer and inserted, nothing else. Two variants:
//   unbatched  one INSERT per message, up to `concurrency` at once, each message acked after its INSERT;
//   batched    the consumer collects up to 50 messages or 5 ms, writes them with one multi-row INSERT (up to 4 such
//              INSERTs at once, a fifth when a timer fires meanwhile) and acks them all after it committed.
import { createServer } from 'node:http';
import pg from 'pg';
import { headers } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { freePort, startTestStack } from '@domiq/testkit';
import { inboundSmsForm } from '@domiq/twilio-sim';
import { progress, sidOf, stackProcesses, type System } from './measure.ts';

export const BATCH_MAX_MESSAGES = 50;
export const BATCH_MAX_WAIT_MS = 5;
const BATCH_INSERTS_IN_FLIGHT = 4;

export async function startBarePipeline(opts: { batched: boolean; concurrency: number }): Promise<System & { stop(): Promise<void> }> {
  const stack = await startTestStack({ services: [] });
  const pool = new pg.Pool({ connectionString: stack.db.url, max: 10 });
  // The pipeline's own stream and consumer belong to no service: it connects as the platform admin.
  const nc = await stack.nats.connectAdmin();
  const server = createServer();
  await pool.query('create table baseline_messages (sid text primary key, body text, created_at timestamptz not null)');
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BASELINE', subjects: ['baseline.>'] });
  await jsm.consumers.add('BASELINE', { durable_name: 'baseline', ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 });
  const js = jetstream(nc);

  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      js.publish('baseline.message', JSON.stringify({ sid: form.get('MessageSid'), body: form.get('Body') }), { msgID: form.get('MessageSid')!, headers: headers() })
        .then(() => res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response></Response>'))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));

  const consumer = await js.consumers.get('BASELINE', 'baseline');
  const messages = await consumer.consume({ max_messages: opts.batched ? 4 * BATCH_MAX_MESSAGES : opts.concurrency * 2 });
  const inflight = new Set<Promise<void>>();
  // An INSERT that fails leaves its messages unacked: JetStream redelivers them after the ack wait.
  const track = (task: Promise<void>) => {
    const t: Promise<void> = task.catch((err: unknown) => void progress(`baseline insert failed: ${String(err)}`)).finally(() => inflight.delete(t));
    inflight.add(t);
  };
  const insertOne = async (m: JsMsg) => {
    const { sid, body } = m.json<{ sid: string; body: string }>();
    await pool.query('insert into baseline_messages (sid, body, created_at) values ($1, $2, now()) on conflict do nothing', [sid, body]);
    m.ack();
  };
  const insertBatch = async (batch: JsMsg[]) => {
    const rows = batch.map((m) => m.json<{ sid: string; body: string }>());
    await pool.query(
      'insert into baseline_messages (sid, body, created_at) select sid, body, now() from unnest($1::text[], $2::text[]) as t(sid, body) on conflict do nothing',
      [rows.map((r) => r.sid), rows.map((r) => r.body)],
    );
    for (const m of batch) m.ack();
  };
  let batch: JsMsg[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length > 0) track(insertBatch(batch));
    batch = [];
  };
  void (async () => {
    for await (const m of messages) {
      if (opts.batched) {
        batch.push(m);
        if (batch.length >= BATCH_MAX_MESSAGES) flush();
        else timer ??= setTimeout(flush, BATCH_MAX_WAIT_MS);
      } else {
        track(insertOne(m));
      }
      while (inflight.size >= (opts.batched ? BATCH_INSERTS_IN_FLIGHT : opts.concurrency)) await Promise.race(inflight);
    }
  })();

  const url = `http://127.0.0.1:${port}/webhooks/twilio/bench`;
  return {
    processes: stackProcesses(stack),
    async send(tag, i, sentAt) {
      const sid = sidOf(tag, i);
      sentAt?.set(sid, Date.now());
      const form = inboundSmsForm({ accountSid: 'AC00000000000000000000000000000000', from: '+14155550000', to: '+15005550006', body: `bench ${i}`, messageSid: sid });
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
      await res.text();
      if (res.status !== 200) throw new Error(`baseline answered ${res.status}`);
    },
    stored: async (tag) => (await pool.query<{ sid: string; t: Date }>(`select sid, created_at as t from baseline_messages where sid like $1`, [`SM${tag}%`])).rows,
    settle: async () => undefined,
    async stop() {
      clearTimeout(timer);
      await messages.close();
      server.close();
      await nc.close();
      await pool.end();
      await stack.stop();
    },
  };
}
