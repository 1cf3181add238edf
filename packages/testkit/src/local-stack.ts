import { join } from 'node:path';
import { ServiceProcess, repoRoot } from './service-process.ts';
import { freePort } from './ports.ts';

/** The six services, their gRPC address variables, and their default ports (see README). */
export const SERVICES = [
  { name: 'identity', grpc: 50051, ops: 9101, addrVar: 'IDENTITY_GRPC_ADDR' },
  { name: 'conversations', grpc: 50052, ops: 9102, addrVar: 'CONVERSATIONS_GRPC_ADDR' },
  { name: 'routing-sla', grpc: 50053, ops: 9103, addrVar: 'ROUTING_SLA_GRPC_ADDR' },
  { name: 'resolutions', grpc: 50054, ops: 9104, addrVar: 'RESOLUTIONS_GRPC_ADDR' },
  { name: 'resman-connector', grpc: 50055, ops: 9105, addrVar: 'RESMAN_CONNECTOR_GRPC_ADDR' },
  { name: 'channel-gateway', grpc: 50056, ops: 9106, addrVar: 'CHANNEL_GATEWAY_GRPC_ADDR' },
] as const;
export type ServiceName = (typeof SERVICES)[number]['name'];

export interface StackPorts {
  services: Record<ServiceName, { grpc: number; ops: number }>;
  gatewayHttp: number;
  resmanSim: number;
}

export const DEFAULT_PORTS: StackPorts = {
  services: Object.fromEntries(SERVICES.map((s) => [s.name, { grpc: s.grpc, ops: s.ops }])) as StackPorts['services'],
  gatewayHttp: 8080,
  resmanSim: 8090,
};

export async function randomPorts(): Promise<StackPorts> {
  const services = {} as StackPorts['services'];
  for (const s of SERVICES) services[s.name] = { grpc: await freePort(), ops: await freePort() };
  return { services, gatewayHttp: await freePort(), resmanSim: await freePort() };
}

export interface StackEnvOptions {
  ports: StackPorts;
  databaseUrl: string;
  natsUrl: string;
  otlpEndpoint?: string;
  extra?: Record<string, string>;
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
