import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { streams, type StreamName } from '@domiq/proto/events';
import type { Logger } from '@domiq/logging';

export interface BusConnectOptions {
  servers: string;
  name: string;
  logger: Logger;
}

/** Connects with unlimited reconnects: a broker restart must pause work, never end the process. */
export async function connectNats(opts: BusConnectOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: opts.servers.split(','),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') opts.logger.warn({ nats: s.type }, 'nats connection status');
    }
  })();
  return nc;
}

const replicas = Number(process.env.NATS_STREAM_REPLICAS ?? 1);

function streamConfig(name: StreamName): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects: [...streams[name].subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    // Dedupe window for Nats-Msg-Id: a relay that republishes after a crash within it is deduped by the server.
    duplicate_window: 2 * 60 * 1_000_000_000,
    max_age: name === 'DLQ' ? 0 : 7 * 24 * 3600 * 1_000_000_000,
  };
}

/** Creates or updates the streams a service writes to or reads from; safe to run on every start. */
export async function provisionStreams(nc: NatsConnection, names: StreamName[]): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  for (const name of new Set<StreamName>([...names, 'DLQ'])) {
    const config = streamConfig(name);
    try {
      await jsm.streams.info(name);
      await jsm.streams.update(name, config);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.streams.add(config);
      } catch (addErr) {
        // Another replica created it between our info and add.
        if (!String(addErr).includes('already in use')) throw addErr;
      }
    }
  }
  return jsm;
}

export function isNotFound(err: unknown): boolean {
  const msg = String((err as Error)?.message ?? err);
  return msg.includes('not found') || (err as { code?: string })?.code === '404';
}
