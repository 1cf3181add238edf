import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { ADMIN_USER, generateNkeys, natsAuthorization, natsUserNames, platformStreams, renderNatsServerConfig } from '@domiq/bus/nats-auth';
import { provisionStreams } from '@domiq/bus/nats';
import { freePort, isPortOpen } from './ports.ts';
import { expectEventually } from './eventually.ts';
import { registerTestSecret } from './test-logs.ts';

export function natsServerBinary(): string {
  const candidates = [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].filter(Boolean) as string[];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error('nats-server not found: install it (apt-get install nats-server) or set NATS_SERVER_BIN');
  return found;
}

/** Admin credentials of the test servers running in this process, by URL: what the URL-based helpers (events.ts) use. */
const adminSeedFiles = new Map<string, string>();

/** Connection options for a URL: the admin nkey when it is one of this process's test servers, else none. */
export function adminConnectOptions(natsUrl: string): ConnectionOptions {
  const seedFile = adminSeedFiles.get(natsUrl);
  return { servers: natsUrl, ...(seedFile ? { authenticator: nkeyAuthenticator(() => new TextEncoder().encode(readFileSync(seedFile, 'utf8').trim())) } : {}) };
}

/**
 * A real nats-server with JetStream on its own port and store, owned by the test: it can be stopped and
 * restarted on the same port with the same store, which is how the broker-outage tests are made.
 *
 * It runs with the production authorization (packages/bus nats-auth.ts, derived from the service registry):
 * fresh nkeys per server, seeds in its temp dir. Services get theirs with `credentialsFor(name)`; test helpers
 * connect as the platform admin (`connectAdmin()`). On start, all streams (the DLQ too) are provisioned as admin,
 * the platform's provisioning step: services never create streams (they wait for them).
 */
export class NatsServerProcess {
  readonly port: number;
  /** Temp dir holding the config, the seeds (`nkeys/<user>.nk`) and the JetStream store. */
  readonly dir: string;
  readonly storeDir: string;
  readonly configFile: string;
  readonly #seedFiles: Record<string, string>;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
    this.storeDir = join(dir, 'store');
    this.configFile = join(dir, 'nats.conf');
    const keys = generateNkeys();
    const keyDir = join(dir, 'nkeys');
    mkdirSync(keyDir, { mode: 0o700 });
    this.#seedFiles = {};
    for (const name of natsUserNames()) {
      const file = join(keyDir, `${name}.nk`);
      // The run fails if a seed ever shows up in a service's log (vitest-global-setup.ts).
      writeFileSync(file, `${registerTestSecret(keys.seeds[name]!, `nats nkey seed of ${name}`)}\n`, { mode: 0o600 });
      this.#seedFiles[name] = file;
    }
    writeFileSync(this.configFile, renderNatsServerConfig({ host: '127.0.0.1', port, storeDir: this.storeDir, authorization: natsAuthorization(keys.publicKeys) }));
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<NatsServerProcess> {
    const server = new NatsServerProcess(await freePort(), mkdtempSync(join(tmpdir(), 'domiq-nats-')));
    adminSeedFiles.set(server.url, server.#seedFiles[ADMIN_USER]!);
    try {
      await server.#spawn();
      const nc = await server.connectAdmin();
      try {
        await provisionStreams(nc, platformStreams());
      } finally {
        await nc.close();
      }
    } catch (err) {
      await server.destroy();
      throw err;
    }
    return server;
  }

  /** The environment a service needs to authenticate as itself: `{ NATS_NKEY_SEED_FILE }`. */
  credentialsFor(service: string): Record<string, string> {
    const file = this.#seedFiles[service];
    if (!file || service === ADMIN_USER) throw new Error(`no NATS credentials for "${service}": not a service in the registry`);
    return { NATS_NKEY_SEED_FILE: file };
  }

  /** The admin seed file (full permissions): provisioning and test helpers only. */
  get adminSeedFile(): string {
    return this.#seedFiles[ADMIN_USER]!;
  }

  /** A connection as the platform admin (full permissions). */
  connectAdmin(opts: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
    return connect({ ...adminConnectOptions(this.url), ...opts });
  }

  async #spawn(): Promise<void> {
    this.#child = spawn(natsServerBinary(), ['-c', this.configFile], { stdio: 'ignore' });
    await expectEventually(async () => {
      if (this.#child?.exitCode !== null && this.#child?.exitCode !== undefined) throw new Error(`nats-server exited with ${this.#child.exitCode} (config ${this.configFile})`);
      if (!(await isPortOpen(this.port))) throw new Error('nats not listening yet');
    }, { timeoutMs: 10_000, message: 'nats-server did not start' });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    this.#child = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  async destroy(): Promise<void> {
    await this.stop();
    adminSeedFiles.delete(this.url);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
