import type { Server as HttpServer } from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import { baseConfigShape, ConfigError, grpcAddress, loadConfig, port, z } from '@domiq/config';
import { registry, type ServiceName } from '@domiq/proto/services';
import { createLogger, type Logger } from '@domiq/logging';
import { openDatabase, type MikroORM } from '@domiq/db';
import { assertRegisteredConsumer, busEntities, connectNats, EventConsumer, migrateService, OutboxRelay, waitForStreams, type AnyEventHandler } from '@domiq/bus';
import { createClient, startGrpcServer, type GrpcService, type RunningGrpcServer } from '@domiq/grpc';
import { createTokenVerifier, ensureDevKeys, ServiceToken, type TokenVerifier } from '@domiq/auth';
import type { Client } from '@grpc/grpc-js';
import { stopTelemetry } from '@domiq/telemetry';
import type { EntitySchema } from '@mikro-orm/core';
import { startOpsServer } from './ops.server.ts';
import { refuseUnsafeProductionSettings } from './production-settings.ts';

export interface ServiceDefinition<S extends z.ZodRawShape> {
  /**
   * Service name in the registry (`proto/src/services.ts`), which gives its default ports, the streams it owns (the
   * provisioning step creates them; start waits until they exist) and the peers it calls (their address variables).
   * Also its PostgreSQL schema (with `-` as `_`) and its event-id prefix.
   */
  name: ServiceName;
  config: S;
  entities: EntitySchema<any, any>[];
  migrationsPath: string;
}

export type ServiceConfig<S extends z.ZodRawShape> = z.infer<z.ZodObject<typeof baseConfigShape & S & { GRPC_PORT: ReturnType<typeof port>; OPS_PORT: ReturnType<typeof port>; BIND_HOST: z.ZodDefault<z.ZodString> }>>;

/** Loads configuration or ends the process with a message that names each bad variable. */
export function loadServiceConfig<S extends z.ZodRawShape>(def: ServiceDefinition<S>): ServiceConfig<S> {
  try {
    const entry = registry[def.name];
    // Every peer the registry says this service calls has its address variable, defaulting to the local port.
    const peers = Object.fromEntries(entry.calls.map((peer) => [registry[peer].addrVar, grpcAddress(`127.0.0.1:${registry[peer].grpcPort}`)]));
    return loadConfig({ ...baseConfigShape, GRPC_PORT: port(entry.grpcPort), OPS_PORT: port(entry.opsPort), BIND_HOST: z.string().default('127.0.0.1'), ...peers, ...def.config }) as ServiceConfig<S>;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${def.name}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

/**
 * What every service stands on: config, logger, its ORM (migrated), NATS with its streams, the outbox relay,
 * the ops server, and an ordered graceful shutdown on SIGTERM/SIGINT that loses nothing.
 */
export class Platform<C> {
  readonly logger: Logger;
  readonly schema: string;
  #draining = false;
  #started = false;
  #grpc: RunningGrpcServer | undefined;
  readonly #http: HttpServer[] = [];
  readonly #consumers: EventConsumer<any, any>[] = [];
  #relay!: OutboxRelay;
  #ops: HttpServer | undefined;
  orm!: MikroORM;
  nc!: NatsConnection;
  opsPort = 0;
  grpcPort = 0;
  verifier!: TokenVerifier;
  #serviceToken: ServiceToken | undefined;
  readonly #stopHooks: Array<() => Promise<void> | void> = [];

  readonly name: string;
  readonly config: C & ServiceConfig<{}>;

  constructor(name: string, config: C & ServiceConfig<{}>) {
    this.name = name;
    this.config = config;
    this.logger = createLogger(name, config.LOG_LEVEL);
    this.schema = name.replaceAll('-', '_');
  }

  static async start<S extends z.ZodRawShape>(def: ServiceDefinition<S>): Promise<Platform<ServiceConfig<S>>> {
    const config = loadServiceConfig(def);
    await refuseUnsafeProductionSettings(def.name, config);
    const platform = new Platform<ServiceConfig<S>>(def.name, config as ServiceConfig<S> & ServiceConfig<{}>);
    await platform.#initAuth();
    await platform.#init(def);
    return platform;
  }

  async #init(def: ServiceDefinition<z.ZodRawShape>): Promise<void> {
    const { config, logger } = this;
    this.orm = await openDatabase({ schema: this.schema, clientUrl: config.DATABASE_URL, entities: [...def.entities, ...busEntities], migrationsPath: def.migrationsPath, poolMax: config.DB_POOL_MAX,
      timeouts: { statementMs: config.DB_STATEMENT_TIMEOUT_MS, lockMs: config.DB_LOCK_TIMEOUT_MS, idleInTransactionMs: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS },
    });
    // The platform's own tables (outbox, publications, processed events) first, then the service's migrations.
    const applied = await migrateService(this.orm, this.schema);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    this.nc = await connectNats({ servers: config.NATS_URL, name: def.name, logger, nkeySeed: config.NATS_NKEY_SEED, nkeySeedFile: config.NATS_NKEY_SEED_FILE });
    // Created by the platform's provisioning step (admin), never by the service: wait for them. A SIGTERM
    // meanwhile ends the wait and the process (exit 0): nothing has started yet.
    const waiting = new AbortController();
    const endWait = () => waiting.abort();
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, endWait);
    const found = await waitForStreams(this.nc, [...registry[def.name].streams], { logger, signal: waiting.signal });
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.off(sig, endWait);
    if (!found) {
      logger.info('stopped while waiting for its streams');
      await this.nc.close().catch(() => undefined);
      await this.orm.close();
      process.exit(0);
    }
    this.#relay = new OutboxRelay({ orm: this.orm, nc: this.nc, schema: this.schema, databaseUrl: config.DATABASE_URL, logger });
    await this.#relay.start();
    const ops = await startOpsServer({
      host: config.BIND_HOST,
      port: config.OPS_PORT,
      isDraining: () => this.#draining,
      checks: {
        // Not ready until main.ts has opened every server and consumer and called ready().
        started: () => {
          if (!this.#started) throw new Error('starting');
        },
        database: async () => {
          await this.orm.em.fork().execute('select 1');
        },
        nats: () => {
          if (this.nc.isClosed() || this.nc.isDraining()) throw new Error('nats connection closed');
        },
        // A consumer whose pull loop ended is being restarted (with backoff): not ready until it pulls again.
        consumers: () => {
          const down = this.#consumers.map((c) => c.status()).filter((s) => !s.running);
          if (down.length) throw new Error(`not running: ${down.map((s) => `${s.durable} (${s.reason})`).join('; ')}`);
        },
      },
    });
    this.#ops = ops.server;
    this.opsPort = ops.port;
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void this.shutdown(sig));
  }

  /** The key set every gRPC call's token is checked against; a missing or unreadable one is a configuration error. */
  async #initAuth(): Promise<void> {
    const { config } = this;
    let jwks = config.DOMIQ_JWKS;
    // Only development falls back to the generated development keys (`npm start` makes them on first run).
    if (!jwks && config.DOMIQ_ENV === 'development') jwks = (await ensureDevKeys()).jwks;
    const fail = (problem: string) => {
      process.stderr.write(`${this.name}: invalid configuration: DOMIQ_JWKS: ${problem}\n`);
      process.exit(78);
    };
    if (!jwks) return fail('is required outside development');
    try {
      this.verifier = createTokenVerifier({ jwks, issuer: config.DOMIQ_TOKEN_ISSUER, audience: config.DOMIQ_TOKEN_AUDIENCE, refuseDevKeys: config.DOMIQ_ENV === 'production' });
    } catch (err) {
      return fail(`cannot be read (${(err as Error).message})`);
    }
  }

  /**
   * A client of a peer service that calls with this service's own token. The callee admits this service only on
   * the methods that list it, and only for the account the request names.
   */
  peerClient<C extends Client>(Ctor: Parameters<typeof createClient<C>>[0], peer: ServiceName): ReturnType<typeof createClient<C>> {
    // Least privilege both ways: a peer not in this service's registry `calls` would not admit it anyway.
    if (!registry[this.name as ServiceName].calls.includes(peer)) throw new Error(`${this.name} calls ${peer}, but its registry entry does not list it in calls`);
    if (!this.#serviceToken) {
      try {
        this.#serviceToken = new ServiceToken({ file: this.config.DOMIQ_SERVICE_TOKEN_FILE, value: this.config.DOMIQ_SERVICE_TOKEN });
      } catch (err) {
        process.stderr.write(`${this.name}: invalid configuration: DOMIQ_SERVICE_TOKEN_FILE: ${(err as Error).message}\n`);
        process.exit(78);
      }
    }
    const address = (this.config as unknown as Record<string, string>)[registry[peer].addrVar]!;
    const token = this.#serviceToken;
    const client = createClient(Ctor, address, { token: () => token.get() });
    this.onStop(() => client.close());
    return client;
  }

  async serveGrpc(services: GrpcService[]): Promise<number> {
    const { config } = this;
    const reflectionOn = config.GRPC_REFLECTION ?? config.DOMIQ_ENV !== 'production';
    const reflection = !reflectionOn ? 'off' : config.DOMIQ_ENV === 'development' ? 'open' : 'authenticated';
    this.#grpc = await startGrpcServer({ host: config.BIND_HOST, port: config.GRPC_PORT, services, logger: this.logger, verifier: this.verifier, reflection });
    this.grpcPort = this.#grpc.port;
    return this.grpcPort;
  }

  /** Registers a public HTTP server so shutdown stops its intake first. */
  trackHttp(server: HttpServer): void {
    this.#http.push(server);
  }

  async consume(handlers: AnyEventHandler<any, any>[]): Promise<void> {
    // Only the durables the service registry lists (its NATS user is granted exactly those): fail at start-up.
    for (const h of handlers) assertRegisteredConsumer(this.name, h.durable, h.contract.subject);
    if (this.#draining) return;
    // Registered before they start, so shutdown also stops (and so ends the wait of) one still waiting for its
    // stream; started together, so a missing stream holds up only its own consumer.
    const starts = handlers.map((h) => {
      const consumer = new EventConsumer(h, { orm: this.orm, nc: this.nc, schema: this.schema, logger: this.logger, concurrency: this.config.CONSUMER_CONCURRENCY, maxDeliver: this.config.CONSUMER_MAX_DELIVER, maxWorkingMs: this.config.CONSUMER_MAX_WORKING_MS, ackWaitMs: this.config.CONSUMER_ACK_WAIT_MS });
      this.#consumers.push(consumer);
      return consumer.start();
    });
    const failed = (await Promise.allSettled(starts)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  onStop(hook: () => Promise<void> | void): void {
    this.#stopHooks.push(hook);
  }

  ready(extra: Record<string, unknown> = {}): void {
    if (this.#draining) return; // SIGTERM came while consume() waited for a stream: not ready, shutting down.
    this.#started = true;
    this.logger.info({ grpc_port: this.grpcPort, ops_port: this.opsPort, ...extra }, `${this.name} ready`);
  }

  /** Stop intake, finish in-flight work, flush the outbox, close. */
  async shutdown(reason: string): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    const grace = this.config.SHUTDOWN_GRACE_MS;
    this.logger.info({ reason }, 'shutting down');
    const hardStop = setTimeout(() => {
      this.logger.error('shutdown grace period exceeded; exiting');
      process.exit(1);
    }, grace + 5000);
    hardStop.unref();
    try {
      await Promise.all(this.#http.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeIdleConnections(); })));
      await this.#grpc?.stop(grace);
      await Promise.all(this.#consumers.map((c) => c.stop()));
      for (const hook of this.#stopHooks) await hook();
      await this.#relay?.stop();
      await this.nc?.drain().catch(() => undefined);
      await this.orm?.close();
      await new Promise<void>((r) => (this.#ops ? this.#ops.close(() => r()) : r()));
      await stopTelemetry();
      this.logger.info('stopped');
      process.exit(0);
    } catch (err) {
      this.logger.error({ err: String(err) }, 'shutdown failed');
      process.exit(1);
    }
  }
}
