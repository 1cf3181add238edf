export { classifyAddress, canonicalAddress, isIpLiteral, type AddressClass } from './address.ts';
export { parseAllowedTargets, allowsAddress, allowsName, type AllowEntry, type AllowList } from './allow-list.ts';
export { OutboundGuard, OutboundTargetRefusedError, type CheckedTarget, type OutboundAnswer, type OutboundGuardOptions, type Resolver } from './guard.ts';
export { allowedTargetsConfig } from './config.ts';
export { retryDelayMs, type BackoffPolicy } from './backoff.ts';
