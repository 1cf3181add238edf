import { services as registryServices, type ServiceName } from '@domiq/proto/services';
import { join } from 'node:path';
import { ServiceProcess, repoRoot } from './service-process.ts';
import { freePort } from './ports.ts';

/** The services, their gRPC address variables and default ports, from the service registry (see README). */
export const SERVICES = registryServices.map((s) => ({ name: s.name, grpc: s.grpcPort, ops: s.opsPort, addrVar: s.addrVar }));
export type { ServiceName };

export interface StackPorts {
  services: Record<ServiceName, { grpc: number; ops: number }>;
  gatewayHttp: number;
  resmanSim: number;
  twilioSim: number;
}

export const DEFAULT_PORTS: StackPorts = {
  services: Object.fromEntries(SERVICES.map((s) => [s.name, { grpc: s.grpc, ops: s.ops }])) as StackPorts['services'],
  gatewayHttp: 8080,
  resmanSim: 8090,
  twilioSim: 8091,
};

export async function randomPorts(): Promise<StackPorts> {
  const services = {} as StackPorts['services'];
  for (const s of SERVICES) services[s.name] = { grpc: await freePort(), ops: await freePort() };
  return { services, gatewayHttp: await freePort(), resmanSim: await freePort(), twilioSim: await freePort() };
}

export interface StackEnvOptions {
  ports: StackPorts;
  databaseUrl: string;
  natsUrl: string;
  otlpEndpoint?: string;
  extra?: Record<string, string>;
  /** The service's NATS credentials (e.g. `{ NATS_NKEY_SEED_FILE }` from NatsServerProcess.credentialsFor). */
  natsEnv?: (name: ServiceName) => Record<string, string>;
  /** DOMIQ_JWKS and the service's own token (see TestAuthority). */
  authEnv?: (name: ServiceName) => Record<string, string>;
}

/** The environment each service gets: its ports, where its peers are, the shared infrastructure, OTEL_*. */
export function serviceEnv(name: ServiceName, o: StackEnvOptions): Record<string, string> {
  const own = o.ports.services[name];
  const env: Record<string, string> = {
    DATABASE_URL: o.databaseUrl,
    NATS_URL: o.natsUrl,
    GRPC_PORT: String(own.grpc),
    OPS_PORT: String(own.ops),
    OTEL_SERVICE_NAME: name,
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    ...o.natsEnv?.(name),
    ...o.authEnv?.(name),
    ...o.extra,
  };
  for (const s of SERVICES) env[s.addrVar] = `127.0.0.1:${o.ports.services[s.name].grpc}`;
  if (name === 'channel-gateway') {
    env.HTTP_PORT = String(o.ports.gatewayHttp);
    env.PUBLIC_BASE_URL ??= `http://127.0.0.1:${o.ports.gatewayHttp}`;
  }
  if (o.otlpEndpoint) {
    Object.assign(env, { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: o.otlpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '200' });
  } else {
    env.OTEL_TRACES_EXPORTER ??= 'none';
  }
  return env;
}

export function serviceProcess(name: ServiceName, o: StackEnvOptions, onLine?: (line: string) => void): ServiceProcess {
  return new ServiceProcess({
    name,
    cwd: join(repoRoot, 'services', name),
    entry: 'src/main.ts',
    env: serviceEnv(name, o),
    readyUrl: `http://127.0.0.1:${o.ports.services[name].ops}/readyz`,
    onLine,
  });
}

export function resmanSimProcess(port: number, onLine?: (line: string) => void): ServiceProcess {
  return new ServiceProcess({
    name: 'resman-sim',
    cwd: join(repoRoot, 'packages', 'resman-sim'),
    entry: 'src/main.ts',
    env: { PORT: String(port) },
    readyUrl: `http://127.0.0.1:${port}/_sim/prospects`,
    withTelemetry: false,
    onLine,
  });
}

/** The Twilio simulator (packages/twilio-sim): Twilio's Messages API, status callbacks and an inspection endpoint. */
export function twilioSimProcess(port: number, onLine?: (line: string) => void, env: Record<string, string> = {}): ServiceProcess {
  return new ServiceProcess({
    name: 'twilio-sim',
    cwd: join(repoRoot, 'packages', 'twilio-sim'),
    entry: 'src/main.ts',
    env: { PORT: String(port), ...env },
    readyUrl: `http://127.0.0.1:${port}/_sim/messages`,
    withTelemetry: false,
    onLine,
  });
}

/** The simulators are plain http on loopback: only allow-list entries let the services reach them. */
export function simulatorTargets(ports: Pick<StackPorts, 'resmanSim' | 'twilioSim'>): string {
  return `127.0.0.1:${ports.resmanSim},127.0.0.1:${ports.twilioSim}`;
}
