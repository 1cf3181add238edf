// Loaded with `node --import @domiq/telemetry/register` before the service's own modules, so the
// ESM loader hook is in place when pg, @grpc/grpc-js and http are first imported.
import { register } from 'node:module';
import { startTelemetry } from './sdk.ts';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
startTelemetry();
