export { Platform, loadServiceConfig, type ServiceDefinition, type ServiceConfig } from './platform.ts';
export { startOpsServer } from './ops.server.ts';
