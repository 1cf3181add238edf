import { readFileSync } from 'node:fs';
import { connect, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { streams, type StreamName } from '@domiq/proto/events';
import type { Logger } from '@domiq/logging';
import { inboxPrefix, publicKeyOfSeed } from './nats-auth.ts';

export interface BusConnectOptions {
  servers: string;
  name: string;
  /** Connection status changes and seed-file problems are logged here (scripts may omit it). */
  logger?: Logger;
  /** The service's nkey seed (`SU...`), e.g. from `NATS_NKEY_SEED`. */
  nkeySeed?: string;
  /** A file holding the seed (`NATS_NKEY_SEED_FILE`, e.g. a mounted Secret); wins over `nkeySeed`. Re-read on every reconnect. */
  nkeySeedFile?: string;
  /** Where replies and pull deliveries arrive; defaults to `_INBOX_<name>`, the only subjects a service may subscribe to. */
  inboxPrefix?: string;
}

/**
 * Reads and checks the seed; errors name the file, never the content. Returns undefined when no credentials
 * are configured (an unauthenticated NATS, e.g. a developer's own).
 */
function nkeySource(opts: BusConnectOptions): (() => Uint8Array) | undefined {
  const file = opts.nkeySeedFile?.trim();
  const literal = opts.nkeySeed?.trim();
  if (file) {
    const read = (): string => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8').trim();
      } catch (err) {
        throw new Error(`NATS_NKEY_SEED_FILE ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      try {
        publicKeyOfSeed(text);
      } catch {
        throw new Error(`NATS_NKEY_SEED_FILE ${file} does not hold a valid nkey seed`);
      }
      return text;
    };
    let last = read(); // fail fast at start-up
    // Re-read on every (re)connect so a rotated Secret is picked up; keep the last good seed if the file is mid-update.
    return () => {
      try {
        last = read();
      } catch (err) {
        opts.logger?.warn({ err: (err as Error).message }, 'nkey seed file unreadable; reconnecting with the previous seed');
      }
      return new TextEncoder().encode(last);
    };
  }
  if (literal) {
    try {
      publicKeyOfSeed(literal);
    } catch {
      throw new Error('NATS_NKEY_SEED is not a valid nkey seed');
    }
    const bytes = new TextEncoder().encode(literal);
    return () => bytes;
  }
  return undefined;
}

/**
 * Connects with unlimited reconnects: a broker restart must pause work, never end the process. Authenticates
 * with the service's nkey when one is configured, and uses `_INBOX_<name>` for replies (its only subscribe grant).
 */
export async function connectNats(opts: BusConnectOptions): Promise<NatsConnection> {
  const seed = nkeySource(opts);
  const nc = await connect({
    servers: opts.servers.split(','),
    name: opts.name,
    inboxPrefix: opts.inboxPrefix ?? inboxPrefix(opts.name),
    ...(seed ? { authenticator: nkeyAuthenticator(seed) } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') opts.logger?.warn({ nats: s.type }, 'nats connection status');
      // e.g. a permissions violation: name the subject that was refused (never a credential).
      if (s.type === 'error') opts.logger?.warn({ nats: s.type, err: String(s.error) }, 'nats connection error');
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

/**
 * Creates or updates the given streams; safe to run on every start. A service passes only the streams it owns
 * (its NATS user may manage no others); the shared DLQ stream is provisioned by the platform (admin) user, e.g.
 * `provisionStreams(adminConnection, platformStreams())`.
 */
export async function provisionStreams(nc: NatsConnection, names: StreamName[]): Promise<JetStreamManager> {
  // checkAPI: false skips the `$JS.API.INFO` round trip, which a service's NATS user is not granted.
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  for (const name of new Set<StreamName>(names)) {
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

/** JetStream API error 10059: the stream does not exist (as opposed to 10014, its consumer does not). */
export function isStreamNotFound(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 10059 || /stream not found/i.test(String((err as Error)?.message ?? err));
}
