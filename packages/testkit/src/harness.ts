import { createTestDatabase, type TestDatabase } from './database.ts';
import { NatsServerProcess } from './nats-server.ts';
import { OtlpCollector } from './otlp-collector.ts';
import { randomPorts, serviceProcess, resmanSimProcess, SERVICES, type ServiceName, type StackPorts } from './local-stack.ts';
import type { ServiceProcess } from './service-process.ts';

export interface TestStack {
  db: TestDatabase;
  nats: NatsServerProcess;
  collector: OtlpCollector | undefined;
  ports: StackPorts;
  services: Partial<Record<ServiceName, ServiceProcess>>;
  resmanSim: ServiceProcess | undefined;
  grpcAddr(name: ServiceName): string;
  /** Starts (or restarts) one service with the stack's environment. */
  start(name: ServiceName): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/**
 * Real infrastructure for one test file: a fresh database, a private nats-server, optionally an OTLP
 * collector and the ResMan simulator, and whichever services the test names, each a real process.
 */
export async function startTestStack(opts: { services: ServiceName[]; traces?: boolean; resmanSim?: boolean; env?: Record<string, string>; echo?: boolean }): Promise<TestStack> {
  const db = await createTestDatabase();
  const nats = await NatsServerProcess.start();
  const collector = opts.traces ? await OtlpCollector.start() : undefined;
  const ports = await randomPorts();
  const envOpts = {
    ports,
    databaseUrl: db.url,
    natsUrl: nats.url,
    otlpEndpoint: collector?.endpoint,
    extra: {
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      RESMAN_BASE_URL: `http://127.0.0.1:${ports.resmanSim}`,
      ...opts.env,
    },
  };
  const echo = opts.echo || process.env.TEST_ECHO === '1' ? (line: string) => process.stderr.write(line + '\n') : undefined;
  const services: TestStack['services'] = {};
  let resmanSim: ServiceProcess | undefined;
  if (opts.resmanSim) {
    resmanSim = resmanSimProcess(ports.resmanSim, echo);
    await resmanSim.start();
  }
  const stack: TestStack = {
    db,
    nats,
    collector,
    ports,
    services,
    resmanSim,
    grpcAddr: (name) => `127.0.0.1:${ports.services[name].grpc}`,
    async start(name) {
      const existing = services[name];
      if (existing?.running) await existing.stop();
      const proc = existing ?? serviceProcess(name, envOpts, echo);
      services[name] = proc;
      await proc.start();
      return proc;
    },
    async stop() {
      await Promise.all(Object.values(services).map((s) => s?.stop()));
      await resmanSim?.stop();
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
