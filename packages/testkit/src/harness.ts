import { createTestDatabase, type TestDatabase } from './database.ts';
import { NatsServerProcess } from './nats-server.ts';
import { OtlpCollector } from './otlp-collector.ts';
import { randomPorts, serviceProcess, resmanSimProcess, simulatorTargets, twilioSimProcess, SERVICES, type ServiceName, type StackPorts } from './local-stack.ts';
import { ServiceProcess } from './service-process.ts';
import { freePort } from './ports.ts';
import { TestAuthority, type TestCaller } from './auth.ts';
import { createClient, type PromiseClient } from '@domiq/grpc';
import { IdentityServiceClient } from '@domiq/proto/identity';
import type { Client, credentials } from '@grpc/grpc-js';

export interface TestStack {
  db: TestDatabase;
  nats: NatsServerProcess;
  collector: OtlpCollector | undefined;
  ports: StackPorts;
  services: Partial<Record<ServiceName, ServiceProcess>>;
  resmanSim: ServiceProcess | undefined;
  /** The Twilio simulator's process and URL (with `twilioSim: true`); the gateway's TWILIO_API_BASE_URL points at it. */
  twilioSim: ServiceProcess | undefined;
  twilioSimUrl: string;
  grpcAddr(name: ServiceName): string;
  /** Mints tokens for this stack's services to verify. */
  auth: TestAuthority;
  /** A user token (an admin of the account unless a role is given). */
  token(caller: TestCaller): Promise<string>;
  /** A promise client of a service that calls as the given user (closed when the stack stops). */
  client<C extends Client>(Ctor: new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options?: object) => C, service: ServiceName, caller: TestCaller): Promise<PromiseClient<C>>;
  /**
   * A client that calls as the admin of whichever account each request names (`account_id`, `policy.account_id`,
   * or `id` for CreateAccount): for suites about something else that work across many accounts. The access
   * rules themselves are proven by test/security.
   */
  adminClient<C extends Client>(Ctor: new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options?: object) => C, service: ServiceName): PromiseClient<C>;
  /** Creates an account through identity as its admin (identity must be running); returns its id. */
  createAccount(name?: string, accountId?: string): Promise<string>;
  /** Starts (or restarts) one service with the stack's environment. */
  start(name: ServiceName): Promise<ServiceProcess>;
  /**
   * Starts one more process of a service: the stack's environment (same database, NATS, credentials, peers) with
   * its own gRPC and ops ports, like a second replica behind a load balancer. Stopped with the stack. A
   * channel-gateway replica also gets its own webhook port (`opts.env.HTTP_PORT`) and keeps the stack's
   * PUBLIC_BASE_URL, so webhooks signed for the stack's URL verify on either process.
   */
  startReplica(name: ServiceName): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

const isUuidLike = (v: unknown) => typeof v === 'string' && /^[0-9a-f-]{36}$/i.test(v);

/**
 * Real infrastructure for one test file: a fresh database, a private nats-server, optionally an OTLP
 * collector and the ResMan simulator, and whichever services the test names, each a real process.
 */
export async function startTestStack(opts: { services: ServiceName[]; traces?: boolean; resmanSim?: boolean; twilioSim?: boolean; env?: Record<string, string>; echo?: boolean }): Promise<TestStack> {
  const db = await createTestDatabase();
  const nats = await NatsServerProcess.start();
  const collector = opts.traces ? await OtlpCollector.start() : undefined;
  const ports = await randomPorts();
  const auth = await TestAuthority.create();
  const clients: Array<{ close(): void }> = [];
  const envOpts = {
    authEnv: (name: ServiceName) => auth.envFor(name),
    ports,
    databaseUrl: db.url,
    natsUrl: nats.url,
    natsEnv: (name: ServiceName) => nats.credentialsFor(name),
    otlpEndpoint: collector?.endpoint,
    extra: {
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'trace',
      RESMAN_BASE_URL: `http://127.0.0.1:${ports.resmanSim}`,
      TWILIO_API_BASE_URL: `http://127.0.0.1:${ports.twilioSim}`,
      // Only the simulators this stack runs: a port nobody listens on stays refused (the SSRF tests rely on it).
      DOMIQ_ALLOWED_TARGETS: opts.twilioSim ? simulatorTargets(ports) : `127.0.0.1:${ports.resmanSim}`,
      ...opts.env,
    },
  };
  const echo = opts.echo || process.env.TEST_ECHO === '1' ? (line: string) => process.stderr.write(line + '\n') : undefined;
  const services: TestStack['services'] = {};
  const replicas: ServiceProcess[] = [];
  let resmanSim: ServiceProcess | undefined;
  if (opts.resmanSim) {
    resmanSim = resmanSimProcess(ports.resmanSim, echo);
    await resmanSim.start();
  }
  let twilioSim: ServiceProcess | undefined;
  if (opts.twilioSim) {
    // Status callbacks come at once, like Twilio's own within a second or so.
    twilioSim = twilioSimProcess(ports.twilioSim, echo, { TWILIO_SIM_CALLBACK_DELAY_MS: '20' });
    await twilioSim.start();
  }
  const stack: TestStack = {
    db,
    nats,
    collector,
    ports,
    services,
    resmanSim,
    twilioSim,
    twilioSimUrl: `http://127.0.0.1:${ports.twilioSim}`,
    grpcAddr: (name) => `127.0.0.1:${ports.services[name].grpc}`,
    auth,
    token: (caller) => auth.token(caller),
    async client(Ctor, service, caller) {
      const c = createClient(Ctor, `127.0.0.1:${ports.services[service].grpc}`, { token: await auth.token(caller) });
      clients.push(c);
      return c.client;
    },
    adminClient(Ctor, service) {
      const c = createClient(Ctor, `127.0.0.1:${ports.services[service].grpc}`);
      clients.push(c);
      const tokens = new Map<string, Promise<string>>();
      const fallbackAccount = crypto.randomUUID();
      const tokenFor = (accountId: string) => {
        if (!tokens.has(accountId)) tokens.set(accountId, auth.token({ accountId }));
        return tokens.get(accountId)!;
      };
      return new Proxy(c.client, {
        get(target, prop: string) {
          const method = (target as Record<string, (req: unknown, opts?: object) => Promise<unknown>>)[prop];
          if (typeof method !== 'function') return method;
          return async (request: Record<string, any>, opts: object = {}) => {
            const accountId = request.accountId || request.policy?.accountId || request.id;
            // No usable account in the request: call as some other account's admin, so validation still answers.
            return method(request, { ...opts, token: await tokenFor(isUuidLike(accountId) ? String(accountId).toLowerCase() : fallbackAccount) });
          };
        },
      });
    },
    async createAccount(name = 'Test Living', accountId = crypto.randomUUID()) {
      const identity = await stack.client(IdentityServiceClient, 'identity', { accountId });
      await identity.createAccount({ name, id: accountId });
      return accountId;
    },
    async start(name) {
      const existing = services[name];
      if (existing?.running) await existing.stop();
      const proc = existing ?? serviceProcess(name, envOpts, echo);
      services[name] = proc;
      await proc.start();
      return proc;
    },
    async startReplica(name) {
      const own = { grpc: await freePort(), ops: await freePort() };
      // A gateway replica listens for webhooks on a port of its own (its HTTP_PORT) but keeps the stack's public
      // URL, the one providers sign, as every replica behind one load balancer does.
      const gateway = name === 'channel-gateway';
      const replicaPorts = { ...ports, services: { ...ports.services, [name]: own }, gatewayHttp: gateway ? await freePort() : ports.gatewayHttp };
      const extra = gateway ? { PUBLIC_BASE_URL: `http://127.0.0.1:${ports.gatewayHttp}`, ...envOpts.extra } : envOpts.extra;
      const { opts } = serviceProcess(name, { ...envOpts, ports: replicaPorts, extra }, echo);
      // Its own name, for its log file (`<test file>-<service>-replica-2.log`).
      const n = replicas.filter((r) => r.opts.cwd === opts.cwd).length + 2;
      const proc = new ServiceProcess({ ...opts, name: `${name}-replica-${n}` });
      replicas.push(proc);
      await proc.start();
      return proc;
    },
    async stop() {
      for (const c of clients) c.close();
      await Promise.all([...Object.values(services), ...replicas].map((s) => s?.stop()));
      await resmanSim?.stop();
      await twilioSim?.stop();
      await collector?.close();
      await nats.destroy();
      await db.drop();
    },
  };
  try {
    // Identity first: others call it at start-up or on their first message.
    const order = SERVICES.map((s) => s.name).filter((n) => opts.services.includes(n));
    for (const name of order) await stack.start(name);
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
  return stack;
}
