export { stopTelemetry } from './sdk.ts';
export { injectTraceHeaders, extractTraceContext, contextFromTraceparent, currentTraceparent, type HeaderCarrier } from './propagation.ts';
