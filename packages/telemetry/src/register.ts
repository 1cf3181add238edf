// Loaded with `node --import @domiq/telemetry/register` before the service's own modules, so the loader hook is in
// place when pg, @grpc/grpc-js and http are first imported.
//
// The hook runs in-thread (`module.registerHooks`, import-in-the-middle's register-hooks.mjs) and wraps only the
// modules we instrument: the off-thread `module.register` loader costs a second V8 isolate per process (~60 MB
// resident, issue 7's memory target) and an IPC round trip per imported module, and wrapping every module breaks
// some ESM packages for nothing.
import { register, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';
import { register as registerOffThread } from 'node:module';
import { INSTRUMENTED_MODULES, startTelemetry } from './sdk.ts';

if (supportsSyncHooks()) register({ include: [...INSTRUMENTED_MODULES] });
else registerOffThread('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
await startTelemetry();
