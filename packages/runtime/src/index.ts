export { Platform, loadServiceConfig, type ServiceDefinition, type ServiceConfig } from './platform.ts';
export { startOpsServer } from './ops.server.ts';
export { productionSettingProblems, readJwksKeyIds, type ProductionSettings, type SettingProblem } from './production-settings.ts';
export { WakeableLoop, type WakeableLoopOptions } from './wakeable-loop.ts';
