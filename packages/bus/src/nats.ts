import { readFileSync } from 'node:fs';
import { connect, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { streams, type StreamName } from '@domiq/proto/events';
import type { Logger } from '@domiq/logging';
import { inboxPrefix, publicKeyOfSeed } from './nats-auth.ts';
import { setBrokerMaxPayload } from './max-payload.ts';

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
    // Without it every request (each JetStream publish's ack, each pull) builds an Error up front, only to have a
    // stack should it time out: 2-4 % of every service's CPU on the hot path. A timeout still says what timed out.
    noAsyncTraces: true,
  });
  // Events larger than the broker accepts are refused when written (appendEvent), not when relayed.
  setBrokerMaxPayload(nc.info?.max_payload);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'reconnect') setBrokerMaxPayload(nc.info?.max_payload);
      if (s.type === 'disconnect' || s.type === 'reconnect') opts.logger?.warn({ nats: s.type }, 'nats connection status');
      // e.g. a permissions violation: name the subject that was refused (never a credential).
      if (s.type === 'error') opts.logger?.warn({ nats: s.type, err: String(s.error) }, 'nats connection error');
    }
  })();
  return nc;
}

/**
 * `num_replicas` of every stream: `NATS_STREAM_REPLICAS` (default 1; 3 on the 3-server cluster), read by the
 * provisioning step only (`node scripts/nats-config.ts --provision`, the test servers, `npm start`). Services never
 * create or update streams, so the variable does nothing in a service's environment.
 */
function streamReplicas(): number {
  const raw = process.env.NATS_STREAM_REPLICAS ?? '1';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`NATS_STREAM_REPLICAS must be an integer from 1 to 5, got ${JSON.stringify(raw)}`);
  return n;
}

function streamConfig(name: StreamName, replicas: number): Partial<StreamConfig> & { name: string } {
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
 * Creates or updates the given streams; safe to run on every start. Only the platform's provisioning step calls
 * it, as the admin user (`provisionStreams(adminConnection, platformStreams())`): no service's NATS user may create
 * or update a stream, its own included (an update could add `sources`/`mirror` of other streams to it).
 */
export async function provisionStreams(nc: NatsConnection, names: StreamName[], opts: { replicas?: number } = {}): Promise<JetStreamManager> {
  const replicas = opts.replicas ?? streamReplicas();
  // checkAPI: false skips the `$JS.API.INFO` round trip.
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  for (const name of new Set<StreamName>(names)) {
    const config = streamConfig(name, replicas);
    try {
      await jsm.streams.info(name);
      await jsm.streams.update(name, config);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.streams.add(config);
      } catch (addErr) {
        // Another provisioner created it between our info and add.
        if (!String(addErr).includes('already in use')) throw addErr;
      }
    }
  }
  return jsm;
}

/**
 * Resolves once every given stream exists (`$JS.API.STREAM.INFO.<stream>`, the one stream call a service may
 * make on the streams it owns). While one is missing it logs once per stream and looks again every `intervalMs`;
 * an aborted `signal` ends the wait (resolving `false`). Other errors (e.g. a permission violation) are thrown.
 */
export async function waitForStreams(
  nc: NatsConnection,
  names: readonly StreamName[],
  opts: { logger?: Logger; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<boolean> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const logged = new Set<StreamName>();
  for (const name of new Set(names)) {
    for (;;) {
      if (opts.signal?.aborted) return false;
      try {
        await jsm.streams.info(name);
        break;
      } catch (err) {
        if (!isStreamNotFound(err)) throw err;
        if (!logged.has(name)) opts.logger?.warn({ stream: name }, `stream ${name} does not exist yet (the platform's provisioning step creates it: node scripts/nats-config.ts --provision); waiting for it`);
        logged.add(name);
        await sleepUnlessAborted(opts.intervalMs ?? 1000, opts.signal);
      }
    }
    if (logged.has(name)) opts.logger?.info({ stream: name }, `stream ${name} exists now`);
  }
  return true;
}

/** Waits `ms`, or less when `signal` aborts meanwhile. */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function isNotFound(err: unknown): boolean {
  const msg = String((err as Error)?.message ?? err);
  return msg.includes('not found') || (err as { code?: string })?.code === '404';
}

/** JetStream API error 10059: the stream does not exist (as opposed to 10014, its consumer does not). */
export function isStreamNotFound(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 10059 || /stream not found/i.test(String((err as Error)?.message ?? err));
}
