export { expectEventually } from './eventually.ts';
export { freePort, isPortOpen } from './ports.ts';
export { createTestDatabase, type TestDatabase } from './database.ts';
export { NatsServerProcess, natsServerBinary } from './nats-server.ts';
export { OtlpCollector, type CollectedSpan } from './otlp-collector.ts';
export { ServiceProcess, repoRoot, type ServiceProcessOptions } from './service-process.ts';
export { SERVICES, DEFAULT_PORTS, randomPorts, serviceEnv, serviceProcess, resmanSimProcess, type ServiceName, type StackPorts, type StackEnvOptions } from './local-stack.ts';
export { startTestStack, type TestStack } from './harness.ts';
export { publishTestEvent, readStream } from './events.ts';
