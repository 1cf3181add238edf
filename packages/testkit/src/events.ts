import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { streams, streamForSubject, type EventContract } from '@domiq/proto/events';
import { adminConnectOptions } from './nats-server.ts';

// Every helper connects as the platform admin of the test server at that URL (NatsServerProcess): test set-up may
// publish any event and read any stream, which no service's own NATS user may.

/**
 * Publishes an event exactly as a service's outbox relay would (JSON payload, DomIQ-Event-Id and Nats-Msg-Id),
 * so a test can drive one service without starting the service that owns the event. Creates the stream if needed.
 */
export async function publishTestEvent<T>(natsUrl: string, contract: EventContract<T>, payload: T, eventId = `test:${crypto.randomUUID()}`): Promise<string> {
  const nc = await connect(adminConnectOptions(natsUrl));
  try {
    const jsm = await jetstreamManager(nc);
    const stream = streamForSubject(contract.subject);
    await jsm.streams.info(stream).catch(() => jsm.streams.add({ name: stream, subjects: [...streams[stream].subjects] }));
    const h = headers();
    h.set('DomIQ-Event-Id', eventId);
    h.set('DomIQ-Event-Type', contract.eventType);
    await jetstream(nc).publish(contract.subject, JSON.stringify(contract.codec.toJSON(payload)), { msgID: eventId, headers: h });
    return eventId;
  } finally {
    await nc.close();
  }
}

/**
 * publishTestEvent, retried a few times with a short pause (each publish opens an admin connection, and a busy test
 * server can time one out authenticating); a retry keeps the event id, which the stream deduplicates.
 */
export async function publishTestEventRetrying<T>(natsUrl: string, contract: EventContract<T>, payload: T, eventId = `test:${crypto.randomUUID()}`, attempts = 4): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await publishTestEvent(natsUrl, contract, payload, eventId);
    } catch (err) {
      if (attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

/** Reads every message currently in a stream (for asserting what a service published). */
export async function readStream(natsUrl: string, stream: string, subject?: string): Promise<Array<{ subject: string; data: unknown; headers: Record<string, string> }>> {
  const nc = await connect(adminConnectOptions(natsUrl));
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream).catch(() => undefined);
    const out: Array<{ subject: string; data: unknown; headers: Record<string, string> }> = [];
    if (!info) return out;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
      if (!m || (subject && m.subject !== subject)) continue;
      const h: Record<string, string> = {};
      for (const [k, v] of m.header ?? []) h[k] = v.join(',');
      out.push({ subject: m.subject, data: JSON.parse(new TextDecoder().decode(m.data)), headers: h });
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** True once a durable consumer has nothing pending and nothing awaiting ack (so no redelivery is coming). */
export async function consumerIdle(natsUrl: string, stream: string, durable: string): Promise<boolean> {
  const nc = await connect(adminConnectOptions(natsUrl));
  try {
    const info = await (await jetstreamManager(nc)).consumers.info(stream, durable);
    return info.num_pending === 0 && info.num_ack_pending === 0 && info.num_redelivered >= 0;
  } finally {
    await nc.close();
  }
}
