// Public API of @domiq/resman-sim: a stateful, in-memory ResMan simulator for tests and local stacks.
export { startResmanSim } from './resman-sim.server.ts';
export type { ResmanSim, ResmanSimOptions, ResmanSimSettings } from './resman-sim.server.ts';
export { FaultInjector, FAULT_KINDS } from './fault-injector.ts';
export type { FaultDecision, FaultKind, FaultRule, FaultRuleSpec, FaultScope } from './fault-injector.ts';
export { ProspectStore } from './prospect-store.ts';
export type { SeedPersonInput, SeedProspectInput } from './prospect-store.ts';
export { RequestLog } from './request-log.ts';
export type { RequestLogEntry } from './request-log.ts';
export { phoneDigits } from './prospect-search.service.ts';
export type { V2CommunicationLogEntry, V2Person, V2Prospect } from './v2-prospects.mapper.ts';
export * from './sim-defaults.ts';
export type {
  ProspectStatus, SimAccount, SimCatalog, SimEmployee, SimEvent, SimNamedItem, SimPerson, SimPhone, SimProspect,
} from './sim-types.ts';
